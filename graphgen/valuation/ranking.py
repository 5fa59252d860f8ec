"""Rank sellers' graph datasets for a buyer: structural disparity, relevance and diversity.

For each seller the broker reports

* ``structural_disparity`` ``S``: :func:`~graphgen.valuation.structural.structural_disparity`
  between the buyer's and the seller's graphs (WL-degree embeddings, pooled OT);
* ``diversity`` ``D`` and ``relevance`` ``R``: the blind second-moment protocol
  (:mod:`graphgen.valuation.protocol`) on node features when every graph has them, otherwise on
  structural node descriptors (:func:`~graphgen.valuation.structural.node_descriptors`); the
  ``featural_source`` field says which;
* ``featural_value`` ``alpha D + (1 - alpha) R`` and, only when a scale ``s_scale`` for ``S`` is
  given, the combined ``value = w_D D + w_R R + w_S exp(-S / s_scale)`` (weights 1/3 each by
  default). There is no default scale: what counts as a large ``S`` depends on the graphs.

Example:
    >>> from graphgen.valuation.synthetic import contextual_sbm
    >>> buyer = contextual_sbm(4, classes=range(5), seed=0)
    >>> sellers = {"same": contextual_sbm(4, classes=range(5), seed=1),
    ...            "other": contextual_sbm(4, classes=range(5, 10), p_in=0.4, seed=2)}
    >>> [row.seller for row in value_sellers(buyer, sellers)]
    ['same', 'other']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from graphgen.data.convert import check_simple_graph
from graphgen.errors import GraphgenError
from graphgen.valuation.protocol import Broker, Buyer, Seller
from graphgen.valuation.structural import node_descriptors, pooled_disparity, wl_embeddings

__all__ = ["FEATURAL_SOURCES", "SORT_KEYS", "SellerValuation", "featural_matrix", "value_sellers"]

FEATURAL_SOURCES = ("auto", "node features", "structural descriptors")
SORT_KEYS = ("value", "relevance", "structural_disparity", "diversity", "featural_value")


@dataclass(frozen=True)
class SellerValuation:
    """One row of the ranking table."""

    seller: str
    structural_disparity: float
    diversity: float
    relevance: float
    featural_value: float
    value: float | None
    num_graphs: int
    num_nodes: int
    featural_source: str
    ot_method: str

    def to_dict(self) -> dict:
        return asdict(self)


def _has_features(graphs: Sequence) -> bool:
    return all(getattr(g, "x", None) is not None for g in graphs)


def featural_matrix(graphs: Sequence, source: str, *, iterations: int = 3) -> np.ndarray:
    """Rows fed to the featural protocol: stacked node features, or structural node descriptors."""
    if source == "node features":
        return np.concatenate([g.x.detach().numpy().astype(np.float64).reshape(int(g.num_nodes), -1) for g in graphs])
    if source == "structural descriptors":
        return node_descriptors(graphs, iterations=iterations)
    raise GraphgenError(f"unknown featural source {source!r}")


def value_sellers(
    buyer: Sequence,
    sellers: Mapping[str, Sequence],
    *,
    featural_source: str = "auto",
    iterations: int = 3,
    method: str = "auto",
    max_exact_atoms: int = 6000,
    alpha: float = 0.5,
    s_scale: float | None = None,
    weights: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3),
    threshold: float = 1e-2,
    num_decoys: int = 0,
    standardize: bool | None = None,
    sort_by: str | None = None,
    seed: int = 0,
) -> list[SellerValuation]:
    """Value every seller for the buyer and return the rows, best first.

    Args:
        buyer: the buyer's graphs; sellers: name -> graphs.
        featural_source: ``"auto"`` (node features if every graph has them, else structural
            descriptors), ``"node features"`` or ``"structural descriptors"``.
        method: OT solver for ``S``: ``"emd"``, ``"sinkhorn"``, ``"sliced"`` or ``"auto"`` (exact up
            to ``max_exact_atoms`` nodes in the largest dataset, sliced above; one solver for all
            sellers, so that their ``S`` compare).
        s_scale: scale of ``S`` in the combined value; without it no combined value is computed.
        weights: ``(w_D, w_R, w_S)`` of the combined value.
        standardize: scale the featural rows by the buyer's per-feature standard deviation (sent
            with the query); ``None``: only for structural descriptors, whose columns have
            unrelated units (node features are taken as given, normalised as the paper assumes).
        sort_by: ``"value"`` (default when ``s_scale`` is given), ``"relevance"`` (default otherwise),
            ``"featural_value"``, ``"diversity"`` (descending) or ``"structural_disparity"``
            (ascending).
    """
    if not sellers:
        raise GraphgenError("no sellers to value")
    if featural_source not in FEATURAL_SOURCES:
        raise GraphgenError(f"unknown featural source {featural_source!r}; choose one of {', '.join(FEATURAL_SOURCES)}")
    if s_scale is not None and not (math.isfinite(s_scale) and s_scale > 0):
        raise GraphgenError(f"s_scale must be a positive number, got {s_scale}")
    if len(weights) != 3 or min(weights) < 0 or not math.isclose(sum(weights), 1.0):
        raise GraphgenError("weights (w_D, w_R, w_S) must be three non-negative numbers summing to 1")
    sort_by = sort_by or ("value" if s_scale is not None else "relevance")
    if sort_by not in SORT_KEYS or (sort_by == "value" and s_scale is None):
        raise GraphgenError(f"cannot sort by {sort_by!r}; choose one of {', '.join(SORT_KEYS)} (value needs s_scale)")
    for what, graphs in (("the buyer", buyer), *((f"seller {name!r}", g) for name, g in sellers.items())):
        if len(graphs) == 0:
            raise GraphgenError(f"{what} has no graphs")
        empty = sum(int(g.num_nodes) == 0 for g in graphs)
        if empty:
            raise GraphgenError(f"{what} holds {empty} graph(s) with no nodes; remove them first")
        for k, g in enumerate(graphs):
            check_simple_graph(g, what=f"{what}'s graph {k}")
    if featural_source == "auto":
        everyone = [buyer, *sellers.values()]
        featural_source = "node features" if all(_has_features(g) for g in everyone) else "structural descriptors"
    if standardize is None:
        standardize = featural_source == "structural descriptors"
    buyer_role = Buyer(threshold=threshold, num_decoys=num_decoys, standardize=standardize, seed=seed).fit(
        featural_matrix(buyer, featural_source, iterations=iterations)
    )
    broker = Broker(alpha=alpha)
    largest = max(sum(int(g.num_nodes) for g in graphs) for graphs in [buyer, *sellers.values()])
    ot_method = method
    if method == "auto":  # one solver for every seller, so that their S values compare
        ot_method = "emd" if largest <= max_exact_atoms else "sliced"
    buyer_embeddings = wl_embeddings(buyer, iterations=iterations)  # degree WL: the same for every seller
    rows = []
    for name, graphs in sellers.items():
        atoms = sum(int(g.num_nodes) for g in graphs)
        seller_embeddings = wl_embeddings(graphs, iterations=iterations)
        s = pooled_disparity(buyer_embeddings, seller_embeddings, method=ot_method, seed=seed)
        answer = Seller(featural_matrix(graphs, featural_source, iterations=iterations)).answer(buyer_role.query_)
        score = broker.score(buyer_role.secret_, answer)
        value = None
        if s_scale is not None:
            w_d, w_r, w_s = weights
            value = w_d * score.diversity + w_r * score.relevance + w_s * math.exp(-s / s_scale)
        rows.append(
            SellerValuation(
                seller=name,
                structural_disparity=s,
                diversity=score.diversity,
                relevance=score.relevance,
                featural_value=score.value,
                value=value,
                num_graphs=len(graphs),
                num_nodes=atoms,
                featural_source=featural_source,
                ot_method=ot_method,
            )
        )
    sign = 1 if sort_by == "structural_disparity" else -1
    return sorted(rows, key=lambda r: (sign * getattr(r, sort_by), r.seller))
