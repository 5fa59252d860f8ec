"""Retrain a two-level HiGen model's leaf community network alone with run-shaped rows, and score it.

    python metrics/scripts/higen_row_refit.py MODEL DATASET [--epochs 40] [--seed 0] [--batch-size 4]
        [--lr 1e-3] [--hierarchies 24] [--temperature 0.7] [--sample-seeds 0] [--score-run-rows]
        [--score-face-rows] [--share-logits L ...] [--face-share-logits L ...] [--face-runs]
        [--checkpoint-out CKPT] [--json OUT]

The leaf rows of MODEL (the ``community_nets.1`` term) retrained with ``row_runs``
(:mod:`graphgen.models.higen.row_runs`: each row a mixture of a run of consecutive border nodes of
its prefix and the conditional Bernoulli) or, with ``--face-runs``, with ``row_faces``
(:mod:`graphgen.models.higen.face_runs`: a mixture of a run along a face of the prefix's plane
embedding, taken from the data's embedding while training, and the conditional Bernoulli), starting
from MODEL's own leaf community network (the share's MLP fresh, ``π = ½``); every other network of
MODEL is kept as it is. Training follows
``graphgen train higen`` (``_higen_diagnostic.train_alone``: one of ``--hierarchies`` Louvain
variants per epoch, batches of ``--batch-size`` graphs, Adam at ``--lr`` with a cosine decay to 0)
on the leaf rows' term alone (``HiGen.loss(parts=...)``), and keeps the state with the lowest
validation NLL of that term per edge.

Scored in the same run for MODEL (``original``) and the retrained model (``refit``): the validation
term, and with ``--sample-seeds S`` whole samples at ``--temperature`` (as many as test graphs, seeds
``0..S-1``; ``gran`` protocol against the test split): the MMDs, V.U.N. (the dataset's validity rule,
as ``graphgen evaluate``), the share of the sampled leaf communities that are planar and the share of
nodes on more triangles of their community than they have community neighbours
(``over_triangulated_nodes``: its mean over the samples; the test graphs' own, over all their nodes:
``over_triangulated_nodes_in_data``);
``--score-run-rows``: MODEL's samples also under the run-rows decoding (``original_run_rows``);
``--score-face-rows``: under the face-run decoding (``original_face_rows``, with the number of
communities per sample set whose embedding was lost, ``face_rows_lost``; a ``row_faces`` model reports
it in its own samples too). The refit's (and a MODEL that already has the option: its) mean share
``π`` over the validation rows that can be runs, overall and by edge count (``share_on_val``). Also recorded
(``runs_in_data``): how many of the validation and test graphs' leaf rows ``t >= 2`` are runs of
their prefix's border cycle, overall and by edge count, and (``face_runs``) how many are runs along
a face of the embedding that the community's planar embedding (networkx's) induces on the prefix.
``--share-logits L ...``: before training, the validation term of MODEL's weights with the run
share fixed at ``π = σ(L)`` for every feasible row (``share_scan``: how much the likelihood wants
runs before the scores adapt); ``--face-share-logits L ...``: the same for the ``row_faces`` mixture
(``face_share_scan``). ``--epochs 0``
trains nothing. ``--checkpoint-out`` saves the retrained model as a checkpoint that every tool loads
(MODEL's metadata plus ``row_refit``, this command, and its curve). Two-level models whose training
split has a validation split only.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import networkx as nx
import torch
from _higen_diagnostic import (
    add_training_options,
    command,
    emit,
    model_parser,
    model_split,
    planar_communities,
    save_refit_checkpoint,
    temperature_sweep,
    train_alone,
    two_level_model,
)

from graphgen.data.ops import edge_triangle_counts
from graphgen.models.higen import HiGen
from graphgen.models.higen.face_runs import data_face_sets
from graphgen.models.higen.row_runs import run_log_prob
from graphgen.models.higen.row_sequence import teacher_forced_prefix_edges

MMD_KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
LEAF = "community_nets.1"


def leaf_nll(model: HiGen, batch) -> torch.Tensor:
    """Negative log-likelihood of a prepared batch's leaf rows (summed, not per edge)."""
    return model.loss(batch, parts=[LEAF])["parts"][LEAF] * max(batch.num_edges, 1)


