"""Where HiGen's structure breaks: communities vs cross edges, data vs samples.

    python metrics/scripts/higen_structure.py MODEL DATASET [--samples 40] [--json OUT]

For the dataset's test graphs (communities from the model's own Louvain hierarchy) and for
``--samples`` graphs sampled from MODEL (seed 0, their generated communities), reports: the share of
graphs that are planar, the share whose communities (the intra-community subgraph) are planar, the
share of edges that cross communities, and the share of cross edges and of intra-community edges
that lie on at least one triangle. A planar triangulation has every edge on a triangle; a model that
places cross edges independently of each other breaks that first across communities.

Per community (communities of at least 3 nodes, pooled over graphs): the mean and standard
deviation of its size and of its edge density, and the mean coefficient of variation (std / mean)
of the intra-community degrees -- how unevenly a community spreads its edges over its nodes (an
Erdős–Rényi community of 30 nodes at density 0.3 has about 0.3). And, for communities of at least
10 nodes with their nodes in generation order, where that unevenness comes from: node ``t``'s
**row mass** (its edges to the ``t`` nodes before it) and **column mass** (its edges to the nodes
after it), standardised against an Erdős–Rényi community of the same density ``p``
(``(row_t - t p) / sqrt(t p (1 - p))``, likewise for columns); the reported numbers are the mean
over communities of the standard deviation of these z-scores (about 1 for Erdős–Rényi).

Per node (``degrees_by_place``): by its place in its community (first, in between, last in
generation order) the mean intra-community and cross degree and the share of degree <= 2, and per
intra degree the share of nodes with a cross edge. Per position ``t`` in a community of at least 3
nodes (``row_mass_by_position``, t = 1..6): the mean row mass, the edges to the ``t`` members before.

Per node (``local_triangulation``), in the whole graph and in the intra-community subgraph: the share
of nodes whose triangle count ``T(v)`` minus degree ``d(v)`` is <= -2, -1, 0 and >= 1. In a
triangulation a node's neighbours close into a cycle (``T = d``, clustering exactly 2/(d-1)) or, on
the outer face or a community's border, into a path (``T = d - 1``); the gran protocol's 100-bin
clustering histograms see every node off these values. The whole-graph shares are also given apart
for the nodes without a cross edge (``graph_interior_nodes``: their neighbourhoods are made by the
community rows alone) and with one (``graph_border_nodes``: closed by rows and cross edges together).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from _higen_diagnostic import data_against_samples


def _on_triangle(g: nx.Graph, edges: list[tuple[int, int]]) -> float:
    """Share of ``edges`` with a common neighbour of their endpoints in ``g`` (NaN when none)."""
    return sum(bool(set(g[u]) & set(g[v])) for u, v in edges) / len(edges) if edges else float("nan")


def row_mass_by_position(rows: list[list[float]], positions: int = 6) -> dict:
    """Mean row mass of the node at position ``t`` (``t`` earlier members, ``t = 1 .. positions``) over
    the communities that reach ``t``, with their count."""
    out = {}
    for t in range(1, positions + 1):
        masses = [r[t] for r in rows if len(r) > t]
        if masses:
            out[str(t)] = {"communities": len(masses), "mean": round(float(np.mean(masses)), 3)}
    return out


def _community_stats(n: int, inner: list[tuple[int, int]], comm: list[int]) -> tuple[list, list, list]:
    """Per community: ``[size, density, degree CV]`` and its row masses in generation order (communities
    of at least 3 nodes), and ``[row z std, column z std]`` (at least 10 nodes), see the module
    docstring. Node ids increase in generation order within a community, so in an intra-community
    edge ``u < v`` the edge is in ``v``'s row and ``u``'s column."""
    labels = np.asarray(comm)
    row, col = np.zeros(n), np.zeros(n)
    for u, v in inner:
        row[max(u, v)] += 1
        col[min(u, v)] += 1
    shape_rows, dispersion_rows, row_masses = [], [], []
    for c in np.unique(labels):
        members = labels == c
        size = int(members.sum())
        if size < 3:
            continue
        d = row[members] + col[members]
        row_masses.append(row[members].tolist())
        shape_rows.append([size, d.sum() / (size * (size - 1)), d.std() / d.mean() if d.mean() > 0 else float("nan")])
        p = row[members].sum() / (size * (size - 1) / 2)
        if size < 10 or not 0 < p < 1:
            continue
        t = np.arange(size)
        z_row = (row[members][1:] - t[1:] * p) / np.sqrt(t[1:] * p * (1 - p))
        later = size - 1 - t[:-1]
        z_col = (col[members][:-1] - later * p) / np.sqrt(later * p * (1 - p))
        dispersion_rows.append([z_row.std(), z_col.std()])
    return shape_rows, dispersion_rows, row_masses


def _node_degrees(n: int, edges: list[tuple[int, int]], comm: list[int]) -> np.ndarray:
    """``(n, 3)``: each node's place in its community (0 first, 1 in between, 2 last, in generation
    order; a single-node community's node counts as first), intra-community degree, cross degree."""
    labels = np.asarray(comm)
    intra, cross = np.zeros(n), np.zeros(n)
    for u, v in edges:
        (intra if labels[u] == labels[v] else cross)[[u, v]] += 1
    place = np.ones(n)
    for c in np.unique(labels):
        members = np.nonzero(labels == c)[0]
        place[members[-1]], place[members[0]] = 2, 0
    return np.stack([place, intra, cross], 1)


