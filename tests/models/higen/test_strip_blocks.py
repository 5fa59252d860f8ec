import itertools
import math

import pytest
import torch

from graphgen.models.higen.bipartite import LOG_ZERO
from graphgen.models.higen.bipartite_net import BlockPairs
from graphgen.models.higen.boundary_walk import border_cycles
from graphgen.models.higen.model import Draws
from graphgen.models.higen.strip_blocks import DIRECTIONS, StripModel, strip_representations, strip_tables

# communities as edge lists over local nodes: a wheel (centre 0 is inner: its spokes lie on two triangles),
# a triangle, a 4-cycle, a path
WHEEL4 = (5, [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1)])
TRIANGLE = (3, [(0, 1), (1, 2), (0, 2)])
SQUARE = (4, [(0, 1), (1, 2), (2, 3), (3, 0)])
PATH2 = (2, [(0, 1)])
PATH3 = (3, [(0, 1), (1, 2)])  # its border cycle 0, 1, 2 closes with a jump: 2 and 0 are not joined


def level(left, right):
    """Two communities side by side: (intra edge_index both directions, parent)."""
    (ni, ei), (nj, ej) = left, right
    edges = ei + [(a + ni, b + ni) for a, b in ej]
    edge_index = torch.tensor(edges + [(b, a) for a, b in edges], dtype=torch.long).t()
    parent = torch.tensor([0] * ni + [1] * nj)
    return edge_index, parent


def copies(ni, nj, targets):
    """A layout of len(targets) blocks, all between community 0 (nodes 0..ni-1) and 1; targets: edge sets
    of local pairs (a, c)."""
    b, m = len(targets), ni * nj
    block = torch.arange(b).repeat_interleave(m)
    within = torch.arange(m).repeat(b)
    target = torch.zeros(b * m, dtype=torch.long)
    for k, edges in enumerate(targets):
        for a, c in edges:
            target[k * m + a * nj + c] = 1
    weight = torch.tensor([len(t) for t in targets], dtype=torch.long)
    return BlockPairs(block, within // nj, ni + within % nj, target, weight, torch.full((b,), m), leaf=True)


def random_model(seed, std=0.7, windows=False):
    torch.manual_seed(seed)
    model = StripModel(8, windows=windows).double()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=std)
    return model


