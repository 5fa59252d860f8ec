"""``graphgen bench``: benchmarks that compare against a baseline measured in the same run."""

from __future__ import annotations

from pathlib import Path

import typer

from graphgen.cli._output import make_table, output_file, wide_console, write_json

app = typer.Typer(
    help="Speed benchmarks; results are JSON records with provenance.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("backend")
def backend(
    quick: bool = typer.Option(False, "--quick", help="Fewer repeats and a smaller hierarchy set."),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the results to this JSON file (atomically)."
    ),
) -> None:
    """Graph I/O and per-graph ops of graphgen.data against networkx."""
    from graphgen.bench.backend import run

    result = run(quick=quick)
    table = make_table(
        "graphgen bench backend (median seconds)", ("task", "graphs", "graphgen", "baseline", "speed-up")
    )
    for r in result["records"]:
        base = r.get("baseline_seconds")
        table.add_row(
            r["task"],
            str(r["graphs"]),
            f"{r['graphgen_seconds']:.4f}",
            f"{base:.4f}" if base is not None else "–",
            f"{r['speedup']:.1f}x" if "speedup" in r else "–",
        )
    wide_console(90).print(table)
    write_json(result, json_out)


@app.command("metrics")
def metrics(
    quick: bool = typer.Option(False, "--quick", help="30 vs 30 graphs instead of 100 vs 100."),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the results to this JSON file (atomically)."
    ),
) -> None:
    """The gran and graphrnn protocols against the reference approach (values checked equal)."""
    from graphgen.bench.metrics import run

    result = run(quick=quick)
    table = make_table(
        "graphgen bench metrics (seconds; values agree to 1e-9)",
        ("protocol", "graphs", "graphgen", "reference approach", "speed-up"),
    )
    for r in result["records"]:
        table.add_row(
            r["protocol"],
            " vs ".join(map(str, r["graphs"])),
            f"{r['graphgen_seconds']:.2f}",
            f"{r['reference_approach_seconds']:.2f}",
            f"{r['speedup']:.0f}x",
        )
    console = wide_console(90)
    console.print(table)
    detail = make_table(
        "per descriptor: extraction + kernel step (seconds)",
        ("protocol", "descriptor", "graphgen", "reference approach", "kernel speed-up"),
    )
    for r in result["records"]:
        for name, b in r["breakdown"].items():
            detail.add_row(
                r["protocol"],
                name,
                f"{b['graphgen_descriptor_seconds']:.3f} + {b['graphgen_kernel_seconds']:.4f}",
                f"{b['reference_descriptor_seconds']:.3f} + {b['reference_kernel_seconds']:.3f}",
                f"{b['reference_kernel_seconds'] / max(b['graphgen_kernel_seconds'], 1e-9):.0f}x",
            )
    console.print(detail)
    ctx = result["context"]
    orca = ctx["orca_binding_seconds"]
    console.print(
        f"bare eigvalsh of all spectra (1 BLAS thread): {ctx['eigvalsh_seconds']:.3f} s"
        + (f"; ORCA binding, all orbits: {orca:.3f} s" if orca is not None else "")
    )
    write_json(result, json_out)


