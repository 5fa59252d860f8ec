import numpy as np
import pytest

from graphgen.datasets import generate
from graphgen.errors import InvalidArgumentError
from graphgen.seeding import numpy_rng
from graphgen.valuation import contextual_sbm


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_a_seed_numpy_cannot_take_is_named_by_every_seeded_function(seed):
    """numpy fails on these deep inside ("expected non-negative integer"); graphgen's seeded functions
    name the seed instead."""
    for call in (lambda: numpy_rng(seed), lambda: generate("planar", 2, seed=seed)):
        with pytest.raises(InvalidArgumentError, match="seed must be a non-negative integer"):
            call()
    with pytest.raises(ValueError, match="seed"):  # InvalidArgumentError is a ValueError too
        contextual_sbm(2, classes=range(3), seed=seed)


def test_valid_seeds_give_numpys_own_streams():
    assert numpy_rng(7).random() == np.random.default_rng(7).random()
    assert numpy_rng(np.int64(7)).random() == np.random.default_rng(7).random()
    generator = np.random.default_rng(1)
    assert numpy_rng(generator) is generator
