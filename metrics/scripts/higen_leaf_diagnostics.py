"""What HiGen's leaf level gets wrong, measured without sampling and on real communities.

    python metrics/scripts/higen_leaf_diagnostics.py MODEL DATASET [--samples 200] [--json OUT]

* ``leaf_rows_teacher_forced`` (explicit-size models): on the first 150 training graphs, the leaf
  rows between the second and the last of each community, the model's predicted histogram of the
  row mass (edges to earlier nodes, 1..5) averaged over rows against the true one, and the standard
  deviation of the true masses' z-scores under the predictions (about 1 when calibrated); and, for
  the rows at positions 2-4 (``t`` earlier members, last rows included), the predicted and true mean
  number of edges to earlier members (``edges_by_position``).
* ``community_sizes_teacher_forced`` (explicit-size models): on 150 training and 150 test graphs,
  the size head's mean predictive standard deviation of a community's node count given its edge
  budget, and the mean and standard deviation of the true counts' z-scores.
* ``edges_per_node_in_communities``: ``W / (N - 1)`` (intra edges per node after the first) of the
  communities of at least 3 nodes, test graphs (the model's hierarchy) against ``--samples``
  samples (seed 0): mean and standard deviation.
* ``leaf_level_on_real_test_coarse_graphs`` (two-level models): the model samples the leaf level
  (sizes, rows, cross edges; seeds 0-1) from the test graphs' real coarse graphs; the communities'
  mean size and ``row_mass_by_position`` (``higen_structure.py``) against the real communities.
* ``cross_edges_on_real_test_communities``: the test graphs' real coarse graphs and communities with
  the cross edges sampled by the model (seeds 0-2) against the real ones: the share of nodes with
  cross edges that have them into two or more communities, and ``degrees_by_place``
  (``higen_structure.py``).
"""

from __future__ import annotations

import numpy as np
import torch
from _higen_diagnostic import model_split, parse, real_communities, report, sample_cross_edges, sample_leaf_level
from higen_structure import _community_stats, _node_degrees, degrees_by_place, row_mass_by_position

from graphgen.models.higen import HiGen
from graphgen.models.higen.model import _without_isolated_nodes
from graphgen.models.higen.stick_breaking import (
    community_size_log_prob,
    community_size_support,
    interval_binomial_log_prob,
    row_mass_interval,
)