@app.command("valuation")
def valuation(
    quick: bool = typer.Option(False, "--quick", help="200 vs 200 graphs, smaller solver and usefulness runs."),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the results to this JSON file (atomically)."
    ),
) -> None:
    """Valuation at 1,000 vs 1,000 graphs, fast solvers against exact OT, and usefulness on CSBMs."""
    from graphgen.bench.valuation import run

    result = run(quick=quick)
    console = wide_console(100)
    speed = result["speed"]
    table = make_table(
        f"graphgen bench valuation: {' vs '.join(map(str, speed['graphs']))} graphs end to end (goal < 10 s)",
        ("OT method", "seconds", "S", "R", "D"),
        right=("seconds", "S", "R", "D"),
    )
    for method, r in speed["methods"].items():
        row = r["row"]
        table.add_row(
            method,
            f"{r['seconds']:.2f}",
            f"{row['structural_disparity']:.4f}",
            f"{row['relevance']:.4f}",
            f"{row['diversity']:.4f}",
        )
    console.print(table)
    solvers = result["solvers"]
    table = make_table(
        f"structural disparity on {' vs '.join(map(str, solvers['graphs']))} graphs against exact OT",
        ("method", "seconds", "speed-up vs emd", "Spearman vs emd"),
        right=("seconds", "speed-up vs emd", "Spearman vs emd"),
    )
    for method, r in solvers["methods"].items():
        table.add_row(
            method,
            f"{r['seconds']:.2f}",
            f"{r.get('speedup_vs_emd', 1.0):.1f}x",
            f"{r.get('spearman_vs_emd', 1.0):.3f}",
        )
    console.print(table)
    table = make_table(
        "usefulness: Spearman rho between score and seller-alone accuracy (mean +- std over seeds)",
        ("score", "rho", "pooled rho [95% CI]"),
        right=("rho", "pooled rho [95% CI]"),
    )
    for key, r in result["usefulness"]["summary"]["utility_seller_alone"].items():
        pooled = r["pooled_over_seeds"]
        table.add_row(
            key,
            f"{r['mean_rho']:+.3f} +- {r['std_rho']:.3f}",
            f"{pooled['rho']:+.3f} [{pooled['ci95'][0]:+.3f}, {pooled['ci95'][1]:+.3f}]",
        )
    console.print(table)
    write_json(result, json_out)


def _check_cuda_device(device: str) -> None:
    """A one-line error unless ``device`` names a CUDA GPU that torch sees here (the check of
    :func:`graphgen.models.sample_request.check_device`, which samplers use too)."""
    import re

    from graphgen.errors import GraphgenError
    from graphgen.models.sample_request import check_device

    if not re.fullmatch(r"cuda(:\d+)?", device):
        raise GraphgenError(f"unknown --device {device!r}; choose cpu, cuda or cuda:N")
    check_device(device)


@app.command("encoders")
def encoders(
    quick: bool = typer.Option(False, "--quick", help="Scaling at 1k/3k nodes; 3 tasks, 1 seed, at most 3 epochs."),
    part: str = typer.Option("all", "--part", help="scaling, tasks or all."),
    epochs: int = typer.Option(10, "--epochs", min=1, help="Training epochs per task run."),
    device: str = typer.Option(
        "cpu", "--device", help="cpu, cuda or cuda:N: where the scaling part runs (the tasks run on the CPU)."
    ),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the results to this JSON file (atomically)."
    ),
) -> None:
    """GMN and GSM++ against GINE, GatedGCN and GPS: synthetic and QM9 tasks, and scaling to large graphs."""
    from graphgen.bench.record import provenance
    from graphgen.errors import GraphgenError

    if part not in ("scaling", "tasks", "all"):
        raise GraphgenError(f"unknown --part {part!r}; choose scaling, tasks or all")
    if device != "cpu":
        _check_cuda_device(device)
        if part != "scaling":
            raise GraphgenError(f"--device {device} applies to --part scaling only (the tasks run on the CPU)")
    command = "graphgen bench encoders" + (" --quick" if quick else "") + f" --part {part} --epochs {epochs}"
    command += f" --device {device}" if device != "cpu" else ""
    result = {**provenance(command), "benchmark": "encoders"}
    console = wide_console(100)
    if part in ("tasks", "all"):
        from graphgen.bench.encoder_tasks import run as run_tasks

        result["records"] = run_tasks(quick=quick, epochs=epochs)
        table = make_table(
            "graphgen bench encoders: tasks (mean +- std over seeds)",
            ("task", "model", "metric", "value", "params", "s/epoch"),
            right=("value", "params", "s/epoch"),
        )
        for r in result["records"]:
            table.add_row(
                r["task"], r["model"], r["metric"], f"{r['value']:.4f} +- {r['std']:.4f}", str(r["params"]),
                f"{r['seconds_per_epoch']:.2f}",
            )  # fmt: skip
        console.print(table)
    if part in ("scaling", "all"):
        from graphgen.bench.encoders import run as run_scaling

        scaling = run_scaling(quick=quick, device=device)
        result.update(scaling=scaling["scaling"], scaling_ratios_vs_gps=scaling["scaling_ratios_vs_gps"])
        result["scaling_setup"] = scaling["setup"]
        table = make_table(
            f"graphgen bench encoders: one graph, forward + backward ({scaling['setup']['device']})",
            ("model", "nodes", "seconds", "peak MB", "note"),
            right=("nodes", "seconds", "peak MB"),
        )
        for r in result["scaling"]:
            if "seconds" in r:
                table.add_row(r["model"], str(r["num_nodes"]), f"{r['seconds']:.2f}", f"{r['peak_memory_mb']:.0f}", "")
            else:
                table.add_row(r["model"], str(r["num_nodes"]), "-", "-", r.get("skipped") or r.get("failed", ""))
        console.print(table)
    write_json(result, json_out)


