"""``graphgen train``: fit a generator on a dataset and save a checkpoint."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Train a generator and save a self-describing checkpoint.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("erdos-renyi")
def erdos_renyi(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset name, e.g. community_small."),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint file to write (atomically)."),
    split: str = typer.Option("train", "--split", help="Split to fit on."),
    protocol: str = typer.Option(None, "--protocol", "-p", help="Split protocol (default: the dataset's)."),
) -> None:
    """Fit the Erdős–Rényi G(n, m) baseline (the floor every learned model must beat)."""
    from graphgen.datasets import dataset_info, load_dataset
    from graphgen.io import save_checkpoint
    from graphgen.models.baselines import ErdosRenyiBaseline

    info = dataset_info(dataset)
    graphs = load_dataset(info.name, split, protocol=protocol)
    model = ErdosRenyiBaseline().fit(graphs)
    meta = {
        "dataset": info.name,
        "split": split,
        "protocol": protocol or info.default_protocol,
        "num_training_graphs": len(graphs),
        "command": f"graphgen train erdos-renyi --dataset {info.name} --split {split} --out {out.name}",
    }
    save_checkpoint(model.to_checkpoint(meta), out)
    typer.echo(f"fitted erdos-renyi on {len(graphs)} {info.name} {split} graphs; wrote {out}", err=True)
