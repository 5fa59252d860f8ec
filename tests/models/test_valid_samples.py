import math

import pytest
import torch

from graphgen.errors import InvalidArgumentError
from graphgen.models import ErdosRenyiBaseline
from graphgen.models.valid_samples import NotEnoughValidSamples, sample_valid


class Stream:
    """A stand-in model: draws are consecutive integers (graph ids), one stream across calls."""

    def __init__(self):
        self.next, self.requests = 0, []

    def sample(self, k, generator=None):
        self.requests.append(k)
        drawn = list(range(self.next, self.next + k))
        self.next += k
        return drawn


def every_third(x) -> bool:
    return x % 3 == 0


def test_keeps_the_first_passing_draws_in_order_and_sizes_rounds_by_the_share_passed():
    model = Stream()
    result = sample_valid(model, 10, every_third)
    assert result.graphs == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]  # the first ten passing draws, in order
    # round 1: 10 draws, 4 pass (0 3 6 9); round 2: ceil(1.1 * 6 * 10 / 4) = 17 draws (10..26), 5 pass;
    # round 3: ceil(1.1 * 1 * 27 / 9) = 4 draws (27..30), 2 pass
    assert model.requests == [10, 17, 4]
    assert (result.draws, result.passed, result.test) == (31, 11, "every_third")
    assert result.share == pytest.approx(11 / 31)


def test_stops_at_the_draw_limit_with_the_counts_in_one_line():
    model = Stream()
    with pytest.raises(NotEnoughValidSamples, match=r"only 1 of 4 draws pass the _never_but_zero test"):
        sample_valid(model, 3, _never_but_zero, max_draws=4)
    assert sum(model.requests) == 4  # never beyond the limit
    with pytest.raises(InvalidArgumentError, match="below the 3 graphs"):
        sample_valid(Stream(), 3, every_third, max_draws=2)
    with pytest.raises(InvalidArgumentError, match="unknown validity test 'planr'"):
        sample_valid(Stream(), 3, "planr")


def _never_but_zero(x) -> bool:
    return x == 0


def test_a_named_test_on_a_real_model_is_seeded_and_every_kept_graph_passes():
    from graphgen.datasets import load_dataset
    from graphgen.metrics.validity import is_planar_graph

    model = ErdosRenyiBaseline().fit(load_dataset("community_small", "train"))
    runs = [sample_valid(model, 6, "planar", generator=torch.Generator().manual_seed(3)) for _ in range(2)]
    assert all(is_planar_graph(g) for g in runs[0].graphs) and len(runs[0].graphs) == 6
    assert [g.edge_index.tolist() for g in runs[0].graphs] == [g.edge_index.tolist() for g in runs[1].graphs]
    assert runs[0].draws >= 6 and 6 <= runs[0].passed <= runs[0].draws
    # the first round is the model's own first 6 draws: where some fail, more rounds were drawn
    first = model.sample(6, generator=torch.Generator().manual_seed(3))
    assert (runs[0].draws > 6) == (not all(map(is_planar_graph, first)))
    assert math.isclose(runs[0].share, runs[0].passed / runs[0].draws)
