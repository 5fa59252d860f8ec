"""Valuation benchmark: speed at 1,000 vs 1,000 graphs, exactness of the fast solvers, usefulness.

Three parts, all in one run:

* **speed**: a buyer and a seller of 1,000 graphs each (about 50 nodes: 3-block SBMs vs
  Erdos-Renyi graphs of the same size), valued end to end by
  :func:`graphgen.valuation.value_sellers` with the sliced and the Sinkhorn solver (goal: under
  10 s on the 2-core development machine);
* **solvers against exact OT**: on 50 vs 50 graphs of seven seller families, the exact
  (``emd``) structural disparity beside the Sinkhorn and sliced values, their time ratios and the
  Spearman agreement of the rankings they induce (the baseline measured in the same run);
* **usefulness**: contextual SBMs (:mod:`graphgen.valuation.synthetic`); the buyer holds classes
  0-4; 16 sellers differ in class subset, homophily, feature shift and feature noise. A seller's
  utility is the node-classification accuracy, on held-out buyer-distribution graphs, of a
  classifier trained on the seller's data alone (SGC features ``A_hat^2 X`` with
  ``A_hat = D^{-1/2} (A + I) D^{-1/2}``, then a ridge classifier on one-hot labels; Lu et al.'s
  "seller alone" utility). We report Spearman's rho between utility and relevance ``R``,
  ``-S``, diversity ``D`` and the featural value, a 95 % bootstrap interval over sellers, and
  the distribution of rho for random scores.
"""

from __future__ import annotations

import time

import numpy as np

from graphgen.bench.record import provenance

# (name, contextual_sbm keyword overrides) of the usefulness sellers; the buyer is classes 0-4
USEFULNESS_SELLERS = {
    "classes 0-4": {},
    "classes 1-5": {"classes": range(1, 6)},
    "classes 2-6": {"classes": range(2, 7)},
    "classes 3-7": {"classes": range(3, 8)},
    "classes 5-9": {"classes": range(5, 10)},
    "classes 0-9": {"classes": range(10)},
    "classes 0-2": {"classes": range(3)},
    "classes 0-1": {"classes": range(2)},
    "no homophily": {"p_in": 0.056, "p_out": 0.056},
    "weak homophily": {"p_in": 0.1, "p_out": 0.04},
    "denser": {"p_in": 0.4, "p_out": 0.04},
    "shift 0.5": {"feature_shift": 0.5},
    "shift 1.5": {"feature_shift": 1.5},
    "noise 1.5": {"noise": 1.5},
    "noise 3.0": {"noise": 3.0},
    "weak signal": {"signal": 0.5},
}
# the world of the experiment: class means of norm SIGNAL, isotropic feature noise NOISE
WORLD = {"signal": 2.0, "noise": 0.5}
BUYER_CLASSES = range(5)


