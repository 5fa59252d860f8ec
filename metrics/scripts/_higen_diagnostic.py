"""Shared command line of the HiGen diagnostic scripts: ``SCRIPT MODEL DATASET [--samples N] [--json OUT]``."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse(doc: str, default_samples: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("model", help="shipped model name or checkpoint path")
    parser.add_argument("dataset")
    parser.add_argument("--samples", type=int, default=default_samples)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def report(result: dict, args: argparse.Namespace, script: str) -> None:
    """Add the exact command to ``result``; write it to ``--json`` (with provenance) or print it."""
    from graphgen.cli._output import write_json

    result["command"] = f"python metrics/scripts/{script} {args.model} {args.dataset} --samples {args.samples}" + (
        f" --json {args.json}" if args.json else ""
    )
    write_json(result, args.json)
    if args.json is None:
        print(result)
