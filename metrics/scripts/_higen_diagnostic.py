"""Shared command line of the HiGen diagnostic scripts: ``SCRIPT MODEL DATASET [--samples N] [--json OUT]``."""

from __future__ import annotations

import argparse
from pathlib import Path


def model_parser(doc: str, model_help: str = "shipped model name or checkpoint path") -> argparse.ArgumentParser:
    """The arguments every diagnostic script takes, ``MODEL DATASET [--json OUT]``, described by the
    first line of ``doc``; scripts add their own options to it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("model", help=model_help)
    parser.add_argument("dataset")
    parser.add_argument("--json", type=Path, default=None)
    return parser


def parse(doc: str, default_samples: int) -> argparse.Namespace:
    parser = model_parser(doc)
    parser.add_argument("--samples", type=int, default=default_samples)
    return parser.parse_args()


def model_split(model: str, dataset: str, split: str):
    """The ``split`` graphs of ``dataset`` under the split protocol that the checkpoint ``model`` (a
    shipped name or a path) was trained with: its metadata ``protocol``, or the dataset's default
    split when it records none, with its ``holdout`` share of the training graphs as the validation
    split when it was trained with ``--holdout``. A model trained on enzymes' graphrnn split is thus diagnosed on that
    split's graphs, not on the default split's test graphs, many of which it trained on. A
    validation split made of training graphs (graphrnn's enzymes "validate" set) is refused."""
    from graphgen.cli.train_cmd import validation_graphs_in_training
    from graphgen.io.checkpoint import load_checkpoint
    from graphgen.models.pretrained import resolve_checkpoint, trained_split

    ckpt = load_checkpoint(resolve_checkpoint(model)[0])
    protocol, holdout = ckpt.metadata.get("protocol"), float(ckpt.metadata.get("holdout", 0.0))
    if split == "val" and validation_graphs_in_training(dataset, protocol, holdout):
        raise SystemExit(
            f"error: {model} was trained under the {protocol} split of {dataset}, whose validation graphs "
            "are training graphs: no held-out validation split"
        )
    return trained_split(ckpt, split, dataset)


def explicit_size_model(model: str):
    """The HiGen model ``model`` (a shipped name or a path), which must have a leaf size head
    (``community_size="explicit"``); otherwise the script exits with a one-line error."""
    from graphgen.models.higen import HiGen

    loaded = HiGen.from_pretrained(model)
    if not loaded.config.explicit_size:
        raise SystemExit(f"{model} has no size head (community_size is {loaded.config.community_size!r})")
    return loaded


def two_level_model(model: str):
    """The HiGen model ``model`` (a shipped name or a path) in eval mode, with torch on one thread;
    the script exits with a one-line error unless the model has two levels."""
    import torch

    from graphgen.errors import GraphgenError
    from graphgen.models.higen import HiGen

    torch.set_num_threads(1)
    try:
        loaded = HiGen.from_pretrained(model).eval()
    except GraphgenError as err:
        raise SystemExit(f"error: {err}") from None
    if loaded.config.num_levels != 2:
        raise SystemExit(f"error: {model} has {loaded.config.num_levels} levels; two-level models only")
    return loaded


DECODING_OPTIONS = {
    "run_rows": "the run-rows decoding",
    "face_rows": "the face-run decoding",
    "planar_strips": "the planar-strips decoding (with --face-rows)",
}  # HiGen.sample's constrained decodings, graphgen sample's --run-rows, --face-rows, --planar-strips


def add_decoding_options(parser: argparse.ArgumentParser) -> None:
    """``--run-rows``, ``--face-rows``, ``--planar-strips``: sample under those decodings."""
    for name, what in DECODING_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), action="store_true", help=f"sample under {what}")


def decoding_options(args: argparse.Namespace) -> dict:
    """The ``HiGen.sample`` options that :func:`add_decoding_options`' flags set, e.g. ``{"face_rows": True}``."""
    return {name: True for name in DECODING_OPTIONS if getattr(args, name, False)}


