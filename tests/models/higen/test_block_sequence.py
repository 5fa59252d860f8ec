import itertools
import math

import pytest
import torch

from graphgen.models.higen.bipartite import LOG_ZERO, conditional_bernoulli_log_prob
from graphgen.models.higen.block_sequence import (
    PaddedBlocks,
    coordination_features,
    coordination_net,
    padded_blocks,
    sample_sequences,
    sequence_log_likelihood,
    suffix_log_esp,
)
from graphgen.models.higen.model import Draws

FEATURE_SETS = [(False, False), (True, False), (False, True), (True, True)]  # (ladder, contact)


def random_g(seed, ladder=False, contact=False):
    torch.manual_seed(seed)
    g = coordination_net(8, ladder=ladder, contact=contact).double()
    for p in g.parameters():
        torch.nn.init.normal_(p, std=0.8)
    return g


def tiny_blocks(sizes, weights, seed=0):
    """Padded blocks of the given (n_i, n_j) with random scores and random community graphs."""
    gen = torch.Generator().manual_seed(seed)
    b = len(sizes)
    size_i, size_j = max(s[0] for s in sizes), max(s[1] for s in sizes)
    theta = torch.randn(b, size_i, size_j, generator=gen, dtype=torch.float64)
    valid = torch.zeros(b, size_i, size_j, dtype=torch.bool)
    left = torch.zeros(b, size_i, size_i, dtype=torch.float64)
    right = torch.zeros(b, size_j, size_j, dtype=torch.float64)
    for k, (ni, nj) in enumerate(sizes):
        valid[k, :ni, :nj] = True
        for adj, n in ((left, ni), (right, nj)):
            upper = torch.triu((torch.rand(n, n, generator=gen) < 0.6).double(), 1)
            adj[k, :n, :n] = upper + upper.T
    return PaddedBlocks(theta, valid, left, right, torch.tensor(weights), torch.zeros(0, dtype=torch.long))


