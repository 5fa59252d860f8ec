"""Draw a grid of graphs to a PNG, nodes coloured by community (matplotlib, imported when called).

A graph's communities are its ``community`` node attribute when it has one (HiGen samples carry the
communities they were generated in); otherwise a seeded Louvain partition is drawn.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from graphgen.io._atomic import atomic_write

__all__ = ["plot_graphs", "MAX_PANELS"]

MAX_PANELS = 64  # a grid of more is unreadable; the first ones are drawn


def plot_graphs(
    graphs: Sequence, path: str | os.PathLike, *, columns: int | None = None, seed: int = 0, title: str | None = None
) -> None:
    """Write a PNG with one panel per graph (the first :data:`MAX_PANELS`), written atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import networkx as nx

    from graphgen.data.convert import to_networkx

    graphs = list(graphs)[:MAX_PANELS]
    if not graphs:
        from graphgen.errors import GraphgenError

        raise GraphgenError("nothing to plot: no graphs")
    cols = columns or math.ceil(math.sqrt(len(graphs)))
    rows = math.ceil(len(graphs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    palette = plt.get_cmap("tab10")
    for ax, g in zip(axes.flat, graphs):
        nxg = to_networkx(g)
        comm = getattr(g, "community", None)
        if comm is None:
            parts = nx.community.louvain_communities(nxg, seed=seed) if nxg.number_of_edges() else [set(nxg)]
            label = {v: i for i, part in enumerate(parts) for v in part}
            colours = [palette(label[v] % 10) for v in nxg]
        else:
            colours = [palette(int(c) % 10) for c in comm.tolist()]
        pos = nx.spring_layout(nxg, seed=seed)
        nx.draw_networkx(nxg, pos, ax=ax, node_size=25, node_color=colours, with_labels=False, width=0.5)
        ax.set_title(f"{nxg.number_of_nodes()} nodes, {nxg.number_of_edges()} edges", fontsize=8)
        ax.set_axis_off()
    for ax in list(axes.flat)[len(graphs) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