def all_subsets(ni, nj, w):
    return [[(e // nj, e % nj) for e in chosen] for chosen in itertools.combinations(range(ni * nj), w)]


def test_border_cycles_of_wheel_square_and_path():
    edge_index, parent = level(WHEEL4, SQUARE)
    place, length = border_cycles(edge_index, parent)
    assert length.tolist() == [4, 4]
    assert place[0] == -1  # the wheel's centre is inner
    assert sorted(place[1:5].tolist()) == [0, 1, 2, 3] and sorted(place[5:].tolist()) == [0, 1, 2, 3]
    # consecutive places on the wheel's cycle are rim neighbours
    rim = {frozenset(e) for e in [(1, 2), (2, 3), (3, 4), (4, 1)]}
    order = sorted(range(1, 5), key=lambda v: int(place[v]))
    assert all(frozenset((order[k], order[(k + 1) % 4])) in rim for k in range(4))


CASES = [(WHEEL4, PATH2, False), (TRIANGLE, SQUARE, False), (SQUARE, TRIANGLE, False)]
CASES += [(PATH3, SQUARE, True), (WHEEL4, PATH3, True), (TRIANGLE, SQUARE, True)]
CASES = [(*case, False) for case in CASES] + [(WHEEL4, PATH2, False, True), (PATH3, SQUARE, True, True)]


@pytest.mark.parametrize("left,right,segments,windows", CASES)
def test_strip_probabilities_sum_to_one_by_enumeration(left, right, segments, windows):
    """Over every w-subset of the block's pairs, for every feasible w, with the whole cycles or (segments)
    cut at their jumps, with or without the start's window features; with segments no side of a
    positive set steps across a jump."""
    import networkx as nx

    edge_index, parent = level(left, right)
    ni, nj = left[0], right[0]
    place, length = border_cycles(edge_index, parent)
    graph = nx.Graph(edge_index.t().tolist())
    model = random_model(1, windows=windows)
    feasible_seen = 0
    for w in range(1, int(length[0] + length[1])):
        targets = all_subsets(ni, nj, w)
        pairs = copies(ni, nj, targets)
        theta = torch.randn(pairs.pair_block.numel() // len(targets), generator=torch.Generator().manual_seed(w))
        theta = theta.double().repeat(len(targets))
        tables = strip_tables(pairs, edge_index, parent, segments=segments)
        if not bool(tables.feasible[0]):
            continue
        feasible_seen += 1
        with torch.no_grad():
            lp = model.strip_log_likelihood(theta, pairs, tables)
        total = float(torch.exp(lp[lp > LOG_ZERO / 2]).sum())
        assert total == pytest.approx(1.0, abs=1e-9), (w, total)
        # a strip's edges avoid inner nodes: every positive set uses border nodes only
        for k in (lp > LOG_ZERO / 2).nonzero().flatten().tolist():
            assert all(place[a] >= 0 and place[ni + c] >= 0 for a, c in targets[k])
            if segments:
                for side in ({a for a, _ in targets[k]}, {ni + c for _, c in targets[k]}):
                    assert nx.is_connected(graph.subgraph(side))
    assert feasible_seen > 0
    if not segments:  # every w up to L_i + L_j - 1
        assert feasible_seen == int(length[0] + length[1]) - 1


def test_infeasible_blocks_fall_back_and_mixture_sums_to_one():
    edge_index, parent = level(TRIANGLE, PATH2)
    model = random_model(2)
    for w in range(1, 7):
        targets = all_subsets(3, 2, w)
        pairs = copies(3, 2, targets)
        theta = torch.linspace(-1, 1, 6, dtype=torch.float64).repeat(len(targets))
        tables = strip_tables(pairs, edge_index, parent)
        assert bool(tables.feasible.all()) == (w <= 3 + 2 - 1)
        uniform = torch.full((len(targets),), -math.log(math.comb(6, w)), dtype=torch.float64)
        with torch.no_grad():
            mixed = model.mixture_log_likelihood(theta, pairs, tables, uniform)
        assert float(mixed.exp().sum()) == pytest.approx(1.0, abs=1e-9)
        if w > 4:
            assert torch.equal(mixed, uniform)


def test_representations_of_a_strip_read_from_both_ends():
    edge_index, parent = level(SQUARE, SQUARE)
    place = border_cycles(edge_index, parent)[0]
    by_place = {int(place[v]): v for v in range(4)}
    other = {int(place[v]): v - 4 for v in range(4, 8)}
    # a staircase over places (0,0) (0,1) (1,1) (2,1): two readings, forward and backward
    edges = [(by_place[x], other[y]) for x, y in [(0, 0), (0, 1), (1, 1), (2, 1)]]
    pairs = copies(4, 4, [edges, [(by_place[0], other[0]), (by_place[2], other[2])]])
    reps = strip_representations(pairs, strip_tables(pairs, edge_index, parent))
    assert reps.block.tolist() == [0, 0]  # the second block (two far-apart edges) is no strip
    assert reps.step_move.view(2, 3).tolist() in ([[0, 1, 1], [1, 1, 0]], [[1, 1, 0], [0, 1, 1]])


@pytest.mark.parametrize(
    "left,segments,windows", [(TRIANGLE, False, False), (PATH3, True, False), (PATH3, False, True)]
)
def test_sampled_strips_follow_the_strip_probabilities(left, segments, windows):
    edge_index, parent = level(left, SQUARE)
    model = random_model(3, windows=windows)
    w, draws_n = 4, 6000
    targets = all_subsets(3, 4, w)
    base = 0.3 * torch.randn(12, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    exact_pairs = copies(3, 4, targets)
    with torch.no_grad():
        sample_pairs = copies(3, 4, [targets[0]] * draws_n)  # targets are ignored by sampling
        # earlier rounds' cross edges of each pair's endpoints: features of the steps, the same in both paths
        earlier = torch.randint(0, 3, (12, 2), generator=torch.Generator().manual_seed(2)).double()
        exact_pairs.pair_earlier = earlier.repeat(len(targets), 1)
        sample_pairs.pair_earlier = earlier.repeat(draws_n, 1)
        exact_tables = strip_tables(exact_pairs, edge_index, parent, segments=segments)
        lp = model.strip_log_likelihood(base.repeat(len(targets)), exact_pairs, exact_tables)
        reps, rep_lp = model.representation_log_probs(base.repeat(len(targets)), exact_pairs, exact_tables)
        units, path_lp = model.sample_paths(
            base.repeat(draws_n),
            sample_pairs,
            strip_tables(sample_pairs, edge_index, parent, segments=segments),
            Draws(torch.Generator().manual_seed(0)),
        )
    drawn = units.view(draws_n, 12)
    assert bool((drawn.sum(1) == w).all())
    index = {tuple(sorted(a * 4 + c for a, c in t)): k for k, t in enumerate(targets)}
    counts = torch.zeros(len(targets))
    for row, path in zip(drawn.tolist(), path_lp.tolist()):
        k = index[tuple(e for e, u in enumerate(row) if u)]
        counts[k] += 1
        # the drawn outcome is one of its set's representations, with the probability the likelihood gives it
        assert float((rep_lp[reps.block == k] - path).abs().min()) < 1e-9
    p = lp.exp()
    assert float(p[counts > 0].min()) > 0  # every drawn set is a strip of positive probability
    assert 0.5 * float((counts / draws_n - p).abs().sum()) < 0.08


def test_mode_decoding_is_deterministic():
    edge_index, parent = level(WHEEL4, SQUARE)
    model = random_model(4)
    pairs = copies(5, 4, [[(1, 0)] * 1] * 3)
    pairs.block_weight = torch.tensor([2, 4, 6])
    theta = torch.randn(60, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        one = model.sample(theta, pairs, strip_tables(pairs, edge_index, parent), Draws(greedy=True))
        two = model.sample(theta, pairs, strip_tables(pairs, edge_index, parent), Draws(greedy=True))
    assert torch.equal(one, two)
    assert torch.bincount(pairs.pair_block, weights=one.double()).tolist() == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("column", range(11))
def test_step_features_are_the_documented_quantities(column):
    """φ_m of a step, column by column, against values read off the tiny level by hand: the wheel
    (C_i: centre 0, rim 1-4) and the path 5-6 (C_j); the strip at (x, y) = (1, 0) after an A-step."""
    edge_index, parent = level(WHEEL4, PATH2)
    model = random_model(0)
    pairs = copies(5, 2, [[(1, 0)]])
    pairs.block_weight = torch.tensor([4])
    pairs.pair_earlier = torch.arange(20, dtype=torch.float64).view(10, 2)
    tables = strip_tables(pairs, edge_index, parent)
    place = tables.place.tolist()
    rim = sorted(range(1, 5), key=lambda v: place[v])
    path = sorted((5, 6), key=lambda v: place[v])
    model.move_net = torch.nn.Linear(11, 1).double()  # g_m reads column `column` alone
    with torch.no_grad():
        model.move_net.weight.zero_()
        model.move_net.weight[0, column] = 1.0
        model.move_net.bias.zero_()
    theta = torch.zeros(10, dtype=torch.float64)
    state = torch.tensor([[1, 0, 1, 2, 1]])  # x, y, f_a, f_c, k
    logit, can_a, can_c = model.move_logits(
        theta, tables, torch.tensor([0]), torch.tensor([0]), torch.tensor([0]), torch.tensor([0]), state
    )
    a, a_next, c, c_next = rim[1], rim[2], path[0], path[1]
    q_a, q_c = a_next * 2 + (c - 5), a * 2 + (c_next - 5)  # layout indices of (a', c) and (a, c')
    expected = [
        math.log1p(1),  # f_a
        math.log1p(2),  # f_c
        math.log1p(3),  # δ_a: a rim node has two rim neighbours and the centre
        math.log1p(1),  # δ_c
        math.log1p(4 - 1 - 1),  # w - 1 - k
        math.log1p(4 - 1 - 1),  # L_i - 1 - x
        math.log1p(2 - 1 - 0),  # L_j - 1 - y
        math.log1p(float(pairs.pair_earlier[q_a, 0])),  # e_{a'} at the block's round
        math.log1p(float(pairs.pair_earlier[q_c, 1])),  # e_{c'}
        1.0,  # a ~ a': consecutive rim nodes
        1.0,  # c ~ c'
    ]
    assert float(logit.detach()) == pytest.approx(expected[column], abs=1e-6)
    assert bool(can_a) and bool(can_c)


@pytest.mark.parametrize("column", range(4))
def test_window_features_are_the_documented_quantities(column):
    """φ_win of a start pair, column by column, read off by hand: the wheel (C_i: centre 0, rim 1-4,
    each rim node of intra degree 3) against the path 5-6-7 (C_j: degrees 1, 2, 1), w = 4, so the
    windows hold m_i = m_j = ⌈5 / 2⌉ = 3 border nodes; the start at the path's end node 5 walking
    towards 6 and 7, and a^- / c^- the places before each start."""
    edge_index, parent = level(WHEEL4, PATH3)
    model = random_model(0, windows=True)
    pairs = copies(5, 3, [[(1, 0)]])
    pairs.block_weight = torch.tensor([4])
    tables = strip_tables(pairs, edge_index, parent)
    place = tables.place.tolist()
    rim = sorted(range(1, 5), key=lambda v: place[v])
    path = sorted((5, 6, 7), key=lambda v: place[v])  # the cycle of a path: 5, 6, 7 or its reverse
    d_c = 1 if path[(path.index(5) + 1) % 3] == 6 else -1
    direction = torch.tensor([DIRECTIONS.index((1, d_c))])
    a, c = rim[0], 5
    c_before = path[(path.index(5) - d_c) % 3]  # 7: the path's cycle closes 7 -> 5
    features = model.window_features(
        tables,
        torch.tensor([0]),
        torch.tensor([a]),
        torch.tensor([c]),
        torch.tensor([[1, d_c]]),
        torch.tensor([rim[-1]]),
        torch.tensor([c_before]),
    )
    expected = [
        math.log1p(3),  # the rim nodes at places 0, 1, 2: degree 3 each
        (math.log1p(1) + math.log1p(2) + math.log1p(1)) / 3,  # nodes 5, 6, 7
        math.log1p(3),  # a^-: the rim node before the start
        math.log1p(1),  # c^-: node 7
    ]
    assert c_before == 7
    assert float(features[0, column]) == pytest.approx(expected[column], abs=1e-9)
    # the start logit reads them: g_s on column 3 + column alone
    model.start_net = torch.nn.Linear(7, 1).double()
    with torch.no_grad():
        model.start_net.weight.zero_()
        model.start_net.weight[0, 3 + column] = 1.0
        model.start_net.bias.zero_()
        theta = torch.zeros(15, dtype=torch.float64)
        logit = model.start_logits(theta, tables, torch.tensor([0]), torch.tensor([a]), torch.tensor([c]), direction)
    assert float(logit) == pytest.approx(expected[column], abs=1e-9)


@pytest.mark.parametrize("segments", [False, True])
def test_untwisted_strips_follow_the_process_restricted_to_untwisted_directions(segments):
    """``untwisted``: the drawn strips are distributed as the strip process whose direction pair is one
    of the two untwisted pairs (each representation's probability with ½ instead of ¼ for its direction
    pair, or the joint (directions, start) renormalised over them with segments): that sums to 1 by
    enumeration, the sampled frequencies match it, and no drawn strip is twisted where its sides fix
    the directions (both of two to three nodes on 4-cycles)."""
    from graphgen.models.higen.strip_blocks import UNTWISTED

    edge_index, parent = level(SQUARE, SQUARE)
    model = random_model(4)
    w, draws_n = 3, 5000
    targets = all_subsets(4, 4, w)
    base = 0.3 * torch.randn(16, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    exact_pairs = copies(4, 4, targets)
    with torch.no_grad():
        exact_tables = strip_tables(exact_pairs, edge_index, parent, segments=segments)
        reps, rep_lp = model.representation_log_probs(base.repeat(len(targets)), exact_pairs, exact_tables)
        keep = (reps.direction == UNTWISTED[0]) | (reps.direction == UNTWISTED[1])
        if segments:  # the joint start table renormalised over the untwisted pairs (every block alike)
            candidates, start_lp = model.start_log_probs(base.repeat(len(targets)), exact_pairs, exact_tables)
            first = exact_pairs.pair_block[candidates] == 0
            shift = -torch.logsumexp(start_lp[first][:, list(UNTWISTED)].flatten(), 0)
        else:
            shift = torch.tensor(math.log(2.0))
        p = torch.zeros(len(targets), dtype=torch.float64).index_add_(0, reps.block[keep], (rep_lp[keep] + shift).exp())
        assert float(p.sum()) == pytest.approx(1.0, abs=1e-7)
        sample_pairs = copies(4, 4, [targets[0]] * draws_n)
        units = model.sample(
            base.repeat(draws_n),
            sample_pairs,
            strip_tables(sample_pairs, edge_index, parent, segments=segments),
            Draws(torch.Generator().manual_seed(0)),
            untwisted=True,
        )
    drawn = units.view(draws_n, 16)
    index = {tuple(sorted(a * 4 + c for a, c in t)): k for k, t in enumerate(targets)}
    counts = torch.zeros(len(targets), dtype=torch.float64)
    for row in drawn.tolist():
        counts[index[tuple(e for e, u in enumerate(row) if u)]] += 1
    assert float(p[counts > 0].min()) > 0  # nothing outside the untwisted strips
    assert 0.5 * float((counts / draws_n - p).abs().sum()) < 0.06
    # twisted strips exist in the unrestricted process: the restriction is visible
    twisted_only = torch.zeros(len(targets), dtype=torch.bool)
    twisted_only[reps.block[~keep]] = True
    twisted_only[reps.block[keep]] = False
    assert bool(twisted_only.any()) and float(counts[twisted_only].sum()) == 0


def test_strip_conflicts_are_the_documented_meetings():
    """A side meeting earlier cross edges in two nodes, or in a single node inside an earlier side,
    conflicts; one shared node at the end of an earlier side does not (4-cycles, places = node ids)."""
    from graphgen.models.higen.strip_blocks import strip_conflicts

    edge_index, parent = level(SQUARE, SQUARE)
    targets = [
        [(0, 0), (1, 0)],  # left side {0, 1}: 0 used, 1 free -> fine
        [(0, 0), (3, 0)],  # left side {0, 3}: both used -> conflict
        [(0, 1), (0, 2)],  # left side {0}: its cycle neighbours 1 (free) and 3 (used) -> fine
        [(3, 1), (3, 2)],  # left side {3}: its cycle neighbours 0 and 2, both used -> conflict
        [(1, 1), (1, 2)],  # left side {1}, not used -> fine
        [(1, 0), (2, 3)],  # right side {0, 3}: both used -> conflict
    ]
    pairs = copies(4, 4, targets)
    used_left = {0, 2, 3}
    used_right = {0, 3}
    earlier = torch.tensor(
        [[float(a in used_left), float(c in used_right)] for _ in targets for a in range(4) for c in range(4)]
    )
    tables = strip_tables(pairs, edge_index, parent)
    assert tables.place[:4].tolist() == [0, 1, 2, 3] and tables.place[4:].tolist() == [0, 1, 2, 3]
    bad = strip_conflicts(pairs.pair_target, pairs, tables, earlier)
    assert bad.tolist() == [False, True, False, True, False, True]
