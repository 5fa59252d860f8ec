"""How HiGen's coarse level splits a graph's edges among communities: data vs samples vs the model.

    python metrics/scripts/higen_coarse_split.py MODEL DATASET [--samples 300] [--json OUT]
        [--finetune-steps 0] [--oracle-seeds 0] [--temperature 1]

Three views of the first (coarse) level, whose rows give each community its edge budget ``W``:

* **Budgets**, for the test graphs (communities of the model's own Louvain hierarchy) and for
  ``--samples`` graphs sampled from MODEL (seed 0, their generated communities), and for the
  training graphs (``training_data``, the model's hierarchy): the number of communities per graph,
  and per community of at least 3 nodes its intra-community edge count ``W`` (mean, std,
  5/25/50/75/95th percentiles), node count and density, pooled and by ``W`` range; the cross edges
  per community and the share of cross edges per graph (mean and std: too wide a spread gives some
  communities' nodes too many cross edges).
  If the per-range rows agree and the pooled ``W`` does not, the leaf level is right and the
  coarse split is not.
* **Calibration**, teacher-forced on the first 40 training graphs: for coarse rows 0 and 1 (given
  the true community count when the model has an explicit one), the model's predictive standard
  deviation of the row mass (the mixture over components) and the standard deviation of the true
  masses' z-scores under it (about 1 when calibrated; below 1: the predictions are too wide).
  And the same for the split of every later coarse row's mass into its self-loop (the community's
  own edges) and its edges to earlier communities, on the first 150 training graphs and on the test
  graphs (``self_loop_calibration``).
* **By count and position**: for each community count ``N`` and coarse row ``t``, the mean and std
  of the community's intra edges (its self-loop) and of the row mass (intra edges plus edges to
  earlier communities), in generation order: the training graphs' ordered hierarchies against the
  samples' generated communities. Shows which rows take too much.
* With ``--oracle-seeds S > 0``: the leaf level sampled ``S`` times (seeds 0..S-1) from the *real*
  coarse graphs of the test graphs and of as many training graphs (a seeded random subset), then
  evaluated against the test split (``gran`` protocol): what the model would score with a perfect
  coarse level; and the same with the real leaf communities too, the model sampling only the cross
  edges: what it would score with perfect communities; for explicit-size models also the leaf level
  on the real coarse graphs with every community given its real node count
  (``leaf_level_with_true_sizes``): how much of the leaf level's gap the drawn sizes make.
  ``--temperature`` samples these views (and ``samples``) at a sampling temperature.
* With ``--finetune-steps S > 0``: the coarse network alone trained ``S`` more full-batch Adam steps
  (lr 1e-3) on all training graphs' coarse rows, its training and validation NLL per coarse row
  every 100 steps -- whether the coarse level is under- or over-fitted. Nothing is saved.
"""

from __future__ import annotations

import numpy as np
import torch
from _higen_diagnostic import (
    model_parser,
    model_split,
    real_communities,
    real_communities_with_sampled_cross_edges,
    sample_leaf_level,
)

from graphgen.data import build_hierarchy
from graphgen.data.partition import LouvainPartitioner
from graphgen.metrics import DESCRIPTORS
from graphgen.models.higen import HiGen
from graphgen.models.higen.rows import row_log_likelihood, row_mass_log_probs

W_RANGES = ((0, 60), (60, 120), (120, 180), (180, 10**9))
MMD_KEYS = tuple(f"{name}_mmd" for name in DESCRIPTORS)


