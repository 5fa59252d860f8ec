"""Graph partitioners: strategies that group the nodes of a (weighted) graph into communities.

A partitioner turns one graph into a **nested sequence of assignments**, from fine to coarse::

    partition_levels(graph, num_partitions, seed) -> [a_1, ..., a_P]

``a_1`` maps the graph's nodes to communities, ``a_2`` maps those communities to coarser ones, and
so on. Community ids are canonical: communities are numbered by the smallest node id they contain,
so the result does not depend on the order in which an algorithm happens to emit them.

:class:`LouvainPartitioner` (the default, as in HiGen) reads the successive levels of one Louvain
run (the dendrogram of ``networkx.community.louvain_partitions``) and keeps the coarsest ``P``.
HiGen's two-level hierarchy is therefore the final (coarsest) Louvain partition. **Documented
choice:** when the dendrogram has fewer than ``P`` levels, the finest Louvain partition is repeated,
so the leaf graph is still partitioned into real communities and the missing steps are identities
(every community alone in its parent) just above it; they are counted in
:attr:`~graphgen.data.hierarchy.Hierarchy.trivial_levels`.

**Documented choice: every community is connected.** Louvain can leave a community disconnected
(a node that bridged it moves to another community in a later pass; Traag, Waltman & van Eck,
"From Louvain to Leiden", Sci. Rep. 2019), while HiGen's leaf rows need connected communities
(every new node joins an earlier one, so a disconnected community has probability 0 and the
training loss becomes infinite). :func:`split_disconnected` therefore splits every community of
every Louvain level into its connected components in the graph, as Leiden guarantees. The levels
stay nested (a coarse community is a union of connected finer ones, each inside one of its
components), and a partition whose communities are all connected is unchanged. Measured
(``metrics/results/louvain-disconnected-communities*.json``): on enzymes (all 587 graphs, Louvain
seeds 0-23) 4 of 14,088 partitions held a disconnected community, none at seed 0; none on planar
(resolution 0.3), community_small or SBM (seeds 0-7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch_geometric.data import Data

from graphgen.data.convert import to_networkx
from graphgen.errors import InvalidGraphError

__all__ = ["Partitioner", "LouvainPartitioner", "FixedPartitioner", "canonical_assignment", "split_disconnected"]


@runtime_checkable
class Partitioner(Protocol):
    """Strategy interface: nested community assignments of one graph, fine to coarse."""

    def partition_levels(self, graph: Data, num_partitions: int, seed: int) -> list[torch.Tensor]: ...


def canonical_assignment(assignment: torch.Tensor) -> torch.Tensor:
    """Renumber community ids ``0..K-1`` in order of each community's smallest member."""
    assignment = torch.as_tensor(assignment, dtype=torch.long)
    if assignment.numel() == 0:
        return assignment.clone()
    uniq, inverse = torch.unique(assignment, return_inverse=True)
    first = torch.full((uniq.numel(),), assignment.numel(), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(assignment.numel()), reduce="amin")
    rank = torch.empty_like(first)
    rank[torch.argsort(first)] = torch.arange(first.numel())
    return rank[inverse]


def _sets_to_assignment(communities: Sequence[set], num_nodes: int) -> torch.Tensor:
    a = torch.full((num_nodes,), -1, dtype=torch.long)
    for c, members in enumerate(communities):
        a[torch.tensor(sorted(members), dtype=torch.long)] = c
    return a


def split_disconnected(graph, communities: Sequence[set]) -> list[set]:
    """``communities`` (sets of nodes of the networkx ``graph``) with each one replaced by its
    connected components in ``graph``: the pieces of a connected community are itself, so a
    partition of connected communities comes back unchanged (in the same order)."""
    import networkx as nx

    out: list[set] = []
    for members in communities:
        if len(members) <= 1:
            out.append(set(members))
        else:
            out.extend(set(c) for c in nx.connected_components(graph.subgraph(members)))
    return out


@dataclass(frozen=True)
class LouvainPartitioner:
    """Louvain modularity maximisation (``networkx.community.louvain_partitions``), every community
    split into its connected components (:func:`split_disconnected`, module docstring).

    Args:
        resolution: modularity resolution ``gamma`` (1.0 as in HiGen); lower gives larger communities.
        threshold: minimum modularity gain for Louvain to continue to another level.
    """

    resolution: float = 1.0
    threshold: float = 1e-7

    def louvain_levels(self, g, seed: int) -> list[list[set]]:
        """Networkx's Louvain levels of the networkx graph ``g``, fine to coarse, as it returns them
        (communities not yet split into connected components); one level of singletons without edges."""
        import networkx as nx

        if g.number_of_edges() == 0:
            return [[{v} for v in g]]
        return list(
            nx.community.louvain_partitions(
                g, weight="weight", resolution=self.resolution, threshold=self.threshold, seed=seed
            )
        )

    def partition_levels(self, graph: Data, num_partitions: int, seed: int) -> list[torch.Tensor]:
        n = int(graph.num_nodes)
        if num_partitions < 1:
            raise ValueError("num_partitions must be >= 1")
        g = to_networkx(graph, weight="weight")
        dendrogram = self.louvain_levels(g, seed)
        leaf_to_comm = [
            canonical_assignment(_sets_to_assignment(split_disconnected(g, p), n)) for p in dendrogram[-num_partitions:]
        ]
        # identity steps for missing levels, on the leaf side of the finest Louvain level
        while len(leaf_to_comm) < num_partitions:
            leaf_to_comm.insert(0, leaf_to_comm[0])
        # convert "leaf -> community at level k" into "community at level k-1 -> community at level k"
        nested = [leaf_to_comm[0]]
        for prev, cur in zip(leaf_to_comm[:-1], leaf_to_comm[1:]):
            step = torch.full((int(prev.max()) + 1 if prev.numel() else 0,), -1, dtype=torch.long)
            step[prev] = cur
            nested.append(step)
        return nested


@dataclass(frozen=True)
class FixedPartitioner:
    """Use given assignments (fine to coarse) for every graph; for tests and user-made partitions."""

    assignments: tuple[torch.Tensor, ...]

    def partition_levels(self, graph: Data, num_partitions: int, seed: int) -> list[torch.Tensor]:
        if len(self.assignments) != num_partitions:
            raise InvalidGraphError(
                f"FixedPartitioner holds {len(self.assignments)} assignments, {num_partitions} needed"
            )
        out, size = [], int(graph.num_nodes)
        for a in self.assignments:
            a = torch.as_tensor(a, dtype=torch.long)
            if a.numel() != size or (a.numel() and int(a.min()) < 0):
                raise InvalidGraphError(f"assignment of length {a.numel()} for {size} nodes")
            if a.numel() and torch.unique(a).numel() != int(a.max()) + 1:
                raise InvalidGraphError("community ids must be 0..K-1 with no empty community")
            out.append(a)
            size = int(a.max()) + 1 if a.numel() else 0
        return out