def nll_per_edge(model: HiGen, batches) -> float:
    """The leaf rows' validation NLL per edge of ``batches``."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for b in batches:
            total += float(leaf_nll(model, b))
    return total / max(sum(b.num_edges for b in batches), 1)


def planar_share(graphs) -> float:
    """The share of the sampled graphs' leaf communities (``Data.community``) that are planar."""
    counts = [planar_communities(g.edge_index, g.community) for g in graphs]
    return sum(p for p, _ in counts) / max(sum(t for _, t in counts), 1)


def over_triangulated_share(edge_index: torch.Tensor, community: torch.Tensor) -> float:
    """The share of nodes on more triangles of their community than they have community neighbours
    (``T > d`` counting intra-community edges only): in a triangulated disc only a separating
    triangle (one that is not a face) puts a node there."""
    inside = community[edge_index[0]] == community[edge_index[1]]
    intra = edge_index[:, inside]
    n = int(community.numel())
    triangles, _ = edge_triangle_counts(intra, n)
    degree = torch.bincount(intra[0], minlength=n)
    return float((triangles > degree).double().mean()) if n else 0.0


def share_on_rows(model: HiGen, batches) -> dict:
    """The mean share ``π`` of a ``row_runs`` or ``row_faces`` model over the leaf rows of ``batches``
    (prepared by it) that can be runs: overall and by the row's edge count (``w_6``: 6 or more)."""
    from graphgen.models.higen.rows import run_share

    net = model.community_nets[-1]
    shares, takes = [], []
    with torch.no_grad():
        for b in batches:
            rows = b.levels[-1][0]
            share, feasible = run_share(rows, net.row_runs, net.row_faces)
            shares.append(torch.sigmoid(share)[feasible])
            takes.append((rows.mass + rows.reserved)[feasible])
    pi, take = torch.cat(shares), torch.cat(takes)
    out = {"all": {"rows": int(pi.numel()), "mean_share": float(pi.mean())}}
    for w in range(1, 7):
        sel = take.clamp(max=6) == w
        if bool(sel.any()):
            out[f"w_{w}"] = {"rows": int(sel.sum()), "mean_share": float(pi[sel].mean())}
    return out


def scores(model: HiGen, test, train, args, **decoding) -> dict:
    """MMDs, V.U.N. (against ``train``, with the dataset's validity rule as ``graphgen evaluate``
    applies it) and :func:`sample_structure` of ``--sample-seeds`` sets of samples at
    ``--temperature`` (``decoding``: ``run_rows=True`` or ``face_rows=True``)."""
    from graphgen.cli.evaluate_cmd import DEFAULT_VALIDITY

    def structure(drawn) -> dict:
        lost = model.last_sample_report.get("face_rows_lost")
        return sample_structure(drawn) | ({} if lost is None else {"face_rows_lost": lost})

    vun = (train, DEFAULT_VALIDITY.get(args.dataset))
    runs = temperature_sweep(
        model,
        test,
        "gran",
        [args.temperature],
        args.sample_seeds,
        MMD_KEYS,
        "temperature",
        vun,
        structure,
        **decoding,
    )
    return runs[args.temperature]


def sample_structure(drawn) -> dict:
    """The planar share of the samples' leaf communities (:func:`planar_share`) and the mean over the
    samples of each one's share of over-triangulated nodes (:func:`over_triangulated_share`)."""
    return {
        "planar_communities": planar_share(drawn),
        "over_triangulated_nodes": statistics.mean(over_triangulated_share(g.edge_index, g.community) for g in drawn),
    }


