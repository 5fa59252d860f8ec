"""The buyer / seller / broker roles of the featural valuation protocol, as typed objects.

The roles follow the scikit-learn contract where they learn state (:meth:`Buyer.fit` returns
``self``; learned attributes end in ``_``) and never mutate their inputs. Messages are the frozen
dataclasses of :mod:`graphgen.valuation.featural`:

* buyer -> seller: :class:`~graphgen.valuation.featural.BuyerQuery` (directions only);
* buyer -> broker: :class:`~graphgen.valuation.featural.BuyerSecret` (eigenvalues, real indices);
* seller -> broker: :class:`~graphgen.valuation.featural.SellerResponse`;
* broker -> buyer: :class:`FeaturalScore` (the scalars only, never the seller's answers).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> buyer = Buyer(num_decoys=2, seed=0).fit(rng.normal(size=(200, 3)))
    >>> answer = Seller(rng.normal(size=(300, 3)) * 2).answer(buyer.query_)
    >>> score = Broker().score(buyer.secret_, answer)
    >>> score.diversity + score.relevance <= 1
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphgen.errors import GraphgenError
from graphgen.valuation.featural import (
    BuyerQuery,
    BuyerSecret,
    SellerResponse,
    buyer_query,
    diversity_relevance,
    featural_value,
    seller_response,
)

__all__ = ["FeaturalScore", "Buyer", "Seller", "Broker"]


@dataclass(frozen=True)
class FeaturalScore:
    """What the broker returns to the buyer: diversity, relevance and their alpha mix."""

    diversity: float
    relevance: float
    value: float
    num_directions: int


class Buyer:
    """Holds the buyer's data summary; sends :attr:`query_` to sellers and :attr:`secret_` to the broker.

    Args:
        threshold: keep directions with eigenvalue above this (1e-2, Amiri et al. eq. 4).
        num_decoys: random orthonormal decoy directions shuffled among the real ones.
        center: ``"own"`` (paper), ``"buyer"`` (reveals the buyer's mean) or ``"none"``.
        standardize: scale every feature by the buyer's standard deviation on both sides.
        seed: seed of the decoys and their shuffle.
    """

    def __init__(
        self,
        *,
        threshold: float = 1e-2,
        num_decoys: int = 0,
        center: str = "own",
        standardize: bool = False,
        seed: int = 0,
    ):
        self.threshold = threshold
        self.num_decoys = num_decoys
        self.center = center
        self.standardize = standardize
        self.seed = seed

    def fit(self, x) -> Buyer:
        """Eigendecompose the buyer's second moment; sets ``query_`` and ``secret_``."""
        self.query_, self.secret_ = buyer_query(
            x,
            threshold=self.threshold,
            num_decoys=self.num_decoys,
            center=self.center,
            standardize=self.standardize,
            seed=self.seed,
        )
        return self


class Seller:
    """Answers buyer queries from its private data; it only ever sees a :class:`BuyerQuery`.

    Args:
        x: the seller's ``(n, d)`` data (kept private; copied, never modified).
        mode: ``"norm"`` (paper: ``||C_s u||``) or ``"rayleigh"`` (``u^T C_s u``).
        noise_std: Gaussian noise added to every answer (0: exact answers).
    """

    def __init__(self, x, *, mode: str = "norm", noise_std: float = 0.0, seed: int = 0):
        self._x = np.array(x, dtype=np.float64, copy=True)
        self.mode = mode
        self.noise_std = noise_std
        self.seed = seed

    def answer(self, query: BuyerQuery) -> SellerResponse:
        """The answers to ``query`` (anything but a BuyerQuery is refused by ``seller_response``)."""
        return seller_response(query, self._x, mode=self.mode, noise_std=self.noise_std, seed=self.seed)


class Broker:
    """Combines the buyer's secret and a seller's answers into a :class:`FeaturalScore`.

    Args:
        alpha: weight of diversity in the value ``alpha D + (1 - alpha) R`` (0.5, the paper's default).
        weighting: ``"uniform"``, ``"eigenvalue"`` or explicit weights over the real directions.
    """

    def __init__(self, *, alpha: float = 0.5, weighting: str | np.ndarray = "uniform"):
        self.alpha = alpha
        self.weighting = weighting

    def score(self, secret: BuyerSecret, response: SellerResponse) -> FeaturalScore:
        if not isinstance(secret, BuyerSecret) or not isinstance(response, SellerResponse):
            raise GraphgenError("the broker needs the buyer's BuyerSecret and the seller's SellerResponse")
        if response.answers.shape[0] <= int(np.max(secret.real_index)):
            raise GraphgenError("the seller's response does not answer every direction of the query")
        diversity, relevance = diversity_relevance(secret, response, weighting=self.weighting)
        return FeaturalScore(
            diversity=diversity,
            relevance=relevance,
            value=featural_value(diversity, relevance, alpha=self.alpha),
            num_directions=int(secret.eigenvalues.size),
        )
