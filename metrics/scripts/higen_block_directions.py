"""How much each direction of the second community's order is worth to HiGen's coordinated leaf blocks.

    python metrics/scripts/higen_block_directions.py MODEL DATASET [--batch-size 4] [--json OUT]

For every leaf block of the validation graphs (the model's hierarchy, Louvain seed 0, batches as in
training), the block's log-likelihood under the model's coordinated sequence model
(:mod:`graphgen.models.higen.block_sequence`, the model's pair order) with the right community's
places as is (``forward``) and reversed (``reversed``), whatever the model was trained with. Reported
per edge of the graphs (as the training loop reports NLL): the leaf cross-edge NLL of

* ``forward_only`` and ``reversed_only``: one direction for every block;
* ``mixture``: ``-log(½ p_→ + ½ p_←)``, the ``cross_both_directions`` model;
* ``better_direction_per_block``: ``-max(log p_→, log p_←)``, what a gate that knew each block's
  direction would reach (not a distribution: a bound on what choosing the direction could gain).

And ``forward_responsibility``: the shares of blocks whose posterior weight of the forward direction,
``p_→ / (p_→ + p_←)``, is below 0.1 and above 0.9 (decisive blocks, where the mixture pays about
``log 2``), and ``theta_rank_correlation_agrees``: among blocks with ``|log p_→ - log p_←| > 1``, the
share where the sign of the correlation between the row place and the column place of the pairs,
weighted by ``softmax(θ)`` over the block, agrees with the better direction (0.5: no information;
far from 0.5 either way: the pair scores tell the direction).
"""

from __future__ import annotations

import math

import torch
from _higen_diagnostic import emit, model_parser, model_split


def _theta_rank_correlation(blocks) -> torch.Tensor:
    """Per block, the ``softmax(θ)``-weighted correlation of the pairs' row and column places."""
    b, size_i, size_j = blocks.shape
    theta = torch.where(blocks.valid, blocks.theta, torch.full_like(blocks.theta, -1e30))
    w = torch.softmax(theta.reshape(b, -1), 1).reshape(b, size_i, size_j)
    a = torch.arange(size_i, dtype=w.dtype).view(1, -1, 1)
    c = torch.arange(size_j, dtype=w.dtype).view(1, 1, -1)
    da = a - (w * a).sum((1, 2), keepdim=True)
    dc = c - (w * c).sum((1, 2), keepdim=True)
    cov = (w * da * dc).sum((1, 2))
    return cov / ((w * da**2).sum((1, 2)).sqrt() * (w * dc**2).sum((1, 2)).sqrt() + 1e-12)


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from graphgen.models.higen import HiGen
    from graphgen.models.higen.block_sequence import (
        block_groups,
        block_targets,
        direction_log_likelihoods,
        padded_blocks,
    )
    from graphgen.models.higen.boundary_walk import community_positions

    model = HiGen.from_pretrained(args.model).eval()
    net = model.bipartite_nets[-1] if len(model.bipartite_nets) else None
    if net is None or net.coordination is None:
        raise SystemExit("error: the model has no coordinated leaf blocks (cross_edges='coordinated', two levels)")
    val = model_split(args.model, args.dataset, "val")
    forward, backward, rho, edges = [], [], [], 0
    with torch.no_grad():
        for start in range(0, len(val), args.batch_size):
            prepared = model.prepare(val[start : start + args.batch_size])
            edges += prepared.num_edges
            h, (_, _, pairs) = prepared.hierarchy, prepared.levels[-1]
            level, parent = h.levels[-1], h.assignments[-1]
            logits = net(level, parent, pairs).double()
            position = community_positions(level.edge_index, parent, net.config.order)
            for _, keep, sub in block_groups(pairs):
                blocks = padded_blocks(logits[keep], sub, level.edge_index, parent, position)
                fw, bw = direction_log_likelihoods(blocks, block_targets(blocks, sub), net.coordination)
                forward.append(fw)
                backward.append(bw)
                rho.append(_theta_rank_correlation(blocks))
    fw, bw, rho = torch.cat(forward), torch.cat(backward), torch.cat(rho)
    mixture = torch.logaddexp(fw, bw) - math.log(2.0)
    responsibility = torch.sigmoid(fw - bw)
    decisive = (fw - bw).abs() > 1

    def per_edge(lp: torch.Tensor) -> float:
        return round(float(-lp.sum()) / edges, 4)

    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:val",
        "pair_order": net.config.order,
        "trained_with_both_directions": net.config.both_directions,
        "blocks": int(fw.numel()),
        "edges": edges,
        "leaf_cross_nll_per_edge": {
            "forward_only": per_edge(fw),
            "reversed_only": per_edge(bw),
            "mixture": per_edge(mixture),
            "better_direction_per_block": per_edge(torch.maximum(fw, bw)),
        },
        "forward_responsibility": {
            "below_0.1": round(float((responsibility < 0.1).double().mean()), 3),
            "above_0.9": round(float((responsibility > 0.9).double().mean()), 3),
        },
        "theta_rank_correlation_agrees": {
            "decisive_blocks": int(decisive.sum()),
            "share": round(float(((rho[decisive] > 0) == (fw[decisive] > bw[decisive])).double().mean()), 3),
        },
        "command": f"python metrics/scripts/higen_block_directions.py {args.model} {args.dataset} --batch-size "
        f"{args.batch_size}" + (f" --json {args.json}" if args.json else ""),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
