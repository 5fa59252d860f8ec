"""``graphgen sample``: draw graphs from a shipped or saved generator."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from graphgen.cli._output import LateProgressBar, check_graph_output, output_file, write_graph_output


def sample(
    checkpoint: str = typer.Option(
        None, "--checkpoint", "-c", help="A shipped model name or a checkpoint file (default: the shipped default)."
    ),
    num_graphs: int = typer.Option(16, "--num-graphs", "-n", min=1, help="How many graphs to sample."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same graphs)."),
    out: Path = typer.Option(
        None, "--out", "-o", callback=output_file, help="Output file (default: graph6 lines on stdout)."
    ),
    format: str = typer.Option(None, "--format", "-f", help="graph6, sparse6, edgelist, smiles or pt."),
    num_nodes: int = typer.Option(
        None, "--num-nodes", min=1, help="Nodes per graph (exact for the ER baseline, approximate for HiGen)."
    ),
    num_edges: int = typer.Option(
        None,
        "--num-edges",
        min=1,
        help="HiGen: edges per graph (its root budget |E|, spent exactly); with --num-nodes, conditioned on both.",
    ),
    plot: Path = typer.Option(
        None, "--plot", callback=output_file, help="Also draw the graphs, coloured by community, to this PNG."
    ),
    decoding: str = typer.Option(
        "sample",
        "--decoding",
        help="HiGen: 'sample' (true samples, default) or 'mode' (the reference code's near-greedy decoding).",
    ),
    temperature: float = typer.Option(
        None,
        "--temperature",
        help="HiGen: sampling temperature > 0 of every random choice (default 1: the model itself; below 1: sharper).",
    ),
    size_temperature: float = typer.Option(
        None,
        "--size-temperature",
        help="HiGen with a leaf size head: the temperature of the community sizes alone (default: --temperature).",
    ),
    run_rows: bool = typer.Option(
        False,
        "--run-rows",
        help="HiGen: draw each leaf row that can be a run of consecutive border nodes of its community so far"
        " conditioned on being one (a constrained decoding, not the model's own distribution).",
    ),
    face_rows: bool = typer.Option(
        False,
        "--face-rows",
        help="HiGen: keep each leaf community's planar embedding and draw each leaf row conditioned on being a run"
        " along one of its faces (a constrained decoding, not the model's own distribution).",
    ),
    planar_strips: bool = typer.Option(
        False,
        "--planar-strips",
        help="HiGen with strip-shaped cross edges, with --face-rows: draw every leaf block as an untwisted strip"
        " along the kept outer faces that meets earlier strips only at an end (a constrained decoding).",
    ),
    keep_valid: str = typer.Option(
        None,
        "--keep-valid",
        help="Keep only graphs that pass this validity test (connected, planar, tree, lobster, grid,"
        " sbm_modularity), drawing until -n pass: samples of the model conditioned on validity (rejection"
        " sampling), not of the model.",
    ),
    max_draws: int = typer.Option(
        None, "--max-draws", min=1, help="With --keep-valid: draw at most this many graphs (default 100 per graph)."
    ),
    preset: str = typer.Option(
        None,
        "--preset",
        help="A shipped model's named sampling settings, chosen on held-out graphs (e.g. 'tuned'); they replace"
        " the options above. graphgen models info NAME lists them.",
    ),
) -> None:
    """Sample graphs. Provenance (which model, trained on what) is printed to stderr."""
    import torch

    from graphgen.errors import InvalidArgumentError
    from graphgen.io.formats import FORMATS, resolve_format
    from graphgen.models.pretrained import PRETRAINED, load_model, resolve_checkpoint, sampling_preset

    # refuse a bad output before the (possibly long) sampling, not after it
    check_graph_output(out, format)
    if out is not None and resolve_format(out, format) is FORMATS["smiles"]:  # no sampler here draws atom types
        raise typer.BadParameter(
            "the samplers draw graphs without atom types, which SMILES cannot hold; "
            "write graph6, sparse6, edgelist or pt",
            param_hint="--out/--format",
        )
    if plot is not None and plot.suffix.lower() != ".png":
        raise typer.BadParameter("the plot is written as PNG: give a .png file", param_hint="--plot")
    if max_draws is not None and keep_valid is None:
        raise typer.BadParameter("goes with --keep-valid TEST", param_hint="--max-draws")
    if keep_valid is not None:
        from graphgen.models.valid_samples import validity_test

        try:
            validity_test(keep_valid)
        except InvalidArgumentError as exc:
            raise typer.BadParameter(str(exc), param_hint="--keep-valid") from None
        if max_draws is not None and max_draws < num_graphs:
            raise typer.BadParameter(f"is below the {num_graphs} graphs asked for", param_hint="--max-draws")
    _, label = resolve_checkpoint(checkpoint)
    given = [  # the HiGen-only sampling options on the command line
        flag
        for flag, set_ in (
            ("--decoding", decoding != "sample"),
            ("--temperature", temperature is not None),
            ("--size-temperature", size_temperature is not None),
            ("--run-rows", run_rows),
            ("--face-rows", face_rows),
            ("--planar-strips", planar_strips),
        )
        if set_
    ]
    if preset is not None:
        if given:
            raise typer.BadParameter(
                f"sets the sampling options itself; drop {given[0]} or the preset", param_hint="--preset"
            )
        try:
            chosen = sampling_preset(label, preset)
        except InvalidArgumentError as exc:
            raise typer.BadParameter(str(exc), param_hint="--preset") from None
        temperature = chosen.get("temperature")
        size_temperature = chosen.get("size_temperature")
        run_rows = chosen.get("run_rows", False)
        face_rows = chosen.get("face_rows", False)
        planar_strips = chosen.get("planar_strips", False)
        given = ["--preset"]
    temperature = 1.0 if temperature is None else temperature
    model, ckpt = load_model(checkpoint)
    generator = torch.Generator().manual_seed(seed)
    options = {"num_nodes": num_nodes}
    if num_edges is not None:
        from graphgen.models.higen.model import HiGen

        if not isinstance(model, HiGen):
            raise typer.BadParameter(
                f"{label} is not a HiGen model; it takes --num-nodes only", param_hint="--num-edges"
            )
        options["num_edges"] = num_edges
    _note_extrapolation(model, num_nodes)
    if given:
        from graphgen.models.higen.model import DECODINGS, HiGen

        if decoding not in DECODINGS:
            raise typer.BadParameter(f"choose one of {', '.join(DECODINGS)}", param_hint="--decoding")
        if not isinstance(model, HiGen):
            raise typer.BadParameter(f"{label} is not a HiGen model; it only samples itself", param_hint=given[0])
        for hint, value in (("--temperature", temperature), ("--size-temperature", size_temperature)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise typer.BadParameter(f"must be a positive number, got {value}", param_hint=hint)
            if value not in (None, 1.0) and decoding == "mode":
                raise typer.BadParameter("applies to '--decoding sample' only", param_hint=hint)
        if size_temperature is not None and not model.config.explicit_size:
            raise typer.BadParameter(
                f"{label} has no leaf size head (its community sizes are {model.config.community_size!r})",
                param_hint="--size-temperature",
            )
        for hint, wanted in (("--run-rows", run_rows), ("--face-rows", face_rows)):
            if wanted and not model.config.rows_can_be_runs:
                raise typer.BadParameter(
                    f"{label}'s leaf rows are not conditional-Bernoulli rows without coordination", param_hint=hint
                )
        if run_rows and face_rows:
            raise typer.BadParameter("choose --run-rows or --face-rows, not both", param_hint="--face-rows")
        if run_rows and model.config.row_faces:
            raise typer.BadParameter(
                f"{label} draws its leaf rows along faces (row_faces); use --face-rows", param_hint="--run-rows"
            )
        if planar_strips and not (face_rows or model.config.row_faces):
            raise typer.BadParameter(
                "needs --face-rows or a model with face-run rows (the strips run along the faces they keep)",
                param_hint="--planar-strips",
            )
        if planar_strips and not model.config.cross_strips:
            raise typer.BadParameter(f"{label} has no strip-shaped cross edges", param_hint="--planar-strips")
        options.update(
            decoding=decoding,
            temperature=temperature,
            size_temperature=size_temperature,
            run_rows=run_rows,
            face_rows=face_rows,
            planar_strips=planar_strips,
        )
    kept = None
    if keep_valid is None:
        graphs = _sample_with_progress(model, num_graphs, generator, options)
    else:
        from graphgen.models.valid_samples import sample_valid

        kept = sample_valid(
            model,
            num_graphs,
            keep_valid,
            max_draws=max_draws,
            draw=lambda k: _sample_with_progress(model, k, generator, options),
        )
        graphs = kept.graphs
    entry = PRETRAINED.get(label)  # None: a checkpoint file, not a shipped name
    if entry is not None:
        what = entry.description
    else:
        what = trained_on(ckpt)
    how = (
        ("" if preset is None else f", preset {preset}")
        + ("" if decoding == "sample" else f", {decoding} decoding")
        + ("" if temperature == 1.0 else f", temperature {temperature:g}")
        + ("" if size_temperature is None else f", size temperature {size_temperature:g}")
        + (", run rows" if run_rows else "")
        + (", face rows" if face_rows else "")
        + (", planar strips" if planar_strips else "")
    )
    typer.echo(f"sampled {len(graphs)} graphs (seed {seed}{how}) from {label}: {what}", err=True)
    if kept is not None:
        typer.echo(
            f"kept the first {len(graphs)} valid graphs: {kept.passed} of {kept.draws} draws "
            f"({100 * kept.share:.0f} %) pass the {kept.test} test; samples of the model conditioned on validity, "
            "not of the model itself",
            err=True,
        )
    presets = entry.presets if entry is not None else ()
    if presets and not given:  # its own distribution, where held-out graphs chose otherwise
        typer.echo(
            f"note: {label} has sampling presets chosen on held-out graphs ({', '.join(p.name for p in presets)}): "
            f"--preset NAME; graphgen models info {label}",
            err=True,
        )
    _note_size_reached(model, num_nodes, graphs, entry.sized if entry is not None else None)
    _note_disconnected_past_training(model, num_nodes, graphs)
    if plot is not None:
        from graphgen.io.plot import MAX_PANELS, plot_graphs

        plot_graphs(graphs, plot, seed=seed, title=f"{label}, seed {seed}")
        drawn = f" (the first {MAX_PANELS} of the {len(graphs)} graphs)" if len(graphs) > MAX_PANELS else ""
        typer.echo(f"wrote {plot}{drawn}", err=True)
    if write_graph_output(graphs, out, format) != "stdout":
        typer.echo(f"wrote {out}", err=True)


def trained_on(ckpt) -> str:
    """What a checkpoint file's model was trained on, from its metadata: a dataset's split, or the
    graphs of a file (``graphgen train ... --graphs FILE``)."""
    meta = ckpt.metadata
    if "graphs_file" in meta:
        count = meta.get("num_training_graphs", meta.get("graphs_in_file", "?"))
        return f"{ckpt.model} trained on {count} graphs of {meta['graphs_file']}"
    return f"{ckpt.model} trained on {meta.get('dataset', 'unknown data')} ({meta.get('split', '?')} split)"


EXTRAPOLATION_NOTE = 10  # --num-nodes above this many times the largest training graph gets a note


def _note_extrapolation(model, num_nodes: int | None) -> None:
    """A one-line note on stderr when ``--num-nodes`` is far beyond every training graph of a HiGen
    model: the sizes are extrapolated, and a large request runs long (a million nodes: many minutes)."""
    from graphgen.models.higen.model import HiGen

    if num_nodes is None or not isinstance(model, HiGen) or model.node_counts.numel() == 0:
        return
    largest = int(model.node_counts.max())
    if num_nodes > EXTRAPOLATION_NOTE * largest:
        typer.echo(
            f"note: --num-nodes {num_nodes:,} is {num_nodes / largest:,.0f}x the largest training graph "
            f"({largest:,} nodes): the model extrapolates far, and sampling time grows with the size",
            err=True,
        )


SIZE_REACH_NOTE = 0.2  # --num-nodes: a note when the graphs' mean node count misses it by more than this share


def _note_size_reached(model, num_nodes: int | None, graphs: list, sized: str | None = None) -> None:
    """A one-line note on stderr when a HiGen model's graphs miss ``--num-nodes`` by more than 20 % on
    average: HiGen's node count emerges from the model, and a model whose community sizes and count
    both emerge from its rows hardly grows past its training graphs, while an explicit community count
    scales with the request (``metrics/results/higen-num-nodes-reach.json``; on community_small explicit
    sizes alone did not help, ``metrics/results/higen-community-small-recipes-validation.json``).
    ``sized``: a shipped model of the same data that follows the request further, named in the note."""
    from graphgen.models.higen.model import HiGen

    if num_nodes is None or not isinstance(model, HiGen) or not graphs:
        return
    sizes = [int(g.num_nodes) for g in graphs]
    mean = sum(sizes) / len(sizes)
    if abs(mean - num_nodes) <= SIZE_REACH_NOTE * num_nodes:
        return
    why = ""
    if not model.config.explicit_size and not model.config.explicit_count:
        largest = f" (up to {int(model.node_counts.max()):,} nodes)" if model.node_counts.numel() else ""
        why = (
            f": this model's community sizes and count both emerge from its rows, which grow little past "
            f"its training graphs{largest}; "
            + (
                f"--checkpoint {sized} follows --num-nodes further"
                if sized
                else "models trained with --community-count explicit follow --num-nodes further"
            )
        )
    typer.echo(
        f"note: the graphs have {mean:,.0f} nodes on average ({min(sizes):,}-{max(sizes):,}), not the "
        f"{num_nodes:,} --num-nodes asked for{why}",
        err=True,
    )


def _note_disconnected_past_training(model, num_nodes: int | None, graphs: list) -> None:
    """A one-line note on stderr when ``--num-nodes`` asks a HiGen model for more nodes than its largest
    training graph and some of its graphs are disconnected: there the model extrapolates how its
    communities join (``higen-community-small-sized``, trained on graphs of two communities: 4 of 8
    graphs connected at twice its largest training graph, none at 4x or 8x, while every training graph
    is connected; ``metrics/results/higen-num-nodes-reach-community-small.json``)."""
    from graphgen.metrics.validity import is_connected_graph
    from graphgen.models.higen.model import HiGen

    if num_nodes is None or not isinstance(model, HiGen) or not graphs or not model.node_counts.numel():
        return
    largest = int(model.node_counts.max())
    if num_nodes <= largest:
        return
    apart = sum(not is_connected_graph(g) for g in graphs)
    if apart:
        typer.echo(
            f"note: {apart} of {len(graphs)} graphs are disconnected; --num-nodes {num_nodes:,} is past this "
            f"model's largest training graph ({largest:,} nodes), where it extrapolates how its communities join",
            err=True,
        )


PROGRESS_AFTER = 1.0  # seconds: a HiGen draw running longer shows a progress bar on stderr


def _sample_with_progress(model, num_graphs: int, generator, options: dict) -> list:
    """``model.sample``, with a progress bar on stderr (gone when done) once a HiGen draw has run
    ``PROGRESS_AFTER`` seconds: quick draws print nothing, while 100,000 small graphs, or one graph
    of 100,000 nodes, show how far they are."""
    from graphgen.models.higen.model import HiGen

    if not isinstance(model, HiGen):
        return model.sample(num_graphs, generator=generator, **options)
    bar = sampling_bar()
    try:
        return model.sample(num_graphs, generator=generator, progress=bar.update, **options)
    finally:
        bar.close()


def sampling_bar(after: float = PROGRESS_AFTER) -> LateProgressBar:
    """The bar of :func:`_sample_with_progress`: percent of the graphs drawn, from ``after`` seconds."""
    return LateProgressBar(
        "sampling",
        "graphs",
        task="graphs",
        after=after,
        transient=True,
        count="{task.percentage:>3.0f}% of {task.total:,.0f}",
    )