def runs_in_data(model: HiGen, graphs) -> dict:
    """How many of the leaf rows ``t >= 2`` of ``graphs`` (the model's ordered hierarchy, Louvain seed
    ``partition_seed``) are runs of their prefix's border cycle: overall and by the row's edge count
    ``w`` (``w_6`` stands for 6 or more), ``{"rows", "runs", "share"}`` each; and the rows that are not
    runs (``not_runs``) by whether they choose a node off the border cycle (``with_inner_node``) and
    whether two of their nodes are joined by a prefix edge already on two triangles of the prefix, so
    that the new node puts it on a third and closes a separating triangle (``closing_a_third_triangle``)."""
    rows = model.prepare(graphs).levels[-1][0]
    take = rows.mass + rows.reserved
    scores = torch.zeros((rows.entry_row.numel(), 1), dtype=torch.float64)
    is_run = torch.isfinite(
        run_log_prob(scores, rows.entry_count, rows.entry_row, rows.entry_place, rows.border_length, take)[:, 0]
    )
    keep = rows.position >= 2
    out = {}
    for name, sel in [("all", keep)] + [(f"w_{w}", keep & (take.clamp(max=6) == w)) for w in range(1, 7)]:
        if bool(sel.any()):
            n, r = int(sel.sum()), int((is_run & sel).sum())
            out[name] = {"rows": n, "runs": r, "share": r / n}
    erows, esrc, edst = teacher_forced_prefix_edges(rows)
    kinds = {"rows": 0, "with_inner_node": 0, "closing_a_third_triangle": 0}
    for i in (keep & ~is_run).nonzero().flatten().tolist():
        mine = rows.entry_row == i
        chosen = rows.entry_node[mine & (rows.entry_count > 0)].tolist()
        places = rows.entry_place[mine & (rows.entry_count > 0)].tolist()
        sel = erows == i
        prefix = nx.Graph(zip(esrc[sel].tolist(), edst[sel].tolist()))
        closes = any(
            prefix.has_edge(a, b) and len(set(prefix[a]) & set(prefix[b])) >= 2
            for k, a in enumerate(chosen)
            for b in chosen[k + 1 :]
        )
        kinds["rows"] += 1
        kinds["with_inner_node"] += min(places) < 0
        kinds["closing_a_third_triangle"] += closes
    out["not_runs"] = kinds
    out["face_runs"] = face_runs_in_data(rows)
    return out


def face_runs_in_data(rows) -> dict:
    """How many of the leaf rows ``t >= 2`` of ``rows`` (a ``CommunityRows`` holding all rows of its
    communities, e.g. the model's ordered hierarchy of the data) are runs along a face of the embedding
    that networkx's planar embedding of the whole community induces on the row's prefix (the sets of
    :func:`~graphgen.models.higen.face_runs.data_face_sets`): overall and by edge count (``w_6``: 6 or
    more); rows of non-planar communities count as not runs."""
    own = chosen_sets(rows.entry_row, rows.entry_node, rows.entry_count, rows.num_rows)
    take = (rows.mass + rows.reserved).tolist()
    counts: dict[str, list[int]] = {}
    for t, w, mine, sets in zip(rows.position.tolist(), take, own, data_face_sets(rows)):
        if t < 2:
            continue
        for name in ("all", f"w_{min(w, 6)}"):
            rows_runs = counts.setdefault(name, [0, 0])
            rows_runs[0] += 1
            rows_runs[1] += mine in sets
    return {name: {"rows": n, "runs": r, "share": r / n} for name, (n, r) in counts.items()}


def chosen_sets(entry_row: torch.Tensor, entry_node: torch.Tensor, entry_count: torch.Tensor, r: int) -> list[tuple]:
    """Each of ``r`` rows' chosen earlier nodes (entries with ``entry_count > 0``; ``entry_node`` their
    local ids) as a sorted tuple."""
    chosen: list[list[int]] = [[] for _ in range(r)]
    hit = entry_count > 0
    for i, j in zip(entry_row[hit].tolist(), entry_node[hit].tolist()):
        chosen[i].append(j)
    return [tuple(sorted(c)) for c in chosen]


def share_scan(model: HiGen, batches, logits) -> list[dict]:
    """The validation term of a ``row_runs`` or ``row_faces`` model (``batches`` prepared by it) with
    its share's MLP output fixed at each of ``logits`` (its last layer's weights zeroed, its bias set);
    the MLP is restored afterwards."""
    net = model.community_nets[-1]
    g = net.row_runs if net.row_runs is not None else net.row_faces
    saved = {k: v.clone() for k, v in g.state_dict().items()}
    out = []
    with torch.no_grad():
        g[2].weight.zero_()
        for logit in logits:
            g[2].bias.fill_(logit)
            out.append(
                {
                    "share_logit": logit,
                    "share": 1 / (1 + math.exp(-logit)),
                    "val_nll_per_edge": nll_per_edge(model, batches),
                }
            )
    g.load_state_dict(saved)
    return out


