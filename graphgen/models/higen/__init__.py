"""HiGen (Karami, ICLR 2024): hierarchical graph generation. Work in progress (issue 4): the exact
distributions of the community and bipartite models; the networks, training and sampling follow."""

from graphgen.models.higen.stick_breaking import (
    CommunityRowProbabilities,
    binomial_log_prob,
    community_log_prob,
    multinomial_log_prob,
    row_budgets,
    stick_breaking_log_prob,
)

__all__ = [
    "binomial_log_prob",
    "multinomial_log_prob",
    "stick_breaking_log_prob",
    "row_budgets",
    "CommunityRowProbabilities",
    "community_log_prob",
]
