"""``graphgen models``: the shipped models, what each was trained on and its sampling presets."""

from __future__ import annotations

import textwrap

import typer

app = typer.Typer(
    help="The shipped models (graphgen sample --checkpoint NAME) and their sampling presets.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _wrap(text: str, indent: str, subsequent: str | None = None) -> str:
    """``text`` filled to 100 columns, never breaking a path, flag or name at its hyphens."""
    return textwrap.fill(
        text.replace(" %", "\u00a0%"),
        width=100,
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
        break_on_hyphens=False,
        break_long_words=False,
    ).replace("\u00a0%", " %")  # a number and its percent sign stay on one line


def _presets_line(entry) -> str:
    if not entry.presets:
        return "presets: none (sample its own distribution)"
    return "presets: " + "; ".join(f"{p.name} ({p.flags()})" for p in entry.presets)


def _sized_lines(entry) -> list[str]:
    """Where a model hardly grows past its training graphs, the shipped model that follows --num-nodes."""
    return [f"--num-nodes far past its training graphs: -c {entry.sized} follows it"] if entry.sized else []


@app.command("list")
def list_() -> None:
    """Print every shipped model's name, description and sampling presets."""
    from graphgen.models.pretrained import DEFAULT_MODEL, PRETRAINED

    for name, entry in PRETRAINED.items():
        typer.echo(name + (" (the default)" if name == DEFAULT_MODEL else ""))
        for text in (entry.description, _presets_line(entry), *_sized_lines(entry)):
            typer.echo(_wrap(text, "  "))
    typer.echo("Each preset's choice and its test-split numbers: graphgen models info NAME")


@app.command("info")
def info(name: str = typer.Argument(..., help="A shipped model's name, e.g. higen-planar-faces.")) -> None:
    """Print one shipped model: its description, checkpoint file and each sampling preset in full."""
    from graphgen.errors import CheckpointError
    from graphgen.models.pretrained import PRETRAINED, resolve_checkpoint

    if name not in PRETRAINED:
        raise CheckpointError(f"no shipped model named {name!r} (shipped: {', '.join(PRETRAINED)})")
    entry = PRETRAINED[name]
    path, _ = resolve_checkpoint(name)
    typer.echo(name)
    typer.echo(_wrap(entry.description, "  "))
    typer.echo(f"  checkpoint: {path}")
    if not entry.presets:
        typer.echo("  " + _presets_line(entry))
    for preset in entry.presets:
        typer.echo(f"  preset {preset.name}: graphgen sample -c {name} --preset {preset.name}  (= {preset.flags()})")
        for label, text in (("chosen by", preset.chosen_by), ("test split", preset.measured)):
            typer.echo(_wrap(f"{label}: {text}", "    ", "      "))
    for text in _sized_lines(entry):
        typer.echo(_wrap(text, "  "))
