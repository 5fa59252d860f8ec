"""``graphgen score``: the log-likelihood of given graphs under a generator (HiGen, or the
Erdős–Rényi baseline for comparison)."""

from __future__ import annotations

from pathlib import Path

import typer

from graphgen.cli._output import LateProgressBar, output_file, wide_console, write_json

PROGRESS_AFTER = 1.0  # seconds before a progress bar shows


def score(
    graphs: str = typer.Argument(
        ..., help="A graph file (graph6, sparse6, edge list, .pt) or a dataset split NAME:SPLIT."
    ),
    checkpoint: str = typer.Option(
        None,
        "--checkpoint",
        "-c",
        help="A shipped model name or a checkpoint file (default: the shipped default).",
    ),
    hierarchies: int = typer.Option(
        1,
        "--hierarchies",
        min=1,
        help="HiGen: add the likelihoods of the distinct hierarchies of this many Louvain seeds (a tighter lower"
        " bound; K times the work; not for an explicit community count).",
    ),
    random_ties: bool = typer.Option(
        False,
        "--random-ties",
        help="HiGen, with --hierarchies K > 1: variants 1..K-1 also relabel each graph at random, adding"
        " generation orders as well as partitions (the sum a model trained with --random-ties spreads its"
        " probability over).",
    ),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Also write every graph's value to this JSON file."
    ),
) -> None:
    """Log-likelihood of graphs under a model, in nats. HiGen: each graph's own hierarchy and
    generation order given its node and edge counts (a lower bound of log p(G | |V|, |E|)), the
    quantity it was trained on; the Erdős–Rényi baseline: the labelled graph given the same counts.
    Lower NLL per edge: graphs more typical of the model."""
    import torch

    from graphgen.cli.evaluate_cmd import _load
    from graphgen.errors import GraphgenError
    from graphgen.models.higen.model import HiGen
    from graphgen.models.pretrained import load_model, resolve_checkpoint

    _, label = resolve_checkpoint(checkpoint)
    model, _ = load_model(checkpoint)
    if not hasattr(model, "log_likelihood"):
        raise GraphgenError(f"{label} ({type(model).__name__}) has no likelihood to score graphs with")
    if hierarchies > 1 and not isinstance(model, HiGen):
        raise typer.BadParameter(f"{label} has no hierarchies (HiGen only)", param_hint="--hierarchies")
    if random_ties and hierarchies == 1:
        raise typer.BadParameter(
            "adds orders to --hierarchies K > 1; with one variant it changes nothing", param_hint="--random-ties"
        )
    data, source = _load(graphs, "graphs")
    if source is not None and isinstance(model, HiGen):
        from graphgen.datasets import dataset_info

        if dataset_info(source[0]).kind == "molecules":  # as graphgen train higen refuses them
            raise GraphgenError(f"HiGen scores graph datasets; {source[0]} holds molecules")
    if not data:
        raise GraphgenError(f"{graphs} holds no graphs")
    bar = LateProgressBar(
        "scoring",
        "graphs",
        task="graphs",
        after=PROGRESS_AFTER,
        transient=True,
        count="{task.completed:,.0f}/{task.total:,.0f}",
    )
    try:  # HiGen scores consecutive graphs of at most 4,096 edges at a time (its memory), reporting each
        if isinstance(model, HiGen):
            ll = model.log_likelihood(data, hierarchies=hierarchies, random_ties=random_ties, progress=bar.update)
        else:
            ll = model.log_likelihood(data)
    finally:
        bar.close()
    edges = torch.tensor([int(g.edge_index.shape[1]) // 2 for g in data], dtype=torch.float64)
    nodes = [int(g.num_nodes) for g in data]
    with_edges = edges > 0  # an edgeless graph (the baseline scores one) has no NLL per edge
    per_edge = torch.where(with_edges, -ll / edges.clamp(min=1) + 0.0, torch.full_like(ll, float("nan")))
    # the least typical graph: the highest NLL per edge (the lowest log-likelihood is merely the largest graph)
    worst = (
        int(torch.argmax(torch.where(with_edges, per_edge, torch.full_like(ll, -float("inf")))))
        if bool(with_edges.any())
        else None
    )
    result = {
        "checkpoint": label,
        "graphs": graphs,
        "num_graphs": len(data),
        "num_edges": int(edges.sum()),
        "nll_per_edge": float(-ll.sum() / edges.sum()) + 0.0 if bool(with_edges.any()) else None,  # no -0.0
        "log_likelihood_mean": float(ll.mean()),
        "log_likelihood_std": float(ll.std()) if len(data) > 1 else 0.0,
        "least_typical_graph": worst,
        "hierarchies": hierarchies,
        "random_ties": random_ties,
        "quantity": (
            "log p(H, pi | |V|, |E|) in nats: each graph's own Louvain hierarchy and generation order given its "
            "node and edge counts (and community count where the model draws it), isolated nodes set aside"
            + (
                ""
                if hierarchies == 1
                else "; log of the sum over the distinct hierarchies of Louvain seeds partition_seed + 0.."
                + str(hierarchies - 1)
                + (", seeds 1.. on randomly relabelled graphs (random ties)" if random_ties else "")
            )
            if isinstance(model, HiGen)
            else "log p(A | |V|, |E|) in nats: the labelled graph given its node and edge counts"
        ),
        "per_graph": [
            {"nodes": n, "edges": int(e), "log_likelihood": float(v), "nll_per_edge": float(p) if e else None}
            for n, e, v, p in zip(nodes, edges.tolist(), ll.tolist(), per_edge.tolist(), strict=True)
        ],
    }
    from rich.table import Table

    over = "" if hierarchies == 1 else f", {hierarchies} hierarchies" + (" (random ties)" if random_ties else "")
    table = Table(title=f"graphgen score — {label} on {graphs}{over}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("graphs / edges", f"{len(data):,} / {int(edges.sum()):,}")
    nll = result["nll_per_edge"]
    table.add_row("NLL per edge (nats, all graphs)", "no edges" if nll is None else f"{nll:.4f}")
    table.add_row(
        "log-likelihood per graph (nats)", f"{result['log_likelihood_mean']:.2f} ± {result['log_likelihood_std']:.2f}"
    )
    if worst is not None:
        table.add_row(
            "least typical graph (highest NLL per edge)",
            f"#{worst}: {nodes[worst]} nodes, {int(edges[worst])} edges, {ll[worst].item():.2f} "
            f"({per_edge[worst].item():.3f} per edge)",
        )
    wide_console(100).print(table)
    if not bool(torch.isfinite(ll).all()):
        typer.echo("note: some graphs have probability 0 under this model (log-likelihood -inf)", err=True)
    write_json(result, json_out)
