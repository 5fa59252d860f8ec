"""Reusable layers: the selective scan, Mamba and Transformer blocks, graph tokenizers, and the
Graph Mamba (GMN) and GSM++ encoders -- pure PyTorch, on CPU and GPU.

Example:
    >>> import torch
    >>> from graphgen.nn import GSMPlusPlus, GSMPlusPlusConfig
    >>> model = GSMPlusPlus(GSMPlusPlusConfig(in_channels=2, hidden=8, num_layers=1, num_heads=2))
    >>> model(torch.randn(3, 2), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])).shape
    torch.Size([3, 8])
"""

from graphgen.nn.encoders import (
    GraphHead,
    GraphMamba,
    GraphMambaConfig,
    GSMPlusPlus,
    GSMPlusPlusConfig,
    SequenceEncoder,
    random_walk_se,
)
from graphgen.nn.mamba import (
    Mamba,
    MambaBlock,
    MambaConfig,
    SelectiveSSM,
    TransformerBlock,
    parameter_groups,
    reverse_within_lengths,
)
from graphgen.nn.scan import linear_scan, selective_scan, selective_scan_ref
from graphgen.nn.tokenizers import (
    HACTokenizer,
    HACTree,
    NodeTokenizer,
    RandomWalkTokenizer,
    Tokenizer,
    Tokens,
    degree_order,
    hac_positional_encoding,
    hac_tree,
    random_walks,
)

__all__ = [
    "selective_scan",
    "selective_scan_ref",
    "linear_scan",
    "MambaConfig",
    "SelectiveSSM",
    "Mamba",
    "MambaBlock",
    "TransformerBlock",
    "reverse_within_lengths",
    "parameter_groups",
    "Tokens",
    "Tokenizer",
    "NodeTokenizer",
    "RandomWalkTokenizer",
    "HACTokenizer",
    "HACTree",
    "degree_order",
    "hac_tree",
    "hac_positional_encoding",
    "random_walks",
    "GraphMambaConfig",
    "GraphMamba",
    "GSMPlusPlusConfig",
    "GSMPlusPlus",
    "GraphHead",
    "SequenceEncoder",
    "random_walk_se",
]