def _mean_sd(values: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    mean = float((values * probs).sum())
    return mean, float(np.sqrt(((values - mean) ** 2 * probs).sum()))


def leaf_rows_teacher_forced(model: HiGen, graphs) -> dict:
    rows, pb, _ = model.prepare(graphs).levels[-1]
    with torch.no_grad():
        rows_out = model.community_nets[-1](pb)
    log_alpha, p_mass, nu = rows_out.log_alpha, rows_out.p_mass, rows_out.concentration
    t = rows.position
    lo, hi = row_mass_interval(rows.remaining, t, rows.size, simple=True)
    between = ((t >= 2) & (t < rows.size - 1)).nonzero().flatten().tolist()
    early = {p: (t == p).nonzero().flatten().tolist() for p in (2, 3, 4)}

    def predicted_masses(i: int) -> tuple[torch.Tensor, np.ndarray]:
        """Row ``i``'s support (masses, without the reserved edge) and the mixture's probabilities."""
        u = torch.arange(int(lo[i]), int(hi[i]) + 1, dtype=torch.float64)
        lp = interval_binomial_log_prob(u[:, None], lo[i], hi[i], p_mass[i][None], None if nu is None else nu[i][None])
        return u, torch.logsumexp(log_alpha[i][None] + lp, 1).exp().numpy()

    distribution = {i: predicted_masses(i) for i in sorted(set(between).union(*early.values()))}
    predicted, true, z = np.zeros(7), np.zeros(7), []
    for i in between:
        u, probs = distribution[i]
        for mass, q in zip((u.long() + 1).tolist(), probs):
            predicted[min(mass, 6)] += q
        true[min(int(rows.mass[i]) + 1, 6)] += 1
        mean, sd = _mean_sd(u.numpy(), probs)
        z.append((float(rows.mass[i]) - mean) / max(sd, 1e-9))
    n = max(len(between), 1)
    by_position = {}
    for position, selected in early.items():
        means = [float((distribution[i][0].numpy() * distribution[i][1]).sum()) for i in selected]
        by_position[str(position)] = {
            "rows": len(selected),
            "predicted_mean": round(float(np.mean(means)) + 1, 3),  # + 1: the reserved edge
            "true_mean": round(float(rows.mass[selected].double().mean()) + 1, 3),
        }
    return {
        "rows": len(between),
        "mass_1_to_5_predicted": [round(float(x), 3) for x in predicted[1:6] / n],
        "mass_1_to_5_true": [round(float(x), 3) for x in true[1:6] / n],
        "z_std": round(float(np.std(z)), 3),
        "edges_by_position": by_position,
    }


def community_sizes_teacher_forced(model: HiGen, graphs) -> dict:
    prepared = model.prepare(graphs)
    rows, pb, _ = prepared.levels[-1]
    first = rows.position == 0
    with torch.no_grad():
        size_probs = model.size_distribution_of_rows(prepared.hierarchy, model.config.num_levels, rows, pb)
    budget, size = rows.budget[first], rows.size[first]
    n_lo, n_hi = community_size_support(budget)
    sds, z = [], []
    for i in range(int(budget.numel())):
        if budget[i] < 3:
            continue
        n = torch.arange(int(n_lo[i]), int(n_hi[i]) + 1, dtype=torch.float64)
        expand = (None if x is None else x[i].expand(n.numel(), -1) for x in size_probs)
        probs = community_size_log_prob(n, budget[i].expand(n.numel()), *expand).exp().numpy()
        mean, sd = _mean_sd(n.numpy(), probs)
        sds.append(sd)
        z.append((float(size[i]) - mean) / sd)
    return {
        "communities": len(z),
        "predictive_sd": round(float(np.mean(sds)), 3),
        "z_mean": round(float(np.mean(z)), 3),
        "z_std": round(float(np.std(z)), 3),
    }


def edges_per_node(graphs: list[tuple[int, list[tuple[int, int]], list[int]]]) -> dict:
    ratios = []
    for _, edges, comm in graphs:
        labels = np.asarray(comm)
        inner = np.array([labels[u] for u, v in edges if labels[u] == labels[v]], dtype=int)
        for c in np.unique(labels):
            size = int((labels == c).sum())
            if size >= 3:
                ratios.append(int((inner == c).sum()) / (size - 1))
    return {"mean": round(float(np.mean(ratios)), 3), "std": round(float(np.std(ratios)), 3)}


def _into_several(n: int, cross: list[tuple[int, int]], comm: list[int]) -> float:
    touched: dict[int, set[int]] = {}
    for u, v in cross:
        touched.setdefault(u, set()).add(comm[v])
        touched.setdefault(v, set()).add(comm[u])
    return sum(len(s) >= 2 for s in touched.values()) / max(len(touched), 1)


def _community_view(n: int, edge_index: torch.Tensor, parent: torch.Tensor) -> dict:
    comm = parent.tolist()
    inner = [(a, b) for a, b in edge_index.t().tolist() if a < b and comm[a] == comm[b]]
    return {
        "community_size_mean": round(float(torch.bincount(parent).double().mean()), 3),
        "row_mass_by_position": row_mass_by_position(_community_stats(n, inner, comm)[2]),
    }


def leaf_level_on_real_coarse_graphs(model: HiGen, test) -> dict:
    graphs = [_without_isolated_nodes(g) for g in test]
    h, communities = real_communities(model, graphs)
    out = {"data": _community_view(int(communities.num_nodes), communities.edge_index, h.assignments[1])}
    for seed in range(2):
        counts, edge_index, parent = sample_leaf_level(model, h, graphs, seed)
        out[f"sampled_seed_{seed}"] = _community_view(int(counts.sum()), edge_index, parent)
    return out


def cross_edges_on_real_communities(model: HiGen, test) -> dict:
    h, communities = real_communities(model, [_without_isolated_nodes(g) for g in test])
    leaf, parent = h.levels[2], h.assignments[1]
    n, comm = int(leaf.num_nodes), parent.tolist()
    inside = parent[leaf.edge_index[0]] == parent[leaf.edge_index[1]]
    intra = [(a, b) for a, b in communities.edge_index.t().tolist() if a < b]
    real = [(a, b) for a, b in leaf.edge_index[:, ~inside].t().tolist() if a < b]
    out = {"data": {"into_several_communities": round(_into_several(n, real, comm), 4)}}
    out["data"]["degrees_by_place"] = degrees_by_place(_node_degrees(n, intra + real, comm))
    shares, nodes = [], []
    for seed in range(3):
        rows, cols = sample_cross_edges(model, h, communities, seed)
        cross = list(zip(rows.tolist(), cols.tolist()))
        shares.append(_into_several(n, cross, comm))
        nodes.append(_node_degrees(n, intra + cross, comm))
    out["sampled_seeds_0_2"] = {
        "into_several_communities": round(float(np.mean(shares)), 4),
        "degrees_by_place": degrees_by_place(np.concatenate(nodes)),
    }
    return out


def main() -> None:
    args = parse(__doc__, 200)
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model)
    train, test = model_split(args.model, args.dataset, "train"), model_split(args.model, args.dataset, "test")
    result = {"model": args.model, "dataset": args.dataset}
    if model.config.explicit_size:
        result["leaf_rows_teacher_forced"] = leaf_rows_teacher_forced(model, train[:150])
        result["community_sizes_teacher_forced"] = {
            "train": community_sizes_teacher_forced(model, train[:150]),
            "test": community_sizes_teacher_forced(model, test[:150]),
        }
    batch = model.prepare(test)
    leaf, parent = batch.hierarchy.levels[-1], batch.hierarchy.assignments[-1]
    data = []
    for k, g in enumerate(leaf.to_data_list()):
        nodes = (leaf.batch == k).nonzero().flatten()
        data.append((int(g.num_nodes), [(a, b) for a, b in g.edge_index.t().tolist() if a < b], parent[nodes].tolist()))
    samples = model.sample(args.samples, generator=torch.Generator().manual_seed(0))
    sampled = [
        (int(g.num_nodes), [(a, b) for a, b in g.edge_index.t().tolist() if a < b], g.community.tolist())
        for g in samples
    ]
    result["edges_per_node_in_communities"] = {"data": edges_per_node(data), "samples": edges_per_node(sampled)}
    if model.config.num_levels == 2:
        result["leaf_level_on_real_test_coarse_graphs"] = leaf_level_on_real_coarse_graphs(model, test)
        result["cross_edges_on_real_test_communities"] = cross_edges_on_real_communities(model, test)
    report(result, args, "higen_leaf_diagnostics.py")


if __name__ == "__main__":
    main()
