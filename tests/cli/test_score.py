import json
import math

import pytest
import torch

from graphgen.data import edge_chunks, from_edge_array
from graphgen.datasets import load_dataset
from graphgen.io import write_graphs
from graphgen.models import HiGen
from tests.cli.test_cli import run


def _graph(edges, n):
    return from_edge_array(n, torch.tensor(edges, dtype=torch.long).reshape(-1, 2))


def test_edge_chunks_hold_consecutive_graphs_up_to_the_edge_limit():
    graphs = [_graph([(i, i + 1) for i in range(e)], e + 1) for e in (3, 2, 5, 1, 1, 9, 2)]
    assert edge_chunks(graphs, 5) == [(0, 2), (2, 3), (3, 5), (5, 6), (6, 7)]  # 3+2 | 5 | 1+1 | 9 alone | 2
    assert edge_chunks(graphs, 100) == [(0, 7)]
    assert edge_chunks([], 5) == []


def test_score_reports_each_graphs_log_likelihood_and_the_nll_per_edge(capsys, tmp_path):
    """The JSON holds HiGen.log_likelihood of every graph of the split, in order; the summary is their
    sum over the edges."""
    out = tmp_path / "score.json"
    code, stdout, err = run(capsys, "score", "community_small:test", "--json", str(out))
    assert code == 0 and "NLL per edge" in stdout and f"wrote {out}" in err
    result = json.loads(out.read_text())
    graphs = load_dataset("community_small", "test")
    expected = HiGen.from_pretrained("higen-community-small").log_likelihood(graphs)
    got = torch.tensor([g["log_likelihood"] for g in result["per_graph"]], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    edges = sum(int(g.edge_index.shape[1]) // 2 for g in graphs)
    assert result["num_graphs"] == len(graphs) and result["num_edges"] == edges
    assert result["nll_per_edge"] == pytest.approx(-expected.sum().item() / edges, rel=1e-12)
    per_edge = -expected / torch.tensor([int(g.edge_index.shape[1]) // 2 for g in graphs], dtype=torch.float64)
    assert result["least_typical_graph"] == int(torch.argmax(per_edge))
    assert f"{result['nll_per_edge']:.4f}" in stdout


def test_score_refuses_what_it_cannot_score_in_one_line(capsys, tmp_path):
    edgeless = tmp_path / "edgeless.g6"
    write_graphs([_graph([(0, 1)], 2), _graph([], 3)], edgeless)
    cases = [
        (("score", str(edgeless)), "graph 1 has no edges"),
        (("score", str(tmp_path / "missing.g6")), "neither an existing file nor a dataset split"),
        (("score", "qm9:test"), "HiGen scores graph datasets; qm9 holds molecules"),
    ]
    for args, message in cases:
        json_out = tmp_path / "never.json"
        code, stdout, err = run(capsys, *args, "--json", str(json_out))
        assert code == 1 and message in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1 and not json_out.exists()


def test_score_with_the_erdos_renyi_baseline_is_minus_log_binomial(capsys, tmp_path):
    """The baseline's value is log p(A | n, m) = -log C(n(n-1)/2, m), beside HiGen's on the same graphs."""
    out = tmp_path / "er.json"
    code, _, _ = run(capsys, "score", "community_small:test", "-c", "er-community-small", "--json", str(out))
    assert code == 0
    per_graph = json.loads(out.read_text())["per_graph"]
    for row in per_graph:
        pairs = row["nodes"] * (row["nodes"] - 1) // 2
        assert row["log_likelihood"] == pytest.approx(-math.log(math.comb(pairs, row["edges"])), rel=1e-12)


def test_score_over_several_hierarchies_is_the_models_bound_and_higen_only(capsys, tmp_path):
    out = tmp_path / "k.json"
    code, stdout, _ = run(
        capsys, "score", "enzymes:test", "-c", "higen-enzymes", "--hierarchies", "3", "--json", str(out)
    )
    result = json.loads(out.read_text())
    expected = HiGen.from_pretrained("higen-enzymes").log_likelihood(load_dataset("enzymes", "test"), hierarchies=3)
    got = torch.tensor([g["log_likelihood"] for g in result["per_graph"]], dtype=torch.float64)
    assert code == 0 and result["hierarchies"] == 3 and "3 hierarchies" in stdout
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    code, _, err = run(capsys, "score", "community_small:test", "-c", "er-community-small", "--hierarchies", "2")
    assert code == 2 and "HiGen only" in err
    code, _, err = run(capsys, "score", "sbm:test", "-c", "higen-sbm", "--hierarchies", "2")
    assert code == 1 and "community count emerges" in err and len(err.strip().splitlines()) == 1


def test_score_with_random_ties_is_the_models_bound_over_relabelled_graphs(capsys, tmp_path):
    """--random-ties: the model's log_likelihood(random_ties=True), recorded and named in the title;
    on the default model (trained on random orders) it tightens the bound of --hierarchies alone,
    which adds nothing on community_small; without --hierarchies K > 1 it is a usage error."""
    graphs = load_dataset("community_small", "test")[:5]
    path = tmp_path / "five.g6"
    write_graphs(graphs, path)
    out = tmp_path / "k.json"
    code, stdout, _ = run(capsys, "score", str(path), "--hierarchies", "4", "--random-ties", "--json", str(out))
    result = json.loads(out.read_text())
    model = HiGen.from_pretrained("higen-community-small")
    expected = model.log_likelihood(graphs, hierarchies=4, random_ties=True)
    got = torch.tensor([g["log_likelihood"] for g in result["per_graph"]], dtype=torch.float64)
    assert code == 0 and result["random_ties"] is True and "4 hierarchies (random ties)" in " ".join(stdout.split())
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    assert bool((expected > model.log_likelihood(graphs, hierarchies=4)).all())
    code, _, err = run(capsys, "score", str(path), "--random-ties")
    assert code == 2 and "--hierarchies K > 1" in err
