"""``graphgen train``: fit a generator on a dataset and save a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from graphgen.cli._output import LateProgressBar, output_file

app = typer.Typer(
    help="Train a generator and save a self-describing checkpoint.", no_args_is_help=True, rich_markup_mode=None
)


DATASET_HELP = "Dataset name, e.g. community_small (or --graphs FILE)."
GRAPHS_HELP = "Train on the graphs of this file instead of a dataset (graph6, sparse6, edge list, .pt)."


@app.command("erdos-renyi")
def erdos_renyi(
    dataset: str = typer.Option(None, "--dataset", "-d", help=DATASET_HELP),
    graphs_file: Path = typer.Option(None, "--graphs", help=GRAPHS_HELP),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        callback=output_file,
        help="Checkpoint file to write (atomically); default er-DATASET.pt here, never over an existing file.",
    ),
    split: str = typer.Option("train", "--split", help="Split to fit on (a dataset's)."),
    protocol: str = typer.Option(None, "--protocol", "-p", help="Split protocol (default: the dataset's)."),
) -> None:
    """Fit the Erdős–Rényi G(n, m) baseline (the floor every learned model must beat)."""
    import sys

    from graphgen.io import save_checkpoint
    from graphgen.models.baselines import ErdosRenyiBaseline

    data = training_data(dataset, graphs_file, protocol=protocol, split=split, validation=False)
    out = checkpoint_path(out, None, f"er-{data.name}.pt")
    model = ErdosRenyiBaseline().fit(data.train)
    meta = {**data.metadata, "num_training_graphs": len(data.train), "command": "graphgen " + " ".join(sys.argv[1:])}
    save_checkpoint(model.to_checkpoint(meta), out)
    typer.echo(f"fitted erdos-renyi on {len(data.train)} {data.described} graphs; wrote {out}", err=True)


@dataclass
class TrainingData:
    """What a training command fits on: ``train`` and ``val`` graphs (``val`` may be ``None``), a
    ``name`` for default file names, a ``described`` phrase for messages, and the checkpoint
    ``metadata`` that says where the graphs came from."""

    train: list
    val: list | None
    name: str
    described: str
    metadata: dict


def training_data(
    dataset: str | None,
    graphs_file: Path | None,
    *,
    val_file: Path | None = None,
    protocol: str | None = None,
    holdout: float = 0.0,
    split: str = "train",
    graph_kind_only: bool = False,
    validation: bool = True,
) -> TrainingData:
    """The graphs of ``--dataset NAME`` (its ``split``, and its validation split where it has one) or
    of ``--graphs FILE`` (all of them; validation: ``--val-graphs FILE``, or ``--holdout F`` of them,
    seeded like a dataset's held-out share; ``validation=False``: no validation graphs are loaded, for a
    fit that has no use for them). Exactly one of the two; every bad combination is one line.
    A file's checkpoint records its name, SHA-256 and graph count (``graphs_file``, ...)."""
    from graphgen.errors import GraphgenError, InvalidArgumentError

    if (dataset is None) == (graphs_file is None):
        raise InvalidArgumentError("name the training graphs: --dataset NAME or --graphs FILE (one of the two)")
    if val_file is not None and graphs_file is None:
        raise InvalidArgumentError("--val-graphs goes with --graphs FILE (a dataset brings its own validation split)")
    if val_file is not None and holdout:
        raise InvalidArgumentError("choose --val-graphs FILE or --holdout F for the validation graphs, not both")
    if graphs_file is not None:
        if protocol is not None:
            raise InvalidArgumentError("--protocol chooses a dataset's split; --graphs FILE has none")
        return _file_training_data(graphs_file, val_file, holdout)
    from graphgen.datasets import dataset_info, load_dataset

    info = dataset_info(dataset)
    if graph_kind_only and info.kind != "graphs":
        raise GraphgenError(f"HiGen trains on graph datasets; {info.name} holds molecules")
    train = load_dataset(info.name, split, protocol=protocol, holdout=holdout)
    val = None
    if validation:
        try:  # a dataset without a validation split under this protocol: load_dataset says so first
            val = load_dataset(info.name, "val", protocol=protocol, holdout=holdout)
        except GraphgenError:
            val = None
    meta = {"dataset": info.name, "split": split, "protocol": protocol or info.default_protocol}
    if holdout:
        meta["holdout"] = holdout  # the validation split: this share of the protocol's training split
    return TrainingData(train, val, info.name, f"{info.name} {split}", meta)


