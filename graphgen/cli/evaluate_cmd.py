"""``graphgen evaluate``: score generated graphs against a reference set under a protocol."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from graphgen.cli._output import output_file, wide_console, write_json

# validity test of each dataset whose family has one
DEFAULT_VALIDITY = {"planar": "planar", "tree": "tree", "sbm": "sbm_modularity", "grid": "grid"}


def _load(spec: str, what: str):
    """A graph file, or a dataset split written ``NAME:SPLIT`` (``NAME:SPLIT:PROTOCOL``)."""
    from graphgen.datasets import load_dataset
    from graphgen.errors import GraphgenError
    from graphgen.io import read_graphs

    path = Path(spec)
    if path.exists():
        return read_graphs(path), None
    parts = spec.split(":")
    if len(parts) in (2, 3) and all(parts):
        name, split = parts[0], parts[1]
        protocol = parts[2] if len(parts) == 3 else None
        return load_dataset(name, split, protocol=protocol), (name, split, protocol)
    raise GraphgenError(
        f"{what} {spec!r} is neither an existing file nor a dataset split NAME:SPLIT (e.g. planar:test)"
    )


def _is_molecule_spec(spec: str) -> bool:
    from graphgen.datasets import dataset_info

    if Path(spec).suffix.lower() in (".smi", ".smiles"):
        return True
    if not Path(spec).exists() and ":" in spec:
        return dataset_info(spec.split(":")[0]).kind == "molecules"
    return False


def _load_smiles(spec: str, what: str) -> list[str]:
    """SMILES of a .smi file (first field per line) or of a molecule dataset split NAME:SPLIT."""
    from graphgen.datasets import load_smiles
    from graphgen.errors import GraphFormatError, GraphgenError
    from graphgen.io.formats import resolve_format

    path = Path(spec)
    if path.exists():
        try:
            graph_format = resolve_format(path).name  # the readers' own extension table
        except GraphFormatError:  # no graph file extension: read as SMILES lines
            graph_format = None
        if graph_format not in (None, "smiles") and path.suffix.lower() != ".txt":  # .txt: SMILES or edges
            raise GraphFormatError(
                f"{what} {path} is a graph file ({graph_format}): the molecule metrics compare molecules, "
                "given as SMILES (.smi) or a molecule dataset split"
            )
        lines = [
            line.split()[0]
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        if lines and lines[0].lower() == "smiles":
            lines = lines[1:]
        if not lines:
            raise GraphFormatError(f"{path} holds no SMILES")
        return lines
    parts = spec.split(":")
    if len(parts) in (2, 3):
        return load_smiles(parts[0], parts[1], protocol=parts[2] if len(parts) == 3 else None)[0]
    raise GraphgenError(f"{what} {spec!r} is neither an existing file nor a dataset split NAME:SPLIT")


def _evaluate_molecules(reference: str, samples: str, train_spec: str | None, floor: bool, seed: int) -> dict:
    from rich.table import Table

    from graphgen.metrics.molecules import MoleculeReference, molecule_metrics

    ref, gen = _load_smiles(reference, "reference"), _load_smiles(samples, "samples")
    train = None
    if train_spec is not None:
        train = _load_smiles(train_spec, "train")
    elif ":" in reference and not Path(reference).exists():
        train = _load_smiles(reference.split(":")[0] + ":train", "train")
    prepared = MoleculeReference(ref, train)  # the reference's statistics, computed once for both rows
    result = {
        "mode": "molecules",
        "reference": reference,
        "samples": samples,
        "metrics": molecule_metrics(gen, prepared),
    }
    if floor and train is not None:
        from graphgen.seeding import numpy_rng

        pick = numpy_rng(seed).choice(len(train), size=min(len(gen), len(train)), replace=False)
        result["floor"] = molecule_metrics([train[i] for i in sorted(pick)], prepared)
        result["floor"]["what"] = f"seeded subset of the training molecules (seed {seed}) vs the reference"
    table = Table(title="graphgen evaluate — molecules (MOSES definitions)")
    table.add_column("metric")
    table.add_column("samples", justify="right")
    if "floor" in result:
        table.add_column("floor: train vs reference", justify="right")
    for key, value in result["metrics"].items():
        fmt = lambda v: "–" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))  # noqa: E731
        row = [key, fmt(value)]
        if "floor" in result:
            row.append(fmt(result["floor"].get(key)))
        table.add_row(*row)
    wide_console(90).print(table)
    return result


def evaluate(
    reference: str = typer.Option(
        ..., "--reference", "-r", help="Reference graphs: a file or NAME:SPLIT (e.g. planar:test)."
    ),
    samples: str = typer.Option(..., "--samples", "-s", help="Generated graphs: a file or NAME:SPLIT."),
    protocol: str = typer.Option("gran", "--protocol", "-p", help="gran, graphrnn, sound, or a protocol JSON file."),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the full result to this JSON file (atomically)."
    ),
    floor: bool = typer.Option(
        True, "--floor/--no-floor", help="With a dataset reference, also score train vs reference at the same size."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the training subset used for the floor."),
    train_spec: str = typer.Option(
        None, "--train", help="Training graphs for novelty/V.U.N. (default: the reference dataset's train split)."
    ),
    validity: str = typer.Option(
        None, "--validity", help="connected, planar, tree, lobster, grid or sbm_modularity (default: by dataset)."
    ),
    gnn_seeds: int = typer.Option(
        10, "--gnn-seeds", min=0, help="Random-GIN seeds for the GNN metrics (0: skip them)."
    ),
) -> None:
    """MMD² of degree, clustering, orbit and spectral descriptors, with the train-vs-test floor."""
    from graphgen.datasets import load_dataset
    from graphgen.errors import GraphgenError
    from graphgen.metrics import evaluate as run_evaluate
    from graphgen.metrics import load_protocol, train_test_floor
    from graphgen.metrics.gnn import gnn_metrics
    from graphgen.metrics.novelty import uniqueness_novelty_vun
    from graphgen.metrics.validity import VALIDITY

    if _is_molecule_spec(reference) or _is_molecule_spec(samples):
        result = _evaluate_molecules(reference, samples, train_spec, floor, seed)
        write_json(result, json_out)
        return
    proto = load_protocol(protocol)
    ref, ref_source = _load(reference, "reference")
    gen, _ = _load(samples, "samples")
    if validity is None and ref_source is not None:
        validity = DEFAULT_VALIDITY.get(ref_source[0])
    if validity is not None and validity not in VALIDITY:
        raise GraphgenError(f"unknown validity test {validity!r}; choose one of {', '.join(VALIDITY)}")
    with _stage_status() as stage:
        stage("descriptors and MMDs")
        result = run_evaluate(ref, gen, proto)
        result["reference"] = reference
        result["samples"] = samples
        if floor and ref_source is not None and ref_source[1] != "train":
            stage("the train-vs-reference floor")
            name, _, split_protocol = ref_source
            train = load_dataset(name, "train", protocol=split_protocol)
            floor_result = train_test_floor(train, ref, result["n_samples"], proto, seed=seed)
            result["floor"] = {k: v for k, v in floor_result.items() if k.endswith("_mmd")}
            result["floor"].update(
                {
                    "n_samples": floor_result["n_samples"],
                    "seed": seed,
                    "what": f"{name} train (seeded subset) vs {reference}",
                }
            )
        train = None
        if train_spec is not None:
            train, _ = _load(train_spec, "train")
        elif ref_source is not None:
            train = load_dataset(ref_source[0], "train", protocol=ref_source[2])
        if train is not None:
            stage("validity, uniqueness and novelty")
            result["vun"] = uniqueness_novelty_vun(gen, train, validity)
        if gnn_seeds:
            result["gnn"] = gnn_metrics(
                ref,
                gen,
                seeds=range(gnn_seeds),
                progress=lambda done, total: stage(f"GNN metrics, {done}/{total} GINs"),
            )
    _print_result(result, proto, gnn_seeds)
    write_json(result, json_out)


@contextmanager
def _stage_status():
    """Gives ``stage(text)``: ``evaluating: text`` beside a spinner on stderr, so a long evaluation
    (20,000 samples: minutes) shows the step under way; rich draws nothing where stderr is not a
    terminal, and the line is gone when done. Each step is drawn as it starts (a short step too), the
    spinner turning in between."""
    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner

    spinner = Spinner("dots", text="evaluating", style="status.spinner")
    with Live(spinner, console=Console(stderr=True), transient=True, refresh_per_second=12.5) as live:

        def stage(text: str) -> None:
            spinner.update(text=f"evaluating: {text}")
            live.refresh()

        yield stage


def _print_result(result: dict, proto, gnn_seeds: int) -> None:
    """The table of MMDs (with the floor) and the notes below it, on stdout."""
    from rich.table import Table

    floor_result = result.get("floor")
    table = Table(title=f"graphgen evaluate — protocol {proto.name} ({proto.estimator} MMD²)")
    table.add_column("descriptor")
    table.add_column("kernel")
    table.add_column("samples vs reference", justify="right")
    if floor_result is not None:
        table.add_column("floor: train vs reference", justify="right")
    for name, spec in proto.descriptors.items():
        row = [
            name,
            f"{spec.kernel_name} " + " ".join(f"{k}={v}" for k, v in spec.kernel_params.items()),
            f"{result[f'{name}_mmd']:.6g}",
        ]
        if floor_result is not None:
            row.append(f"{floor_result[f'{name}_mmd']:.6g}")
        table.add_row(*row)
    console = wide_console(100)
    console.print(table)
    notes = [f"{result['n_samples']} samples vs {result['n_reference']} reference graphs"]
    if result["n_empty"]:
        notes.append(f"{result['n_empty']} empty sample graphs excluded")
    dropped = result["input"]["samples"].get("spectral_eigenvalues_dropped", 0)
    if dropped:
        notes.append(f"{dropped} sample eigenvalues fell outside the spectral histogram (reference behaviour)")
    if "gnn" in result:
        gm = result["gnn"]
        fd = f"FD {gm['fd']:.4g} ± {gm['fd_std']:.2g}" if "fd" in gm else "FD – (needs 2+ graphs per set)"
        text = f"GNN ({gnn_seeds} random GINs): {fd}, MMD-RBF {gm['mmd_rbf']:.4g}"
        if "f1_pr" in gm:
            text += f", F1 P/R {gm['f1_pr']:.3f}, F1 D/C {gm['f1_dc']:.3f}"
        notes.append(text)
    if "vun" in result:
        v = result["vun"]
        notes.append(
            f"valid {v['frac_valid']:.3f} ({v['validity'] or 'no test'}), unique {v['frac_unique']:.3f}, "
            f"unique & novel {v['frac_unique_novel']:.3f}, V.U.N. {v['vun']:.3f}"
        )
    console.print("\n".join(notes))
