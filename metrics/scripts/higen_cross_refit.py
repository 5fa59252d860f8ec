"""Retrain a two-level HiGen model's cross-edge network alone, with its options changed, and score it.

    python metrics/scripts/higen_cross_refit.py MODEL DATASET [--epochs 60] [--seed 0]
        [--triangle-features] [--hidden H] [--num-layers L] [--cross-order ORDER] [--strips]
        [--strip-segments] [--strip-windows] [--warm-start]
        [--temperature 0.7] [--oracle-seeds 3] [--sample-seeds 0] [--out NET.pt] [--checkpoint-out CKPT]
        [--json OUT]

A fast experiment loop for the leaf cross edges: the community networks of MODEL stay as they are,
and a fresh cross-edge network (``BipartiteNet``: MODEL's own options, with those given here
changed; ``--strips``: leaf blocks mixed with zipped strips, :mod:`graphgen.models.higen.strip_blocks`;
``--warm-start``: starting from MODEL's network's weights, new parts fresh) is trained alone on its
likelihood term -- the leaf blocks of the training graphs' hierarchies, teacher-forced on the real
communities -- which costs a few seconds per epoch on planar against 15-30 s for the whole model.
Training follows ``graphgen train higen``: the model's Louvain hierarchy settings, one of
``--hierarchies`` Louvain variants per epoch (seeds ``partition_seed + epoch % K``), batches of
``--batch-size`` graphs, Adam at ``--lr`` with a cosine decay to 0, and the state with the lowest
validation NLL per edge of the cross edges (over all edges, the ``bipartite_nets.0`` term of
``graphgen train``'s validation parts) kept.

Scored in the same run for MODEL's own cross-edge network (``original``) and the retrained one
(``refit``), at ``--temperature``: the validation NLL term, and the MMDs (``gran`` protocol,
against the test split) of the test graphs' real communities and coarse graphs with the network's
cross edges (``--oracle-seeds`` sampling seeds; ``higen_coarse_split.py --oracle-seeds``'s
``cross_edges_on_real_communities``), and with ``--sample-seeds S`` also of whole samples (as many
as test graphs, seeds ``0..S-1``). ``--out`` saves the retrained network's options and weights;
``--checkpoint-out`` saves MODEL with the retrained network as a checkpoint that every tool loads
(``graphgen sample -c``, ``evaluate_higen.py``; MODEL's metadata plus ``cross_refit``, this command).
Two-level models whose training split has a validation split only.
"""

from __future__ import annotations

import dataclasses
import statistics

import torch
from _higen_diagnostic import (
    add_training_options,
    command,
    emit,
    model_parser,
    model_split,
    real_communities,
    real_communities_with_sampled_cross_edges,
    temperature_sweep,
    train_alone,
    two_level_model,
)
from _higen_diagnostic import save_refit_checkpoint as save_checkpoint_of_refit

from graphgen.data.hierarchy import batch_from_edges
from graphgen.metrics import evaluate
from graphgen.models.higen import HiGen
from graphgen.models.higen.bipartite_net import BipartiteNet, block_pairs, blocks_log_likelihood
from graphgen.models.higen.boundary_walk import CROSS_ORDERS

MMD_KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")


