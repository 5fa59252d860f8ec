"""Task-agnostic graph data valuation: what a seller's graphs are worth to a buyer, blind.

* :mod:`~graphgen.valuation.featural` and :mod:`~graphgen.valuation.protocol`: diversity and
  relevance from blind second-moment queries (Amiri, Berdoz & Raskar, AAAI 2023), with typed
  buyer / seller / broker messages;
* :mod:`~graphgen.valuation.structural`: continuous WL embeddings and the graph Wasserstein
  distance (WWL), structural disparity between datasets (exact, Sinkhorn, sliced);
* :mod:`~graphgen.valuation.matching`: graph matching to a public proxy and blind message passing
  (an experimental reconstruction of Falahati & Mohammadi Amiri, 2024);
* :mod:`~graphgen.valuation.ranking`: the per-seller table behind ``graphgen value``;
* :mod:`~graphgen.valuation.synthetic`: contextual SBMs for tests and benchmarks.

Example:
    >>> from graphgen.valuation import contextual_sbm, value_sellers
    >>> buyer = contextual_sbm(3, classes=range(5), seed=0)
    >>> rows = value_sellers(buyer, {"copy": buyer})
    >>> rows[0].structural_disparity, round(rows[0].relevance, 6), round(rows[0].diversity, 6)
    (0.0, 1.0, 0.0)
"""

from graphgen.valuation.featural import (
    BuyerQuery,
    BuyerSecret,
    SellerResponse,
    buyer_query,
    diversity_relevance,
    featural_value,
    query_from_second_moment,
    response_from_second_moment,
    second_moment,
    seller_response,
)
from graphgen.valuation.matching import blind_structural_disparity, match_to_proxy, proxy_embeddings
from graphgen.valuation.protocol import Broker, Buyer, FeaturalScore, Seller
from graphgen.valuation.ranking import SellerValuation, featural_matrix, value_sellers
from graphgen.valuation.structural import (
    graph_wasserstein,
    node_descriptors,
    pooled_disparity,
    sliced_wasserstein,
    structural_disparity,
    wasserstein_between_atoms,
    wl_embeddings,
)
from graphgen.valuation.synthetic import class_means, contextual_sbm

__all__ = [
    "BuyerQuery",
    "BuyerSecret",
    "SellerResponse",
    "buyer_query",
    "seller_response",
    "second_moment",
    "query_from_second_moment",
    "response_from_second_moment",
    "diversity_relevance",
    "featural_value",
    "Buyer",
    "Seller",
    "Broker",
    "FeaturalScore",
    "wl_embeddings",
    "node_descriptors",
    "sliced_wasserstein",
    "wasserstein_between_atoms",
    "graph_wasserstein",
    "pooled_disparity",
    "structural_disparity",
    "match_to_proxy",
    "proxy_embeddings",
    "blind_structural_disparity",
    "SellerValuation",
    "featural_matrix",
    "value_sellers",
    "class_means",
    "contextual_sbm",
]