def _file_training_data(graphs_file: Path, val_file: Path | None, holdout: float) -> TrainingData:
    import hashlib

    from graphgen.datasets.splits import holdout_split
    from graphgen.errors import GraphFormatError
    from graphgen.io import read_graphs

    def read(path: Path) -> tuple[list, str]:
        """The graphs and the sha256 of the file they were read from. The file's size and
        modification time are taken before reading and after hashing: one that changed in between is
        refused, so the checkpoint's digest is always that of the graphs it trained on. A missing or
        malformed file gets the readers' own one-line errors."""

        def stamp() -> tuple | None:
            try:
                info = path.stat()
            except OSError:
                return None
            return info.st_size, info.st_mtime_ns

        before = stamp()
        graphs = read_graphs(path)
        if not graphs:
            raise GraphFormatError(f"{path} holds no graphs")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if before is None or stamp() != before:
            raise GraphFormatError(f"{path} changed while it was read; train again once it is written")
        return graphs, digest

    graphs, digest = read(graphs_file)
    meta = {"graphs_file": graphs_file.name, "graphs_sha256": digest, "graphs_in_file": len(graphs)}
    val = None
    if val_file is not None:
        val, val_digest = read(val_file)
        meta.update(val_graphs_file=val_file.name, val_graphs_sha256=val_digest)
    elif holdout:
        graphs, val = holdout_split(graphs, holdout)
        meta["holdout"] = holdout  # the validation graphs: this seeded share of the file's graphs
    meta["num_training_graphs"] = len(graphs)
    return TrainingData(graphs, val, graphs_file.stem, graphs_file.name, meta)


def checkpoint_path(out: Path | None, resume: Path | None, default_name: str) -> Path:
    """Where a training command writes: ``--out`` when given, else the ``--resume`` checkpoint
    (the run goes on in place), else ``default_name`` in the working folder, which must not exist
    yet (a default never overwrites an earlier run)."""
    if out is not None:
        return out
    if resume is not None:
        return resume
    from graphgen.errors import InvalidArgumentError

    path = Path(default_name)
    if path.exists():
        raise InvalidArgumentError(
            f"{path} exists (an earlier run?): continue it with --resume {path}, or name another file with --out"
        )
    return path


_FLAGS = {
    "num_levels": "--levels",
    "bipartite_encoder": "--bipartite-encoder",
    "lr_schedule": "--lr-schedule",
    "row_fraction": "--row-fraction",
    "hierarchies": "--hierarchies",
    "random_ties": "--random-ties",
    "resolution": "--resolution",
    "cross_edges": "--cross-edges",
    "row_mass": "--row-mass",
    "community_size": "--community-size",
    "row_concentration": "--row-concentration",
    "community_count": "--community-count",
    "fair_share": "--fair-share",
    "size_concentration": "--size-concentration",
    "cross_rounds": "--cross-rounds",
    "size_share": "--size-share",
    "self_loop_concentration": "--self-loop-concentration",
    "cross_ladder": "--cross-ladder",
    "triangle_features": "--triangle-features",
    "adjacency_rows": "--adjacency-rows",
    "row_coordination": "--row-coordination",
    "cross_order": "--cross-order",
    "cross_both_directions": "--cross-both-directions",
    "cross_contact": "--cross-contact",
    "cross_strips": "--cross-strips",
    "cross_strip_segments": "--cross-strip-segments",
    "cross_strip_windows": "--cross-strip-windows",
    "row_runs": "--row-runs",
    "row_faces": "--row-faces",
    "size_context": "--size-context",
    "size_head_refit_steps": "--refit-size-head",
    "size_head_refit_lr": "--refit-size-lr",
}


