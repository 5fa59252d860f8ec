"""Which mixture components a leaf-row model holds responsible for the data's rows into a triangle.

    python metrics/scripts/higen_component_responsibility.py MODEL DATASET [--split test] [--json OUT]

Teacher-forced on the split's graphs (the model's ordered hierarchy at its partition seed): for every
leaf row ``t >= 2`` of two or more edges, the posterior over the ``K`` mixture components,
``r_k ∝ α_k p_k(row)`` (``p_k`` the row's likelihood under component ``k`` alone: its mass and its
edges, :func:`~graphgen.models.higen.rows.row_log_likelihood` with the weights put on ``k``), and
the rank of each component among the row's weights ``α`` (0: the most likely). Reported for the rows
whose three nodes already form a triangle of the prefix (``into_a_triangle``, as in
``higen_face_fills.py``) and for the other rows: how many, the mean posterior mass on the components
of rank 0, 1, 2-3 and 4 or more, and the mean prior weight ``α`` of the same groups. Sampling draws
the component from ``α`` (tempered: ``α^{1/τ}``), so rows whose posterior sits on low-ranked
components are the ones a temperature below 1 removes (session 38's ``higen_component_draws.py``
counts the same from the sampling side).
"""

from __future__ import annotations

import torch
from _higen_diagnostic import command, emit, model_parser, model_split, two_level_model
from higen_component_draws import RANKS
from higen_row_refit import chosen_sets

from graphgen.models.higen.row_sequence import teacher_forced_prefix_edges
from graphgen.models.higen.rows import row_log_likelihood


def rows_into_a_triangle(rows) -> torch.Tensor:
    """``(R,)`` bool: rows of exactly three edges whose three earlier nodes are pairwise joined in the
    row's prefix (``rows`` holding every row of its communities, in order)."""
    erow, src, dst = teacher_forced_prefix_edges(rows)
    prefix = {(int(r), int(a), int(b)) for r, a, b in zip(erow, src, dst)}
    chosen = chosen_sets(rows.entry_row, rows.entry_node, rows.entry_count, rows.num_rows)
    out = torch.zeros(rows.num_rows, dtype=torch.bool)
    for i, nodes in enumerate(chosen):
        if len(nodes) == 3:
            a, b, c = nodes
            out[i] = all((i, u, v) in prefix for u, v in ((a, b), (a, c), (b, c)))
    return out


def group_means(posterior: torch.Tensor, log_alpha: torch.Tensor) -> dict:
    """Mean posterior mass and mean prior weight per rank group over rows ``(R, K)``."""
    rank = torch.argsort(torch.argsort(log_alpha, 1, descending=True), 1)  # rank of each component
    alpha = log_alpha.exp()
    out = {"rows": int(posterior.shape[0])}
    for name, lo, hi in RANKS:  # the rank groups of higen_component_draws.py
        member = (rank >= lo) & (rank < hi)
        out[name] = {
            "posterior": float((posterior * member).sum(1).mean()) if posterior.shape[0] else None,
            "weight": float((alpha * member).sum(1).mean()) if posterior.shape[0] else None,
        }
    return out


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    model = two_level_model(args.model)
    graphs = model_split(args.model, args.dataset, args.split)
    net = model.community_nets[-1]
    kw = {
        "leaf_rows": model.config.leaf_rows,
        "allow_disconnected": model.config.allow_disconnected,
        "mass_trials": model.config.row_mass,
        "runs": net.row_runs,
        "faces": net.row_faces,
    }
    fills, others = [], []
    with torch.no_grad():
        for k in range(0, len(graphs), 4):
            rows, pb, _ = model.prepare(graphs[k : k + 4], partition_seed=model.config.partition_seed).levels[-1]
            outputs = net(pb)
            log_alpha = outputs[0]
            per_k = []
            for c in range(log_alpha.shape[1]):  # the row's likelihood under component c alone
                only = torch.full_like(log_alpha, float("-inf"))
                only[:, c] = 0.0
                per_k.append(row_log_likelihood(rows, only, *outputs[1:], **kw))
            posterior = torch.softmax(log_alpha + torch.stack(per_k, 1), 1)
            size = torch.bincount(rows.entry_row[rows.entry_count > 0], minlength=rows.num_rows)
            keep = (rows.position >= 2) & (size >= 2)
            into = rows_into_a_triangle(rows)
            fills.append((posterior[keep & into], log_alpha[keep & into]))
            others.append((posterior[keep & ~into], log_alpha[keep & ~into]))
    result = {"model": args.model, "dataset": f"{args.dataset}:{args.split} ({len(graphs)} graphs)"}
    for name, parts in (("into_a_triangle", fills), ("other_rows", others)):
        result[name] = group_means(torch.cat([p for p, _ in parts]), torch.cat([a for _, a in parts]))
        print(name, result[name], flush=True)
    result["command"] = command("higen_component_responsibility.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