def subsets(ni, nj, w, size_j):
    for chosen in itertools.combinations(range(ni * nj), w):
        y = torch.zeros(ni, size_j, dtype=torch.float64)
        for e in chosen:
            y[e // nj, e % nj] = 1.0
        yield y


def test_suffix_sums_match_brute_force():
    theta = torch.tensor([[0.3, -1.0, 2.0, 0.5]], dtype=torch.float64)
    valid = torch.tensor([[True, True, False, True]])
    esp = suffix_log_esp(theta, valid, 3).exp()[0]
    weights = [math.exp(0.3), math.exp(-1.0), 0.0, math.exp(0.5)]
    for e in range(5):
        for r in range(4):
            brute = sum(math.prod(c) for c in itertools.combinations(weights[e:], r))
            assert float(esp[e, r]) == pytest.approx(brute, rel=1e-12, abs=1e-300)


def test_without_coordination_it_is_the_conditional_bernoulli():
    blocks = tiny_blocks([(2, 3), (3, 2), (3, 3)], [2, 3, 4], seed=1)
    g = coordination_net()  # zero at initialisation
    gen = torch.Generator().manual_seed(2)
    targets = torch.zeros_like(blocks.theta)
    for k, (ni, nj, w) in enumerate([(2, 3, 2), (3, 2, 3), (3, 3, 4)]):
        pick = torch.randperm(ni * nj, generator=gen)[:w]
        targets[k].view(-1)[:0] = 0
        for e in pick.tolist():
            targets[k, e // nj, e % nj] = 1
    with torch.no_grad():
        lp = sequence_log_likelihood(blocks, targets, g)
    for k, (ni, nj) in enumerate([(2, 3), (3, 2), (3, 3)]):
        expected = conditional_bernoulli_log_prob(targets[k, :ni, :nj], blocks.theta[k, :ni, :nj])
        assert float(lp[k]) == pytest.approx(float(expected), rel=1e-10)


@pytest.mark.parametrize("ladder, contact", FEATURE_SETS)
@pytest.mark.parametrize("ni, nj", [(2, 3), (3, 3)])
def test_coordinated_blocks_sum_to_one_by_enumeration(ni, nj, ladder, contact):
    g = random_g(0, ladder, contact)
    for w in range(0, ni * nj + 1):
        blocks = tiny_blocks([(ni, nj)], [w], seed=w)
        ys = list(subsets(ni, nj, w, nj))
        batch = PaddedBlocks(
            blocks.theta.expand(len(ys), -1, -1),
            blocks.valid.expand(len(ys), -1, -1),
            blocks.left_adjacency.expand(len(ys), -1, -1),
            blocks.right_adjacency.expand(len(ys), -1, -1),
            blocks.weight.expand(len(ys)),
            blocks.pair_slot,
        )
        with torch.no_grad():
            lp = sequence_log_likelihood(batch, torch.stack(ys), g)
        assert float(lp.exp().sum()) == pytest.approx(1.0, abs=1e-12), w
    # the coordination changes the distribution (it is not the conditional Bernoulli any more)
    blocks = tiny_blocks([(ni, nj)], [3], seed=3)
    y = next(iter(subsets(ni, nj, 3, nj))).unsqueeze(0)
    independent = conditional_bernoulli_log_prob(y[0], blocks.theta[0])
    with torch.no_grad():
        assert abs(float(sequence_log_likelihood(blocks, y, g)[0] - independent)) > 1e-3


def test_padding_does_not_change_a_blocks_probability():
    g = random_g(1)
    alone = tiny_blocks([(2, 2)], [2], seed=4)
    padded = tiny_blocks([(2, 2), (4, 3)], [2, 5], seed=4)
    padded.theta[0, :2, :2] = alone.theta[0]
    padded.left_adjacency[0].zero_()
    padded.right_adjacency[0].zero_()
    padded.left_adjacency[0, :2, :2] = alone.left_adjacency[0]
    padded.right_adjacency[0, :2, :2] = alone.right_adjacency[0]
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    targets = torch.zeros_like(padded.theta)
    targets[0, :2, :2] = y
    targets[1, 0, :3] = 1
    targets[1, 1, :2] = 1
    with torch.no_grad():
        both = sequence_log_likelihood(padded, targets, g)
    with torch.no_grad():
        assert float(both[0]) == pytest.approx(float(sequence_log_likelihood(alone, y.unsqueeze(0), g)[0]), rel=1e-12)


def test_triangle_and_degree_features_on_a_small_block():
    # C_i: nodes a0 - a1 joined; C_j: c0 - c1 joined; placed: (a0, c0)
    placed = torch.zeros(1, 2, 2, dtype=torch.float64)
    placed[0, 0, 0] = 1
    adj = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]], dtype=torch.float64)
    feats = coordination_features(placed, adj, adj).expm1()[0]
    assert feats[0, 1].tolist() == [1.0, 0.0, 1.0, 0.0]  # (a0, c1): a0 -> c0 ~ c1 closes a triangle
    assert feats[1, 0].tolist() == [0.0, 1.0, 0.0, 1.0]  # (a1, c0): a1 ~ a0 -> c0
    assert feats[1, 1].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_contact_features_count_neighbours_already_in_contact():
    # C_i: path a0 - a1 - a2; C_j: path c0 - c1 - c2; placed: (a0, c2) and (a2, c2)
    path = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=torch.float64).unsqueeze(0)
    placed = torch.zeros(1, 3, 3, dtype=torch.float64)
    placed[0, 0, 2] = placed[0, 2, 2] = 1
    feats = coordination_features(placed, path, path, contact=True).expm1()[0].round()  # counts, via log1p
    assert feats.shape == (3, 3, 6)
    assert feats[..., :4].tolist() == coordination_features(placed, path, path).expm1()[0].round().tolist()
    # u_a: neighbours of a holding a pair (a0 and a2 do): a1 has two, a0 and a2 none
    assert feats[..., 4].tolist() == [[0.0] * 3, [2.0] * 3, [0.0] * 3]
    # u_c: neighbours of c holding a pair (only c2 does): c1 has one
    assert feats[..., 5].tolist() == [[0.0, 1.0, 0.0]] * 3
    both = coordination_features(placed, path, path, ladder=True, contact=True).expm1()[0].round()
    assert both.shape == (3, 3, 7) and both[..., 5:].tolist() == feats[..., 4:].tolist()


def test_ladder_feature_counts_placed_edges_between_neighbours():
    # C_i: path a0 - a1 - a2; C_j: path c0 - c1 - c2; placed: (a1, c1) and (a0, c2)
    path = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=torch.float64).unsqueeze(0)
    placed = torch.zeros(1, 3, 3, dtype=torch.float64)
    placed[0, 1, 1] = placed[0, 0, 2] = 1
    feats = coordination_features(placed, path, path, ladder=True).expm1()[0]
    assert feats.shape == (3, 3, 5)
    assert feats[..., :4].tolist() == coordination_features(placed, path, path).expm1()[0].tolist()
    # t_3[a, c] = #{placed (a', c') : a' ~ a, c' ~ c}
    assert feats[..., 4].tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    # (a2, c2): rung of (a1, c1) only; (a1, c1) itself: a0 ~ a1 and c2 ~ c1 -> (a0, c2)


