"""Graph sequence-model encoders: Graph Mamba (GMN) and GSM++, with PyG conventions.

Both are GraphGPS-style stacks, ``forward(x, edge_index, edge_attr=None, batch=None) -> (N, out)``
node embeddings (pool them with :func:`torch_geometric.nn.global_mean_pool` or use
:class:`GraphHead` for graph-level tasks). One layer:

    h <- LN(h + local(h) + global(h))        local: GINE / GatedGCN message passing
    h <- LN(h + FFN(h))                      FFN: d -> 2d -> d

* :class:`GraphMamba` (Behrouz & Hashemi, KDD 2024). ``global`` has two stages: (1) for ``m >= 1``,
  every node's sequence of random-walk neighbourhood tokens (widest first, itself last;
  :class:`~graphgen.nn.tokenizers.RandomWalkTokenizer`) goes through a bidirectional Mamba and the
  last position is kept; (2) the nodes of each graph, ordered by degree
  (:class:`~graphgen.nn.tokenizers.NodeTokenizer`), go through a second bidirectional Mamba. With
  ``m = 0`` stage 1 is skipped and the layer is GraphGPS with a bidirectional Mamba in place of
  attention (tested). Walks and tie-breaks are resampled at every training forward (GMN's optional
  augmentation); in eval mode the output is the average over ``eval_orderings`` tie-breaks drawn
  from a fixed seed, so evaluation is deterministic. A consequence of reading the *last* row of a
  bidirectional Mamba in stage 1 (as GMN does): there the backward direction has seen only the
  node's own token (the first step of its scan, ``h_0 = 0``), so its ``A_log`` receives no
  gradient (tested); ``token_bidirectional=False`` drops that direction.
* :class:`GSMPlusPlus` (Behrouz et al., 2024). ``global`` is the hybrid stack -- two Mamba blocks
  then one Transformer block -- over HAC token sequences (``"hac_bfs"``: each graph's nodes in HAC
  tree order; ``"hac_dfs"``: each node's root-to-leaf cluster path), or node/degree sequences, or
  ``"mot"``: the mixture of tokenizations, where a router ``S = sigmoid(h W_r)`` picks per node the
  top-2 of the tokenizations and the layer mixes ``[S_i g_i || S_j g_j]`` linearly (scores weight
  the chosen encodings, so the router receives gradients). The HAC-tree positional encoding
  (:func:`~graphgen.nn.tokenizers.hac_positional_encoding`) is added to the input. The Transformer
  block attends over the whole sequence, as in the paper, so its time grows as ``n^2`` with the
  graph's size; ``attention_window=k`` (our option, not the paper's) restricts it to consecutive
  windows of ``k`` tokens of the HAC sequence -- in BFS order the nodes of a HAC cluster are adjacent,
  so a window holds whole small clusters or a part of a large one -- and makes the whole encoder linear in ``n``.

Both take an optional random-walk structural encoding (RWSE: the return probabilities
``(D^-1 A)^k_vv``, ``k = 1..rwse_steps``) concatenated to the input features.

Example:
    >>> import torch
    >>> from graphgen.nn import GraphMamba, GraphMambaConfig
    >>> model = GraphMamba(GraphMambaConfig(in_channels=3, hidden=16, num_layers=1, m=1))
    >>> x, edge_index = torch.randn(4, 3), torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    >>> model(x, edge_index).shape
    torch.Size([4, 16])
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from graphgen.data.convert import check_node_ids
from graphgen.nn.mamba import MambaBlock, MambaConfig, TransformerBlock
from graphgen.nn.tokenizers import (
    HACTokenizer,
    NodeTokenizer,
    RandomWalkTokenizer,
    Tokenizer,
    Tokens,
    hac_positional_encoding,
    hac_tree,
    unpad_sequences,
)

__all__ = [
    "GraphMambaConfig",
    "GraphMamba",
    "GSMPlusPlusConfig",
    "GSMPlusPlus",
    "GraphHead",
    "SequenceEncoder",
    "random_walk_se",
    "LOCAL_MPNNS",
]

LOCAL_MPNNS = ("gine", "gatedgcn", "none")
GSM_TOKENIZATIONS = ("hac_bfs", "hac_dfs", "node", "mot")
MOT_EXPERTS = ("node", "hac_bfs", "hac_dfs", "walks")
EVAL_SEED = 1234  # tie-breaks and walks in eval mode come from this seed: evaluation is deterministic


def check_encoder_sizes(config) -> None:
    """A config's sizes (``in_channels >= 0``, ``hidden``, ``num_layers``, ``eval_orderings >= 1``,
    ``out_channels`` / ``edge_dim >= 1`` where given): a ``ValueError`` naming the field, at
    construction, instead of one from deep inside a layer."""
    for name, low in (("in_channels", 0), ("hidden", 1), ("num_layers", 1), ("eval_orderings", 1)):
        if int(getattr(config, name)) < low:
            raise ValueError(f"{name} must be >= {low}, got {getattr(config, name)}")
    for name in ("out_channels", "edge_dim"):
        value = getattr(config, name)
        if value is not None and int(value) < 1:
            raise ValueError(f"{name} must be >= 1 or None, got {value}")


def check_encoder_inputs(x, edge_index, edge_attr, batch, config) -> None:
    """The graph an encoder reads: ``x`` ``(N, in_channels)``, ``edge_index`` ``(2, E)`` of integer
    node ids in ``0..N-1``, ``edge_attr`` ``(E, edge_dim)`` and ``batch`` ``(N,)`` where given; a
    ``ValueError`` that says which, instead of an indexing or matmul error from a tokenizer or layer."""
    if x.dim() != 2 or x.shape[1] != config.in_channels:
        raise ValueError(f"x must be (num_nodes, in_channels={config.in_channels}), got {tuple(x.shape)}")
    n = x.shape[0]
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must be (2, num_edges), got {tuple(edge_index.shape)}")
    if edge_index.is_floating_point() or edge_index.dtype == torch.bool:
        raise ValueError(f"edge_index must hold integer node ids, got {edge_index.dtype}")
    check_node_ids(edge_index, n, "edge_index")  # an InvalidGraphError, a ValueError
    if edge_attr is not None and config.edge_dim and tuple(edge_attr.shape) != (edge_index.shape[1], config.edge_dim):
        wanted = f"(num_edges={edge_index.shape[1]}, edge_dim={config.edge_dim})"
        raise ValueError(f"edge_attr must be {wanted}, got {tuple(edge_attr.shape)}")
    if batch is not None and tuple(batch.shape) != (n,):
        raise ValueError(f"batch must be (num_nodes={n},), got {tuple(batch.shape)}")


def random_walk_se(edge_index: torch.Tensor, num_nodes: int, steps: int) -> torch.Tensor:
    """``(N, steps)`` return probabilities of the random walk, ``[(D^-1 A)^k]_vv`` for k = 1..steps.

    Dense over the whole batch: meant for batches of small graphs (refuses more than 10,000 nodes).
    """
    if steps == 0:
        return torch.zeros(num_nodes, 0)
    if num_nodes > 10_000:
        raise ValueError(f"RWSE is computed densely; {num_nodes} nodes is too many (use rwse_steps=0)")
    adj = torch.zeros(num_nodes, num_nodes)
    adj[edge_index[0], edge_index[1]] = 1.0
    walk = adj / adj.sum(1, keepdim=True).clamp(min=1)
    power, out = torch.eye(num_nodes), []
    for _ in range(steps):
        power = power @ walk
        out.append(power.diagonal())
    return torch.stack(out, dim=1)


def _local_mpnn(kind: str, hidden: int, edge_dim: int | None) -> nn.Module | None:
    from torch_geometric.nn import GINConv, GINEConv, ResGatedGraphConv

    if kind == "none":
        return None
    if kind == "gine":
        mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        return GINEConv(mlp, edge_dim=hidden) if edge_dim else GINConv(mlp)
    if kind == "gatedgcn":
        return ResGatedGraphConv(hidden, hidden, edge_dim=hidden if edge_dim else None)
    raise ValueError(f"unknown local MPNN {kind!r}; choose one of {', '.join(LOCAL_MPNNS)}")


class SequenceEncoder(nn.Module):
    """Runs a stack of sequence blocks over a batch's token sequences and maps results to nodes.

    Per-graph sequences (``tokens.owner == -1``) give every position back to its node; per-node
    sequences give their node the state at the last position (the node itself) -- computed by the
    last block's ``forward_last`` when it has one (exact, and a bidirectional Mamba block then scans
    once instead of twice).
    """

    def __init__(self, blocks: list[nn.Module], hidden: int, extra_dim: int):
        super().__init__()
        self.project = nn.Linear(hidden + extra_dim, hidden) if extra_dim else nn.Identity()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, h: torch.Tensor, tokens: Tokens) -> torch.Tensor:
        seq = self.project(tokens.sequences(h))  # (S, L, d)
        per_node = bool((tokens.owner >= 0).all()) and tokens.owner.numel() > 0
        last_only = per_node and hasattr(self.blocks[-1], "forward_last") if self.blocks else False
        for block in self.blocks[:-1] if last_only else self.blocks:
            seq = block(seq, tokens.lengths)
        out = torch.zeros_like(h)
        if last_only:
            out[tokens.owner] = self.blocks[-1].forward_last(seq, tokens.lengths)
        elif per_node:
            out[tokens.owner] = seq[torch.arange(seq.shape[0], device=seq.device), tokens.lengths - 1]
        else:
            out[tokens.order] = unpad_sequences(seq, tokens.lengths)
        return out


class _ResidualLayer(nn.Module):
    """``h <- LN(h + local(h) + global(h))``, ``h <- LN(h + FFN(h))``; the global part is given."""

    def __init__(self, hidden: int, local: str, edge_dim: int | None, dropout: float):
        super().__init__()
        self.local = _local_mpnn(local, hidden, edge_dim)
        self.norm1, self.norm2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(), nn.Linear(2 * hidden, hidden))
        self.dropout = nn.Dropout(dropout)

    def combine(self, h, global_out, edge_index, edge_attr):
        total = h + self.dropout(global_out)
        if self.local is not None:
            local = self.local(h, edge_index, edge_attr) if edge_attr is not None else self.local(h, edge_index)
            total = total + self.dropout(local)
        h = self.norm1(total)
        return self.norm2(h + self.dropout(self.ffn(h)))


def _eval_generators(training: bool, count: int) -> list[torch.Generator]:
    if training:
        seed = int(torch.randint(0, 2**62, (1,)))  # follows torch.manual_seed
        return [torch.Generator().manual_seed(seed)]
    return [torch.Generator().manual_seed(EVAL_SEED + i) for i in range(count)]


@dataclass
class GraphMambaConfig:
    """Arguments of :class:`GraphMamba` (travels in checkpoints)."""

    in_channels: int
    hidden: int = 64
    num_layers: int = 3
    out_channels: int | None = None  # None: hidden
    edge_dim: int | None = None
    local: str = "gine"
    m: int = 2  # walk lengths 1..m; 0: node tokens only (GPS with bidirectional Mamba)
    s: int = 1  # samples per walk length
    M: int = 4  # walks per sample
    d_state: int = 16
    expand: int = 1
    share_in_proj: bool = True
    token_bidirectional: bool = True  # stage 1 (neighbourhood tokens); stage 2 is always bidirectional
    tie_break: str = "random"  # degree ties: "random" (Graph-Mamba) or "features" (canonical, equivariant)
    rwse_steps: int = 0
    dropout: float = 0.0
    eval_orderings: int = 5


class GraphMamba(nn.Module):
    """Graph Mamba Network encoder (see the module docstring). ``GraphMamba(GraphMambaConfig(...))``."""

    def __init__(self, config: GraphMambaConfig):
        super().__init__()
        check_encoder_sizes(config)
        if config.local not in LOCAL_MPNNS:
            raise ValueError(f"unknown local MPNN {config.local!r}; choose one of {', '.join(LOCAL_MPNNS)}")
        self.config = config
        d = config.hidden
        self.input = nn.Linear(config.in_channels + config.rwse_steps, d)
        self.edge_input = nn.Linear(config.edge_dim, d) if config.edge_dim else None
        mamba = MambaConfig(
            d_model=d,
            d_state=config.d_state,
            expand=config.expand,
            bidirectional=True,
            share_in_proj=config.share_in_proj,
            dropout=config.dropout,
        )
        self.walk_tokenizer = RandomWalkTokenizer(config.m, config.s, config.M) if config.m > 0 else None
        self.node_tokenizer = NodeTokenizer(config.tie_break)
        self.layers = nn.ModuleList()
        self.token_stages = nn.ModuleList()
        self.node_stages = nn.ModuleList()
        for _ in range(config.num_layers):
            self.layers.append(_ResidualLayer(d, config.local, config.edge_dim, config.dropout))
            self.node_stages.append(SequenceEncoder([MambaBlock(mamba)], d, 0))
            if self.walk_tokenizer is not None:
                token_mamba = replace(mamba, bidirectional=config.token_bidirectional)
                self.token_stages.append(SequenceEncoder([MambaBlock(token_mamba)], d, 3))
        self.output = nn.Linear(d, config.out_channels) if config.out_channels else nn.Identity()

    def forward(self, x, edge_index, edge_attr=None, batch=None) -> torch.Tensor:
        check_encoder_inputs(x, edge_index, edge_attr, batch, self.config)
        n = x.shape[0]
        if n == 0:
            return x.new_zeros((0, self.config.out_channels or self.config.hidden))
        batch = torch.zeros(n, dtype=torch.long, device=x.device) if batch is None else batch
        edge_cpu, batch_cpu = edge_index.cpu(), batch.cpu()  # tokenizers run on the CPU (see tokenizers)
        if self.config.rwse_steps:
            x = torch.cat([x, random_walk_se(edge_cpu, n, self.config.rwse_steps).to(x)], dim=1)
        x_cpu = x.detach().cpu()
        h = self.input(x)
        e = self.edge_input(edge_attr) if self.edge_input is not None and edge_attr is not None else None
        generators = _eval_generators(self.training, self.config.eval_orderings)
        walks = self.walk_tokenizer
        plans = [
            (
                walks.tokenize(edge_cpu, batch_cpu, n, g).to(h.device) if walks is not None else None,
                self.node_tokenizer.tokenize(edge_cpu, batch_cpu, n, g, x=x_cpu).to(h.device),
            )
            for g in generators
        ]
        for i, layer in enumerate(self.layers):
            outs = []
            for walk_tokens, node_tokens in plans:
                y = self.token_stages[i](h, walk_tokens) if walk_tokens is not None else h
                outs.append(self.node_stages[i](y, node_tokens))
            h = layer.combine(h, torch.stack(outs).mean(0), edge_index, e)
        return self.output(h)


@dataclass
class GSMPlusPlusConfig:
    """Arguments of :class:`GSMPlusPlus` (travels in checkpoints)."""

    in_channels: int
    hidden: int = 64
    num_layers: int = 2
    out_channels: int | None = None
    edge_dim: int | None = None
    local: str = "gatedgcn"
    tokenization: str = "hac_bfs"  # hac_bfs, hac_dfs, node or mot
    tie_break: str = "random"  # degree ties of the node tokenization: "random" or "features"
    num_heads: int = 4
    attention_window: int | None = None  # None: full attention (the paper); k: within windows of k tokens
    d_state: int = 16
    expand: int = 1
    hpe_levels: int = 4
    rwse_steps: int = 0
    dropout: float = 0.0
    eval_orderings: int = 5


def _gsm_tokenizer(name: str, tie_break: str) -> Tokenizer:
    return {
        "node": NodeTokenizer(tie_break),
        "hac_bfs": HACTokenizer("bfs"),
        "hac_dfs": HACTokenizer("dfs"),
        "walks": RandomWalkTokenizer(2, 1, 4),
    }[name]


class GSMPlusPlus(nn.Module):
    """GSM++ encoder: local MPNN + hybrid (Mamba, Mamba, Transformer) stack over HAC tokens."""

    def __init__(self, config: GSMPlusPlusConfig):
        super().__init__()
        check_encoder_sizes(config)
        if config.tokenization not in GSM_TOKENIZATIONS:
            raise ValueError(
                f"unknown tokenization {config.tokenization!r}; choose one of {', '.join(GSM_TOKENIZATIONS)}"
            )
        self.config = config
        d = config.hidden
        self.input = nn.Linear(config.in_channels + config.rwse_steps + config.hpe_levels, d)
        self.edge_input = nn.Linear(config.edge_dim, d) if config.edge_dim else None
        mamba = MambaConfig(d_model=d, d_state=config.d_state, expand=config.expand, dropout=config.dropout)
        self.experts = list(MOT_EXPERTS) if config.tokenization == "mot" else [config.tokenization]
        self.tokenizers = {name: _gsm_tokenizer(name, config.tie_break) for name in self.experts}
        extra = {"node": 0, "hac_bfs": 0, "hac_dfs": 2, "walks": 3}

        def hybrid(name):
            blocks = [
                MambaBlock(mamba),
                MambaBlock(mamba),
                TransformerBlock(d, config.num_heads, config.dropout, config.attention_window),
            ]
            return SequenceEncoder(blocks, d, extra[name])

        self.layers = nn.ModuleList()
        self.stacks = nn.ModuleList()
        for _ in range(config.num_layers):
            self.layers.append(_ResidualLayer(d, config.local, config.edge_dim, config.dropout))
            self.stacks.append(nn.ModuleDict({name: hybrid(name) for name in self.experts}))
        if config.tokenization == "mot":
            self.routers = nn.ModuleList([nn.Linear(d, len(self.experts)) for _ in range(config.num_layers)])
            self.mixers = nn.ModuleList([nn.Linear(2 * d, d) for _ in range(config.num_layers)])
        self.output = nn.Linear(d, config.out_channels) if config.out_channels else nn.Identity()

    def route(self, layer: int, h: torch.Tensor, expert_outputs: torch.Tensor) -> torch.Tensor:
        """Mixture of tokenizations: top-2 experts per node, weighted by the router's scores."""
        scores = torch.sigmoid(self.routers[layer](h))  # (N, T)
        top, index = scores.topk(2, dim=1)  # (N, 2)
        rows = torch.arange(h.shape[0], device=h.device)[:, None]
        chosen = expert_outputs.permute(1, 0, 2)[rows, index]  # (N, 2, d)
        return self.mixers[layer]((top[..., None] * chosen).flatten(1))

    def forward(self, x, edge_index, edge_attr=None, batch=None) -> torch.Tensor:
        check_encoder_inputs(x, edge_index, edge_attr, batch, self.config)
        n = x.shape[0]
        if n == 0:
            return x.new_zeros((0, self.config.out_channels or self.config.hidden))
        batch = torch.zeros(n, dtype=torch.long, device=x.device) if batch is None else batch
        edge_cpu, batch_cpu, x_cpu = edge_index.cpu(), batch.cpu(), x.detach().cpu()  # for the tokenizers
        extras = [x]
        if self.config.rwse_steps:
            extras.append(random_walk_se(edge_cpu, n, self.config.rwse_steps).to(x))
        tree = None  # the HAC tree, built once for the positional encoding and the HAC tokens
        if self.config.hpe_levels or any(isinstance(t, HACTokenizer) for t in self.tokenizers.values()):
            tree = hac_tree(edge_cpu, batch_cpu, x_cpu, n)
        if self.config.hpe_levels:
            extras.append(hac_positional_encoding(tree, self.config.hpe_levels).to(x))
        h = self.input(torch.cat(extras, dim=1))
        e = self.edge_input(edge_attr) if self.edge_input is not None and edge_attr is not None else None
        generators = _eval_generators(self.training, self.config.eval_orderings)
        plans = {  # a deterministic tokenization (HAC) needs one plan, random ones one per tie-break
            name: [
                tokens.to(h.device)
                for tokens in (
                    [tok.from_tree(tree, batch_cpu, n, x=x_cpu)]
                    if isinstance(tok, HACTokenizer)
                    else [
                        tok.tokenize(edge_cpu, batch_cpu, n, g, x=x_cpu)
                        for g in (generators[:1] if tok.deterministic else generators)
                    ]
                )
            ]
            for name, tok in self.tokenizers.items()
        }
        for i, layer in enumerate(self.layers):
            per_expert = torch.stack(
                [torch.stack([self.stacks[i][name](h, t) for t in plans[name]]).mean(0) for name in self.experts]
            )  # (T, N, d)
            global_out = self.route(i, h, per_expert) if self.config.tokenization == "mot" else per_expert[0]
            h = layer.combine(h, global_out, edge_index, e)
        return self.output(h)


class GraphHead(nn.Module):
    """Graph-level readout: mean pooling then a 2-layer MLP."""

    def __init__(self, hidden: int, out_channels: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_channels))

    def forward(self, h: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        return self.mlp(global_mean_pool(h, batch))
