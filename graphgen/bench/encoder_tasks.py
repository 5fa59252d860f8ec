"""Encoder tasks: synthetic graph algorithmic tasks and QM9 HOMO-LUMO gap, offline, from seeds.

Tasks (every graph generated from the task seed; inputs are a constant feature plus what the task
needs; node-level tasks predict per node, graph-level ones from ``[mean || sum]`` pooling):

============================ ======= =========================================================
task                         level   definition
============================ ======= =========================================================
``degree``                   node    degree of each node (ER graphs, 10-20 nodes); MAE
``triangles``                graph   number of triangles (ER, 10-20 nodes, p 0.2-0.5); MAE
``cycle``                    graph   has a cycle? (random tree, plus one random edge half of
                                     the time); accuracy
``connectivity``             graph   connected? (ER near the threshold, balanced); accuracy
``shortest_path``            node    hops from a marked source (ER, 10-20 nodes; unreachable:
                                     -1); MAE
``colour_count``             graph   number of nodes of colour 0 (3 random colours); MAE
``shortest_path_long``       node    as ``shortest_path`` on long caterpillars (40-80 nodes,
                                     distances up to ~80): local message passing cannot see far
``connectivity_long``        graph   one long path or two (40-80 nodes); accuracy
``qm9_gap``                  graph   HOMO-LUMO gap of QM9 molecules (first 2,000 of the
                                     ``digress`` train split, first 500 of its test split);
                                     MAE in the dataset's units
============================ ======= =========================================================

Models (same epochs, optimiser, seeds; the hidden width of each is chosen so that every model has
about ``PARAM_BUDGET`` parameters): ``gine`` (GINE/GIN layers with residuals), ``gatedgcn``
(PyG ``ResGatedGraphConv``), ``gps`` (PyG ``GPSConv``, GIN local + full attention), ``gmn``
(:class:`graphgen.nn.GraphMamba`, m = 2) and ``gsm++`` (:class:`graphgen.nn.GSMPlusPlus`, HAC-BFS).
Each record: ``model, task, metric, value, std`` (over seeds), ``params``, ``seconds_per_epoch``,
``peak_memory_mb`` (growth of the process's peak RSS during that model's runs; 0 when an earlier
run already reached a higher peak).
"""

from __future__ import annotations

import resource
import statistics
import time

import numpy as np
import torch
from torch import nn

TASKS = (
    "degree",
    "triangles",
    "cycle",
    "connectivity",
    "shortest_path",
    "colour_count",
    "shortest_path_long",
    "connectivity_long",
    "qm9_gap",
)
QUICK_TASKS = ("triangles", "connectivity", "shortest_path_long")
MODELS = ("gine", "gatedgcn", "gps", "gmn", "gsm++")
PARAM_BUDGET = 40_000
CLASSIFICATION = {"cycle", "connectivity", "connectivity_long"}
NODE_LEVEL = {"degree", "shortest_path", "shortest_path_long"}


def _er(rng, n, p):
    iu, ju = np.triu_indices(n, 1)
    keep = rng.random(iu.size) < p
    return np.stack([iu[keep], ju[keep]], 1)


def _tree(rng, n):
    return np.array([[int(rng.integers(0, v)), v] for v in range(1, n)]).reshape(-1, 2)


def _caterpillar(rng, n):
    spine = max(2, int(n * 0.7))
    edges = [[v - 1, v] for v in range(1, spine)]
    edges += [[int(rng.integers(0, spine)), v] for v in range(spine, n)]
    return np.array(edges)


def _data(n, edges, x, y):
    from graphgen.data import from_edge_array

    g = from_edge_array(n, np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    g.x, g.y = x, y
    return g


def _hops(g, source):
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    n = int(g.num_nodes)
    ei = g.edge_index.numpy()
    dist = shortest_path(
        sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n)), indices=source, unweighted=True
    )
    return torch.from_numpy(np.where(np.isfinite(dist), dist, -1.0)).float()


def _connected(n, edges):
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    e = np.asarray(edges).reshape(-1, 2)
    return (
        connected_components(sp.csr_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)), directed=False)[0] == 1
    )


