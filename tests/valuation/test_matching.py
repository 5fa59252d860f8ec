"""Proxy matching and blind message passing (experimental): what works and what does not yet."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphgen.data import inverse_permutation, permute_graph
from graphgen.datasets import barabasi_albert_graphs, erdos_renyi_graphs
from graphgen.valuation import blind_structural_disparity, match_to_proxy, proxy_embeddings
from graphgen.valuation.matching import dense_adjacency
from tests.conftest import random_graph


@pytest.mark.parametrize("method", ["faq", "gw"])
def test_matching_recovers_a_planted_permutation(method):
    graph = random_graph(40, 0.15, seed=3)
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(1))
    proxy = permute_graph(graph, perm)
    match = match_to_proxy(graph, proxy, method=method, restarts=3, seed=0)
    a_p, a_k = dense_adjacency(proxy), dense_adjacency(graph)
    np.testing.assert_array_equal(a_p, a_k[np.ix_(match, match)])  # an exact isomorphism
    planted = [q for q in (perm.numpy(), inverse_permutation(perm).numpy()) if np.array_equal(a_k[np.ix_(q, q)], a_p)]
    np.testing.assert_array_equal(match, planted[0])  # G(40, .15) has no non-trivial automorphism here


def test_proxy_embeddings_of_isomorphic_copies_match_and_padding_works():
    proxy = random_graph(30, 0.2, seed=5)
    feats = np.random.default_rng(0).normal(size=(30, 4))
    small = random_graph(20, 0.2, seed=6)
    emb = proxy_embeddings(small, proxy, feats, iterations=2)
    assert emb.shape == (20, 12)
    same = proxy_embeddings(proxy, proxy, feats, iterations=0, restarts=3)
    np.testing.assert_allclose(np.sort(same, axis=0), np.sort(feats, axis=0))


def test_blind_disparity_is_only_approximately_relabelling_invariant():
    proxy = random_graph(40, 0.08, seed=7)
    feats = np.random.default_rng(1).normal(size=(40, 4))
    graphs = erdos_renyi_graphs(3, seed=0, num_nodes=40, p=0.08)
    gen = torch.Generator().manual_seed(2)
    relabelled = [permute_graph(g, torch.randperm(40, generator=gen)) for g in graphs]
    others = erdos_renyi_graphs(3, seed=9, num_nodes=40, p=0.08)
    a = blind_structural_disparity(graphs, others, proxy, feats)
    b = blind_structural_disparity(relabelled, others, proxy, feats)
    assert a > 0 and abs(a - b) < 0.15 * a


@pytest.mark.xfail(
    reason="proxy-based blind message passing barely separates graph families (see matching.py)", strict=False
)
def test_blind_disparity_ranks_a_shifted_family_above_the_same_family():
    proxy = random_graph(40, 0.08, seed=7)
    feats = np.random.default_rng(1).normal(size=(40, 4))
    wins = 0
    for seed in range(5):
        buyer = erdos_renyi_graphs(4, seed=seed, num_nodes=40, p=0.08)
        same = blind_structural_disparity(
            buyer, erdos_renyi_graphs(4, seed=50 + seed, num_nodes=40, p=0.08), proxy, feats
        )
        shifted = blind_structural_disparity(
            buyer, barabasi_albert_graphs(4, seed=80 + seed, num_nodes=40, m=3), proxy, feats
        )
        wins += shifted > 1.2 * same
    assert wins >= 4
