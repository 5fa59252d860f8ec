"""The encoder benchmark's tasks: labels checked against networkx, seeded generation, equal budgets."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from graphgen.bench.encoder_tasks import MODELS, PARAM_BUDGET, TaskModel, hidden_for_budget, make_task


def _nx(g):
    out = nx.Graph()
    out.add_nodes_from(range(int(g.num_nodes)))
    out.add_edges_from(g.edge_index.t().tolist())
    return out


@pytest.mark.parametrize(
    "task",
    [
        "degree",
        "triangles",
        "cycle",
        "connectivity",
        "shortest_path",
        "colour_count",
        "shortest_path_long",
        "connectivity_long",
    ],
)
def test_labels_agree_with_networkx(task):
    train, test = make_task(task, seed=3, num_train=40, num_test=10)
    assert len(train) == 40 and len(test) == 10
    labels = []
    for g in train:
        h = _nx(g)
        if task == "degree":
            assert g.y.tolist() == [float(h.degree(v)) for v in range(h.number_of_nodes())]
        elif task == "triangles":
            assert float(g.y) == sum(nx.triangles(h).values()) / 3
        elif task == "cycle":
            assert float(g.y) == float(len(nx.cycle_basis(h)) > 0)
        elif task in ("connectivity", "connectivity_long"):
            assert float(g.y) == float(nx.is_connected(h))
        elif task in ("shortest_path", "shortest_path_long"):
            source = int(g.x[:, 1].argmax())
            dist = nx.single_source_shortest_path_length(h, source)
            assert g.y.tolist() == [float(dist.get(v, -1)) for v in range(h.number_of_nodes())]
        elif task == "colour_count":
            assert float(g.y) == float((g.x[:, 0] == 1).sum())
        labels.append(float(g.y.view(-1)[0]))
    if task in ("cycle", "connectivity", "connectivity_long"):
        assert 0.2 < sum(labels) / len(labels) < 0.8  # roughly balanced
    again, _ = make_task(task, seed=3, num_train=40, num_test=10)
    assert all(torch.equal(a.edge_index, b.edge_index) for a, b in zip(train, again))


def test_models_get_comparable_parameter_counts():
    counts = {}
    for kind in MODELS:
        hidden = hidden_for_budget(kind, 2, True, None)
        counts[kind] = sum(p.numel() for p in TaskModel(kind, 2, hidden, 1, True, None).parameters())
    assert all(abs(c - PARAM_BUDGET) < 0.25 * PARAM_BUDGET for c in counts.values()), counts