def _flag_names(message: str) -> str:
    """A configuration's error message with its field names written as the command's flags."""
    for field, flag in _FLAGS.items():
        message = message.replace(field, flag)
    return message


def validation_graphs_in_training(dataset: str, protocol: str | None, holdout: float = 0.0) -> int:
    """How many graphs of a dataset's validation split are also in its training split (GraphRNN's
    enzymes "validate" set is the first 20 % of its training graphs; a ``holdout`` split has none)."""
    from graphgen.datasets import split_indices

    val = split_indices(dataset, "val", protocol=protocol, holdout=holdout)
    return len(set(val) & set(split_indices(dataset, "train", protocol=protocol, holdout=holdout)))


@app.command("higen")
def higen(
    dataset: str = typer.Option(None, "--dataset", "-d", help=DATASET_HELP),
    graphs_file: Path = typer.Option(None, "--graphs", help=GRAPHS_HELP),
    val_file: Path = typer.Option(
        None, "--val-graphs", help="With --graphs: validation graphs from this file (or --holdout F of --graphs)."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        callback=output_file,
        help="Checkpoint file, rewritten atomically every --checkpoint-every epochs; default: the --resume "
        "file, else higen-DATASET.pt here (never over an existing file).",
    ),
    epochs: int = typer.Option(100, "--epochs", "-e", min=1, help="Training epochs."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed (same seed, same model)."),
    resume: Path = typer.Option(None, "--resume", help="Continue a run from its checkpoint."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    lr: float = typer.Option(1e-3, "--lr", min=0.0),
    hidden: int = typer.Option(64, "--hidden", min=1),
    num_layers: int = typer.Option(3, "--num-layers", min=1),
    num_mixtures: int = typer.Option(4, "--num-mixtures", min=1),
    levels: int = typer.Option(
        2,
        "--levels",
        min=1,
        help="Levels of the hierarchy, leaf graph included (1: flat, the whole graph as one community, "
        "GRAN-style; 3: communities of communities).",
    ),
    within_order: str = typer.Option("bfsdc", "--order", help="bfsdc, dfs, bfs or degree inside communities."),
    checkpoint_every: int = typer.Option(10, "--checkpoint-every", min=1),
    keep_every: int = typer.Option(
        0,
        "--keep-every",
        min=0,
        help="Also keep the model of every K-th epoch as OUT.epochNNNN.pt (to sample or score along training; "
        "0: none).",
    ),
    protocol: str = typer.Option(None, "--protocol", "-p", help="Split protocol (default: the dataset's)."),
    lr_schedule: str = typer.Option("constant", "--lr-schedule", help="constant, or cosine decay to --lr-min."),
    lr_min: float = typer.Option(0.0, "--lr-min", min=0.0),
    grad_clip: float = typer.Option(0.0, "--grad-clip", min=0.0, help="Clip the gradient norm (0: off)."),
    row_fraction: float = typer.Option(
        1.0, "--row-fraction", min=0.0, max=1.0, help="Train each step on this random share of community rows (speed)."
    ),
    hierarchies: int = typer.Option(
        1, "--hierarchies", min=1, help="Louvain hierarchies per training graph, cycled over epochs (augmentation)."
    ),
    random_ties: bool = typer.Option(
        False, "--random-ties", help="Each hierarchy relabels the training graphs at random: orders break ties anew."
    ),
    bipartite_encoder: str = typer.Option(
        "gran", "--bipartite-encoder", help="Node encoder of the cross-edge model: gran, gmn or gsm++."
    ),
    resolution: float = typer.Option(
        1.0, "--resolution", help="Louvain resolution of the hierarchy (lower: fewer, larger communities)."
    ),
    size_context: bool = typer.Option(
        True, "--size-context/--no-size-context", help="Condition every row on the graph's node count |V|."
    ),
    cross_edges: str = typer.Option(
        "coordinated",
        "--cross-edges",
        help="Leaf cross edges: coordinated (placed one after another, each seeing the others) or independent.",
    ),
    row_stop: bool = typer.Option(
        True,
        "--row-stop/--no-row-stop",
        help="Each row first decides whether it is its community's last (--no-row-stop: the paper's rows;"
        " with --community-size explicit only coarse rows decide, leaf communities have drawn sizes).",
    ),
    row_mass: str = typer.Option(
        "budget",
        "--row-mass",
        help="Leaf row mass: budget (the paper, Bin(remaining budget, p)) or capacity (Bin(min(cap, budget), p)).",
    ),
    community_size: str = typer.Option(
        "emergent",
        "--community-size",
        help="Leaf community node counts: emergent (the paper: a community ends when its budget is spent)"
        " or explicit (drawn first from p(N | budget), then the rows fill exactly N nodes).",
    ),
    row_concentration: bool = typer.Option(
        False,
        "--row-concentration/--no-row-concentration",
        help="Row masses as a binomial raised to a learned power nu and renormalised (nu > 1: less spread"
        " than a binomial; off: the paper's binomial rows).",
    ),
    community_count: str = typer.Option(
        "emergent",
        "--community-count",
        help="Number of top-level communities: emergent (the paper: the coarse rows end when |E| is spent)"
        " or explicit (drawn at the root with |E| and |V| from one training graph; the coarse rows fill"
        " exactly that many).",
    ),
    fair_share: bool = typer.Option(
        False,
        "--fair-share/--no-fair-share",
        help="With --community-count explicit (coarse rows) or --community-size explicit (leaf rows): centre"
        " each row's share of the edges left on its fair share (the budget left over the nodes left); the"
        " network learns the offset.",
    ),
    size_concentration: bool = typer.Option(
        False,
        "--size-concentration/--no-size-concentration",
        help="With --community-size explicit: a learned concentration for the community node counts too"
        " (Bin^v / Z, as --row-concentration does for the row masses).",
    ),
    cross_rounds: bool = typer.Option(
        False,
        "--cross-rounds/--no-cross-rounds",
        help="Place a level's cross-community blocks in rounds (blocks of a round share no community); each"
        " pair's score sees the cross edges its nodes got in earlier rounds.",
    ),
    size_share: bool = typer.Option(
        False,
        "--size-share/--no-size-share",
        help="With --community-size explicit: the community size head also sees the community's share of its"
        " graph's nodes, |V| (W + 1) / (sum of W + 1 over the graph's communities).",
    ),
    self_loop_concentration: bool = typer.Option(
        False,
        "--self-loop-concentration/--no-self-loop-concentration",
        help="Coarse rows split their mass into the community's own edges and edges to earlier communities"
        " by Bin^xi / Z with a learned concentration xi (off: the paper's binomial).",
    ),
    cross_ladder: bool = typer.Option(
        False,
        "--cross-ladder/--no-cross-ladder",
        help="Coordinated leaf cross edges also see placed edges between the candidate pair's neighbours (the"
        " next rung of a ladder of triangles).",
    ),
    adjacency_rows: int = typer.Option(
        0,
        "--adjacency-rows",
        min=0,
        help="Community networks also see each prefix node's adjacency row, its first N columns (GRAN's and "
        "the reference's node input). 0: off.",
    ),
    triangle_features: bool = typer.Option(
        False,
        "--triangle-features/--no-triangle-features",
        help="The community and cross-edge networks also see each node's triangles T(v), its degree minus T(v),"
        " and each edge's triangles (message passing alone cannot count them).",
    ),
    row_coordination: bool = typer.Option(
        False,
        "--row-coordination/--no-row-coordination",
        help="Leaf rows choose their edges one after another, each seeing the nodes already chosen (how many"
        " are neighbours, how many of those edges already lie on two triangles); off: the conditional Bernoulli.",
    ),
    cross_order: str = typer.Option(
        "generation",
        "--cross-order",
        help="The order in which coordinated leaf cross edges are placed: each community's nodes in generation"
        " order, or 'boundary': along its border first (border edges lie on at most one triangle), so that"
        " consecutive rows of a block are border neighbours, as in a strip of triangles.",
    ),
    cross_both_directions: bool = typer.Option(
        False,
        "--cross-both-directions/--no-cross-both-directions",
        help="Each coordinated leaf block is a half-half mixture of placing its pairs with the second"
        " community's order as is and reversed, so a strip of triangles can be followed either way round.",
    ),
    cross_contact: bool = typer.Option(
        False,
        "--cross-contact/--no-cross-contact",
        help="Coordinated leaf cross edges also see, for each endpoint of a candidate pair, how many of its"
        " community neighbours already have a cross edge in the block (contact runs stay connected).",
    ),
    cross_strips: bool = typer.Option(
        False,
        "--cross-strips/--no-cross-strips",
        help="Each coordinated leaf block is a learned mixture of the coordinated model and a zipped strip:"
        " two runs of consecutive border nodes joined by a staircase of edges (planar triangulations).",
    ),
    cross_strip_segments: bool = typer.Option(
        False,
        "--cross-strip-segments/--no-cross-strip-segments",
        help="With --cross-strips: a strip's side never steps between consecutive border places that no"
        " community edge joins (the border cycle is cut there).",
    ),
    cross_strip_windows: bool = typer.Option(
        False,
        "--cross-strip-windows/--no-cross-strip-windows",
        help="With --cross-strips: a strip's start also reads the community degrees of the border nodes"
        " along the strip-to-be and just before it.",
    ),
    row_runs: bool = typer.Option(
        False,
        "--row-runs/--no-row-runs",
        help="Leaf rows: a learned mixture of the conditional Bernoulli and a run of consecutive border nodes"
        " of the community so far (a new node closing triangles along the border).",
    ),
    row_faces: bool = typer.Option(
        False,
        "--row-faces/--no-row-faces",
        help="Leaf rows: a learned mixture of the conditional Bernoulli and a run along a face of the community's"
        " plane embedding so far (trained on the data's planar embedding; for planar graphs).",
    ),
    refit_size_head: int = typer.Option(
        0,
        "--refit-size-head",
        min=0,
        metavar="STEPS",
        help="With --community-size explicit: after the last epoch, fit the community size head alone to its"
        " likelihood term, full batch, for STEPS Adam steps (the only term it appears in; 0: off).",
    ),
    refit_size_lr: float = typer.Option(0.003, "--refit-size-lr", help="Learning rate of --refit-size-head."),
    holdout: float = typer.Option(
        0.0,
        "--holdout",
        min=0.0,
        max=0.5,
        help="Hold out this share of the training split (or of --graphs) as the validation split (seeded, the same"
        " for every --seed; replaces the protocol's own; recorded in the checkpoint). 0: none.",
    ),
) -> None:
    """Train HiGen (hierarchical generation, Karami ICLR 2024) on a dataset's training split, or on
    the graphs of a file (--graphs).

    Runs under ``torchrun --nproc-per-node N -m graphgen train higen ...`` as N DDP processes (gloo on
    CPU); rank 0 reports and writes the checkpoints.
    """
    import os
    import sys

    from graphgen.data.hierarchy_order import WITHIN_COMMUNITY_ORDERS
    from graphgen.errors import GraphgenError
    from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen
    from graphgen.models.higen.train import check_train_config

    data = training_data(
        dataset, graphs_file, val_file=val_file, protocol=protocol, holdout=holdout, graph_kind_only=True
    )
    train, val = data.train, data.val
    out = checkpoint_path(out, resume, f"higen-{data.name}.pt")
    if within_order not in WITHIN_COMMUNITY_ORDERS:
        raise GraphgenError(f"unknown order {within_order!r}; choose one of {', '.join(WITHIN_COMMUNITY_ORDERS)}")
    shared = validation_graphs_in_training(data.name, protocol, holdout) if val is not None and dataset else 0
    if shared:
        typer.echo(
            f"warning: {shared} of the {len(val)} validation graphs of {data.name} (protocol "
            f"{protocol or 'default'}) are training graphs: the lowest-validation checkpoints are chosen "
            "on training data",
            err=True,
        )
    try:  # the configurations check their fields; name the flags in what the user reads
        model_config = HiGenConfig(
            num_levels=levels,
            hidden=hidden,
            num_layers=num_layers,
            num_mixtures=num_mixtures,
            within_order=within_order,
            bipartite_encoder=bipartite_encoder,
            size_context=size_context,
            row_stop=row_stop,
            cross_edges=cross_edges,
            row_mass=row_mass,
            community_size=community_size,
            row_concentration=row_concentration,
            community_count=community_count,
            fair_share=fair_share,
            size_concentration=size_concentration,
            cross_rounds=cross_rounds,
            size_share=size_share,
            self_loop_concentration=self_loop_concentration,
            cross_ladder=cross_ladder,
            triangle_features=triangle_features,
            adjacency_rows=adjacency_rows,
            row_coordination=row_coordination,
            cross_order=cross_order,
            cross_both_directions=cross_both_directions,
            cross_contact=cross_contact,
            cross_strips=cross_strips,
            cross_strip_segments=cross_strip_segments,
            cross_strip_windows=cross_strip_windows,
            row_runs=row_runs,
            row_faces=row_faces,
            resolution=resolution,
        )
        train_config = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            checkpoint_every=checkpoint_every,
            keep_every=keep_every,
            lr_schedule=lr_schedule,
            lr_min=lr_min,
            grad_clip_norm=grad_clip,
            hierarchies=hierarchies,
            random_ties=random_ties,
            row_fraction=row_fraction,
            size_head_refit_steps=refit_size_head,
            size_head_refit_lr=refit_size_lr,
        )
        check_train_config(model_config, train_config)
    except ValueError as exc:
        raise GraphgenError(_flag_names(str(exc))) from None
    main_process = int(os.environ.get("RANK", "0")) == 0
    meta = {**data.metadata, "command": "graphgen " + " ".join(sys.argv[1:])}
    # started by the first report, once every check has passed
    bar = LateProgressBar("[bold]higen[/] {task.description}", task="epochs", transient=False, disable=not main_process)
    log_lines = main_process and not bar.console.is_terminal  # nohup/redirected runs: one line per epoch

    def report(epoch, total, train_loss, val_loss):
        if train_loss is None:  # the start (or the resumed epoch)
            bar.update(epoch, total)
            return
        val_text = f", val {val_loss:.4f}" if val_loss is not None else ""
        bar.update(epoch, total, description=f"train NLL/edge {train_loss:.4f}{val_text}")
        if log_lines:
            typer.echo(f"epoch {epoch}/{total}: train NLL/edge {train_loss:.4f}{val_text}", err=True)

    try:
        result = train_higen(
            train,
            out,
            model_config=model_config,
            train_config=train_config,
            val_graphs=val,
            resume=resume,
            metadata=meta,
            progress=report,
        )
    finally:
        bar.close()
    last = result["history"][-1]
    if not main_process:
        return
    refit = result["size_head_refit"]
    refit_text = (
        f"; size head refitted: {refit['nll_before']:.4f} -> {refit['nll_after']:.4f} nats per community"
        if refit
        else ""
    )
    from graphgen.models.higen.train import (
        best_checkpoint_path,
        best_parts_checkpoint_path,
        snapshot_checkpoint_path,
        snapshot_epochs,
    )

    selected = [str(path) for path in (best_checkpoint_path(out), best_parts_checkpoint_path(out)) if path.exists()]
    selected_text = (
        f", {selected[0]} (lowest validation NLL) and {selected[1]} (each network at its lowest)"
        if len(selected) == 2
        else ""
    )
    kept = [snapshot_checkpoint_path(out, e) for e in snapshot_epochs(epochs, keep_every)]
    kept = [path for path in kept if path.exists()]  # a resumed run lists its earlier snapshots too
    kept_text = (
        f"; kept {len(kept)} snapshot(s) {kept[0]}" + (f" ... {kept[-1]}" if len(kept) > 1 else "") if kept else ""
    )
    typer.echo(
        f"trained higen on {len(train)} {data.described} graphs for {epochs} epochs in {result['seconds']:.0f} s "
        f"(train NLL/edge {last['train_nll_per_edge']:.4f}{refit_text}); wrote {out}{selected_text}{kept_text}",
        err=True,
    )