@pytest.mark.parametrize("ladder, contact", FEATURE_SETS)
def test_samples_follow_the_likelihood(ladder, contact):
    g = random_g(2, ladder, contact)
    blocks = tiny_blocks([(2, 3)], [3], seed=5)
    n = 6000
    batch = PaddedBlocks(
        blocks.theta.expand(n, -1, -1).contiguous(),
        blocks.valid.expand(n, -1, -1),
        blocks.left_adjacency.expand(n, -1, -1),
        blocks.right_adjacency.expand(n, -1, -1),
        blocks.weight.expand(n),
        blocks.pair_slot,
    )
    with torch.no_grad():
        y = sample_sequences(batch, g, Draws(torch.Generator().manual_seed(0)))
    assert bool((y.sum((1, 2)) == 3).all())
    keys = (y.reshape(n, -1) * (2 ** torch.arange(6, dtype=torch.float64))).sum(1).long()
    seen = torch.bincount(keys, minlength=64).double() / n
    ys = list(subsets(2, 3, 3, 3))
    tensors = (blocks.theta, blocks.valid, blocks.left_adjacency, blocks.right_adjacency)
    one = PaddedBlocks(
        *(t.expand(len(ys), *t.shape[1:]) for t in tensors), blocks.weight.expand(len(ys)), blocks.pair_slot
    )
    with torch.no_grad():
        exact = sequence_log_likelihood(one, torch.stack(ys), g).exp()
    for yk, pk in zip(ys, exact.tolist()):
        key = int((yk.reshape(-1) * (2 ** torch.arange(6, dtype=torch.float64))).sum())
        assert abs(float(seen[key]) - pk) <= 4.5 * math.sqrt(pk * (1 - pk) / n) + 1e-9


@pytest.mark.parametrize("ladder, contact", FEATURE_SETS)
def test_gradients_are_finite_and_reach_the_coordination_net(ladder, contact):
    g = random_g(3, ladder, contact)
    blocks = tiny_blocks([(2, 3), (3, 3)], [2, 4], seed=6)
    blocks.theta.requires_grad_(True)
    targets = torch.zeros_like(blocks.theta)
    targets[0, 0, :2] = 1
    targets[1, 0, 0] = targets[1, 1, 1] = targets[1, 2, 2] = targets[1, 0, 1] = 1
    (-sequence_log_likelihood(blocks, targets, g).sum()).backward()
    assert torch.isfinite(blocks.theta.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in g.parameters())
    assert float(g[2].weight.grad.abs().sum()) > 0
    if contact:  # the u inputs are used (the last two)
        assert float(g[0].weight.grad[:, -2:].abs().sum()) > 0
    if ladder:  # the t_3 input is used
        assert float(g[0].weight.grad[:, 4].abs().sum()) > 0