def degrees_by_place(nodes: np.ndarray) -> dict:
    """Where low degrees come from: per place in the community (first, in between, last node in
    generation order) the mean intra-community and cross degree and the share of nodes of degree at
    most 2; and per intra degree the share of nodes with a cross edge (whether the cross edges go to
    the nodes that need them)."""
    place, intra, cross = nodes.T
    out = {}
    for code, name in enumerate(("first", "between", "last")):
        sel = place == code
        out[name] = {
            "nodes": int(sel.sum()),
            "intra_degree": round(float(intra[sel].mean()), 3),
            "cross_degree": round(float(cross[sel].mean()), 3),
            "degree_at_most_2": round(float((intra[sel] + cross[sel] <= 2).mean()), 4),
        }
    out["with_a_cross_edge_by_intra_degree"] = {
        str(k): round(float((cross[intra == k] > 0).mean()), 3) for k in range(1, 7) if (intra == k).any()
    }
    return out


def _triangles_minus_degree(g: nx.Graph) -> dict[int, int]:
    """``T(v) - d(v)`` of every node with an edge, in ``g``'s node order."""
    triangles = nx.triangles(g)
    return {v: triangles[v] - d for v, d in g.degree() if d > 0}


def local_triangulation(differences: np.ndarray) -> dict:
    """Shares of ``T(v) - d(v)`` (nodes with an edge) in the bins <= -2, -1, 0, >= 1."""
    bins = {
        "at_most_-2": differences <= -2,
        "-1": differences == -1,
        "0": differences == 0,
        "at_least_1": differences >= 1,
    }
    return {k: round(float(v.mean()), 4) for k, v in bins.items()}


def structure(edge_lists: list[tuple[int, list[tuple[int, int]]]], communities: list[list[int]]) -> dict:
    """Means over graphs of the shares described in the module docstring, and the community statistics."""
    rows, community_rows, dispersion_rows, nodes, whole, within, masses = [], [], [], [], [], [], []
    interior, border = [], []
    for (n, edges), comm in zip(edge_lists, communities):
        nodes.append(_node_degrees(n, edges, comm))
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edges)
        inner = [(u, v) for u, v in edges if comm[u] == comm[v]]
        shape_rows, dispersion, row_masses = _community_stats(n, inner, comm)
        masses += row_masses
        community_rows += shape_rows
        dispersion_rows += dispersion
        cross = [(u, v) for u, v in edges if comm[u] != comm[v]]
        intra = nx.Graph()
        intra.add_nodes_from(range(n))
        intra.add_edges_from(inner)
        differences = _triangles_minus_degree(g)
        values = np.array(list(differences.values()), dtype=int)
        has_cross = np.isin(list(differences), [u for e in cross for u in e])  # nodes with a cross edge
        whole.append(values)
        interior.append(values[~has_cross])
        border.append(values[has_cross])
        within.append(np.array(list(_triangles_minus_degree(intra).values()), dtype=int))

        rows.append(
            [
                nx.check_planarity(g)[0],
                nx.check_planarity(intra)[0],
                len(cross) / max(len(edges), 1),
                _on_triangle(g, cross),
                _on_triangle(g, inner),
            ]
        )
    mean = np.nanmean(np.array(rows, dtype=float), 0)
    keys = (
        "planar",
        "communities_planar",
        "cross_edge_share",
        "cross_edges_on_a_triangle",
        "intra_edges_on_a_triangle",
    )
    per_community = np.array(community_rows, dtype=float).reshape(-1, 3)
    return {
        "graphs": len(rows),
        **{k: round(float(v), 4) for k, v in zip(keys, mean)},
        "communities": int(per_community.shape[0]),
        "community_size_mean": round(float(per_community[:, 0].mean()), 2),
        "community_size_std": round(float(per_community[:, 0].std()), 2),
        "community_density_mean": round(float(per_community[:, 1].mean()), 4),
        "community_density_std": round(float(per_community[:, 1].std()), 4),
        "community_degree_cv_mean": round(float(np.nanmean(per_community[:, 2])), 4),
        **_dispersion_summary(dispersion_rows),
        "degrees_by_place": degrees_by_place(np.concatenate(nodes)),
        "row_mass_by_position": row_mass_by_position(masses),
        "local_triangulation": {
            "graph": local_triangulation(np.concatenate(whole)),
            "communities": local_triangulation(np.concatenate(within)),
            "graph_interior_nodes": local_triangulation(np.concatenate(interior)),
            "graph_border_nodes": local_triangulation(np.concatenate(border)),
        },
    }


def _dispersion_summary(rows: list[list[float]]) -> dict:
    if not rows:
        return {"communities_of_10_or_more": 0}
    z = np.array(rows)
    return {
        "communities_of_10_or_more": int(z.shape[0]),
        "row_mass_z_std": round(float(z[:, 0].mean()), 3),
        "column_mass_z_std": round(float(z[:, 1].mean()), 3),
    }


def main() -> None:
    data_against_samples(__doc__, structure, "higen_structure.py")


if __name__ == "__main__":
    main()
