import collections
import itertools
import math
import random

import networkx as nx
import pytest
import torch

from graphgen.models.higen.bipartite import segment_conditional_bernoulli_log_prob
from graphgen.models.higen.face_runs import (
    data_face_sets,
    face_log_prob,
    outer_border,
    pack_face_sets,
    place_row,
    placements,
    prefix_faces,
    row_options,
    sample_face_rows,
)
from graphgen.models.higen.model import Draws
from graphgen.models.higen.row_runs import run_mixture_log_prob


def grow(rng: random.Random, n: int, max_w: int = 4):
    """A community grown by random placements: ``(faces, edges)``."""
    faces, edges = [[0]], []
    for v in range(1, n):
        options = [p for w in range(1, max_w + 1) for p in placements(faces, w)]
        face, start, run = rng.choice(options)
        faces = place_row(faces, face, start, len(run), v)
        edges += [(u, v) for u in run]
    return faces, edges


def assert_faces_embed(faces, edges, n):
    """The faces are those of a plane embedding of the graph: consecutive places are edges, every
    edge is walked once in each direction, Euler's ``V - E + F = 2`` holds, and the graph is planar."""
    graph = nx.Graph(edges)
    graph.add_nodes_from(range(n))
    half_edges = collections.Counter()
    for walk in faces:
        if len(walk) == 1:
            continue
        for a, b in zip(walk, walk[1:] + walk[:1]):
            assert graph.has_edge(a, b)
            half_edges[(a, b)] += 1
    assert all(half_edges[(a, b)] == 1 and half_edges[(b, a)] == 1 for a, b in graph.edges)
    assert sum(half_edges.values()) == 2 * graph.number_of_edges()
    assert n - graph.number_of_edges() + len(faces) == 2
    assert nx.check_planarity(graph)[0]


def test_a_single_node_a_pendant_and_a_triangle():
    """Exact faces of the first rows: a single node, an edge walked both ways, a triangle's two sides."""
    assert placements([[0]], 1) == [(0, 0, [0])] and placements([[0]], 2) == []
    faces = place_row([[0]], 0, 0, 1, 1)
    assert faces == [[0, 1]]
    assert [p[2] for p in placements(faces, 2)] == [[0, 1], [1, 0]]
    faces = place_row(faces, 0, 0, 2, 2)  # node 2 joined to 0 and 1
    assert faces == [[1, 0, 2], [0, 1, 2]]
    assert_faces_embed(faces, [(0, 1), (0, 2), (1, 2)], 3)
    # a pendant on node 1 of the outer triangle: the outer walk visits 1 twice
    pendant = place_row(faces, 0, 0, 1, 3)
    assert pendant[0] == [1, 0, 2, 1, 3] and pendant[1] == [0, 1, 2]
    # a run may not repeat a node: of the 5 starts of w = 3 on the pendant walk, [1, 3, 1] does
    assert [p[2] for p in placements(pendant, 3) if p[0] == 0] == [[1, 0, 2], [0, 2, 1], [2, 1, 3], [3, 1, 0]]


def test_a_node_in_an_inner_triangle_makes_a_k4():
    """Joining a node to a whole inner triangle gives K4's four triangular faces (a separating
    triangle once the outside grows), which the border-cycle runs cannot."""
    faces = place_row(place_row([[0]], 0, 0, 1, 1), 0, 0, 2, 2)
    k4 = place_row(faces, 1, 0, 3, 3)
    assert sorted(sorted(f) for f in k4) == [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]
    assert all(len(f) == 3 for f in k4)
    assert_faces_embed(k4, [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)], 4)


@pytest.mark.parametrize("seed", range(6))
def test_random_growth_keeps_a_plane_embedding(seed):
    faces, edges = grow(random.Random(seed), 30)
    assert_faces_embed(faces, edges, 30)


def test_prefix_faces_of_a_planar_embedding():
    """The faces induced by networkx's embedding on a prefix are a plane embedding of the prefix, and
    the next node's earlier neighbours are on one of them."""
    graph = nx.triangular_lattice_graph(3, 4)
    graph = nx.convert_node_labels_to_integers(graph, ordering="sorted")
    order = list(nx.bfs_tree(graph, 0))
    graph = nx.relabel_nodes(graph, {u: i for i, u in enumerate(order)})
    rotation = nx.check_planarity(graph)[1].get_data()
    n = graph.number_of_nodes()
    for t in range(1, n):
        prefix = set(range(t))
        faces = prefix_faces(rotation, prefix)
        assert_faces_embed(faces, list(graph.subgraph(prefix).edges), t)
        earlier = {u for u in graph[t] if u < t}
        assert any(earlier <= set(f) for f in faces)
    assert prefix_faces(rotation, {5}) == [[5]]


