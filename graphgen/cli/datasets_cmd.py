"""``graphgen datasets``: list, describe, export and generate benchmark graphs."""

from __future__ import annotations

from pathlib import Path

import typer

from graphgen.cli._output import check_graph_output, output_file, wide_console, write_graph_output

app = typer.Typer(
    help="The shipped benchmark datasets and synthetic generators.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("list")
def list_() -> None:
    """Print the catalogue: graphs per split, node range and source of each dataset."""
    from rich import box
    from rich.table import Table

    from graphgen.datasets.cards import dataset_summary
    from graphgen.datasets.catalog import list_datasets

    table = Table(title="graphgen datasets (splits of the default protocol)", box=box.SIMPLE_HEAD)
    for col in ("name", "train", "val", "test", "nodes", "protocols", "origin"):
        table.add_column(col, justify="right" if col in ("train", "val", "test") else "left", no_wrap=True)
    for info in list_datasets():
        s = dataset_summary(info.name)
        protocols = ",".join([info.default_protocol] + [p for p in info.protocols if p != info.default_protocol])
        nodes = s["nodes"] if info.kind == "graphs" else "molecules"
        table.add_row(
            info.name, *(str(s["splits"].get(k, "–")) for k in ("train", "val", "test")), nodes, protocols, info.origin
        )
    wide_console(100).print(table)  # the table needs about 95 columns
    typer.echo("Details, citation and licence: graphgen datasets info NAME")


@app.command("info")
def info(name: str = typer.Argument(..., help="Dataset name, e.g. planar.")) -> None:
    """Print the dataset's card: source, licence, split protocols, statistics, checksums."""
    from graphgen.datasets.cards import render_card

    typer.echo(render_card(name), nl=False)


@app.command("export")
def export(
    name: str = typer.Argument(..., help="Dataset name, e.g. planar."),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        callback=output_file,
        help="Output file; the format follows the extension. Default: graph6 lines on stdout.",
    ),
    split: str = typer.Option("test", "--split", "-s", help="train, val, test or all."),
    protocol: str = typer.Option(None, "--protocol", "-p", help="Split protocol (default: the dataset's)."),
    format: str = typer.Option(None, "--format", "-f", help="graph6, sparse6, edgelist, smiles or pt."),
) -> None:
    """Write one split of a dataset to a file (atomically), or as graph6 lines on stdout."""
    from graphgen.datasets import dataset_info, load_dataset

    check_graph_output(out, format)
    if out is None and dataset_info(name).kind != "graphs":
        raise typer.BadParameter(
            f"{name} holds molecules, whose atoms graph6 on stdout would drop: give --out FILE.smi", param_hint="--out"
        )
    graphs = load_dataset(name, split, protocol=protocol)
    where = write_graph_output(graphs, out, format)
    typer.echo(f"wrote {len(graphs)} graphs of {name} ({split}) to {where}", err=True)


@app.command("generate")
def generate(
    family: str = typer.Argument(
        ..., help="community, grid, planar, sbm, large_sbm, tree, lobster, ego, erdos_renyi or barabasi_albert."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        callback=output_file,
        help="Output file; the format follows the extension. Default: graph6 lines on stdout.",
    ),
    num_graphs: int = typer.Option(100, "--num-graphs", "-n", min=1, help="How many graphs."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same graphs)."),
    num_nodes: int = typer.Option(
        None, "--num-nodes", min=1, help="Nodes per graph (planar, large_sbm, tree, erdos_renyi, barabasi_albert)."
    ),
    format: str = typer.Option(None, "--format", "-f", help="graph6, sparse6, edgelist or pt."),
) -> None:
    """Generate a seeded synthetic benchmark set of any size."""
    from graphgen.datasets import generate as gen

    check_graph_output(out, format)
    params = {"num_nodes": num_nodes} if num_nodes is not None else {}
    graphs = gen(family, num_graphs, seed=seed, **params)
    where = write_graph_output(graphs, out, format)
    typer.echo(f"wrote {len(graphs)} {family} graphs (seed {seed}) to {where}", err=True)