def test_sampling_in_groups_of_blocks_changes_nothing_but_memory():
    from graphgen.data import build_hierarchy
    from graphgen.data.hierarchy_order import order_hierarchy
    from graphgen.datasets import load_dataset
    from graphgen.models.higen.bipartite_net import block_pairs
    from graphgen.models.higen.block_sequence import sample_blocks

    h = order_hierarchy(build_hierarchy(load_dataset("planar", "train")[:4], seed=0))
    pairs = block_pairs(h, 2)
    parent, level = h.assignments[1], h.levels[2]
    logits = torch.randn(pairs.pair_block.numel(), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    g = random_g(4)
    with torch.no_grad():
        whole = sample_blocks(logits, pairs, level.edge_index, parent, g, Draws(greedy=True), max_entries=1 << 30)
        grouped = sample_blocks(logits, pairs, level.edge_index, parent, g, Draws(greedy=True), max_entries=2000)
    assert torch.equal(whole, grouped)
    spent = torch.zeros_like(pairs.block_weight).index_add_(0, pairs.pair_block, grouped)
    assert torch.equal(spent, pairs.block_weight) and int(grouped.max()) == 1
    # greedy decoding follows the teacher-forced likelihood: each step's pick is that step's argmax
    blocks = padded_blocks(logits, pairs, level.edge_index, parent)
    placed = torch.zeros_like(blocks.theta).view(blocks.theta.shape[0], -1)
    placed[pairs.pair_block, blocks.pair_slot] = whole.double()
    with torch.no_grad():
        greedy_lp = sequence_log_likelihood(blocks, placed.view_as(blocks.theta), g)
        other = sample_blocks(logits, pairs, level.edge_index, parent, g, Draws(torch.Generator().manual_seed(1)))
    placed_other = torch.zeros_like(placed)
    placed_other[pairs.pair_block, blocks.pair_slot] = other.double()
    with torch.no_grad():
        other_lp = sequence_log_likelihood(blocks, placed_other.view_as(blocks.theta), g)
    assert float(greedy_lp.sum()) > float(other_lp.sum())
    # the likelihood evaluated in groups equals the one-batch likelihood
    from graphgen.models.higen.block_sequence import blocks_sequence_log_likelihood

    pairs.pair_target = other
    with torch.no_grad():
        one = blocks_sequence_log_likelihood(logits, pairs, level.edge_index, parent, g, max_entries=1 << 30)
        grouped_lp = blocks_sequence_log_likelihood(logits, pairs, level.edge_index, parent, g, max_entries=2000)
    assert torch.allclose(one, other_lp, rtol=1e-12) and torch.allclose(grouped_lp, other_lp, rtol=1e-12)


def _recomputing_sampler(blocks, g, draws):
    """The sampler written plainly: every step recomputes all features (``_block_offsets``)."""
    from graphgen.models.higen.block_sequence import _block_offsets, step_logits

    b, size_i, size_j = blocks.shape
    m = size_i * size_j
    w = blocks.weight
    placed = blocks.theta.new_zeros((b, size_i, size_j))
    esp = suffix_log_esp(blocks.theta.reshape(b, m), blocks.valid.reshape(b, m), int(w.max()))
    previous = torch.full((b,), -1)
    for k in range(int(w.max())):
        live = (k < w).nonzero().flatten()
        need = (w[live] - 1 - k).clamp(min=0)
        esp_next = esp[live, 1:, :][torch.arange(live.numel()), :, need]
        tensors = (blocks.theta, blocks.valid, blocks.left_adjacency, blocks.right_adjacency)
        sub = PaddedBlocks(*(t[live] for t in tensors), w[live], blocks.pair_slot)
        offset = _block_offsets(sub, g, placed[live])
        logits = step_logits(sub.theta.reshape(-1, m), offset, esp_next, sub.valid.reshape(-1, m), previous[live])
        pick = draws.categorical(torch.softmax(logits, 1))
        placed.view(b, m)[live, pick] = 1.0
        previous[live] = pick
    return placed


@pytest.mark.parametrize("ladder, contact", FEATURE_SETS)
@pytest.mark.parametrize("greedy", [False, True])
def test_incremental_sampler_equals_recomputing_every_feature(greedy, ladder, contact):
    """The sampler's incremental features and offsets give the same steps as full recomputation."""
    g = random_g(7, ladder, contact)
    blocks = tiny_blocks([(5, 7), (7, 6), (3, 4), (6, 6)], [12, 20, 5, 1], seed=8)
    for seed in range(5):
        with torch.no_grad():
            fast = sample_sequences(blocks, g, Draws(torch.Generator().manual_seed(seed), greedy=greedy))
            slow = _recomputing_sampler(blocks, g, Draws(torch.Generator().manual_seed(seed), greedy=greedy))
        assert torch.equal(fast, slow)
        assert fast.sum((1, 2)).long().tolist() == [12, 20, 5, 1]


def test_suffix_sums_without_autograd_equal_the_autograd_version_bit_for_bit():
    gen = torch.Generator().manual_seed(3)
    theta = torch.randn(3, 17, generator=gen, dtype=torch.float64) * 3
    valid = torch.rand(3, 17, generator=gen) < 0.8
    with torch.no_grad():
        fast = suffix_log_esp(theta, valid, 6, method="torch")
    slow = suffix_log_esp(theta.clone().requires_grad_(True), valid, 6, method="torch").detach()
    assert torch.equal(fast, slow)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_suffix_table_kernel_equals_the_pytorch_loop(monkeypatch, dtype):
    from graphgen.models.higen import esp_kernel

    if esp_kernel.esp_kernel() is None:
        pytest.skip("the C++ suffix-table kernel cannot be built here")
    gen = torch.Generator().manual_seed(4)
    for b, m, r_max in [(3, 17, 6), (2, 40, 45), (1, 1, 3), (4, 0, 2), (5, 9, 0)]:
        theta = (torch.randn(b, m, generator=gen, dtype=torch.float64) * 4).to(dtype)
        valid = torch.rand(b, m, generator=gen) < 0.7
        with torch.no_grad():
            fast = suffix_log_esp(theta, valid, r_max, method="kernel")
            slow = suffix_log_esp(theta, valid, r_max, method="torch")
        assert fast.shape == slow.shape == (b, m + 1, r_max + 1) and fast.dtype == dtype
        # LOG_ZERO entries (no subset of that size) are equal up to a few log 2; real values to round-off
        real = slow > LOG_ZERO / 2
        assert torch.equal(fast > LOG_ZERO / 2, real)
        tol = 1e-12 if dtype == torch.float64 else 1e-5
        torch.testing.assert_close(fast[real], slow[real], rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="unknown method"):
        suffix_log_esp(theta, valid, 2, method="fast")
    monkeypatch.setenv("GRAPHGEN_ESP_KERNEL", "0")
    with torch.no_grad():
        assert torch.equal(suffix_log_esp(theta, valid, 2), suffix_log_esp(theta, valid, 2, method="torch"))
        with pytest.raises(RuntimeError, match="not available"):
            suffix_log_esp(theta, valid, 2, method="kernel")


def test_suffix_table_kernel_gradients_equal_the_autograd_loop(monkeypatch):
    """Training uses the C++ backward (esp_kernel): the same gradients as PyTorch's autograd through
    the loop, for upstream gradients on the table's real entries (the only ones a loss reads)."""
    from graphgen.models.higen import esp_kernel

    if esp_kernel.esp_kernel() is None:
        pytest.skip("the C++ suffix-table kernel cannot be built here")
    gen = torch.Generator().manual_seed(5)
    for b, m, r_max in [(3, 17, 6), (2, 40, 45), (1, 1, 3), (4, 5, 0), (6, 60, 9)]:
        theta = torch.randn(b, m, generator=gen, dtype=torch.float64) * 3
        valid = torch.rand(b, m, generator=gen) < 0.7
        fast_theta, slow_theta = theta.clone().requires_grad_(True), theta.clone().requires_grad_(True)
        fast = suffix_log_esp(fast_theta, valid, r_max, method="kernel")
        slow = suffix_log_esp(slow_theta, valid, r_max, method="torch")
        real = slow.detach() > LOG_ZERO / 2
        upstream = torch.randn(slow.shape, generator=gen, dtype=torch.float64) * real
        (fast * upstream).sum().backward()
        (slow * upstream).sum().backward()
        torch.testing.assert_close(fast.detach()[real], slow.detach()[real], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(fast_theta.grad, slow_theta.grad, rtol=1e-10, atol=1e-10)
        assert not fast_theta.grad[~valid].any()  # invalid pairs get no gradient
    # "auto" with autograd takes the kernel, and the PyTorch loop when the kernel is switched off
    theta = torch.randn(2, 9, generator=gen, dtype=torch.float64, requires_grad=True)
    valid = torch.ones(2, 9, dtype=torch.bool)
    assert suffix_log_esp(theta, valid, 3).grad_fn.name() == "_SuffixLogEspBackward"
    monkeypatch.setenv("GRAPHGEN_ESP_KERNEL", "0")
    assert suffix_log_esp(theta, valid, 3).grad_fn.name() != "_SuffixLogEspBackward"


def _repeat(blocks, n):
    tensors = (blocks.theta, blocks.valid, blocks.left_adjacency, blocks.right_adjacency)
    return PaddedBlocks(*(t.expand(n, *t.shape[1:]) for t in tensors), blocks.weight.expand(n), blocks.pair_slot)


def test_reversing_the_right_community_touches_only_its_real_places():
    from graphgen.models.higen.block_sequence import reverse_right, take_columns

    blocks = tiny_blocks([(2, 3), (3, 4)], [2, 3], seed=7)  # the first block is padded to J = 4
    flipped, index = reverse_right(blocks, torch.tensor([True, False]))
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3]]
    assert torch.equal(flipped.theta[0, :, :3], blocks.theta[0, :, :3].flip(1))
    assert torch.equal(flipped.valid, blocks.valid) and torch.equal(flipped.theta[1], blocks.theta[1])
    assert torch.equal(flipped.right_adjacency[0, :3, :3], blocks.right_adjacency[0, :3, :3].flip(0, 1))
    assert torch.equal(flipped.left_adjacency, blocks.left_adjacency)
    assert torch.equal(take_columns(take_columns(blocks.theta, index), index), blocks.theta)  # an involution


