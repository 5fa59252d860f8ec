"""Retrain a two-level HiGen model's leaf community network alone with run-shaped rows, and score it.

    python metrics/scripts/higen_row_refit.py MODEL DATASET [--epochs 40] [--seed 0] [--batch-size 4]
        [--lr 1e-3] [--hierarchies 24] [--temperature 0.7] [--sample-seeds 0] [--score-run-rows]
        [--score-face-rows] [--share-logits L ...] [--face-share-logits L ...] [--checkpoint-out CKPT]
        [--json OUT]

The leaf rows of MODEL (the ``community_nets.1`` term) retrained with ``row_runs``
(:mod:`graphgen.models.higen.row_runs`: each row a mixture of a run of consecutive border nodes of
its prefix and the conditional Bernoulli), starting from MODEL's own leaf community network (the
run share's MLP fresh, ``π = ½``); every other network of MODEL is kept as it is. Training follows
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
communities per sample set whose embedding was lost, ``face_rows_lost``). Also recorded
(``runs_in_data``): how many of the validation and test graphs' leaf rows ``t >= 2`` are runs of
their prefix's border cycle, overall and by edge count, and (``face_runs``) how many are runs along
a face of the embedding that the community's planar embedding (networkx's) induces on the prefix.
``--share-logits L ...``: before training, the validation term of MODEL's weights with the run
share fixed at ``π = σ(L)`` for every feasible row (``share_scan``: how much the likelihood wants
runs before the scores adapt); ``--face-share-logits L ...``: the same with the run component replaced
by the face runs of the data's embedding (``face_share_scan``; :func:`face_run_sets`). ``--epochs 0``
trains nothing. ``--checkpoint-out`` saves the retrained model as a checkpoint that every tool loads
(MODEL's metadata plus ``row_refit``, this command, and its curve). Two-level models whose training
split has a validation split only.
"""

from __future__ import annotations

import contextlib
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
from graphgen.models.higen.face_runs import prefix_faces, row_options
from graphgen.models.higen.row_runs import run_log_prob
from graphgen.models.higen.row_sequence import teacher_forced_prefix_edges

MMD_KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
LEAF = "community_nets.1"


def leaf_nll(model: HiGen, batch) -> torch.Tensor:
    """Negative log-likelihood of a prepared batch's leaf rows (summed, not per edge)."""
    return model.loss(batch, parts=[LEAF])["parts"][LEAF] * max(batch.num_edges, 1)


def nll_per_edge(model: HiGen, batches, before=None) -> float:
    """The leaf rows' validation NLL per edge of ``batches`` (``before(batch)``: called before each)."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for b in batches:
            if before is not None:
                before(b)
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
    :func:`face_run_sets`): overall and by edge count (``w_6``: 6 or more); rows of non-planar
    communities count as not runs."""
    own = chosen_sets(rows.entry_row, rows.entry_node, rows.entry_count, rows.num_rows)
    take = (rows.mass + rows.reserved).tolist()
    counts: dict[str, list[int]] = {}
    for t, w, mine, sets in zip(rows.position.tolist(), take, own, face_run_sets(rows)):
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


def share_scan(model: HiGen, batches, logits, before=None) -> list[dict]:
    """The validation term with the run share's MLP output fixed at each of ``logits`` (its last layer's
    weights zeroed, its bias set); the MLP is restored afterwards (``before``: :func:`nll_per_edge`'s)."""
    g = model.community_nets[-1].row_runs
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
                    "val_nll_per_edge": nll_per_edge(model, batches, before),
                }
            )
    g.load_state_dict(saved)
    return out


