"""Wall-clock time of the test suite under several pytest option sets, run back to back.

    python metrics/scripts/test_suite_timing.py --variant NAME="PYTEST OPTIONS" ... [--rounds 1] --json OUT

Each variant runs ``python -m pytest -q -p no:cacheprovider --nbmake notebooks tests OPTIONS`` from the
repository root in its own process (this interpreter), the variants alternating within each round so
that a busy spell of the shared machine falls on all of them. Recorded per run: the wall-clock seconds,
the exit status and pytest's summary line (passed / skipped / failed counts), so a faster variant is
seen to run the same tests; per variant the median seconds, and each variant's ratio to the first.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from graphgen.bench.record import write_record  # noqa: E402

BASE = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", "notebooks", "tests"]


def summary_line(output: str) -> str:
    """pytest's last summary line (``N passed, M skipped ... in S s``), or '' when there is none."""
    lines = [
        line.strip("= ") for line in output.splitlines() if " in " in line and ("passed" in line or "failed" in line)
    ]
    return lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True, metavar='NAME="OPTIONS"')
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    variants = []
    for text in args.variant:
        name, _, options = text.partition("=")
        variants.append((name, shlex.split(options)))
    runs = {name: [] for name, _ in variants}
    for _ in range(args.rounds):
        for name, options in variants:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, *BASE, *options], cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            runs[name].append({"seconds": seconds, "returncode": done.returncode, "summary": summary_line(done.stdout)})
            print(f"{name}: {seconds:.0f} s, rc {done.returncode}, {runs[name][-1]['summary']}", file=sys.stderr)
    first = statistics.median(r["seconds"] for r in runs[variants[0][0]])
    record = {
        "benchmark": "test-suite-timing",
        "base_command": "python " + shlex.join(BASE),
        "variants": {
            name: {
                "options": options,
                "runs": runs[name],
                "median_seconds": statistics.median(r["seconds"] for r in runs[name]),
                "ratio_to_first": statistics.median(r["seconds"] for r in runs[name]) / first,
            }
            for name, options in variants
        },
    }
    write_record(args.json, record)


if __name__ == "__main__":
    main()
