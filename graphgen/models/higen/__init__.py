"""HiGen (Karami, ICLR 2024): hierarchical graph generation. Work in progress (issue 4).

Done: the exact distributions of the community model (stick-breaking rows, mixtures, a simple-graph
leaf variant) and of the bipartite model, the teacher-forcing rows of an ordered hierarchy, their
batched likelihood, and the community network (GRAN-style, teacher-forced over all rows at once).
Still to come: the bipartite network, the training loop, sampling and checkpoints."""

from graphgen.models.higen.bipartite import (
    conditional_bernoulli_log_prob,
    log_poisson_binomial,
    multinomial_block_log_prob,
    sample_conditional_bernoulli,
    sample_multinomial_block,
)
from graphgen.models.higen.community_net import CommunityNet, CommunityNetConfig, PrefixBatch, prefix_batch
from graphgen.models.higen.model import HiGen, HiGenConfig
from graphgen.models.higen.rows import LEAF_ROWS, CommunityRows, community_rows, row_log_likelihood
from graphgen.models.higen.stick_breaking import (
    CommunityRowProbabilities,
    binomial_log_prob,
    community_log_prob,
    multinomial_log_prob,
    row_budgets,
    stick_breaking_log_prob,
    truncated_binomial_log_prob,
)
from graphgen.models.higen.train import TrainConfig, train_higen

__all__ = [
    "binomial_log_prob",
    "multinomial_log_prob",
    "truncated_binomial_log_prob",
    "stick_breaking_log_prob",
    "row_budgets",
    "CommunityRowProbabilities",
    "community_log_prob",
    "conditional_bernoulli_log_prob",
    "log_poisson_binomial",
    "multinomial_block_log_prob",
    "sample_conditional_bernoulli",
    "sample_multinomial_block",
    "LEAF_ROWS",
    "CommunityRows",
    "community_rows",
    "row_log_likelihood",
    "CommunityNet",
    "CommunityNetConfig",
    "PrefixBatch",
    "prefix_batch",
    "HiGen",
    "HiGenConfig",
    "TrainConfig",
    "train_higen",
]