def test_row_options_merge_placements_of_a_set_and_prefer_the_outer_face():
    faces = place_row(place_row([[0]], 0, 0, 1, 1), 0, 0, 2, 2)  # outer [1, 0, 2], inner [0, 1, 2]
    options = row_options(faces, 2)
    assert sorted(tuple(nodes) for nodes, _ in options) == [(0, 1), (0, 2), (1, 2)]
    assert all([f for f, _ in where] == [0] for _, where in options)  # each edge: outer placement only
    (whole,) = row_options(faces, 3)
    assert whole[0] == [0, 1, 2] and len(whole[1]) == 3 and {f for f, _ in whole[1]} == {0}
    k4 = place_row(faces, 1, 0, 3, 3)  # node 3 inside: the edge 2-3 lies on two inner faces only
    inner = {tuple(nodes): where for nodes, where in row_options(k4, 2)}
    assert sorted(f for f, _ in inner[(2, 3)]) == [f for f, walk in enumerate(k4) if {2, 3} <= set(walk)]
    assert 0 not in {f for f, _ in inner[(2, 3)]} and [f for f, _ in inner[(0, 1)]] == [0]


@pytest.mark.parametrize("w", [2, 3])
def test_sampled_sets_follow_the_softmax_of_their_scores(w):
    """Frequencies of the drawn node sets match ``exp(Σ θ) / Σ_sets exp(Σ θ)`` over the sets that are
    runs of some face (each set once, however many placements it has), and faces follow the draw."""
    faces = place_row(place_row(place_row([[0]], 0, 0, 1, 1), 0, 0, 2, 2), 0, 0, 2, 3)
    t = 4
    theta = torch.tensor([0.3, -0.5, 1.0, 0.2], dtype=torch.float64)
    sets = [tuple(nodes) for nodes, _ in row_options(faces, w)]
    if w == 2:  # every edge is a run of a face
        assert set(sets) == {tuple(sorted(e)) for e in [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3)]}
    else:  # the two inner triangles (3 placements each) and the outer 4-cycle's runs (1 each)
        assert sorted(sets) == [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
        per_set = collections.Counter(tuple(sorted(run)) for _, _, run in placements(faces, w))
        assert sorted(per_set.values()) == [1, 1, 4, 4]  # counted per placement the draw would differ
    weights = torch.tensor([math.exp(float(theta[list(s)].sum())) for s in sets])
    expected = weights / weights.sum()
    n = 4000
    lengths = torch.full((n,), t)
    draws = Draws(torch.Generator().manual_seed(0))
    many = [[list(f) for f in faces] for _ in range(n)]
    counts = sample_face_rows(theta.repeat(n), lengths, torch.full((n,), w), many, draws).view(n, t)
    assert torch.equal(counts.sum(1), torch.full((n,), w))
    seen = collections.Counter(tuple(row.nonzero().flatten().tolist()) for row in counts)
    for s, p in zip(sets, expected.tolist()):
        assert abs(seen[s] / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-3
    for row, after in zip(counts[:50], many[:50]):
        chosen = row.nonzero().flatten().tolist()
        assert after is not None and sum(sorted(f) == [*chosen[q : q + 2], t] for q in range(w - 1) for f in after) >= 1


def test_rows_without_a_run_fall_back_and_lose_the_embedding():
    faces = [place_row([[0]], 0, 0, 1, 1), None]
    theta = torch.zeros(4, dtype=torch.float64)
    draws = Draws(torch.Generator().manual_seed(0))
    # row 0: 2 nodes on its faces, w = 2 fits; row 1: embedding already lost
    counts = sample_face_rows(theta, torch.tensor([2, 2]), torch.tensor([2, 1]), faces, draws)
    assert counts.tolist()[:2] == [1, 1] and sum(counts.tolist()[2:]) == 1
    assert faces[0] is not None and faces[1] is None
    # w = 3 on a single edge: no run of 3 distinct nodes; drawn plainly
    faces = [[[0, 1], [2]]]
    counts = sample_face_rows(torch.zeros(3, dtype=torch.float64), torch.tensor([3]), torch.tensor([3]), faces, draws)
    assert counts.tolist() == [1, 1, 1] and faces == [None]


def test_outer_border_reads_face_zero_where_the_embedding_was_kept():
    faces = place_row(place_row(place_row([[0]], 0, 0, 1, 1), 0, 0, 2, 2), 1, 0, 3, 3)  # K4, node 3 inside
    place = torch.tensor([0, 1, 2, 3, 0, 1])  # the walk's places: community 0 nodes 0-3, community 1 nodes 4-5
    length = torch.tensor([4, 2])
    new_place, new_length = outer_border({0: faces, 1: None}, torch.tensor([0, 4]), place, length)
    assert new_length.tolist() == [3, 2]
    assert new_place[:4].tolist() == [1, 0, 2, -1]  # face 0 = [1, 0, 2]; node 3 inside
    assert new_place[4:].tolist() == [0, 1] and place.tolist() == [0, 1, 2, 3, 0, 1]


def rows_of_subsets(t: int, subsets, sets: torch.Tensor, logits: torch.Tensor):
    """Every subset as a row over the same ``t`` earlier nodes with the same face sets and scores:
    ``(entry_logits, entry_count, entry_row, sets, take)``."""
    r = len(subsets)
    count = torch.zeros(r * t, dtype=torch.long)
    for i, chosen in enumerate(subsets):
        count[[i * t + j for j in chosen]] = 1
    entry_row = torch.repeat_interleave(torch.arange(r), t)
    take = torch.tensor([len(x) for x in subsets])
    return logits.repeat(r, 1), count, entry_row, sets.expand(r, -1, -1).clone(), take


def conditional_bernoulli(args, t: int):
    logits, count, entry_row, _, take = args
    return segment_conditional_bernoulli_log_prob(
        logits, count, entry_row, torch.arange(t).repeat(len(take)), len(take), take
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_face_rows_and_their_mixture_sum_to_one_by_enumeration(seed):
    """For every w on a grown community: p_face sums to 1 over the w-subsets when the row has sets (0
    otherwise), its support is exactly the sets that run along a face, it is the conditional
    Bernoulli renormalised on them, and the mixture with the conditional Bernoulli sums to 1."""
    faces, _ = grow(random.Random(seed), 7)
    t = 7
    logits = torch.randn(t, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    for w in range(t + 1):
        runs = [tuple(nodes) for nodes, _ in row_options(faces, w)]
        subsets = list(itertools.combinations(range(t), w))
        args = rows_of_subsets(t, subsets, pack_face_sets([runs]), logits)
        face = face_log_prob(*args[:4])
        assert face.exp().sum(0).tolist() == pytest.approx([1.0 if runs else 0.0] * 3, abs=1e-12), w
        assert {s for s, lp in zip(subsets, face[:, 0].tolist()) if lp > -math.inf} == set(runs)
        cb = conditional_bernoulli(args, t)
        if runs:
            member = torch.isfinite(face[:, 0])
            assert torch.allclose(face[member], cb[member] - cb[member].exp().sum(0).log(), rtol=1e-12)
        share = torch.full((len(subsets),), -0.4)
        mixed = run_mixture_log_prob(cb, face, share, torch.full((len(subsets),), bool(runs)))
        assert mixed.exp().sum(0).tolist() == pytest.approx([1.0] * 3, abs=1e-12), w


def test_face_log_prob_of_rows_of_different_lengths_is_each_rows_own():
    """Rows of different prefixes laid out one after another (a first row with no entries among them)
    get the value they get alone; gradients are finite where a row has no sets."""
    faces, _ = grow(random.Random(3), 6)
    theta = torch.randn(6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rows = [(6, (0, 1)), (0, ()), (3, (0, 2)), (6, (1, 4, 5))]
    k4 = place_row(place_row([[0]], 0, 0, 1, 1), 0, 0, 2, 2)
    sets = [row_options(faces, 2), [], row_options(k4, 2), row_options(faces, 3)]
    sets = [[tuple(n) for n, _ in x] for x in sets]
    logits = torch.cat([theta[:t] for t, _ in rows]).requires_grad_(True)
    count = torch.cat([torch.tensor([int(j in y) for j in range(t)], dtype=torch.long) for t, y in rows])
    entry_row = torch.repeat_interleave(torch.arange(4), torch.tensor([t for t, _ in rows]))
    together = face_log_prob(logits, count, entry_row, pack_face_sets(sets))
    for i, ((t, y), own) in enumerate(zip(rows, sets)):
        alone = face_log_prob(
            theta[:t],
            torch.tensor([int(j in y) for j in range(t)]),
            torch.zeros(t, dtype=torch.long),
            pack_face_sets([own]),
        )
        assert torch.equal(torch.isfinite(together[i]), torch.isfinite(alone[0]))
        finite = torch.isfinite(alone[0])
        assert torch.allclose(together[i][finite], alone[0][finite], rtol=1e-12)
    torch.where(torch.isfinite(together), together, 0.0).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_rows_drawn_with_a_share_follow_the_face_mixture():
    """sample_face_rows with a share (row_faces models): the drawn sets' frequencies match
    ``π p_face + (1 - π) p_cb``; a row keeps its embedding exactly when its set runs along a face, and
    then its faces are those of a placement of that set."""
    faces = place_row(place_row(place_row([[0]], 0, 0, 1, 1), 0, 0, 2, 2), 0, 0, 2, 3)
    t, w, n = 4, 2, 6000
    theta = torch.tensor([0.3, -0.5, 1.0, 0.2], dtype=torch.float64)
    runs = [tuple(nodes) for nodes, _ in row_options(faces, w)]
    assert len(runs) == 5  # every pair but 2-3 (the outer 4-cycle's diagonal)
    seen_features = []

    def share(take, sets, position):
        seen_features.append((take.tolist()[:1], sets.tolist()[:1], position.tolist()[:1]))
        return torch.full((take.numel(),), -0.5, dtype=torch.float64)

    many = [[list(f) for f in faces] for _ in range(n)]
    drawn = sample_face_rows(
        theta.repeat(n), torch.full((n,), t), torch.full((n,), w), many, Draws(torch.Generator().manual_seed(1)), share
    ).view(n, t)
    assert seen_features == [([w], [5], [t])]
    subsets = list(itertools.combinations(range(t), w))
    args = rows_of_subsets(t, subsets, pack_face_sets([runs]), theta.unsqueeze(1))
    expected = run_mixture_log_prob(
        conditional_bernoulli(args, t),
        face_log_prob(*args[:4]),
        torch.full((len(subsets),), -0.5),
        torch.ones(len(subsets), dtype=torch.bool),
    ).exp()[:, 0]
    assert float(expected.sum()) == pytest.approx(1.0, abs=1e-12)
    seen = collections.Counter(tuple(row.nonzero().flatten().tolist()) for row in drawn)
    assert sum(seen.values()) == n and set(seen) <= set(subsets)
    for s, p in zip(subsets, expected.tolist()):
        assert abs(seen[s] / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-3, s
    assert seen[(2, 3)] > 0  # the conditional Bernoulli reaches the diagonal too
    for row, after in zip(drawn, many):
        chosen = tuple(row.nonzero().flatten().tolist())
        assert (after is not None) == (chosen in runs)
        if after is not None:
            assert [sorted(f) for f in after].count(sorted([*chosen, t])) >= 1


def test_data_face_sets_are_the_runs_of_the_embedded_prefixes():
    """Teacher forcing of row_faces: a row's sets are the runs of its size along the faces that the
    community's planar embedding induces on its prefix; a first row has none, a second row's only set
    is the first node, and on planar's graphs nearly every row's own set is among its sets."""
    from graphgen.datasets import load_dataset
    from graphgen.models.higen import HiGen, HiGenConfig
    from graphgen.models.higen.rows import community_rows

    model = HiGen(HiGenConfig(hidden=8, num_layers=1, num_mixtures=2, position_dim=4, resolution=0.3))
    h = model._hierarchy(load_dataset("planar", "val")[:2], 0)
    rows = community_rows(h, 2)
    sets = data_face_sets(rows)
    assert len(sets) == rows.num_rows
    assert all(sets[i] == [] for i in (rows.position == 0).nonzero().flatten().tolist())
    assert all(sets[i] == [(0,)] for i in (rows.position == 1).nonzero().flatten().tolist())
    own = [
        tuple(sorted(rows.entry_node[(rows.entry_row == i) & (rows.entry_count > 0)].tolist()))
        for i in range(rows.num_rows)
    ]
    later = [i for i in range(rows.num_rows) if own[i]]
    assert sum(own[i] in sets[i] for i in later) / len(later) > 0.95
    # one community's row by hand: its embedding restricted to the prefix, runs of the row's size
    i = max(later, key=lambda i: int(rows.position[i]))
    c, t, w = int(rows.community[i]), int(rows.position[i]), len(own[i])
    mine = rows.community[rows.entry_row] == c
    hit = mine & (rows.entry_count > 0)
    graph = nx.Graph(zip(rows.position[rows.entry_row[hit]].tolist(), rows.entry_node[hit].tolist()))
    rotation = nx.check_planarity(graph)[1].get_data()
    expected = {tuple(nodes) for nodes, _ in row_options(prefix_faces(rotation, set(range(t))), w)}
    assert set(sets[i]) == expected
    packed = pack_face_sets(sets)
    assert packed.shape[0] == rows.num_rows and int((packed[:, :, 0] >= 0).sum(1)[i]) == len(expected)