@pytest.mark.parametrize("ni, nj", [(2, 3), (3, 3)])
def test_the_direction_mixture_sums_to_one_and_halves_its_two_directions(ni, nj):
    from graphgen.models.higen.block_sequence import mixed_sequence_log_likelihood, reverse_right, take_columns

    g = random_g(8, ladder=True)
    for w in range(0, ni * nj + 1):
        blocks = tiny_blocks([(ni, nj)], [w], seed=10 + w)
        ys = torch.stack(list(subsets(ni, nj, w, nj)))
        batch = _repeat(blocks, len(ys))
        with torch.no_grad():
            mixed = mixed_sequence_log_likelihood(batch, ys, g)
            assert float(mixed.exp().sum()) == pytest.approx(1.0, abs=1e-12), w
            # by hand: the block with its right community written backwards, and the targets with it
            backward_blocks, index = reverse_right(batch, torch.ones(len(ys), dtype=torch.bool))
            forward = sequence_log_likelihood(batch, ys, g)
            backward = sequence_log_likelihood(backward_blocks, take_columns(ys, index), g)
        assert torch.allclose(mixed.exp(), 0.5 * forward.exp() + 0.5 * backward.exp(), rtol=1e-12)
        if 2 <= w <= ni * nj - 2:  # the two directions differ once g sees placed pairs
            assert float((forward - backward).abs().max()) > 1e-3
    blocks = tiny_blocks([(3, 3)], [4], seed=3)  # g ≡ 0: both directions are the conditional Bernoulli
    y = next(iter(subsets(3, 3, 4, 3))).unsqueeze(0)
    with torch.no_grad():
        lp = mixed_sequence_log_likelihood(blocks, y, coordination_net())
    assert float(lp[0]) == pytest.approx(float(conditional_bernoulli_log_prob(y[0], blocks.theta[0])), rel=1e-10)