def face_run_sets(rows) -> list[list[tuple[int, ...]]]:
    """For every row of ``rows`` (a ``CommunityRows`` holding all rows of its communities), the node
    sets of its size that are runs along a face of the embedding that networkx's planar embedding of
    the whole community induces on the row's prefix (:mod:`graphgen.models.higen.face_runs`); no sets for a
    first row, a row of no edges, or a non-planar community."""
    chosen = rows.entry_count > 0
    later = rows.position[rows.entry_row[chosen]].tolist()
    earlier = rows.entry_node[chosen].tolist()
    community = rows.community[rows.entry_row[chosen]].tolist()
    graphs: dict[int, nx.Graph] = {}
    for c, a, b in zip(community, later, earlier):
        graphs.setdefault(c, nx.Graph()).add_edge(a, b)
    rotations = {}
    for c, graph in graphs.items():
        planar, embedding = nx.check_planarity(graph)
        rotations[c] = embedding.get_data() if planar else None
    take = (rows.mass + rows.reserved).tolist()
    out = []
    for c, t, w in zip(rows.community.tolist(), rows.position.tolist(), take):
        rotation = rotations.get(c)
        if t == 0 or w < 1 or (rotation is None and t > 1):
            out.append([])
            continue
        faces = [[0]] if t == 1 else prefix_faces(rotation, set(range(t)))
        out.append([tuple(nodes) for nodes, _ in row_options(faces, w)])
    return out


@contextlib.contextmanager
def face_components():
    """While active, the run component of a ``row_runs`` model's leaf rows is the **face-run**
    component: each row's conditional Bernoulli restricted to the node sets of :func:`face_run_sets`
    (``π = 0`` where there are none), ``log p_face^k(Y | w) = Σ_{j ∈ Y} θ^k_j - log Σ_{S}
    exp(Σ_{j ∈ S} θ^k_j)`` for ``Y`` among them, ``-inf`` otherwise. Yields ``use(batch)``, to call
    before each batch's loss (it computes the batch's sets once and keeps them on the batch)."""
    import graphgen.models.higen.rows as rows_module

    current: list = []

    def use(batch) -> None:
        if not hasattr(batch, "face_sets"):
            batch.face_sets = face_run_sets(batch.levels[-1][0])
        current[:] = [batch.face_sets]

    def face_log_prob(entry_logits, entry_count, entry_row, place, length, take):
        sets = current[0]
        r, k = length.numel(), entry_logits.shape[1]
        if len(sets) != r:
            raise RuntimeError("the face component needs every row of the batch")  # row_fraction 1: cannot happen
        counts = torch.bincount(entry_row, minlength=r)
        offset = (torch.cumsum(counts, 0) - counts).tolist()
        width = max([len(x) for x in sets] + [1])
        w_max = max([len(x[0]) for x in sets if x] + [1])
        index = torch.zeros((r, width, w_max), dtype=torch.long)
        mask = torch.zeros((r, width, w_max), dtype=torch.bool)
        for i, row_sets in enumerate(sets):
            for j, nodes in enumerate(row_sets):
                index[i, j, : len(nodes)] = torch.tensor(nodes) + offset[i]
                mask[i, j, : len(nodes)] = True
        summed = (entry_logits[index] * mask.unsqueeze(-1)).sum(2)  # (R, S, K)
        summed = torch.where(mask[:, :, :1], summed, torch.full_like(summed, float("-inf")))
        denominator = torch.logsumexp(summed, 1)
        hit = entry_count > 0
        numerator = entry_logits.new_zeros((r, k)).index_add_(0, entry_row[hit], entry_logits[hit])
        local = torch.arange(entry_row.numel()) - torch.tensor(offset, dtype=torch.long)[entry_row]
        member = torch.tensor([c in set(x) for c, x in zip(chosen_sets(entry_row, local, entry_count, r), sets)])
        lp = numerator - denominator
        return torch.where(member.unsqueeze(1), lp, torch.full_like(lp, float("-inf")))

    def feasible(take, length):
        return torch.tensor([bool(x) for x in current[0]])

    saved = (rows_module.run_log_prob, rows_module.feasible_runs)
    rows_module.run_log_prob, rows_module.feasible_runs = face_log_prob, feasible
    try:
        yield use
    finally:
        rows_module.run_log_prob, rows_module.feasible_runs = saved


