"""Time and peak memory of ``graphgen evaluate`` against the number of samples, two code versions.

    PYTHONPATH=. python metrics/scripts/evaluate_scaling.py OUT.json --before CHECKOUT
        [--counts 2000 5000 20000] [--model higen-community-small] [--reference community_small:test]
        [--protocol graphrnn] [--seed 0]

For each count the samples are drawn once (``graphgen sample -c MODEL -n COUNT --seed SEED``, this
checkout), then ``graphgen evaluate -r REFERENCE -s SAMPLES -p PROTOCOL --json ...`` (the default
floor, novelty and 10 random-GIN seeds: the command a user runs) runs in its own process under each
code version in turn: ``CHECKOUT`` (another git checkout, put first on ``PYTHONPATH``; e.g. the
commit before the blocked metrics) and this one. Recorded per run: wall seconds, the process's peak
resident memory (``ru_maxrss``, including ~0.4 GB of imported libraries) and the result; the record
also checks that the two versions' numbers agree (MMDs and GNN metrics to 1e-9 relative, counts
exactly). Ratios are the comparison: the machine is shared.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

from graphgen.bench.record import write_record

POINT = """
import json, resource, runpy, sys, time
sys.argv = ["graphgen"] + {argv!r}
start = time.perf_counter()
code = 0
try:
    runpy.run_module("graphgen", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
import graphgen
print(json.dumps({{"seconds": time.perf_counter() - start, "exit": code, "code": graphgen.__file__,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _run(argv: list[str], pythonpath: str) -> dict:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    # run in the checkout: ``python -c`` puts the working directory first on sys.path, before PYTHONPATH
    result = subprocess.run(
        [sys.executable, "-c", POINT.format(argv=argv)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=pythonpath,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _compare(a, b, path="") -> list[str]:
    """Paths where two results differ (floats beyond 1e-9 relative, anything else at all)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in _compare(a.get(key), b.get(key), f"{path}.{key}")]
    if isinstance(a, float) and isinstance(b, float):
        same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) or (math.isnan(a) and math.isnan(b))
        return [] if same else [path]
    return [] if a == b else [path]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--before", required=True, help="a checkout of the code to compare against")
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 5000, 20000])
    parser.add_argument("--model", default="higen-community-small")
    parser.add_argument("--reference", default="community_small:test")
    parser.add_argument("--protocol", default="graphrnn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subjects = {"before": os.path.abspath(args.before), "blocked": here}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            samples = os.path.join(tmp, f"samples-{count}.g6")
            _run(["sample", "-c", args.model, "-n", str(count), "--seed", str(args.seed), "--out", samples], here)
            row = {"samples": count}
            results = {}
            for name, path in subjects.items():
                out = os.path.join(tmp, f"{name}-{count}.json")
                argv = ["evaluate", "-r", args.reference, "-s", samples, "-p", args.protocol, "--json", out]
                row[name] = _run(argv, path)
                if not row[name]["code"].startswith(path + os.sep):
                    raise SystemExit(f"{name}: ran {row[name]['code']}, not the code in {path}")
                with open(out) as fh:
                    results[name] = json.load(fh)
                    results[name].pop("provenance", None)
                row[name]["result"] = {
                    key: results[name][key] for key in ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
                }
                row[name]["result"]["gnn_mmd_rbf"] = results[name]["gnn"]["mmd_rbf"]
                print(count, name, {k: v for k, v in row[name].items() if k != "result"}, flush=True)
            row["differences"] = _compare(results["before"], results["blocked"])
            row["time_ratio_before_over_blocked"] = row["before"]["seconds"] / row["blocked"]["seconds"]
            row["peak_ratio_before_over_blocked"] = row["before"]["peak_rss_mb"] / row["blocked"]["peak_rss_mb"]
            rows.append(row)
    record = {
        "model": args.model,
        "reference": args.reference,
        "protocol": args.protocol,
        "seed": args.seed,
        "before": subprocess.run(
            ["git", "-C", args.before, "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "rows": rows,
    }
    write_record(args.out, record)


if __name__ == "__main__":
    main()
