"""How well does an explicit-size HiGen model's size head predict its leaf communities' node counts?

``python metrics/scripts/higen_size_head.py MODEL DATASET [--hierarchies 4] [--steps 1500] [--json OUT]``

The size term ``-log p(N_c | W_c, ...)`` of the training loss has parameters of its own (the size
head reads the context, never the row network), so it can be fitted alone. This script reports, in
nats per community, on the training graphs (their Louvain hierarchy with the model's
``partition_seed``) and on the test graphs:

* ``model``: the NLL of the model's own size head;
* ``fitted_alone``: the NLL of a size head of the same architecture (``K`` components, power
  binomials when the model has ``size_concentration``) fitted alone by full-batch Adam (lr 0.01,
  ``--steps`` steps, seeds 0 and 1) on the training graphs' hierarchies with the Louvain seeds
  ``partition_seed + 0 .. hierarchies - 1`` (as ``--hierarchies`` trains), with the inputs
  ``[W, parent degree, |V|]`` (what the head sees without ``size_share``) and with the node share
  ``σ_c`` added (:func:`graphgen.models.higen.community_net.community_node_share`).
"""

from __future__ import annotations

import torch
from _higen_diagnostic import emit, explicit_size_model, model_parser, model_split

from graphgen.data.ops import self_loop_weights
from graphgen.models import HiGen
from graphgen.models.higen.community_net import _concentration, _mlp, size_head_context
from graphgen.models.higen.model import _cross_degree, _without_isolated_nodes
from graphgen.models.higen.stick_breaking import community_size_log_prob


def size_table(model: HiGen, graphs, seed: int) -> dict[str, torch.Tensor]:
    """Per leaf community of the hierarchy with Louvain seed ``seed``: node count ``N``, budget ``W``,
    parent degree ``D``, graph size ``V`` and node share ``share``."""
    graphs = [_without_isolated_nodes(g) for g in graphs]
    h = model._hierarchy(graphs, seed)
    lv = model.config.num_levels
    parent = h.levels[lv - 1]
    n_parent = int(parent.num_nodes)
    budget = self_loop_weights(parent.edge_index, parent.edge_weight, n_parent)
    return {
        "N": torch.bincount(h.assignments[lv - 1], minlength=n_parent).double(),
        "W": budget.double(),
        "D": _cross_degree(parent.edge_index, parent.edge_weight, n_parent).double(),
        "V": torch.tensor([float(g.num_nodes) for g in graphs])[parent.batch].double(),
        "share": HiGen._node_share(h, lv),
    }


def _nll(size_probs, t: dict[str, torch.Tensor]) -> float:
    return float(-community_size_log_prob(t["N"], t["W"], *size_probs).mean())


def model_nll(model: HiGen, t: dict[str, torch.Tensor]) -> float:
    net = model.community_nets[-1]
    context = size_head_context(t["W"], t["D"], t["V"])
    with torch.no_grad():
        return _nll(net.size_distribution(context, t["share"] if net.config.size_share else None), t)


def fit_alone(model: HiGen, train: dict, evaluate: dict[str, dict], with_share: bool, seed: int, steps: int) -> dict:
    """NLL per community of a size head fitted alone on ``train`` (see the module docstring)."""
    c = model.community_nets[-1].config
    k = c.num_mixtures
    torch.manual_seed(seed)
    columns = ["W", "D", "V"] + (["share"] if with_share else [])
    head = _mlp(len(columns), c.hidden, (3 if c.size_concentration else 2) * k)

    def probs(t):
        out = head(torch.log1p(torch.stack([t[name].float() for name in columns], 1))).double()
        nu = _concentration(out[:, 2 * k :]) if c.size_concentration else None
        return torch.log_softmax(out[:, :k], 1), torch.sigmoid(out[:, k : 2 * k]), nu

    optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = -community_size_log_prob(train["N"], train["W"], *probs(train)).mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return {name: round(_nll(probs(t), t), 4) for name, t in evaluate.items()}


def main() -> None:
    parser = model_parser(__doc__, "shipped model name or checkpoint path (explicit community sizes)")
    parser.add_argument("--hierarchies", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = explicit_size_model(args.model)
    train_graphs, test_graphs = (
        model_split(args.model, args.dataset, "train"),
        model_split(args.model, args.dataset, "test"),
    )
    seed0 = model.config.partition_seed
    variants = [size_table(model, train_graphs, seed0 + v) for v in range(args.hierarchies)]
    fit_on = {key: torch.cat([t[key] for t in variants]) for key in variants[0]}
    evaluate = {"train": variants[0], "test": size_table(model, test_graphs, seed0)}
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "unit": "nats per leaf community",
        "communities": {name: int(t["N"].numel()) for name, t in evaluate.items()},
        "model_size_head": {name: round(model_nll(model, t), 4) for name, t in evaluate.items()},
        "fitted_alone": {
            label: [fit_alone(model, fit_on, evaluate, share, seed, args.steps) for seed in (0, 1)]
            for label, share in (("W_D_V", False), ("W_D_V_share", True))
        },
        "command": f"python metrics/scripts/higen_size_head.py {args.model} {args.dataset}"
        f" --hierarchies {args.hierarchies} --steps {args.steps}" + (f" --json {args.json}" if args.json else ""),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
