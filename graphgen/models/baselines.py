"""Non-neural reference generators.

:class:`ErdosRenyiBaseline` is the classic baseline of the graph-generation literature: each sample
draws a training graph's size ``(n, m)`` and returns a uniform random graph ``G(n, m)`` -- ``m``
distinct edges chosen uniformly among the ``n(n-1)/2`` node pairs. It matches the training node-
and edge-count distributions exactly and nothing else, which makes it the floor every learned model
must beat. With ``num_nodes`` given, ``m`` is ``round(rho * n(n-1)/2)`` for the edge density
``rho = m_k / (n_k(n_k-1)/2)`` of a random training graph ``k``.

It follows the scikit-learn contract (``fit`` returns ``self``, learned attributes end in ``_``)
and graphgen's model contract (``sample(n, *, generator) -> list[Data]``).

Example:
    >>> import torch
    >>> from graphgen.datasets import load_dataset
    >>> model = ErdosRenyiBaseline().fit(load_dataset("community_small", "train"))
    >>> graphs = model.sample(2, generator=torch.Generator().manual_seed(0))
    >>> [g.num_nodes for g in graphs]
    [14, 12]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch_geometric.data import Data

from graphgen.data.convert import from_edge_array, num_undirected_edges
from graphgen.errors import CheckpointError, InvalidGraphError
from graphgen.io.checkpoint import Checkpoint, graphs_fingerprint
from graphgen.models.sample_request import check_device, check_sample_request

__all__ = ["ErdosRenyiConfig", "ErdosRenyiBaseline"]


@dataclass(frozen=True)
class ErdosRenyiConfig:
    """Configuration of :class:`ErdosRenyiBaseline` (it has no hyper-parameters yet; kept for the
    checkpoint contract ``Model(Config(**ckpt.config))``)."""

    name: str = "erdos-renyi"


class ErdosRenyiBaseline:
    """Uniform ``G(n, m)`` with ``(n, m)`` drawn from the training graphs.

    Attributes:
        num_nodes_: ``(K,)`` node counts of the ``K`` training graphs (after :meth:`fit`).
        num_edges_: ``(K,)`` their edge counts.
    """

    model_name = "erdos-renyi"

    def __init__(self, config: ErdosRenyiConfig | None = None):
        self.config = config or ErdosRenyiConfig()
        self.num_nodes_: torch.Tensor | None = None
        self.num_edges_: torch.Tensor | None = None
        self.data_fingerprint_: str | None = None

    def fit(self, graphs: Sequence[Data]) -> ErdosRenyiBaseline:
        """Record the ``(n, m)`` pairs of ``graphs``; returns ``self``."""
        graphs = list(graphs)
        if not graphs:
            raise InvalidGraphError("cannot fit a generator on zero graphs")
        self.num_nodes_ = torch.tensor([int(g.num_nodes) for g in graphs], dtype=torch.long)
        self.num_edges_ = torch.tensor([num_undirected_edges(g) for g in graphs], dtype=torch.long)
        self.data_fingerprint_ = graphs_fingerprint(graphs)
        return self

    def _require_fit(self) -> None:
        if self.num_nodes_ is None:
            raise RuntimeError("ErdosRenyiBaseline is not fitted; call fit(graphs) first")

    def log_likelihood(self, graphs: Sequence[Data]) -> torch.Tensor:
        """Log-probability of each graph in nats, ``(len(graphs),)`` float64, given its node and edge
        counts: ``G(n, m)`` is uniform over the ``C(N, m)`` labelled graphs with ``m`` of the
        ``N = n(n-1)/2`` node pairs, so ``log p(A | n, m) = -log C(N, m)`` (the conditioning of
        :meth:`HiGen.log_likelihood <graphgen.models.higen.HiGen.log_likelihood>`, which
        ``graphgen score`` reports beside it)."""
        graphs = list(graphs)
        n = torch.tensor([int(g.num_nodes) for g in graphs], dtype=torch.float64)
        m = torch.tensor([num_undirected_edges(g) for g in graphs], dtype=torch.float64)
        pairs = n * (n - 1) / 2
        return -(torch.lgamma(pairs + 1) - torch.lgamma(m + 1) - torch.lgamma(pairs - m + 1))

    def sample(
        self,
        num_graphs: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        num_nodes: int | None = None,
    ) -> list[Data]:
        """Draw ``num_graphs`` graphs.

        Args:
            num_graphs: how many graphs (>= 0).
            generator: source of randomness (same generator state, same graphs).
            device: where the returned tensors live (default CPU).
            num_nodes: force every graph to this many nodes (>= 1); edges follow a training
                graph's density.
        """
        self._require_fit()
        num_graphs, num_nodes, _ = check_sample_request(num_graphs, generator, num_nodes=num_nodes)
        device = check_device(device)
        picks = torch.randint(self.num_nodes_.numel(), (num_graphs,), generator=generator)
        graphs = []
        for k in picks.tolist():
            n, m = int(self.num_nodes_[k]), int(self.num_edges_[k])
            if num_nodes is not None:
                pairs = n * (n - 1) // 2
                density = m / pairs if pairs else 0.0
                n = num_nodes
                m = round(density * n * (n - 1) / 2)
            graphs.append(self._gnm(n, m, generator).to(device or "cpu"))
        return graphs

    @staticmethod
    def _gnm(n: int, m: int, generator: torch.Generator | None) -> Data:
        pairs = n * (n - 1) // 2
        chosen = torch.randperm(pairs, generator=generator)[:m]
        # position p in the row-major strict upper triangle -> (i, j), via column-major of (j, i)
        j = torch.floor((1 + torch.sqrt(1 + 8 * chosen.to(torch.float64))) / 2).to(torch.long)
        j = torch.where(j * (j - 1) // 2 > chosen, j - 1, j)
        j = torch.where((j + 1) * j // 2 <= chosen, j + 1, j)
        i = chosen - j * (j - 1) // 2
        return from_edge_array(n, torch.stack([i, j], 1))

    # ------------------------------------------------------------------------ checkpoint contract
    def to_checkpoint(self, metadata: dict | None = None) -> Checkpoint:
        self._require_fit()
        return Checkpoint(
            model=self.model_name,
            config=asdict(self.config),
            state_dict={"num_nodes": self.num_nodes_, "num_edges": self.num_edges_},
            data_fingerprint=self.data_fingerprint_,
            metadata=dict(metadata or {}),
        )

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> ErdosRenyiBaseline:
        if ckpt.model != cls.model_name:
            raise CheckpointError(f"checkpoint holds model {ckpt.model!r}, not {cls.model_name!r}")
        try:
            model = cls(ErdosRenyiConfig(**ckpt.config))
            model.num_nodes_ = ckpt.state_dict["num_nodes"].to(torch.long)
            model.num_edges_ = ckpt.state_dict["num_edges"].to(torch.long)
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"malformed {cls.model_name} checkpoint: {exc}") from None
        if model.num_nodes_.numel() == 0 or model.num_nodes_.shape != model.num_edges_.shape:
            raise CheckpointError("malformed erdos-renyi checkpoint: empty or mismatched size tables")
        model.data_fingerprint_ = ckpt.data_fingerprint
        return model