def _sgc_features(graphs, hops: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Stacked ``A_hat^hops X`` and labels of every node of ``graphs``."""
    from graphgen.valuation.structural import block_adjacency

    adj, _ = block_adjacency(graphs)
    import scipy.sparse as sp

    a = adj + sp.eye(adj.shape[0])
    d = np.asarray(a.sum(axis=1)).ravel() ** -0.5
    a_hat = sp.diags(d) @ a @ sp.diags(d)
    x = np.concatenate([g.x.numpy().astype(np.float64) for g in graphs])
    for _ in range(hops):
        x = a_hat @ x
    return x, np.concatenate([g.y.numpy() for g in graphs])


def _ridge_accuracy(train_graphs, test_graphs, num_classes: int = 10, ridge: float = 1e-1) -> float:
    x, y = _sgc_features(train_graphs)
    xt, yt = _sgc_features(test_graphs)
    x1, xt1 = np.hstack([x, np.ones((x.shape[0], 1))]), np.hstack([xt, np.ones((xt.shape[0], 1))])
    targets = np.eye(num_classes)[y]
    w = np.linalg.solve(x1.T @ x1 + ridge * np.eye(x1.shape[1]), x1.T @ targets)
    return float(np.mean(np.argmax(xt1 @ w, axis=1) == yt))


def _spearman_with_ci(scores: np.ndarray, utility: np.ndarray, rng: np.random.Generator, boots: int = 2000) -> dict:
    from scipy.stats import spearmanr

    rho = float(spearmanr(scores, utility).statistic)
    draws = []
    for _ in range(boots):
        idx = rng.integers(0, len(scores), len(scores))
        if np.ptp(scores[idx]) == 0 or np.ptp(utility[idx]) == 0:
            continue
        draws.append(spearmanr(scores[idx], utility[idx]).statistic)
    lo, hi = np.nanpercentile(draws, [2.5, 97.5])
    return {"rho": rho, "ci95": [float(lo), float(hi)]}


def usefulness(*, num_graphs: int = 20, num_nodes: int = 50, seed: int = 0) -> dict:
    """The usefulness experiment of the module docstring for one seed."""
    from scipy.stats import spearmanr

    from graphgen.valuation import contextual_sbm, value_sellers

    buyer = contextual_sbm(num_graphs, classes=BUYER_CLASSES, num_nodes=num_nodes, seed=10_000 * seed + 1, **WORLD)
    buyer_test = contextual_sbm(num_graphs, classes=BUYER_CLASSES, num_nodes=num_nodes, seed=10_000 * seed + 2, **WORLD)
    sellers = {}
    for i, (name, overrides) in enumerate(USEFULNESS_SELLERS.items()):
        params = {"classes": BUYER_CLASSES, **WORLD, **overrides}
        sellers[name] = contextual_sbm(num_graphs, num_nodes=num_nodes, seed=10_000 * seed + 100 + i, **params)
    rows = {r.seller: r for r in value_sellers(buyer, sellers, seed=seed)}
    names = list(sellers)
    utility = np.array([_ridge_accuracy(sellers[n], buyer_test) for n in names])
    utility_with_buyer = np.array([_ridge_accuracy(buyer + sellers[n], buyer_test) for n in names])
    scores = {
        "relevance": np.array([rows[n].relevance for n in names]),
        "-structural_disparity": -np.array([rows[n].structural_disparity for n in names]),
        "diversity": np.array([rows[n].diversity for n in names]),
        "featural_value": np.array([rows[n].featural_value for n in names]),
    }
    rng = np.random.default_rng(seed)
    correlations = {k: _spearman_with_ci(v, utility, rng) for k, v in scores.items()}
    correlations_with_buyer = {k: _spearman_with_ci(v, utility_with_buyer, rng) for k, v in scores.items()}
    random_rhos = [float(spearmanr(rng.permutation(len(names)), utility).statistic) for _ in range(1000)]
    return {
        "seed": seed,
        "sellers": [
            {"seller": n, "utility_seller_alone": float(u), "utility_buyer_and_seller": float(ub), **rows[n].to_dict()}
            for n, u, ub in zip(names, utility, utility_with_buyer)
        ],
        "spearman": correlations,
        "spearman_buyer_and_seller": correlations_with_buyer,
        "random_score_rho": {
            "mean": float(np.mean(random_rhos)),
            "std": float(np.std(random_rhos)),
            "p95_abs": float(np.percentile(np.abs(random_rhos), 95)),
        },
    }


def _score(row: dict, key: str) -> float:
    return -row["structural_disparity"] if key == "-structural_disparity" else row[key]


def _families(count: int, seed: int, num_nodes: int = 51) -> dict:
    """Seller families of about ``num_nodes`` nodes for the speed and solver parts."""
    from graphgen.datasets import generate

    block = num_nodes // 3
    sbm = dict(min_communities=3, max_communities=3, min_size=block, max_size=block, p_in=0.3, p_out=0.02)
    return {
        "sbm": lambda s: generate("sbm", count, seed=s, **sbm),
        "er 0.08": lambda s: generate("erdos_renyi", count, seed=s, num_nodes=num_nodes, p=0.08),
        "er 0.15": lambda s: generate("erdos_renyi", count, seed=s, num_nodes=num_nodes, p=0.15),
        "er 0.11": lambda s: generate("erdos_renyi", count, seed=s, num_nodes=num_nodes, p=0.11),
        "ba 3": lambda s: generate("barabasi_albert", count, seed=s, num_nodes=num_nodes, m=3),
        "ba 2": lambda s: generate("barabasi_albert", count, seed=s, num_nodes=num_nodes, m=2),
        "sbm 4 blocks": lambda s: generate(
            "sbm",
            count,
            seed=s,
            **{
                **sbm,
                "min_communities": 4,
                "max_communities": 4,
                "min_size": num_nodes // 4,
                "max_size": num_nodes // 4,
            },
        ),
    }


def run(quick: bool = False, seeds: int = 3) -> dict:
    from scipy.stats import spearmanr

    from graphgen.valuation import structural_disparity, value_sellers

    count = 200 if quick else 1000
    fam = _families(count, 0)
    buyer, seller = fam["sbm"](1), fam["er 0.08"](2)
    speed = {}
    for method in ("sliced", "sinkhorn"):
        start = time.perf_counter()
        rows = value_sellers(buyer, {"er": seller}, method=method)
        speed[method] = {"seconds": time.perf_counter() - start, "row": rows[0].to_dict()}

    small = 20 if quick else 50
    fam_small = _families(small, 0)
    buyer_small = fam_small["sbm"](11)
    sellers_small = {name: make(20 + i) for i, (name, make) in enumerate(fam_small.items())}
    solvers = {}
    for method in ("emd", "sinkhorn", "sliced"):
        start = time.perf_counter()
        values = {n: structural_disparity(buyer_small, g, method=method) for n, g in sellers_small.items()}
        solvers[method] = {"seconds": time.perf_counter() - start, "values": values}
    exact = [solvers["emd"]["values"][n] for n in sellers_small]
    for method in ("sinkhorn", "sliced"):
        approx = [solvers[method]["values"][n] for n in sellers_small]
        solvers[method]["spearman_vs_emd"] = float(spearmanr(exact, approx).statistic)
        solvers[method]["speedup_vs_emd"] = solvers["emd"]["seconds"] / solvers[method]["seconds"]

    use = [usefulness(seed=s, num_graphs=10 if quick else 20) for s in range(1 if quick else seeds)]
    summary = {}
    rng = np.random.default_rng(0)
    for utility_key, corr_key in (
        ("utility_seller_alone", "spearman"),
        ("utility_buyer_and_seller", "spearman_buyer_and_seller"),
    ):
        utility = np.array([row[utility_key] for u in use for row in u["sellers"]])
        block = {}
        for key in use[0][corr_key]:
            rhos = [u[corr_key][key]["rho"] for u in use]
            score = np.array([_score(row, key) for u in use for row in u["sellers"]])
            block[key] = {
                "mean_rho": float(np.mean(rhos)),
                "std_rho": float(np.std(rhos)),
                "per_seed": rhos,
                "pooled_over_seeds": _spearman_with_ci(score, utility, rng),
            }
        summary[utility_key] = block
    return {
        **provenance("graphgen bench valuation" + (" --quick" if quick else "")),
        "benchmark": "valuation",
        "speed": {"graphs": [count, count], "nodes_per_graph": 51, "methods": speed, "goal_seconds": 10.0},
        "solvers": {"graphs": [small, small], "families": list(sellers_small), "methods": solvers},
        "usefulness": {"runs": use, "summary": summary},
    }