def decoding_flags(args: argparse.Namespace) -> list[str]:
    """The same as ``graphgen sample`` flags, e.g. ``["--face-rows"]``."""
    return ["--" + name.replace("_", "-") for name in decoding_options(args)]


def decoded_test_run(parser: argparse.ArgumentParser):
    """The start of a script that samples a two-level model under ``graphgen sample``'s decodings
    against the test split: adds the decoding flags to ``parser`` (:func:`add_decoding_options`),
    parses it, and returns ``(args, decoding options, model, test graphs, result)``, ``result`` a dict
    that already names the model, the split and the decodings."""
    add_decoding_options(parser)
    args = parser.parse_args()
    decoding = decoding_options(args)
    model = two_level_model(args.model)
    test = model_split(args.model, args.dataset, "test")
    result = {"model": args.model, "dataset": f"{args.dataset}:test ({len(test)} graphs)"}
    result.update((name, bool(decoding.get(name))) for name in DECODING_OPTIONS)
    return args, decoding, model, test, result


def temperature_sweep(
    model, graphs, protocol: str, temperatures, seeds: int, keys, option: str, vun=None, extra=None, **fixed
) -> dict:
    """For each value ``τ`` of the sampling option ``option`` (``"temperature"`` or
    ``"size_temperature"`` of ``HiGen.sample``; ``fixed``: other options of every draw, e.g.
    ``run_rows=True``) and sampling seeds ``0..seeds-1``: as many graphs as ``graphs``, scored against
    them under ``protocol``; with ``vun = (training graphs, validity rule)`` also their V.U.N.
    (:func:`graphgen.metrics.novelty.uniqueness_novelty_vun`, key ``vun``), and with ``extra`` the
    values ``extra(samples)`` returns (a dict). Returns ``{τ: {"per_seed": [...], "mean": {...}}}``
    over all of them (``mean`` empty without seeds), printing each mean as it comes."""
    import statistics

    import torch

    from graphgen.metrics import evaluate
    from graphgen.metrics.novelty import uniqueness_novelty_vun

    runs = {}
    for tau in temperatures:
        per_seed = []
        for seed in range(seeds):
            samples = model.sample(len(graphs), generator=torch.Generator().manual_seed(seed), **{option: tau}, **fixed)
            scores = evaluate(graphs, samples, protocol)
            per_seed.append({k: scores[k] for k in keys})
            if vun is not None:
                per_seed[-1]["vun"] = uniqueness_novelty_vun(samples, *vun)["vun"]
            if extra is not None:
                per_seed[-1].update(extra(samples))
        names = per_seed[0].keys() if per_seed else ()
        runs[tau] = {"per_seed": per_seed, "mean": {k: statistics.mean(r[k] for r in per_seed) for k in names}}
        print(tau, {k: round(v, 5) for k, v in runs[tau]["mean"].items()}, flush=True)
    return runs


def report(result: dict, args: argparse.Namespace, script: str) -> None:
    """Add the exact command to ``result``; write it to ``--json`` (with provenance) or print it."""
    result["command"] = f"python metrics/scripts/{script} {args.model} {args.dataset} --samples {args.samples}" + (
        f" --json {args.json}" if args.json else ""
    )
    emit(result, args.json)


def command(script: str, args: argparse.Namespace) -> str:
    """The command that reproduces a run of ``metrics/scripts/SCRIPT`` parsed by :func:`model_parser`:
    ``MODEL DATASET``, then every other argument as parsed (a true flag alone, a false flag or
    ``None`` or an empty list left out, a list's values one after another), ``--json`` last."""
    options = []
    for key, value in vars(args).items():
        if key in ("model", "dataset", "json") or value is None or value is False or value == []:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, list):
            value = " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        options.append(flag if value is True else f"{flag} {value}")
    tail = [f"--json {args.json}"] if args.json else []
    return " ".join([f"python metrics/scripts/{script} {args.model} {args.dataset}", *options, *tail])


