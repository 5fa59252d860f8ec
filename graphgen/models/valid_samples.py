"""Valid samples only: rejection sampling against a validity test.

``sample_valid(model, n, "planar", generator=g)`` draws graphs from ``model.sample`` in rounds and
keeps, in draw order, those that pass the test (:data:`graphgen.metrics.validity.VALIDITY`: connected,
planar, tree, lobster, grid, sbm_modularity, or any ``Data -> bool``) until ``n`` are kept. Rejection
sampling is exact: the kept graphs are independent draws of the model's distribution *conditioned on
validity*, not of the model itself, so their MMDs and V.U.N. are not the model's (every recorded
number of a shipped model is of its own draws). Every draw is tested and the share that passed is
returned, so what was thrown away stays visible.

Rounds: the first draws ``n`` graphs; each later one draws what is still missing divided by the share
kept so far (times 1.1, at least the number missing, at most what is left of ``max_draws``, default
:data:`MAX_DRAWS_PER_GRAPH` per graph asked for). Same model, generator state, options and test:
the same graphs. When ``max_draws`` runs out first, :class:`NotEnoughValidSamples` says how many
passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from graphgen.errors import GraphgenError, InvalidArgumentError

__all__ = ["MAX_DRAWS_PER_GRAPH", "NotEnoughValidSamples", "ValidSamples", "sample_valid", "validity_test"]

MAX_DRAWS_PER_GRAPH = 100


@dataclass
class ValidSamples:
    """The graphs kept, how many were drawn, and how many of those passed (every draw is tested)."""

    graphs: list
    draws: int
    passed: int
    test: str

    @property
    def share(self) -> float:
        """The share of draws that passed the test."""
        return self.passed / self.draws if self.draws else 0.0


class NotEnoughValidSamples(GraphgenError):
    """Fewer graphs than asked for passed the test within the allowed draws."""


def validity_test(test: str | Callable) -> tuple[str, Callable]:
    """``(name, function)`` of a validity test given by name (``VALIDITY``) or as a function."""
    from graphgen.metrics.validity import VALIDITY

    if callable(test):
        return getattr(test, "__name__", "custom"), test
    if test not in VALIDITY:
        raise InvalidArgumentError(f"unknown validity test {test!r}; choose one of {', '.join(VALIDITY)}")
    return test, VALIDITY[test]


def sample_valid(
    model,
    num_graphs: int,
    test: str | Callable,
    *,
    generator=None,
    max_draws: int | None = None,
    draw: Callable | None = None,
    **options,
) -> ValidSamples:
    """:class:`ValidSamples`: ``num_graphs`` graphs of ``model.sample(..., generator=generator,
    **options)`` that pass ``test``, in draw order, with the number drawn and passed (module
    docstring). ``draw(k)`` replaces ``model.sample(k, generator=generator, **options)`` (a command's
    progress bar). Raises :class:`NotEnoughValidSamples` when ``max_draws`` are spent first."""
    from graphgen.models.sample_request import check_sample_request

    num_graphs, _, _ = check_sample_request(num_graphs, generator)
    name, passes = validity_test(test)
    limit = MAX_DRAWS_PER_GRAPH * num_graphs if max_draws is None else max_draws
    if limit < num_graphs:
        raise InvalidArgumentError(f"max_draws ({limit}) is below the {num_graphs} graphs asked for")
    if draw is None:

        def draw(k: int) -> list:
            return model.sample(k, generator=generator, **options)

    kept, draws, passed = [], 0, 0
    while len(kept) < num_graphs:
        missing = num_graphs - len(kept)
        if draws == 0:
            size = missing
        else:  # what is missing over the share passed so far, with a margin
            size = missing * 10 if passed == 0 else math.ceil(1.1 * missing * draws / passed)
        size = min(max(size, missing), limit - draws)
        if size <= 0:
            raise NotEnoughValidSamples(
                f"only {passed} of {draws} draws pass the {name} test, fewer than the {num_graphs} asked for "
                f"(at most {limit} draws: allow more with max_draws / --max-draws, or take a model or preset "
                "whose samples are valid more often)"
            )
        for graph in draw(size):
            if passes(graph):
                passed += 1
                if len(kept) < num_graphs:
                    kept.append(graph)
        draws += size
    return ValidSamples(kept, draws, passed, name)
