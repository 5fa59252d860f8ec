"""``graphgen value``: rank sellers' graph datasets for a buyer (structural disparity, relevance, diversity)."""

from __future__ import annotations

from pathlib import Path

import typer

from graphgen.cli._output import output_file


def value(
    buyer: str = typer.Option(..., "--buyer", "-b", help="The buyer's graphs: a graph file or NAME:SPLIT."),
    sellers: list[str] = typer.Option(
        ..., "--seller", "-s", help="A seller's graphs (file or NAME:SPLIT); repeat for several sellers."
    ),
    method: str = typer.Option(
        "auto", "--method", "-m", help="OT solver for S: auto (exact up to 6000 nodes a side), emd, sinkhorn, sliced."
    ),
    iterations: int = typer.Option(3, "--iterations", min=0, help="WL propagation steps H."),
    alpha: float = typer.Option(0.5, "--alpha", min=0.0, max=1.0, help="Weight of diversity in the featural value."),
    s_scale: float = typer.Option(
        None, "--s-scale", help="Scale of S in the combined value w_D D + w_R R + w_S exp(-S/scale) (no default)."
    ),
    sort_by: str = typer.Option(
        None, "--sort-by", help="value, relevance, featural_value, diversity or structural_disparity."
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, help="Seed of the sliced projections, Sinkhorn subsampling and decoys."
    ),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write one object per seller to this JSON file (atomically)."
    ),
) -> None:
    """Value sellers' graphs for a buyer, without either side shipping raw data.

    S: graph Wasserstein distance between WL-degree node embeddings (lower: closer structure).
    R, D: relevance and diversity from blind second-moment queries (Amiri et al., AAAI 2023) on node
    features, or on structural node descriptors when the graphs have no features.
    """
    import json
    import math

    from graphgen.cli._output import make_table, wide_console
    from graphgen.cli.evaluate_cmd import _load
    from graphgen.errors import GraphgenError
    from graphgen.io._atomic import atomic_write
    from graphgen.valuation import value_sellers
    from graphgen.valuation.structural import STRUCTURAL_METHODS

    if s_scale is not None and not (math.isfinite(s_scale) and s_scale > 0):
        raise typer.BadParameter(f"must be a positive number, got {s_scale}", param_hint="--s-scale")
    if sort_by == "value" and s_scale is None:
        raise typer.BadParameter("sorting by the combined value needs --s-scale", param_hint="--sort-by")
    if method not in ("auto", *STRUCTURAL_METHODS):
        raise GraphgenError(f"unknown --method {method!r}; choose auto, {', '.join(STRUCTURAL_METHODS)}")
    buyer_graphs, _ = _load(buyer, "buyer")
    named = {}
    for spec in sellers:
        if spec in named:
            raise GraphgenError(f"seller {spec!r} is given twice")
        named[spec], _ = _load(spec, "seller")
    rows = value_sellers(
        buyer_graphs,
        named,
        iterations=iterations,
        method=method,
        alpha=alpha,
        s_scale=s_scale,
        sort_by=sort_by,
        seed=seed,
    )
    columns = ["#", "seller", "graphs", "S disparity", "R relevance", "D diversity", "aD+(1-a)R"]
    if s_scale is not None:
        columns.append("value")
    table = make_table(
        f"sellers for buyer {buyer} ({len(buyer_graphs)} graphs)", tuple(columns), right=tuple(columns[2:])
    )
    for i, r in enumerate(rows, 1):
        cells = [str(i), r.seller, str(r.num_graphs), f"{r.structural_disparity:.4f}", f"{r.relevance:.4f}"]
        cells += [f"{r.diversity:.4f}", f"{r.featural_value:.4f}"]
        if s_scale is not None:
            cells.append(f"{r.value:.4f}")
        table.add_row(*cells)
    width = max(len(r.seller) for r in rows) + 90
    console = wide_console(width)
    console.print(table)
    source = rows[0].featural_source
    note = (
        "R and D use the graphs' node features."
        if source == "node features"
        else "The graphs have no node features: R and D use structural node descriptors "
        "(WL-degree embedding and clustering coefficient of every node)."
    )
    typer.echo(f"{note} S uses {', '.join(sorted({r.ot_method for r in rows}))} optimal transport.", err=True)
    if json_out is not None:
        with atomic_write(json_out, "w") as fh:
            json.dump([r.to_dict() for r in rows], fh, indent=1)
        typer.echo(f"wrote {json_out}", err=True)
