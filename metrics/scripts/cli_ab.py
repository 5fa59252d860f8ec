"""A/B of ``graphgen`` commands under code checkouts and environment settings, each run in its own process.

Each *variant* is a checkout of this repository and environment variables (e.g. the current tree
with ``GRAPHGEN_HEAP_TUNING=off`` against the same tree as it is, or an earlier commit's clone);
each *command* is a ``graphgen`` command line run as ``python -m graphgen ...`` from the variant's
checkout (so through the console script's start-up: memory cap, heap tuning), one thread
(``OMP_NUM_THREADS=1``). Variants alternate within each round, so a busy spell of the shared machine
falls on all of them. Recorded per command and variant: the wall-clock seconds of every round and
their median, the peak resident memory (``ru_maxrss`` of the child) and its minor page faults, and
the md5 of every file the commands wrote (checkpoints aside), so that the variants can be checked to compute the same
thing. ``{out}`` in a command is the variant's output folder (inputs such as samples to evaluate are
best files in the repository, the same for every variant). ``--python NAME=PATH`` runs a variant
under another interpreter (another virtual environment's, e.g. to measure what switching
environments costs); by default every variant runs under this script's.

    python metrics/scripts/cli_ab.py --variant NAME=DIR[:VAR=VALUE,...] ... --command "sample ..." ...
        [--python NAME=PATH ...] [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from graphgen.bench.record import provenance, write_record  # noqa: E402


def parse_variant(text: str) -> tuple[str, Path, dict]:
    """``NAME=DIR`` or ``NAME=DIR:VAR=VALUE,VAR=VALUE`` -> ``(name, dir, env)``."""
    name, _, rest = text.partition("=")
    where, _, settings = rest.partition(":")
    env = dict(item.split("=", 1) for item in settings.split(",") if item)
    if not name or not where:
        raise SystemExit(f"--variant {text!r}: expected NAME=DIR[:VAR=VALUE,...]")
    return name, Path(where).resolve(), env


def run(checkout: Path, env: dict, command: str, python: str = sys.executable) -> dict:
    """One command in a child process under ``python``: seconds, peak RSS (MB), minor faults."""
    environ = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(checkout), **env}
    with tempfile.TemporaryFile() as stderr_file:  # a file, not a pipe: a chatty command cannot block on it
        start = time.perf_counter()
        child = subprocess.Popen(
            [python, "-m", "graphgen", *shlex.split(command)],
            cwd=checkout,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen, or it warns
        stderr_file.seek(0)
        stderr = stderr_file.read().decode(errors="replace")
    if child.returncode != 0:
        raise SystemExit(f"graphgen {command} failed in {checkout}: {stderr.strip()[-400:]}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "minor_faults": usage.ru_minflt}


def md5s(folder: Path) -> dict:
    """md5 of each file written, checkpoints (``.pt``: they record dates and timings) left out."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".pt")
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True, help="NAME=DIR[:VAR=VALUE,...]")
    parser.add_argument("--command", action="append", required=True, help="graphgen arguments; {out}: output folder")
    parser.add_argument("--python", action="append", default=[], help="NAME=PATH: the variant's interpreter")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    pythons = dict(item.split("=", 1) for item in args.python)
    unknown = set(pythons) - {name for name, _, _ in variants}
    if unknown:
        raise SystemExit(f"--python names no variant: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        outs = {name: Path(tmp) / name for name, _, _ in variants}
        for folder in outs.values():
            folder.mkdir()
        results = []
        for command in args.command:
            rows = {name: [] for name, _, _ in variants}
            for _ in range(args.rounds):
                for name, checkout, env in variants:
                    python = pythons.get(name, sys.executable)
                    rows[name].append(run(checkout, env, command.format(out=outs[name]), python))
                    print(f"{name:>12} {command[:60]:<60} {rows[name][-1]['seconds']:7.2f} s", flush=True)
            entry = {"command": "graphgen " + command, "variants": {}}
            first = statistics.median(x["seconds"] for x in rows[variants[0][0]])
            for name, _, _ in variants:
                runs = rows[name]
                median = statistics.median(x["seconds"] for x in runs)
                entry["variants"][name] = {
                    "seconds": [x["seconds"] for x in runs],
                    "median_seconds": median,
                    "ratio_to_first": median / first,
                    "peak_rss_mb": max(x["peak_rss_mb"] for x in runs),
                    "minor_faults_median": statistics.median(x["minor_faults"] for x in runs),
                }
            results.append(entry)
        outputs = {name: md5s(folder) for name, folder in outs.items()}
    same = all(outputs[name] == outputs[variants[0][0]] for name in outputs)
    record = {
        "variants": {
            name: {"checkout": str(checkout), "env": env, "python": pythons.get(name, sys.executable)}
            for name, checkout, env in variants
        },
        "rounds": args.rounds,
        "threads": 1,
        "results": results,
        "outputs_md5": outputs,
        "same_outputs": same,
        **provenance("python metrics/scripts/cli_ab.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])),
    }
    print(json.dumps({"same_outputs": same}))
    if args.json is not None:
        write_record(args.json, record)


if __name__ == "__main__":
    main()
