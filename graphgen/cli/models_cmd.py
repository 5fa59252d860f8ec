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
def info(
    name: str = typer.Argument(..., help="A shipped model's name (e.g. higen-planar-faces) or a checkpoint file."),
) -> None:
    """Print one shipped model (its description, checkpoint file and each sampling preset in full) or
    what a checkpoint file holds (what it was trained on, how, its configuration, whether it resumes)."""
    from pathlib import Path

    from graphgen.errors import CheckpointError
    from graphgen.models.pretrained import PRETRAINED, resolve_checkpoint

    if name not in PRETRAINED:
        if Path(name).is_file():
            _file_info(Path(name))
            return
        raise CheckpointError(
            f"no shipped model named {name!r} and no such checkpoint file (shipped: {', '.join(PRETRAINED)})"
        )
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


def _file_info(path) -> None:
    """``graphgen models info FILE``: what the checkpoint says about itself, nothing from elsewhere."""
    from dataclasses import asdict

    from graphgen.cli.sample_cmd import trained_on
    from graphgen.io import load_checkpoint

    ckpt = load_checkpoint(path)
    meta = ckpt.metadata
    typer.echo(f"{path} (a {ckpt.model} checkpoint written by graphgen {ckpt.graphgen_version or '?'})")
    source = trained_on(ckpt)
    if "graphs_sha256" in meta:
        source += f" (SHA-256 {meta['graphs_sha256'][:16]}...)"
    elif meta.get("protocol"):
        source += f", protocol {meta['protocol']}"
    if meta.get("holdout"):
        source += f", {meta['holdout']:g} of it held out for validation"
    lines = [source]
    if meta.get("command"):
        lines.append(f"command: {meta['command']}")
    history = meta.get("history") or []
    if history:
        last, total = history[-1], (meta.get("train_config") or {}).get("epochs", "?")
        text = f"epoch {last['epoch']} of {total}: train NLL/edge {last['train_nll_per_edge']:.4f}"
        validated = [h for h in history if h.get("val_nll_per_edge") is not None]
        if validated:
            best = min(validated, key=lambda h: h["val_nll_per_edge"])
            text += (
                f", validation {validated[-1]['val_nll_per_edge']:.4f} "
                f"(lowest {best['val_nll_per_edge']:.4f} at epoch {best['epoch']})"
            )
        lines.append(text)
    for key in ("cross_refit", "row_refit"):  # the refit scripts' commands, run after the training command
        if isinstance(meta.get(key), str):
            lines.append(f"then: {meta[key]}")
    refit = meta.get("size_head_refit")
    if isinstance(refit, dict) and "nll_before" in refit:
        lines.append(
            f"then: its size head refitted alone ({refit.get('steps', '?')} steps): "
            f"{refit['nll_before']:.4f} -> {refit['nll_after']:.4f} nats per community"
        )
    if ckpt.model == "higen":
        from graphgen.models.higen import HiGenConfig

        defaults = asdict(HiGenConfig())
        changed = [f"{k}={v}" for k, v in ckpt.config.items() if k in defaults and defaults[k] != v]
        lines.append("configuration: " + (", ".join(changed) if changed else "HiGenConfig's defaults"))
    parameters = sum(t.numel() for t in ckpt.state_dict.values() if hasattr(t, "numel"))
    lines.append(f"parameters: {parameters:,} ({path.stat().st_size / 1e6:.1f} MB on disk)")
    snapshot = meta.get("snapshot")
    if isinstance(snapshot, dict) and "epoch" in snapshot:
        lines.append(
            f"a snapshot kept after epoch {snapshot['epoch']} (--keep-every), "
            f"{snapshot.get('seconds_in_this_process', 0):.0f} s into a training process that started at epoch "
            f"{snapshot.get('process_started_at_epoch', 0)}"
        )
    if "optimizer" in ckpt.extra:
        lines.append(f"resumable: yes (graphgen train {ckpt.model} ... --resume {path}, with the run's own options)")
    else:
        kind = "a snapshot" if isinstance(snapshot, dict) else "a stripped checkpoint"
        lines.append(f"resumable: no ({kind}: it samples and scores, training cannot continue)")
    if ckpt.data_fingerprint:
        lines.append(f"training graphs' fingerprint: {ckpt.data_fingerprint}")
    for text in lines:
        typer.echo(_wrap(text, "  ", "    "))