def _example(task: str, rng) -> object:
    from graphgen.data import degree, graph_triangle_counts

    one = lambda n: torch.ones(n, 1)  # noqa: E731
    if task in ("degree", "triangles"):
        n = int(rng.integers(10, 21))
        g = _data(n, _er(rng, n, rng.uniform(0.2, 0.5)), one(n), None)
        g.y = degree(g).float() if task == "degree" else graph_triangle_counts(g).float()
        return g
    if task == "cycle":
        n = int(rng.integers(10, 21))
        edges = _tree(rng, n)
        label = bool(rng.random() < 0.5)
        if label:
            present = {tuple(sorted(e)) for e in edges.tolist()}
            while True:
                u, v = sorted(rng.choice(n, 2, replace=False).tolist())
                if (u, v) not in present:
                    edges = np.vstack([edges, [u, v]])
                    break
        return _data(n, edges, one(n), torch.tensor([float(label)]))
    if task == "connectivity":
        want = bool(rng.random() < 0.5)
        while True:
            n = int(rng.integers(10, 21))
            edges = _er(rng, n, np.log(n) / n)
            if _connected(n, edges) == want:
                return _data(n, edges, one(n), torch.tensor([float(want)]))
    if task in ("shortest_path", "shortest_path_long"):
        if task == "shortest_path":
            n = int(rng.integers(10, 21))
            edges = _er(rng, n, rng.uniform(0.1, 0.3))
        else:
            n = int(rng.integers(40, 81))
            edges = _caterpillar(rng, n)
        source = int(rng.integers(0, n))
        x = torch.zeros(n, 2)
        x[:, 0] = 1
        x[source, 1] = 1
        g = _data(n, edges, x, None)
        g.y = _hops(g, source)
        return g
    if task == "colour_count":
        n = int(rng.integers(10, 21))
        colours = rng.integers(0, 3, n)
        x = torch.from_numpy(np.eye(3)[colours]).float()
        return _data(n, _er(rng, n, 0.2), x, torch.tensor([float((colours == 0).sum())]))
    if task == "connectivity_long":
        n = int(rng.integers(40, 81))
        cut = bool(rng.random() < 0.5)
        order = rng.permutation(n)
        edges = [[order[i], order[i + 1]] for i in range(n - 1)]
        if cut:
            del edges[int(rng.integers(1, n - 2))]
        return _data(n, edges, one(n), torch.tensor([float(not cut)]))
    raise ValueError(f"unknown task {task!r}")


def _qm9(split: str, count: int):
    from graphgen.datasets import load_dataset

    out = []
    for g in load_dataset("qm9", split, limit=count):
        atoms = g.x[:, 0]
        onehot = torch.stack([(atoms == z) for z in (6, 7, 8, 9)], 1).float()
        g.x = torch.cat([onehot, g.x[:, 1:].float()], 1)
        g.edge_attr = torch.nn.functional.one_hot(g.edge_attr - 1, 3).float()
        g.y = g.y[:, 4].float()  # gap
        out.append(g)
    return out


def make_task(task: str, seed: int, num_train: int = 256, num_test: int = 128):
    """``(train, test)`` lists of ``Data`` for ``task`` (QM9 ignores the sizes and the seed)."""
    if task == "qm9_gap":
        return _qm9("train", 2000), _qm9("test", 500)
    rng = np.random.default_rng(seed)
    graphs = [_example(task, rng) for _ in range(num_train + num_test)]
    return graphs[:num_train], graphs[num_train:]


class _Stack(nn.Module):
    def __init__(self, kind: str, in_dim: int, hidden: int, layers: int, edge_dim: int | None):
        super().__init__()
        from torch_geometric.nn import GINConv, GINEConv, GPSConv, ResGatedGraphConv

        self.kind = kind
        self.input = nn.Linear(in_dim, hidden)
        self.edge_input = nn.Linear(edge_dim, hidden) if edge_dim else None

        def mlp():
            return nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

        if kind == "gine":
            self.convs = nn.ModuleList(GINEConv(mlp()) if edge_dim else GINConv(mlp()) for _ in range(layers))
        elif kind == "gatedgcn":
            self.convs = nn.ModuleList(
                ResGatedGraphConv(hidden, hidden, edge_dim=hidden if edge_dim else None) for _ in range(layers)
            )
        elif kind == "gps":
            self.convs = nn.ModuleList(
                GPSConv(hidden, GINConv(mlp()), heads=4, norm="layer_norm") for _ in range(layers)
            )
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))

    def forward(self, x, edge_index, edge_attr=None, batch=None):
        h = self.input(x)
        e = self.edge_input(edge_attr) if self.edge_input is not None and edge_attr is not None else None
        for conv, norm in zip(self.convs, self.norms):
            if self.kind == "gps":
                h = conv(h, edge_index, batch=batch)
            else:
                out = conv(h, edge_index, e) if e is not None else conv(h, edge_index)
                h = norm(h + torch.relu(out))
        return h