def emit(result: dict, path: Path | None) -> None:
    """Write ``result`` to ``path`` as JSON with provenance, or print it when ``path`` is ``None``."""
    from graphgen.cli._output import write_json

    write_json(result, path)
    if path is None:
        print(result)


def edge_list(edge_index) -> list[tuple[int, int]]:
    """The edges ``u < v`` of a symmetric ``edge_index`` as a list of int pairs."""
    return [(int(a), int(b)) for a, b in edge_index.t().tolist() if a < b]


def graphs_and_samples(model, test, samples: int):
    """The graphs ``test`` in the model's ordered hierarchy and ``samples`` graphs sampled with seed 0,
    each side as ``(edge lists [(n, edges)], communities [each node's community])``, node ids
    ascending in generation order inside each community."""
    import torch

    h = model.prepare(test).hierarchy  # ordered: graph k's leaf nodes are contiguous, in the model's order
    leaf, parent = h.levels[-1], h.assignments[-1]  # leaf node -> its community
    data_edges, data_comms = [], []
    for k in range(len(test)):
        nodes = (leaf.batch == k).nonzero().flatten()
        mask = leaf.batch[leaf.edge_index[0]] == k
        data_edges.append((nodes.numel(), edge_list(leaf.edge_index[:, mask] - int(nodes[0]))))
        data_comms.append(parent[nodes].tolist())
    drawn = model.sample(samples, generator=torch.Generator().manual_seed(0))
    sampled = ([(int(g.num_nodes), edge_list(g.edge_index)) for g in drawn], [g.community.tolist() for g in drawn])
    return (data_edges, data_comms), sampled


def data_against_samples(doc: str, summarise, script: str) -> None:
    """The whole command line of a script that summarises graphs with their communities:
    ``summarise(edge_lists, communities)`` on the test graphs in the model's order and on ``--samples``
    graphs sampled with seed 0 (:func:`graphs_and_samples`), reported as ``data`` and ``samples``."""
    import torch

    from graphgen.models.higen import HiGen

    args = parse(doc, 40)
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model)
    test = model_split(args.model, args.dataset, "test")
    data, sampled = graphs_and_samples(model, test, args.samples)
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:test ({len(test)} graphs), communities of the model's hierarchy",
        "data": summarise(*data),
        "samples": {"seed": 0, **summarise(*sampled)},
    }
    report(result, args, script)


def real_communities(model, graphs):
    """The model's ordered hierarchy of ``graphs`` (without isolated nodes, as the model trains on them)
    and the intra-community edges of its leaf level as a ``Data`` over the leaf nodes:
    ``(hierarchy, communities)``."""
    from torch_geometric.data import Data

    h = model._hierarchy(graphs, model.config.partition_seed)
    leaf, parent = h.levels[-1], h.assignments[-1]
    inside = parent[leaf.edge_index[0]] == parent[leaf.edge_index[1]]
    communities = Data(
        edge_index=leaf.edge_index[:, inside], edge_weight=leaf.edge_weight[inside], num_nodes=leaf.num_nodes
    )
    return h, communities


def sample_cross_edges(model, h, communities, seed: int, temperature: float = 1.0):
    """Cross edges ``(rows, cols)`` that a two-level ``model`` samples (generator seed ``seed``, at
    ``temperature``) on the real communities and real coarse graph of :func:`real_communities`."""
    import torch

    from graphgen.models.higen.model import Draws

    coarse = h.levels[1]
    model.last_sample_report = {"blocks_overfull": 0}
    with torch.no_grad():
        rows, cols, _ = model._sample_cross_edges(
            2,
            communities,
            h.assignments[-1],
            coarse.edge_index,
            coarse.edge_weight,
            Draws(torch.Generator().manual_seed(seed), temperature=temperature),
        )
    return rows, cols