def test_direction_mixture_samples_follow_its_likelihood():
    from graphgen.models.higen.block_sequence import mixed_sequence_log_likelihood, sample_mixed_sequences

    g = random_g(9)
    blocks = tiny_blocks([(2, 3)], [3], seed=5)
    n = 8000
    batch = _repeat(blocks, n)
    with torch.no_grad():
        y = sample_mixed_sequences(batch, g, Draws(torch.Generator().manual_seed(0)))
    assert bool((y.sum((1, 2)) == 3).all())
    powers = 2 ** torch.arange(6, dtype=torch.float64)
    seen = torch.bincount((y.reshape(n, -1) * powers).sum(1).long(), minlength=64).double() / n
    ys = list(subsets(2, 3, 3, 3))
    with torch.no_grad():
        exact = mixed_sequence_log_likelihood(_repeat(blocks, len(ys)), torch.stack(ys), g).exp()
        forward_only = sequence_log_likelihood(_repeat(blocks, len(ys)), torch.stack(ys), g).exp()
    assert float((exact - forward_only).abs().max()) > 0.02  # the test can tell the mixture from one direction
    for yk, pk in zip(ys, exact.tolist()):
        key = int((yk.reshape(-1) * powers).sum())
        assert abs(float(seen[key]) - pk) <= 4.5 * math.sqrt(pk * (1 - pk) / n) + 1e-9


def test_suffix_tables_larger_than_the_available_memory_are_refused_before_they_are_made(monkeypatch):
    """A block whose suffix tables would not fit the memory available now raises MemoryError with
    the block's size, before allocating (the process would otherwise be killed); with the memory
    unknown (None) nothing is checked and the same graphs come out."""
    import graphgen.models.higen.block_sequence as block_sequence
    from graphgen.models import HiGen

    model = HiGen.from_pretrained("higen-planar")  # coordinated cross edges
    expected = model.sample(2, generator=torch.Generator().manual_seed(5))
    seen = []

    def tiny():
        seen.append(1)
        return 1 << 10

    monkeypatch.setattr(block_sequence, "available_bytes", tiny)
    with pytest.raises(MemoryError, match=r"^the coordinated cross edges of \d+ block\(s\) of up to [\d,]+ node pairs"):
        model.sample(2, generator=torch.Generator().manual_seed(5))
    assert seen
    monkeypatch.setattr(block_sequence, "available_bytes", lambda: None)
    again = model.sample(2, generator=torch.Generator().manual_seed(5))
    assert [g.edge_index.tolist() for g in again] == [g.edge_index.tolist() for g in expected]