def main() -> None:
    parser = model_parser(__doc__)
    add_training_options(parser, epochs=40)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--sample-seeds", type=int, default=0)
    parser.add_argument("--share-logits", type=float, nargs="*", default=[])
    parser.add_argument("--face-share-logits", type=float, nargs="*", default=[])
    parser.add_argument(
        "--score-run-rows", action="store_true", help="also score MODEL's samples under the run-rows decoding"
    )
    parser.add_argument(
        "--score-face-rows", action="store_true", help="also score MODEL's samples under the face-run decoding"
    )
    parser.add_argument("--checkpoint-out", default=None, help="also save the retrained model as a HiGen checkpoint")
    parser.add_argument(
        "--face-runs", action="store_true", help="retrain with row_faces (runs along faces) instead of row_runs"
    )
    args = parser.parse_args()
    original = two_level_model(args.model)
    if not original.config.rows_can_be_runs:
        raise SystemExit("error: run-shaped rows need conditional-Bernoulli leaf rows without row_coordination")
    train, val, test = (model_split(args.model, args.dataset, s) for s in ("train", "val", "test"))
    seed0 = original.config.partition_seed
    result = {"model": args.model, "dataset": args.dataset, "temperature": args.temperature}

    def validation(m: HiGen) -> list:
        return [m.prepare(val[k : k + 4], partition_seed=seed0) for k in range(0, len(val), 4)]

    result["original"] = {"val_nll_per_edge": nll_per_edge(original, validation(original))}
    result["original"].update(scores(original, test, train, args))
    if args.score_run_rows:
        result["original_run_rows"] = scores(original, test, train, args, run_rows=True)
    if args.score_face_rows:
        result["original_face_rows"] = scores(original, test, train, args, face_rows=True)
    print("original", result["original"], flush=True)
    option = "row_faces" if args.face_runs else "row_runs"
    # the twins for the data counts and the scans first: the trained model's fresh MLP follows --seed
    others = {other: with_run_component(original, other) for other in ("row_runs", "row_faces") if other != option}
    torch.manual_seed(args.seed)
    model = with_run_component(original, option)
    runs, faces = (others.get(name, model) for name in ("row_runs", "row_faces"))
    net = model.community_nets[-1]
    val_batches = validation(model)
    result["runs_in_data"] = {split: runs_in_data(runs, graphs) for split, graphs in (("val", val), ("test", test))}
    h_test = model._hierarchy(test, seed0)
    result["over_triangulated_nodes_in_data"] = over_triangulated_share(
        h_test.levels[-1].edge_index, h_test.assignments[-1]
    )
    print(
        "runs in data", result["runs_in_data"]["test"]["all"], result["runs_in_data"]["test"]["face_runs"], flush=True
    )
    if args.share_logits:
        result["share_scan"] = share_scan(runs, validation(runs), args.share_logits)
        print("share scan", result["share_scan"], flush=True)
    if args.face_share_logits:
        result["face_share_scan"] = share_scan(faces, validation(faces), args.face_share_logits)
        print("face share scan", result["face_share_scan"], flush=True)
    if getattr(original.config, option):  # MODEL already has the option: its own trained share
        result["original"]["share_on_val"] = share_on_rows(model, val_batches)
    if args.epochs == 0:
        result["command"] = command("higen_row_refit.py", args)
        emit(result, args.json)
        return

    def nll(batch):
        return leaf_nll(model, batch), batch.num_edges

    state, history = train_alone(
        net,
        train,
        lambda graphs, v: model.prepare(graphs, partition_seed=seed0 + v),
        nll,
        lambda: nll_per_edge(model, val_batches),
        args,
    )
    net.load_state_dict(state)
    model.eval()
    result["refit"] = {"val_nll_per_edge": nll_per_edge(model, val_batches)}
    result["refit"]["best_epoch"] = 1 + min(range(len(history)), key=lambda i: history[i]["val"])
    result["refit"].update(scores(model, test, train, args))
    result["refit"]["share_on_val"] = share_on_rows(model, val_batches)
    result["refit"]["history"] = history
    result["command"] = command("higen_row_refit.py", args)
    if args.checkpoint_out:
        save_refit_checkpoint(model, args, "row_refit", result["command"], history, {option: True})
    emit(result, args.json)


def with_run_component(original: HiGen, option: str) -> HiGen:
    """``original`` with ``option`` (``row_runs`` or ``row_faces``) on and the other off: its weights
    and size model, the share's MLP its own if it has the option, else fresh (``π = ½``; torch's global
    generator draws its hidden layer), in eval mode."""
    other = "row_faces" if option == "row_runs" else "row_runs"
    model = HiGen(dataclasses.replace(original.config, **{option: True, other: False}))
    for name in ("edge_counts", "node_counts", "isolated_counts", "community_counts"):  # the size model
        setattr(model, name, getattr(original, name).clone())
    weights = {k: v for k, v in original.state_dict().items() if f".{other}." not in k}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(option not in k for k in missing):
        raise SystemExit(f"error: the model's weights do not fit {option}: missing {missing}, unexpected {unexpected}")
    return model.eval()


if __name__ == "__main__":
    main()
