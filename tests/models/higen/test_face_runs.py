import collections
import math
import random

import networkx as nx
import pytest
import torch

from graphgen.models.higen.face_runs import (
    outer_border,
    place_row,
    placements,
    prefix_faces,
    row_options,
    sample_face_rows,
)
from graphgen.models.higen.model import Draws


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
