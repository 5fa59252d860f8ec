"""GMN at 10k nodes: which part costs what (recorded as metrics/results/gmn_10k_ablation.json)."""

import json
import time

import torch

from graphgen.bench.encoders import FEATURES, _graph
from graphgen.bench.record import provenance
from graphgen.nn import GraphMamba, GraphMambaConfig

torch.set_num_threads(1)
x, ei = _graph(10000)
records = []
for kw in (dict(m=2), dict(m=2, token_bidirectional=False), dict(m=2, d_state=8), dict(m=0), dict(m=2, scan="chunked")):
    scan = kw.pop("scan", "auto")
    torch.manual_seed(0)
    model = GraphMamba(GraphMambaConfig(FEATURES, hidden=64, num_layers=2, eval_orderings=1, **kw))
    for mod in model.modules():
        if hasattr(mod, "scan_method"):
            mod.scan_method = scan

    def step(model=model):
        model.zero_grad()
        model(x, ei).square().mean().backward()

    step()
    t = time.perf_counter()
    step()
    records.append({**kw, "scan_method": scan, "seconds": time.perf_counter() - t})
    print(records[-1], flush=True)
out = {
    **provenance("python metrics/scripts/gmn_10k_ablation.py"),
    "num_nodes": 10000,
    "hidden": 64,
    "layers": 2,
    "torch_threads": 1,
    "note": "forward+backward of the second step, one process, sequentially",
    "records": records,
}
json.dump(out, open("metrics/results/gmn_10k_ablation.json", "w"), indent=1)