def _encoder(kind: str, in_dim: int, hidden: int, edge_dim: int | None) -> nn.Module:
    from graphgen.nn import GraphMamba, GraphMambaConfig, GSMPlusPlus, GSMPlusPlusConfig

    if kind == "gmn":
        return GraphMamba(GraphMambaConfig(in_dim, hidden=hidden, num_layers=2, m=2, edge_dim=edge_dim, d_state=8))
    if kind == "gsm++":
        heads = 4 if hidden % 4 == 0 else 1
        return GSMPlusPlus(
            GSMPlusPlusConfig(in_dim, hidden=hidden, num_layers=2, num_heads=heads, edge_dim=edge_dim, d_state=8)
        )
    return _Stack(kind, in_dim, hidden, 2 if kind == "gps" else 3, edge_dim)


class TaskModel(nn.Module):
    """Encoder + node head, or ``[mean || sum]`` pooling + graph head."""

    def __init__(self, kind: str, in_dim: int, hidden: int, out_dim: int, node_level: bool, edge_dim: int | None):
        super().__init__()
        self.encoder = _encoder(kind, in_dim, hidden, edge_dim)
        self.node_level = node_level
        width = hidden if node_level else 2 * hidden
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, batch):
        from torch_geometric.nn import global_add_pool, global_mean_pool

        h = self.encoder(batch.x, batch.edge_index, getattr(batch, "edge_attr", None), batch.batch)
        if not self.node_level:
            h = torch.cat([global_mean_pool(h, batch.batch), global_add_pool(h, batch.batch) / 10], 1)
        return self.head(h).squeeze(-1)


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def hidden_for_budget(
    kind: str, in_dim: int, node_level: bool, edge_dim: int | None, budget: int = PARAM_BUDGET
) -> int:
    """The multiple of 4 whose model has the parameter count nearest to ``budget``."""
    best = min(
        range(8, 129, 4), key=lambda h: abs(_params(TaskModel(kind, in_dim, h, 1, node_level, edge_dim)) - budget)
    )
    return best


def train_and_evaluate(kind: str, task: str, seed: int, *, epochs: int, data=None) -> dict:
    from torch_geometric.loader import DataLoader

    torch.manual_seed(seed)
    train, test = data if data is not None else make_task(task, seed)
    in_dim = train[0].x.shape[1]
    edge_dim = (
        train[0].edge_attr.shape[1]
        if getattr(train[0], "edge_attr", None) is not None and train[0].edge_attr.dim() == 2
        else None
    )
    node_level = task in NODE_LEVEL
    hidden = hidden_for_budget(kind, in_dim, node_level, edge_dim)
    model = TaskModel(kind, in_dim, hidden, 1, node_level, edge_dim)
    ys = torch.cat([g.y.view(-1) for g in train])
    mean, std = (0.0, 1.0) if task in CLASSIFICATION else (float(ys.mean()), float(ys.std()) or 1.0)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(train, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for batch in loader:
            opt.zero_grad()
            out = model(batch)
            if task in CLASSIFICATION:
                loss = nn.functional.binary_cross_entropy_with_logits(out, batch.y.view(-1))
            else:
                loss = nn.functional.l1_loss(out, (batch.y.view(-1) - mean) / std)
            loss.backward()
            opt.step()
    seconds_per_epoch = (time.perf_counter() - start) / epochs
    model.eval()
    preds, targets = [], []
    with torch.no_grad():
        for batch in DataLoader(test, batch_size=64):
            preds.append(model(batch))
            targets.append(batch.y.view(-1))
    pred, target = torch.cat(preds), torch.cat(targets)
    if task in CLASSIFICATION:
        metric, value = "accuracy", float(((pred > 0).float() == target).float().mean())
    else:
        metric, value = "mae", float((pred * std + mean - target).abs().mean())
    return {
        "metric": metric,
        "value": value,
        "params": _params(model),
        "hidden": hidden,
        "seconds_per_epoch": seconds_per_epoch,
    }


def run(quick: bool = False, seeds: int = 3, epochs: int = 10) -> list[dict]:
    torch.set_num_threads(1)
    tasks = QUICK_TASKS if quick else TASKS
    seeds, epochs = (1, min(epochs, 3)) if quick else (seeds, epochs)  # quick: one seed, at most 3 epochs
    records = []
    for task in tasks:
        datasets = {s: make_task(task, s) for s in range(seeds)}
        for kind in MODELS:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            runs = [train_and_evaluate(kind, task, s, epochs=epochs, data=datasets[s]) for s in range(seeds)]
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            values = [r["value"] for r in runs]
            records.append(
                {
                    "model": kind,
                    "task": task,
                    "metric": runs[0]["metric"],
                    "value": statistics.fmean(values),
                    "std": statistics.pstdev(values),
                    "per_seed": values,
                    "params": runs[0]["params"],
                    "hidden": runs[0]["hidden"],
                    "seconds_per_epoch": statistics.fmean(r["seconds_per_epoch"] for r in runs),
                    "peak_memory_mb": (peak - before) / 1024,
                    "epochs": epochs,
                    "seeds": seeds,
                }
            )
    return records
