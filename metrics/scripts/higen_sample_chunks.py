"""Sampling time and peak memory of many graphs, in chunks of ``SAMPLE_CHUNK`` against one batch.

    PYTHONPATH=. python metrics/scripts/higen_sample_chunks.py OUT.json [--model higen-community-small]
        [--counts 4000 20000] [--seed 0]

Each point runs in its own process (``python -c``: the model sampled with
``graphgen.models.higen.model.SAMPLE_CHUNK`` as shipped, or set above the count so that every graph
is in one batch, as before session 42), and records the wall seconds of ``HiGen.sample`` and the
process's peak resident memory (``ru_maxrss``, which includes the ~0.35 GB of the imported libraries
and the model). The two subjects run alternately, in the same session of the same machine; ratios
are the comparison, since the machine is shared.
"""

import argparse
import json
import subprocess
import sys

from graphgen.bench.record import write_record

POINT = """
import json, resource, time, torch
import graphgen.models.higen.model as higen_model
from graphgen.models import HiGen
model = HiGen.from_pretrained({model!r})
if {one_batch}:
    higen_model.SAMPLE_CHUNK = {count}
start = time.perf_counter()
graphs = model.sample({count}, generator=torch.Generator().manual_seed({seed}))
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "graphs": len(graphs), "nodes": sum(int(g.num_nodes) for g in graphs),
                  "chunk": higen_model.SAMPLE_CHUNK}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--model", default="higen-community-small")
    parser.add_argument("--counts", type=int, nargs="+", default=[4000, 20000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for count in args.counts:
        row = {"graphs": count}
        for name, one_batch in (("chunks", False), ("one batch", True)):
            code = POINT.format(model=args.model, one_batch=one_batch, count=count, seed=args.seed)
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            row[name] = json.loads(result.stdout.strip().splitlines()[-1])
            print(count, name, row[name], flush=True)
        row["time_ratio_one_batch_over_chunks"] = row["one batch"]["seconds"] / row["chunks"]["seconds"]
        row["peak_ratio_one_batch_over_chunks"] = row["one batch"]["peak_rss_mb"] / row["chunks"]["peak_rss_mb"]
        rows.append(row)
    record = {
        "model": args.model,
        "seed": args.seed,
        "rows": rows,
    }
    write_record(args.out, record)


if __name__ == "__main__":
    main()