def face_share_scan(model: HiGen, batches, logits) -> list[dict]:
    """:func:`share_scan` under :func:`face_components`: how much the likelihood wants face runs before
    the scores adapt."""
    with face_components() as use:
        return share_scan(model, batches, logits, use)


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
        "--face-runs", action="store_true", help="retrain with the face-run component (face_components) instead"
    )
    args = parser.parse_args()
    if args.face_runs and (args.checkpoint_out or args.sample_seeds):
        raise SystemExit("error: --face-runs retrains for the likelihood only: no --checkpoint-out, no --sample-seeds")
    original = two_level_model(args.model)
    if not original.config.rows_can_be_runs:
        raise SystemExit("error: run-shaped rows need conditional-Bernoulli leaf rows without row_coordination")
    train, val, test = (model_split(args.model, args.dataset, s) for s in ("train", "val", "test"))
    seed0 = original.config.partition_seed
    result = {"model": args.model, "dataset": args.dataset, "temperature": args.temperature}
    val_plain = [original.prepare(val[k : k + 4], partition_seed=seed0) for k in range(0, len(val), 4)]
    result["original"] = {"val_nll_per_edge": nll_per_edge(original, val_plain), **scores(original, test, train, args)}
    if args.score_run_rows:
        result["original_run_rows"] = scores(original, test, train, args, run_rows=True)
    if args.score_face_rows:
        result["original_face_rows"] = scores(original, test, train, args, face_rows=True)
    print("original", result["original"], flush=True)
    torch.manual_seed(args.seed)
    model = HiGen(dataclasses.replace(original.config, row_runs=True))
    for name in ("edge_counts", "node_counts", "isolated_counts", "community_counts"):  # the size model
        setattr(model, name, getattr(original, name).clone())
    missing, unexpected = model.load_state_dict(original.state_dict(), strict=False)
    if unexpected or any("row_runs" not in k for k in missing):
        raise SystemExit(f"error: {args.model}'s weights do not fit: missing {missing}, unexpected {unexpected}")
    model.eval()
    net = model.community_nets[-1]
    val_batches = [model.prepare(val[k : k + 4], partition_seed=seed0) for k in range(0, len(val), 4)]
    result["runs_in_data"] = {split: runs_in_data(model, graphs) for split, graphs in (("val", val), ("test", test))}
    h_test = model._hierarchy(test, seed0)
    result["over_triangulated_nodes_in_data"] = over_triangulated_share(
        h_test.levels[-1].edge_index, h_test.assignments[-1]
    )
    print(
        "runs in data", result["runs_in_data"]["test"]["all"], result["runs_in_data"]["test"]["face_runs"], flush=True
    )
    if args.share_logits:
        result["share_scan"] = share_scan(model, val_batches, args.share_logits)
        print("share scan", result["share_scan"], flush=True)
    if args.face_share_logits:
        result["face_share_scan"] = face_share_scan(model, val_batches, args.face_share_logits)
        print("face share scan", result["face_share_scan"], flush=True)
    if args.epochs == 0:
        result["command"] = command("higen_row_refit.py", args)
        emit(result, args.json)
        return
    with face_components() if args.face_runs else contextlib.nullcontext(lambda batch: None) as use:

        def nll(batch):
            use(batch)
            return leaf_nll(model, batch), batch.num_edges

        state, history = train_alone(
            net,
            train,
            lambda graphs, v: model.prepare(graphs, partition_seed=seed0 + v),
            nll,
            lambda: nll_per_edge(model, val_batches, use),
            args,
        )
        net.load_state_dict(state)
        model.eval()
        result["refit"] = {"val_nll_per_edge": nll_per_edge(model, val_batches, use)}
    result["refit"]["best_epoch"] = 1 + min(range(len(history)), key=lambda i: history[i]["val"])
    result["refit"].update(scores(model, test, train, args))
    result["refit"]["history"] = history
    result["command"] = command("higen_row_refit.py", args)
    if args.checkpoint_out:
        save_refit_checkpoint(model, args, "row_refit", result["command"], history, {"row_runs": True})
    emit(result, args.json)


if __name__ == "__main__":
    main()