def real_communities_with_sampled_cross_edges(model, h, communities, seed: int, temperature: float = 1.0):
    """The leaf graphs of :func:`real_communities` with their real cross edges replaced by those that
    ``model`` samples (:func:`sample_cross_edges`): ``(nodes per graph, edge_index)``, both directions
    of every edge listed, in the layout :func:`sample_leaf_level` returns."""
    import torch

    n = int(h.levels[2].num_nodes)
    rows, cols = sample_cross_edges(model, h, communities, seed, temperature)
    edges = torch.cat([communities.edge_index, torch.stack([rows, cols]), torch.stack([cols, rows])], 1)
    edges = edges[:, torch.argsort(edges[0] * n + edges[1])]
    return torch.bincount(h.assignments[0][h.assignments[1]], minlength=h.num_graphs), edges


def cross_edge_comparison(doc: str, add_options=None):
    """The command line and inputs of a script that compares the test graphs' real cross edges with a
    two-level model's on the same real communities: parses ``MODEL DATASET [--seeds 3]
    [--temperature 1] [--json OUT]`` (described by ``doc``) and returns ``(args, model, test, h,
    communities, real_cross)``: the model's hierarchy ``h`` of the test graphs and their
    intra-community edges (:func:`real_communities`), and the real cross edges as pairs ``u < v``.
    ``add_options(parser)``, when given, adds the script's own options."""
    parser = model_parser(doc)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=1.0)
    if add_options is not None:
        add_options(parser)
    args = parser.parse_args()
    model = two_level_model(args.model)
    test = model_split(args.model, args.dataset, "test")
    h, communities = real_communities(model, test)
    ei, parent = h.levels[2].edge_index, h.assignments[1]
    crossing = (parent[ei[0]] != parent[ei[1]]) & (ei[0] < ei[1])
    return args, model, test, h, communities, ei[:, crossing].t().tolist()


def sample_leaf_level(model, h, graphs, seed: int, true_sizes: bool = False, temperature: float = 1.0):
    """The leaf level that a two-level ``model`` samples (generator seed ``seed``, at ``temperature``)
    from the real coarse graphs of ``h`` (:func:`real_communities` of ``graphs``): ``(nodes per graph,
    edge_index, community of each node)``. With ``true_sizes`` (explicit-size models) every community
    gets its real node count instead of one drawn from the size head."""
    import torch

    from graphgen.models.higen.model import Draws

    coarse, graph_of = h.levels[1], h.assignments[0]
    sizes = torch.tensor([int(g.num_nodes) for g in graphs]) if model.config.size_context else None
    model.last_sample_report = {"blocks_overfull": 0}
    if true_sizes:  # this instance only: the communities (coarse nodes, in order) get their real sizes
        real = torch.bincount(h.assignments[1], minlength=int(coarse.num_nodes))
        model._community_sizes = lambda *args, **kwargs: real.clone()
    try:
        with torch.no_grad():
            _, edge_index, _, graph_of_node = model._sample_level(
                2,
                (int(coarse.num_nodes), coarse.edge_index, coarse.edge_weight, graph_of),
                Draws(torch.Generator().manual_seed(seed), temperature=temperature),
                sizes,
            )
    finally:
        model.__dict__.pop("_community_sizes", None)
    return torch.bincount(graph_of_node, minlength=len(graphs)), edge_index, model._last_parent


def add_training_options(parser: argparse.ArgumentParser, epochs: int) -> None:
    """The options :func:`train_alone` reads: ``--epochs`` (default ``epochs``), ``--seed``,
    ``--batch-size``, ``--lr`` and ``--hierarchies``."""
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hierarchies", type=int, default=24)