@app.command("higen")
def higen(
    quick: bool = typer.Option(False, "--quick", help="Targets 250-1000 nodes, 2 epochs, 1 throughput epoch."),
    epochs: int = typer.Option(None, "--epochs", min=1, help="Training epochs of both bench models [default: 8]."),
    max_train_nodes: int = typer.Option(
        None, "--max-train-nodes", min=250, help="Largest graph the hierarchical model trains on [default: 5000]."
    ),
    flat_limit: float = typer.Option(
        60.0, "--flat-limit", min=1.0, help="Stop the flat curve after a point slower than this (seconds)."
    ),
    size_context: bool = typer.Option(
        True, "--size-context/--no-size-context", help="Train both speed subjects with HiGen's size conditioning."
    ),
    row_stop: bool = typer.Option(
        False,
        "--row-stop/--no-row-stop",
        help="Train both speed subjects with HiGen's per-row stop decision (off: after 8 epochs its coarse "
        "rows end the community sequence early, so samples miss the target size).",
    ),
    cross_edges: str = typer.Option(
        "coordinated", "--cross-edges", help="Leaf cross edges of the speed subjects: coordinated or independent."
    ),
    community_size: str = typer.Option(
        "emergent",
        "--community-size",
        help="Leaf community node counts of the speed subjects: emergent or explicit (drawn, then filled).",
    ),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the results to this JSON file (atomically)."
    ),
) -> None:
    """Hierarchical against flat (one-level, GRAN-style) sampling time and memory vs size; training throughput."""
    from graphgen.bench.higen import run
    from graphgen.bench.record import provenance
    from graphgen.cli.train_cmd import _flag_names
    from graphgen.errors import GraphgenError
    from graphgen.models.higen import HiGenConfig

    subject_options = {
        "size_context": size_context,
        "row_stop": row_stop,
        "cross_edges": cross_edges,
        "community_size": community_size,
    }
    try:  # the configuration checks its fields before any training; name the flags in what the user reads
        HiGenConfig(**subject_options)
    except ValueError as exc:
        raise GraphgenError(_flag_names(str(exc))) from None
    command = "graphgen bench higen" + (" --quick" if quick else "") + (f" --epochs {epochs}" if epochs else "")
    command += (f" --max-train-nodes {max_train_nodes}" if max_train_nodes else "") + (
        f" --flat-limit {flat_limit:g}" if flat_limit != 60.0 else ""
    )
    command += "" if size_context else " --no-size-context"
    command += " --row-stop" if row_stop else ""
    command += "" if cross_edges == "coordinated" else f" --cross-edges {cross_edges}"
    command += "" if community_size == "emergent" else f" --community-size {community_size}"
    outcome = run(
        quick=quick,
        epochs=epochs,
        max_train_nodes=max_train_nodes,
        flat_limit_seconds=flat_limit,
        subject_options=subject_options,
    )
    result = {**provenance(command), "benchmark": "higen", **outcome}
    console = wide_console(100)
    table = make_table(
        "graphgen bench higen: one sampled graph (1 thread)",
        ("model", "target", "nodes", "edges", "seconds", "peak MB", "note"),
        right=("target", "nodes", "edges", "seconds", "peak MB"),
    )
    for r in result["sampling"]:
        if "seconds" in r:
            table.add_row(
                r["model"], str(r["target_nodes"]), str(r["nodes"]), str(r["edges"]), f"{r['seconds']:.2f}",
                f"{r['peak_memory_mb']:.0f}", "",
            )  # fmt: skip
        else:
            table.add_row(r["model"], str(r["target_nodes"]), "-", "-", "-", "-", r.get("skipped") or r.get("failed"))
    console.print(table)
    at = result["compare_at_nodes"]
    for name, s in result["summary"].items():
        exponent = f"{s['growth_exponent']:.2f}" if s["growth_exponent"] is not None else "-"
        value = s[f"seconds_at_{at}_nodes"]
        console.print(
            f"{name}: time grows as N^{exponent}; at {at} generated nodes {value:.2f} s"
            if value is not None
            else f"{name}: time grows as N^{exponent}; {at} nodes not bracketed"
        )
    if result["speedup_at_compare_size"] is not None:
        console.print(f"hierarchical is {result['speedup_at_compare_size']:.1f}x faster than flat at {at} nodes")
    if result["speedup_at_compare_edges"] is not None:
        console.print(
            f"hierarchical is {result['speedup_at_compare_edges']:.1f}x faster than flat at "
            f"{result['compare_at_edges']} edges (the root budget both models spend)"
        )
    g = result["goal"]
    first = g["first_sample_at_least_that_large"]
    console.print(
        f"first hierarchical sample with >= {g['nodes']} nodes: {first['nodes']} nodes, {first['edges']} edges "
        f"in {first['seconds']:.1f} s (target {first['target_nodes']})"
        if first
        else f"no hierarchical sample reached {g['nodes']} nodes"
    )
    tp = result["throughput"]
    console.print(
        f"training throughput on {tp['dataset']}: {tp['graphs_per_second']:.1f} graphs/s "
        f"({tp['seconds_per_epoch']:.1f} s/epoch; preparation {tp['prepare_seconds']:.1f} s once)"
    )
    write_json(result, json_out)