def prepared_blocks(model: HiGen, graphs, partition_seed: int):
    """``(leaf level, community of each leaf node, block pairs, edges)`` of ``graphs``' hierarchy."""
    h = model._hierarchy(graphs, partition_seed)
    pairs = block_pairs(h, 2, rounds=model.config.cross_rounds)
    return h.levels[2], h.assignments[1], pairs, sum(int(g.edge_index.shape[1]) // 2 for g in graphs)


def cross_nll(net: BipartiteNet, batch) -> torch.Tensor:
    """Negative log-likelihood of a prepared batch's leaf cross edges under ``net``."""
    level, parent, pairs, _ = batch
    if not pairs.pair_block.numel():
        return torch.zeros((), dtype=torch.float64)
    logits = net(level, parent, pairs)
    return -blocks_log_likelihood(net, pairs, logits, level, parent).sum()


def nll_per_edge(net: BipartiteNet, batches) -> float:
    net.eval()
    with torch.no_grad():
        total = sum(float(cross_nll(net, b)) for b in batches)
    return total / max(sum(b[3] for b in batches), 1)


def refit(model: HiGen, net: BipartiteNet, train, val_batches, args) -> tuple[dict, list]:
    """Train ``net`` alone (module docstring); returns its lowest-validation state and the history."""
    return train_alone(
        net,
        train,
        lambda graphs, v: prepared_blocks(model, graphs, model.config.partition_seed + v),
        lambda batch: (cross_nll(net, batch), batch[3]),
        lambda: nll_per_edge(net, val_batches),
        args,
    )


def scores(model: HiGen, test, args) -> dict:
    """The validation term is computed by the caller; here the oracle and sample MMDs of ``model``."""
    h, communities = real_communities(model, test)
    oracle = []
    for seed in range(args.oracle_seeds):
        counts, edges = real_communities_with_sampled_cross_edges(model, h, communities, seed, args.temperature)
        r = evaluate(test, batch_from_edges(counts, edges).to_data_list(), "gran")
        oracle.append({k: r[k] for k in MMD_KEYS})
    out = {"cross_edges_on_real_communities": _mean(oracle)}
    if args.sample_seeds:
        runs = temperature_sweep(model, test, "gran", [args.temperature], args.sample_seeds, MMD_KEYS, "temperature")
        out["samples"] = runs[args.temperature]
    return out


def _mean(runs: list[dict]) -> dict:
    return {"per_seed": runs, "mean": {k: statistics.mean(r[k] for r in runs) for k in MMD_KEYS} if runs else {}}


def save_refit_checkpoint(model: HiGen, config, args, refit_command: str, history=()) -> None:
    """MODEL with its cross-edge network replaced by the retrained one (already in ``model``), as a
    checkpoint (:func:`_higen_diagnostic.save_refit_checkpoint`, key ``cross_refit``)."""
    updates = {
        "cross_order": config.order,
        "cross_strips": config.strips,
        "cross_strip_segments": config.strip_segments,
        "cross_strip_windows": config.strip_windows,
    }
    save_checkpoint_of_refit(model, args, "cross_refit", refit_command, history, updates)


def main() -> None:
    parser = model_parser(__doc__)
    add_training_options(parser, epochs=60)
    parser.add_argument("--triangle-features", action="store_true")
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--num-layers", type=int, default=None)
    parser.add_argument("--cross-order", choices=CROSS_ORDERS, default=None)
    parser.add_argument("--strips", action="store_true", help="mix the leaf blocks with zipped strips (strip_blocks)")
    parser.add_argument(
        "--strip-segments", action="store_true", help="with --strips: cut the border cycles where no edge joins"
    )
    parser.add_argument(
        "--strip-windows", action="store_true", help="with --strips: the start reads the degrees along the strip"
    )
    parser.add_argument(
        "--warm-start", action="store_true", help="start from MODEL's own cross-edge network's weights where they fit"
    )
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--oracle-seeds", type=int, default=3)
    parser.add_argument("--sample-seeds", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--checkpoint-out",
        default=None,
        help="also save MODEL with the retrained network as a loadable HiGen checkpoint (--strips and"
        " --cross-order only: the other options would change the community networks' configuration too)",
    )
    args = parser.parse_args()
    model = two_level_model(args.model)
    train, val, test = (model_split(args.model, args.dataset, s) for s in ("train", "val", "test"))
    old = model.bipartite_nets[0]
    changes = {"triangle_features": args.triangle_features or old.config.triangle_features}
    changes.update({k: v for k, v in (("hidden", args.hidden), ("num_layers", args.num_layers)) if v is not None})
    if args.cross_order is not None:
        changes["order"] = args.cross_order
    if args.strips:
        changes["strips"] = True
    if args.strip_segments:
        changes["strip_segments"] = True
    if args.strip_windows:
        changes["strip_windows"] = True
    config = dataclasses.replace(old.config, **changes)
    if old.encoder is not None:
        raise SystemExit("error: the cross-edge network has a sequence encoder (gmn/gsm++); gran only")
    changed = {f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(old.config, f.name)}
    if args.checkpoint_out and changed - {"order", "strips", "strip_segments", "strip_windows"}:
        raise SystemExit("error: --checkpoint-out takes --strips and --cross-order only")
    val_batches = [prepared_blocks(model, val[k : k + 4], model.config.partition_seed) for k in range(0, len(val), 4)]
    result = {"model": args.model, "dataset": args.dataset, "temperature": args.temperature}
    result["original"] = {"config": dataclasses.asdict(old.config), "val_nll_per_edge": nll_per_edge(old, val_batches)}
    result["original"].update(scores(model, test, args))
    print("original", result["original"]["val_nll_per_edge"], result["original"], flush=True)
    torch.manual_seed(args.seed)
    net = BipartiteNet(config)
    if args.warm_start:
        fits = {
            k: t for k, t in old.state_dict().items() if k in net.state_dict() and net.state_dict()[k].shape == t.shape
        }
        net.load_state_dict(fits, strict=False)
        result["refit_warm_start"] = len(fits)
    state, history = refit(model, net, train, val_batches, args)
    net.load_state_dict(state)
    model.bipartite_nets[0] = net.eval()
    result["refit"] = {"config": dataclasses.asdict(config), "val_nll_per_edge": nll_per_edge(net, val_batches)}
    result["refit"]["best_epoch"] = 1 + min(range(len(history)), key=lambda i: history[i]["val"])
    result["refit"].update(scores(model, test, args))
    result["refit"]["history"] = history
    if args.out:
        torch.save({"config": dataclasses.asdict(config), "state_dict": state}, args.out)
    result["command"] = command("higen_cross_refit.py", args)
    if args.checkpoint_out:
        save_refit_checkpoint(model, config, args, result["command"], history)
    emit(result, args.json)


if __name__ == "__main__":
    main()