def train_alone(net, train, prepare, nll, validate, args):
    """Train one network of a HiGen model alone on its likelihood term, as ``graphgen train higen``
    trains the whole model: ``args.epochs`` epochs over batches of ``args.batch_size`` training graphs
    (``train``; the batches fixed by ``args.seed``, their order shuffled every epoch), the Louvain
    variant ``epoch % args.hierarchies`` of each batch (``prepare(graphs, variant)``, cached), Adam at
    ``args.lr`` with a cosine decay to 0. ``nll(batch)`` returns ``(negative log-likelihood, edges)``
    of a prepared batch, ``validate()`` the validation NLL per edge. Returns the lowest-validation
    state of ``net`` and the history (per epoch: training and validation NLL per edge, seconds)."""
    import math
    import time

    import torch

    torch.manual_seed(args.seed)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed)).tolist()
    groups = [[train[i] for i in order[k : k + args.batch_size]] for k in range(0, len(order), args.batch_size)]
    variants: dict[int, list] = {}
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    shuffle = torch.Generator().manual_seed(args.seed + 1)
    best, best_state, history = math.inf, None, []
    for epoch in range(args.epochs):
        v = epoch % args.hierarchies
        if v not in variants:
            variants[v] = [prepare(g, v) for g in groups]
        for group in optimizer.param_groups:
            group["lr"] = 0.5 * args.lr * (1 + math.cos(math.pi * epoch / args.epochs))
        net.train()
        start, total, edges = time.perf_counter(), 0.0, 0
        for i in torch.randperm(len(groups), generator=shuffle).tolist():
            value, count = nll(variants[v][i])
            loss = value / max(count, 1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, edges = total + float(loss.detach()) * count, edges + count
        val = validate()
        history.append({"epoch": epoch + 1, "train": total / edges, "val": val, "seconds": time.perf_counter() - start})
        print(history[-1], flush=True)
        if val < best:
            best, best_state = val, {k: t.detach().clone() for k, t in net.state_dict().items()}
    return best_state, history


def save_refit_checkpoint(model, args, key: str, refit_command: str, history=(), config_updates=None) -> None:
    """``model`` -- MODEL (``args.model``, a shipped name or a path) with one network retrained alone,
    already in place -- saved to ``args.checkpoint_out`` as a checkpoint that every tool loads, with
    MODEL's metadata and data fingerprint plus ``{key}`` (the refit's command), ``{key}_of`` and
    ``{key}_of_sha256`` (MODEL's name and file digest: a shipped name may later point to another
    file) and ``{key}_curve`` (``history``: per epoch, the term's training and validation NLL per
    edge); ``config_updates`` (the options the refit changed) are written into its configuration,
    which is checked to load with the weights."""
    import hashlib
    from pathlib import Path

    from graphgen.io.checkpoint import load_checkpoint, save_checkpoint
    from graphgen.models.higen import HiGen
    from graphgen.models.pretrained import resolve_checkpoint

    path = resolve_checkpoint(args.model)[0]
    source = load_checkpoint(path)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    metadata = dict(source.metadata, **{key: refit_command, f"{key}_of": args.model, f"{key}_of_sha256": digest})
    metadata[f"{key}_curve"] = [{k: h[k] for k in ("epoch", "train", "val")} for h in history]
    ckpt = model.to_checkpoint(metadata, source.data_fingerprint)
    ckpt.config.update(config_updates or {})
    HiGen.from_checkpoint(ckpt)  # the configuration and the weights agree
    save_checkpoint(ckpt, args.checkpoint_out)


def planar_communities(edge_index, community) -> tuple[int, int]:
    """``(planar, total)``: how many of the communities (``community[v]``, each listed once) of a
    graph (``edge_index``, both directions) are planar on their intra-community edges."""
    import networkx as nx
    import torch

    community = torch.as_tensor(community)
    inside = community[edge_index[0]] == community[edge_index[1]]
    intra = nx.Graph(edge_index[:, inside].t().tolist())
    members: dict[int, list[int]] = {}
    for v, c in enumerate(community.tolist()):
        members.setdefault(c, []).append(v)
    planar = sum(nx.check_planarity(intra.subgraph(nodes))[0] for nodes in members.values())
    return planar, len(members)