def budgets(graphs, communities) -> dict:
    """Per-community ``W``, node count and density (communities of at least 3 nodes), and by range;
    the cross edges of every community (mean, std) and each graph's share of cross edges (mean, std)."""
    w, n, count, cross, share = [], [], [], [], []
    for g, comm in zip(graphs, communities):
        ei = g.edge_index
        count.append(int(comm.unique().numel()))
        between = comm[ei[0]] != comm[ei[1]]
        share.append(float(between.float().mean()) if ei.shape[1] else 0.0)
        cross.extend(torch.bincount(comm[ei[0, between]], minlength=int(comm.max()) + 1)[comm.unique()].tolist())
        for c in comm.unique():
            members = comm == c
            size = int(members.sum())
            if size >= 3:
                w.append(int((members[ei[0]] & members[ei[1]]).sum()) // 2)
                n.append(size)
    w, n = np.array(w, dtype=float), np.array(n, dtype=float)
    density = w / (n * (n - 1) / 2)
    by_range = []
    for lo, hi in W_RANGES:
        sel = (w >= lo) & (w < hi)
        if sel.any():
            by_range.append(
                {
                    "W_range": [lo, hi if hi < 10**9 else None],
                    "communities": int(sel.sum()),
                    "nodes_mean": round(float(n[sel].mean()), 2),
                    "nodes_std": round(float(n[sel].std()), 2),
                    "density_mean": round(float(density[sel].mean()), 4),
                    "density_std": round(float(density[sel].std()), 4),
                }
            )
    return {
        "graphs": len(graphs),
        "communities_per_graph": round(float(np.mean(count)), 3),
        "communities_per_graph_histogram": np.bincount(count).tolist(),
        "W_mean": round(float(w.mean()), 2),
        "W_std": round(float(w.std()), 2),
        "W_percentiles_5_25_50_75_95": np.percentile(w, [5, 25, 50, 75, 95]).round(1).tolist(),
        "nodes_mean": round(float(n.mean()), 2),
        "nodes_std": round(float(n.std()), 2),
        "density_mean": round(float(density.mean()), 4),
        "density_std": round(float(density.std()), 4),
        "cross_edges_per_community_mean": round(float(np.mean(cross)), 3),
        "cross_edges_per_community_std": round(float(np.std(cross)), 3),
        "cross_share_per_graph_mean": round(float(np.mean(share)), 4),
        "cross_share_per_graph_std": round(float(np.std(share)), 4),
        "by_W_range": by_range,
    }


def rows_by_position(graphs, communities) -> list[dict]:
    """Intra edges and row mass of each community by (count, position); communities in order."""
    table: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for g, comm in zip(graphs, communities):
        comm = torch.unique(comm, return_inverse=True)[1]  # 0..N-1 in generation order
        n = int(comm.max()) + 1 if comm.numel() else 0
        cu, cv = comm[g.edge_index[0]], comm[g.edge_index[1]]
        intra = torch.bincount(cu[cu == cv], minlength=n) // 2
        earlier = torch.bincount(cu[cv < cu], minlength=n)
        for t in range(n):
            table.setdefault((n, t), []).append((int(intra[t]), int(intra[t] + earlier[t])))
    out = []
    for (n, t), v in sorted(table.items()):
        a = np.array(v, dtype=float)
        out.append(
            {
                "count": n,
                "position": t,
                "rows": len(v),
                "intra_mean": round(float(a[:, 0].mean()), 1),
                "intra_std": round(float(a[:, 0].std()), 1),
                "mass_mean": round(float(a[:, 1].mean()), 1),
                "mass_std": round(float(a[:, 1].std()), 1),
            }
        )
    return out


def leaf_communities(model: HiGen, graphs):
    """Each graph's leaf level in generation order (the model's ordered hierarchy) and its nodes'
    level-1 communities: ``(graphs, communities)`` for :func:`rows_by_position`."""
    from graphgen.data.ops import nodes_per_graph
    from graphgen.models.higen.model import _without_isolated_nodes

    h = model._hierarchy([_without_isolated_nodes(g) for g in graphs], model.config.partition_seed)
    top = h.assignments[-1]  # leaf node -> its parent; then up to level 1
    for a in reversed(h.assignments[1:-1]):
        top = a[top]
    leaf = h.levels[-1]
    return leaf.to_data_list(), list(torch.split(top, nodes_per_graph(leaf).tolist()))


def oracle_leaf(model: HiGen, train, test, seeds: int, temperature: float = 1.0) -> dict:
    """MMDs of graphs that are partly real (two-level models), against the test split, for the test
    graphs and as many training graphs: ``leaf_level_on_real_coarse_graphs`` (the model samples the
    whole leaf level -- communities and cross edges -- from the real coarse graphs) and
    ``cross_edges_on_real_communities`` (the real coarse graphs and leaf communities; the model
    samples only the cross edges); with explicit sizes ``leaf_level_with_true_sizes`` (the first view
    with every community's real node count); and ``training_subset_itself``, the real training
    graphs' own MMDs (the floor of the ``train`` rows)."""

    from graphgen.data.hierarchy import batch_from_edges
    from graphgen.metrics import evaluate
    from graphgen.models.higen.model import _without_isolated_nodes

    if model.config.num_levels != 2:
        raise SystemExit("--oracle-seeds needs a two-level model")
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[: len(test)].tolist()
    out = {"leaf_level_on_real_coarse_graphs": {}, "cross_edges_on_real_communities": {}}
    if model.config.explicit_size:
        out["leaf_level_with_true_sizes"] = {}
    for source, graphs in (("train", [train[i] for i in pick]), ("test", test)):
        graphs = [_without_isolated_nodes(g) for g in graphs]
        h, communities = real_communities(model, graphs)
        per_seed = {view: [] for view in out}
        for seed in range(seeds):
            sampled_counts, ei, _ = sample_leaf_level(model, h, graphs, seed, temperature=temperature)
            views = [
                (sampled_counts, ei),
                real_communities_with_sampled_cross_edges(model, h, communities, seed, temperature),
            ]
            if model.config.explicit_size:
                views.append(sample_leaf_level(model, h, graphs, seed, True, temperature)[:2])
            for view, (nodes, edges) in zip(out, views):
                r = evaluate(test, batch_from_edges(nodes, edges).to_data_list(), "gran")
                per_seed[view].append({k: r[k] for k in MMD_KEYS})
        for view, runs in per_seed.items():
            real = "communities" if view == "cross_edges_on_real_communities" else "coarse"
            out[view][f"{real}_of_{source}_graphs"] = {
                "per_seed": runs,
                "mean": {k: float(np.mean([x[k] for x in runs])) for k in MMD_KEYS},
            }
    real = evaluate(test, [train[i] for i in pick], "gran")  # the floor of the training subset
    out["training_subset_itself"] = {k: real[k] for k in MMD_KEYS}
    return out


def coarse_rows(model: HiGen, graphs):
    rows, prefixes, _ = model.prepare(graphs).levels[0]
    return rows, prefixes


def predictive_z(probs: torch.Tensor, support: torch.Tensor, true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The predictive std ``(R,)`` of rows with probabilities ``probs`` ``(R, S)`` over the values
    ``support`` ``(S,)``, and the z-scores of the ``true`` values ``(R,)`` (0 where the std is 0)."""
    mean = (probs * support).sum(-1)
    sd = (((support - mean.unsqueeze(-1)) ** 2) * probs).sum(-1).sqrt()
    z = torch.where(sd > 0, (true.double() - mean) / sd.where(sd > 0, torch.ones_like(sd)), torch.zeros_like(sd))
    return sd, z


def calibration(model: HiGen, graphs) -> list[dict]:
    """Predictive std and z-score spread of the true row masses of coarse rows 0 and 1."""
    rows, prefixes = coarse_rows(model, graphs)
    with torch.no_grad():
        rows_out = model.community_nets[0](prefixes)
    log_alpha, p_mass, p_stop, nu = rows_out.log_alpha, rows_out.p_mass, rows_out.p_stop, rows_out.concentration
    out = []
    for position in (0, 1):
        sds, zs = [], []
        for i in (rows.position == position).nonzero().flatten().tolist():
            r = int(rows.remaining[i])
            u = torch.arange(r + 1, dtype=torch.float64)
            parts = [
                log_alpha[i, k]
                + row_mass_log_probs(
                    u,
                    rows.remaining[i],
                    rows.position[i],
                    rows.size[i],
                    p_mass[i, k],
                    None if p_stop is None else p_stop[i, k],
                    None if nu is None else nu[i, k],
                    leaf=False,
                    simple=False,
                    mass_trials=model.config.row_mass,
                    given_size=model.config.given_size(1),
                )
                for k in range(log_alpha.shape[1])
            ]
            sd, z = predictive_z(torch.logsumexp(torch.stack(parts), 0).exp(), u, rows.mass[i])
            sds.append(float(sd))
            zs.append(float(z))
        out.append(
            {
                "coarse_row": position,
                "rows": len(sds),
                "predictive_std_mean": round(float(np.mean(sds)), 2),
                "true_mass_z_std": round(float(np.std(zs)), 3),
                "true_mass_z_mean": round(float(np.mean(zs)), 3),
            }
        )
    return out


def self_loop_calibration(model: HiGen, graphs) -> dict:
    """Teacher-forced coarse rows after the first: how the true self-loop ``s_t`` (the community's
    own edges) sits in the model's predictive distribution given the row's true mass ``u_t`` (the
    mixture over components weighted by their posterior given ``u_t``; binomial or, with
    ``self_loop_concentration``, power binomial): the predictive std and the std / mean of the true
    values' z-scores (std about 1 when calibrated, below 1: the predictions are too wide)."""
    from graphgen.models.higen.stick_breaking import self_loop_log_prob, self_loop_trials

    rows, prefixes = coarse_rows(model, graphs)
    with torch.no_grad():
        rows_out = model.community_nets[0](prefixes)
    log_alpha, p_mass, q_self, p_stop, nu = (
        rows_out.log_alpha,
        rows_out.p_mass,
        rows_out.q_self,
        rows_out.p_stop,
        rows_out.concentration,
    )
    xi = rows_out.self_concentration
    keep = rows.position > 0
    col = lambda x: x[keep].unsqueeze(1)  # noqa: E731
    mass_lp = row_mass_log_probs(
        col(rows.mass).double(),
        col(rows.remaining),
        col(rows.position),
        None if rows.size is None else col(rows.size),
        p_mass[keep],
        None if p_stop is None else p_stop[keep],
        None if nu is None else nu[keep],
        leaf=False,
        simple=False,
        mass_trials=model.config.row_mass,
        given_size=model.config.given_size(1),
    )
    weight = torch.softmax(log_alpha[keep] + mass_lp, 1)  # (R, K): each component's posterior given u_t
    trials = self_loop_trials(rows.mass, rows.reserved, model.config.allow_disconnected)[keep].double()
    support = torch.arange(int(trials.max()) + 1 if trials.numel() else 1, dtype=torch.float64)
    lp = self_loop_log_prob(
        torch.minimum(support, trials[:, None])[:, None, :],
        trials[:, None, None],
        q_self[keep][:, :, None],
        None if xi is None else xi[keep][:, :, None],
    )
    probs = (weight[:, :, None] * lp.exp()).sum(1) * (support <= trials[:, None])  # (R, S)
    sd, z = predictive_z(probs, support, rows.self_loop[keep])
    ok = sd > 0
    z = z[ok]
    return {
        "rows": int(ok.sum()),
        "predictive_std_mean": round(float(sd[ok].mean()), 3),
        "true_self_loop_z_std": round(float(z.std(unbiased=False)), 3),
        "true_self_loop_z_mean": round(float(z.mean()), 3),
    }


def finetune(model: HiGen, train, val, steps: int) -> list[dict]:
    """Train the coarse network alone; NLL per coarse row on the training and validation graphs."""
    net = model.community_nets[0]
    model.train()
    data = {"train": coarse_rows(model, train), "val": coarse_rows(model, val)}

    def nll(rows, prefixes):
        lp = row_log_likelihood(
            rows,
            *net(prefixes),
            leaf_rows=model.config.leaf_rows,
            allow_disconnected=model.config.allow_disconnected,
            mass_trials=model.config.row_mass,
            explicit_size=model.config.given_size(1),
        )
        return -lp.sum() / rows.num_rows

    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    curve = []
    with torch.no_grad():
        curve.append({"step": 0, "train": float(nll(*data["train"])), "val": float(nll(*data["val"]))})
    for step in range(1, steps + 1):
        optimiser.zero_grad()
        loss = nll(*data["train"])
        loss.backward()
        optimiser.step()
        if step % 100 == 0:
            with torch.no_grad():
                curve.append({"step": step, "train": float(loss.detach()), "val": float(nll(*data["val"]))})
    model.eval()
    return [{k: round(v, 4) if isinstance(v, float) else v for k, v in c.items()} for c in curve]


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--finetune-steps", type=int, default=0)
    parser.add_argument("--oracle-seeds", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args()
    from graphgen.cli._output import write_json

    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model)
    test = model_split(args.model, args.dataset, "test")
    c = model.config
    h = build_hierarchy(test, num_levels=c.num_levels, partitioner=LouvainPartitioner(c.resolution), seed=0)
    leaf_batch, parent = h.levels[-1].batch, h.assignments[-1]
    data_communities = [parent[leaf_batch == i] for i in range(len(test))]
    samples = model.sample(args.samples, generator=torch.Generator().manual_seed(0), temperature=args.temperature)
    train = model_split(args.model, args.dataset, "train")
    train_leaf = leaf_communities(model, train)  # the training graphs' hierarchy, built once
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "data": budgets(test, data_communities),
        "samples": budgets(samples, [g.community for g in samples]),
        "training_data": budgets(*train_leaf),
        "calibration_on_40_training_graphs": calibration(model, train[:40]),
        "self_loop_calibration": {
            "first_150_training_graphs": self_loop_calibration(model, train[:150]),
            "test_graphs": self_loop_calibration(model, test),
        },
        "by_count_and_position": {
            "training_graphs": rows_by_position(*train_leaf),
            "samples": rows_by_position(samples, [g.community for g in samples]),
        },
    }
    if args.oracle_seeds:
        result.update(oracle_leaf(model, train, test, args.oracle_seeds, args.temperature))
    if args.finetune_steps:
        result["coarse_finetune_nll_per_row"] = finetune(
            model, train, model_split(args.model, args.dataset, "val"), args.finetune_steps
        )
    result["command"] = (
        f"python metrics/scripts/higen_coarse_split.py {args.model} {args.dataset} --samples {args.samples}"
        + (f" --finetune-steps {args.finetune_steps}" if args.finetune_steps else "")
        + (f" --oracle-seeds {args.oracle_seeds}" if args.oracle_seeds else "")
        + (f" --temperature {args.temperature}" if args.temperature != 1.0 else "")
        + (f" --json {args.json}" if args.json else "")
    )
    write_json(result, args.json)
    if args.json is None:
        print(result)


if __name__ == "__main__":
    main()
