"""How each new node of a HiGen community joins the community's earlier nodes, real against sampled.

    python metrics/scripts/higen_row_attachment.py MODEL DATASET [--samples 40] [--json OUT]

Communities are read in generation order (node ids ascending inside each community): the model's
ordered hierarchy of the test graphs (``data``) and the communities of ``--samples`` graphs sampled
with seed 0 (``samples``). Intra-community edges only. For every row ``t >= 2`` (0-based: the third
node on) with earlier neighbours ``S`` in the **prefix graph** (the community's nodes before it):

* ``rows_by_earlier_neighbours``: shares of rows with ``|S|`` = 1, 2, 3, 4, >= 5 (``0``: none).
* Among rows with ``|S| >= 2`` (``rows_joining_two_or_more``): ``S`` induces a path (``path``) or
  a connected graph (``connected``) in the prefix graph; ``S`` holds a ``closed`` node, one whose
  prefix neighbours already close around it (``T(j) = d(j) >= 3``: as many triangles as neighbours);
  the row joins both ends of a prefix edge that already lies on two or more triangles
  (``joins_an_edge_on_two_triangles``: the new node gives it a third).
* ``prefix_degree_gap``: over every row ``t >= 1`` and every node ``j`` of its prefix graph, the shares
  of ``d(j) - T(j)`` <= -1, 0, 1, 2, >= 3 (the triangle inputs of ``--triangle-features`` see this
  gap): how far the prefixes the network conditions on in sampling stray from the data's.
* ``first_nonplanar_rows``: for each community whose graph is not planar, the first row after which
  its prefix graph is not planar, with the same four properties and the row's place in its community
  (``place_tenths``: ``floor(10 t / n)``, 0-9).

What it is for: in a triangulated disc grown node by node, a new node joins a path of consecutive
boundary nodes; joining a closed node or a two-triangle edge is where planarity breaks.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx
from _higen_diagnostic import data_against_samples

PROPERTIES = ("path", "connected", "closed", "joins_an_edge_on_two_triangles")
GAP_BINS = {-1: "<= -1", 0: "0", 1: "1", 2: "2", 3: ">= 3"}


def communities_in_order(edge_lists, communities):
    """Each community of graphs ``(n, edges)`` with each node's community, as ``(graph of its intra
    edges, its nodes in generation order)`` (node ids ascending inside a community)."""
    for (n, edges), comm in zip(edge_lists, communities):
        members: dict[int, list[int]] = {}
        for v in range(n):
            members.setdefault(comm[v], []).append(v)
        for c, nodes in members.items():
            g = nx.Graph()
            g.add_nodes_from(nodes)
            g.add_edges_from((a, b) for a, b in edges if a != b and comm[a] == c and comm[b] == c)
            yield g, nodes


def row_properties(prefix: nx.Graph, joined: list[int]) -> dict[str, bool]:
    """The properties of a row that joins the nodes ``joined`` (``>= 2``) of the ``prefix`` graph."""
    induced = prefix.subgraph(joined)
    connected = nx.is_connected(induced)
    path = connected and induced.number_of_edges() == len(joined) - 1 and max(d for _, d in induced.degree()) <= 2
    triangles = nx.triangles(prefix, joined)
    closed = any(triangles[j] == prefix.degree(j) >= 3 for j in joined)
    crowded = any(len(list(nx.common_neighbors(prefix, a, b))) >= 2 for a, b in induced.edges())
    return dict(zip(PROPERTIES, (path, connected, closed, crowded)))


def _label(joined: int) -> str:
    """The key of a count of earlier neighbours (5 stands for 5 or more)."""
    return ">= 5" if joined == 5 else str(joined)


def row_attachment(edge_lists: list[tuple[int, list[tuple[int, int]]]], communities: list[list[int]]) -> dict:
    """The statistics of the module docstring for graphs ``(n, edges)`` and each node's community."""
    rows, multi, first, sizes, gaps = Counter(), Counter(), Counter(), Counter(), Counter()
    count = Counter()
    for graph, nodes in communities_in_order(edge_lists, communities):
        prefix = nx.Graph()
        broken = nx.check_planarity(graph)[0] is False
        count["communities"] += 1
        count["nonplanar_communities"] += broken
        for t, v in enumerate(nodes):
            joined = [u for u in graph.neighbors(v) if u < v]
            if t >= 1:
                triangles = nx.triangles(prefix)
                gaps.update(min(max(prefix.degree(j) - triangles[j], -1), 3) for j in prefix)
            props = row_properties(prefix, joined) if len(joined) >= 2 else None
            if t >= 2:
                rows[min(len(joined), 5)] += 1
                if props is not None:
                    multi.update(k for k, held in props.items() if held)
                    multi["rows"] += 1
            prefix.add_node(v)
            prefix.add_edges_from((u, v) for u in joined)
            if broken and not nx.check_planarity(prefix)[0]:
                first["rows"] += 1
                first.update(k for k, held in (props or {}).items() if held)
                sizes[min(len(joined), 5)] += 1
                first[f"place_tenths_{10 * t // len(nodes)}"] += 1
                broken = False  # only the first such row
    total = sum(rows.values())
    return {
        "rows": total,
        "rows_by_earlier_neighbours": {_label(k): round(rows[k] / max(total, 1), 4) for k in sorted(rows)},
        "rows_joining_two_or_more": multi["rows"],
        **{k: round(multi[k] / max(multi["rows"], 1), 4) for k in PROPERTIES},
        "prefix_degree_gap": {GAP_BINS[g]: round(gaps[g] / max(sum(gaps.values()), 1), 4) for g in sorted(gaps)},
        "communities": count["communities"],
        "nonplanar_communities": count["nonplanar_communities"],
        "first_nonplanar_rows": {
            "rows": first["rows"],
            "by_earlier_neighbours": {_label(k): sizes[k] for k in sorted(sizes)},
            **{k: first[k] for k in PROPERTIES},
            "place_tenths": {str(p): first[f"place_tenths_{p}"] for p in range(10) if first[f"place_tenths_{p}"]},
        },
    }


def main() -> None:
    data_against_samples(__doc__, row_attachment, "higen_row_attachment.py")


if __name__ == "__main__":
    main()