@app.command("higen-decodings")
def higen_decodings(
    checkpoint: str = typer.Option(
        "higen-planar-strips", "--checkpoint", "-c", help="A shipped HiGen model name or a checkpoint file."
    ),
    num_graphs: int = typer.Option(40, "--num-graphs", "-n", min=1, help="Graphs per timed draw."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Timed draws per decoding, taken in turns."),
    temperature: float = typer.Option(0.7, "--temperature", help="Sampling temperature of every draw."),
    baseline: str = typer.Option(
        None,
        "--baseline",
        help="Also time this HiGen model's plain sampling in the same turns (e.g. the model"
        " a retrained one came from).",
    ),
    json_out: Path = typer.Option(
        None, "--json", callback=output_file, help="Write the results to this JSON file (atomically)."
    ),
) -> None:
    """Sampling time of HiGen's constrained decodings (run rows, face rows, planar strips) against plain sampling."""
    import math

    from graphgen.bench.higen_decodings import run
    from graphgen.bench.record import provenance
    from graphgen.models.higen import HiGen
    from graphgen.models.pretrained import load_model, resolve_checkpoint

    if not (math.isfinite(temperature) and temperature > 0):
        raise typer.BadParameter(f"must be a positive number, got {temperature}", param_hint="--temperature")
    for hint, name in (("--checkpoint", checkpoint), ("--baseline", baseline)):
        if name is not None and not isinstance(load_model(name)[0], HiGen):
            raise typer.BadParameter(f"{resolve_checkpoint(name)[1]} is not a HiGen model", param_hint=hint)
    _, label = resolve_checkpoint(checkpoint)
    command = f"graphgen bench higen-decodings --checkpoint {checkpoint} -n {num_graphs} --repeats {repeats}"
    command += f" --temperature {temperature:g}" + ("" if baseline is None else f" --baseline {baseline}")
    outcome = run(checkpoint, num_graphs, repeats, temperature, baseline)
    result = {**provenance(command), "benchmark": "higen-decodings", **outcome}
    table = make_table(
        f"graphgen bench higen-decodings: {num_graphs} graphs from {label} at temperature {temperature:g} (1 thread)",
        ("decoding", "median seconds", "vs plain"),
        right=("median seconds", "vs plain"),
    )
    for r in result["records"]:
        table.add_row(r["decoding"], f"{r['median_seconds']:.2f}", f"{r['ratio_to_plain']:.2f}x")
    wide_console(90).print(table)
    write_json(result, json_out)
