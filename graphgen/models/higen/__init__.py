"""HiGen (Karami, ICLR 2024): hierarchical graph generation.

The exact distributions (stick-breaking community rows with a simple-graph leaf variant,
bipartite blocks), the teacher-forcing rows of an ordered hierarchy and their batched
likelihood, the GRAN-style community and bipartite networks, the :class:`HiGen` model
(loss, lock-step batched sampling, checkpoints, ``from_pretrained``) and resumable training.

Example:
    >>> import torch
    >>> from graphgen.models.higen import HiGen
    >>> graphs = HiGen.from_pretrained().sample(3, generator=torch.Generator().manual_seed(0))
    >>> [g.num_nodes > 0 for g in graphs]
    [True, True, True]
"""

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
from graphgen.models.higen.train import TrainConfig, refit_size_head, train_higen

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
    "refit_size_head",
]
