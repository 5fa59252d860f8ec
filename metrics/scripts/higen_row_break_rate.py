"""How often a HiGen leaf row breaks its community's planarity: on real prefixes against the model's own.

    python metrics/scripts/higen_row_break_rate.py MODEL DATASET [--draws 10] [--seeds 2]
        [--temperature 1] [--json OUT]

A test of exposure bias. The community network is trained on the prefixes of real communities
(teacher forcing) and samples on its own. Each leaf row (one new node and its edges to the earlier
nodes of its community) is drawn ``--draws`` times from the model, with the same code as
``HiGen.sample`` (``HiGen._draw_rows``, at ``--temperature``), at two kinds of prefix:

* ``real_prefixes``: every row of the model's ordered hierarchy of the test graphs, its prefix
  being the real community's earlier nodes and edges;
* ``own_prefixes``: every row of the communities that the model samples (seeds ``0..--seeds-1``)
  on the test graphs' real coarse graphs, whose prefix is still planar -- the prefixes the sampler
  actually met.

A drawn row *breaks* its prefix when the prefix plus the new node and its drawn edges is not
planar; it *opens a gap* when a *disc-like* prefix (every prefix node has at most one neighbour more
than triangles, ``d(j) - T(j) <= 1``, as in a triangulated disc grown node by node; all but 40 of
the 2,172 real planar prefixes of rows ``t >= 4``) is no longer disc-like with it. Reported per kind
of prefix, over its rows ``t >= 4`` (fewer than five nodes cannot be non-planar):

* ``all``: the rows and the break rate over rows and draws; the same by the row's place in its
  community (``place_P``, tenths ``floor(10 t / n)``), for the community's last row (``last_row``),
  and by whether the prefix is disc-like (``disc_like`` / ``not_disc_like``);
* ``drawn_edges_E`` (``E`` = 6 stands for 6 or more) and ``drawn_last`` / ``drawn_not_last``, also
  crossed (``drawn_last_edges_E``): the break rate of the draws by the number of edges the drawn row
  holds and by whether it takes all the budget left (a stop, or a mass that spends it), over draws;
* ``gap_rate``: the share of draws at disc-like prefixes that open a gap, and ``next_row_gap_rate``
  the same for the row the hierarchy itself holds next (the data's; the sampler's own);
* ``planar_communities``: the share of the communities (real, or sampled) that are planar, and for
  real prefixes ``predicted_planar_communities``: the mean over communities of
  ``prod_t (1 - break rate of row t)``, what the per-row rates alone would leave planar.

How to read it: if the rates at own prefixes are about those at real ones, each row errs on its own
and the fix lies in the row distribution; if they are much higher, errors compound (exposure bias).
Two-level models only.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import networkx as nx
import torch
from _higen_diagnostic import (
    command,
    emit,
    model_parser,
    model_split,
    real_communities,
    sample_leaf_level,
    two_level_model,
)
from torch_geometric.data import Data

from graphgen.models.higen import HiGen
from graphgen.models.higen.model import Draws

MIN_POSITION = 4  # a row joins a prefix of t nodes; fewer than 5 nodes are always planar


def _prefix_graphs(rows) -> dict[int, list[tuple[int, int]]]:
    """Each community's real edges ``(t, j)`` (row ``t`` joins earlier node ``j``), by community."""
    edges = defaultdict(list)
    hit = rows.entry_count > 0
    for r, j in zip(rows.entry_row[hit].tolist(), rows.entry_node[hit].tolist()):
        edges[int(rows.community[r])].append((int(rows.position[r]), j))
    return edges


def _disc_like(prefix: nx.Graph) -> bool:
    triangles = nx.triangles(prefix)
    return all(prefix.degree(j) - triangles[j] <= 1 for j in prefix)


def community_rows_outcomes(n: int, edges, drawn, planar_prefix_only: bool):
    """The rows ``t >= MIN_POSITION`` of one community of ``n`` nodes whose real (or sampled) edges are
    ``edges`` (pairs ``(t, j)``, row ``t`` joining earlier node ``j``), each with its draws ``drawn[t]``
    (a list of ``(joined earlier nodes, drawn row mass + reservation, takes all the remaining
    budget)``): one dict per row, ``t``, ``disc_like`` (its prefix), ``broke`` and ``gap`` per draw
    (``gap``: a disc-like prefix is left not disc-like; ``None`` at other prefixes), the draws'
    ``edges`` and ``last`` flags, and ``next_gap``, the same for the community's own row ``t``.
    With ``planar_prefix_only`` the rows stop at the first non-planar prefix."""
    prefix = nx.Graph()
    out = []
    for t in range(n):
        if t:
            prefix.add_node(t - 1)
            prefix.add_edges_from((a, b) for a, b in edges if a == t - 1)
        if t < MIN_POSITION:
            continue
        if planar_prefix_only and not nx.check_planarity(prefix)[0]:
            break
        disc = _disc_like(prefix)
        prefix.add_node(t)
        broke, gap = [], []
        for joined, _, _ in drawn[t]:
            prefix.add_edges_from((t, j) for j in joined)
            broke.append(not nx.check_planarity(prefix)[0])
            gap.append(not _disc_like(prefix) if disc else None)
            prefix.remove_edges_from(list(prefix.edges(t)))
        prefix.add_edges_from((a, b) for a, b in edges if a == t)
        next_gap = not _disc_like(prefix) if disc else None
        prefix.remove_node(t)
        out.append(
            {
                "t": t,
                "disc_like": disc,
                "broke": broke,
                "gap": gap,
                "edges": [e for _, e, _ in drawn[t]],
                "last": [last for _, _, last in drawn[t]],
                "next_gap": next_gap,
            }
        )
    return out


def summarise(communities: list[tuple[int, list, list]], planar_prefix_only: bool) -> dict:
    """The statistics of the module docstring over communities ``(n, edges, outcomes)``, ``outcomes``
    from :func:`community_rows_outcomes`."""
    tally = defaultdict(lambda: [0, 0])  # key -> [breaks, draws]
    gaps, next_gaps = [0, 0], [0, 0]
    predicted, planar = [], 0
    for n, edges, outcomes in communities:
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(edges)
        planar += nx.check_planarity(graph)[0]
        survive = 1.0
        for row in outcomes:
            t, broke = row["t"], row["broke"]
            keys = ["all", f"place_{10 * t // n}", "disc_like" if row["disc_like"] else "not_disc_like"]
            keys += ["last_row"] if t == n - 1 else []
            for key in keys:
                tally[key][0] += sum(broke)
                tally[key][1] += len(broke)
            for b, e, last in zip(broke, row["edges"], row["last"]):
                kind = "drawn_last" if last else "drawn_not_last"
                for key in (f"drawn_edges_{min(e, 6)}", kind, f"{kind}_edges_{min(e, 6)}"):
                    tally[key][0] += b
                    tally[key][1] += 1
            if row["disc_like"]:
                gaps[0] += sum(row["gap"])
                gaps[1] += len(row["gap"])
                next_gaps[0] += row["next_gap"]
                next_gaps[1] += 1
            survive *= 1 - sum(broke) / max(len(broke), 1)
        predicted.append(survive)
    draws = max((len(o[0]["broke"]) for _, _, o in communities if o), default=1)
    out = {
        "communities": len(communities),
        "planar_communities": round(planar / max(len(communities), 1), 4),
        "gap_rate": round(gaps[0] / max(gaps[1], 1), 5),
        "next_row_gap_rate": round(next_gaps[0] / max(next_gaps[1], 1), 5),
    }
    if not planar_prefix_only:  # own prefixes stop at their first non-planar one: no prediction there
        out["predicted_planar_communities"] = round(sum(predicted) / max(len(predicted), 1), 4)
    for key, (b, d) in sorted(tally.items()):
        count = {"draws": d} if key.startswith("drawn") else {"rows": d // draws}
        out[key] = {**count, "break_rate": round(b / d, 5)}
    return out


def break_rates(model: HiGen, h, sizes: torch.Tensor, draws: int, temperature: float, planar_prefix_only: bool):
    """The break statistics (module docstring) of every leaf row of the ordered hierarchy ``h``."""
    lv = model.config.num_levels
    rows, pb = model.teacher_forced_rows(h, lv, sizes)
    net = model.community_nets[lv - 1]
    simple = model.config.leaf_rows == "conditional_bernoulli"
    size = rows.size if model.config.given_size(lv) else None
    with torch.no_grad():
        outputs = net(pb)
        drawn = []
        for d in range(draws):
            gen = Draws(torch.Generator().manual_seed(d), temperature=temperature)
            mass, _, counts = model._draw_rows(
                outputs, rows.position, rows.reserved, rows.remaining, True, simple, gen, size
            )
            drawn.append((counts, mass + rows.reserved))
    real = _prefix_graphs(rows)
    entry_start = (torch.cumsum(rows.position, 0) - rows.position).tolist()
    members = defaultdict(list)
    for r, c in enumerate(rows.community.tolist()):
        members[c].append(r)
    communities = []
    for c, rs in members.items():
        per_row = {}
        for r in rs:
            t, start, left = int(rows.position[r]), entry_start[r], int(rows.remaining[r]) + 1
            per_row[t] = [
                ((counts[start : start + t] > 0).nonzero().flatten().tolist(), int(take[r]), int(take[r]) == left)
                for counts, take in drawn
            ]
        edges = sorted(real[c])
        communities.append((len(rs), edges, community_rows_outcomes(len(rs), edges, per_row, planar_prefix_only)))
    return summarise(communities, planar_prefix_only)


def sampled_hierarchy(model: HiGen, h, graphs, seed: int, temperature: float):
    """``h`` with its leaf level replaced by the communities ``model`` samples on its real coarse graphs."""
    sizes, edge_index, parent = sample_leaf_level(model, h, graphs, seed, temperature=temperature)
    n = int(sizes.sum())
    inside = parent[edge_index[0]] == parent[edge_index[1]]
    leaf = Data(
        edge_index=edge_index[:, inside],
        edge_weight=torch.ones(int(inside.sum()), dtype=torch.long),
        num_nodes=n,
        batch=torch.repeat_interleave(torch.arange(len(graphs)), sizes),
    )
    return dataclasses.replace(h, levels=[*h.levels[:-1], leaf], assignments=[*h.assignments[:-1], parent])


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args()
    model = two_level_model(args.model)
    test = model_split(args.model, args.dataset, "test")
    h, _ = real_communities(model, test)
    sizes = torch.bincount(h.levels[-1].batch, minlength=len(test))
    result = {
        "model": args.model,
        "dataset": f"{args.dataset}:test ({len(test)} graphs)",
        "draws_per_row": args.draws,
        "temperature": args.temperature,
        "real_prefixes": break_rates(model, h, sizes, args.draws, args.temperature, False),
    }
    print("real", result["real_prefixes"], flush=True)
    own = {}
    for seed in range(args.seeds):
        hs = sampled_hierarchy(model, h, test, seed, args.temperature)
        own[f"seed_{seed}"] = break_rates(model, hs, sizes, args.draws, args.temperature, True)
        print(seed, own[f"seed_{seed}"], flush=True)
    result["own_prefixes"] = own
    result["command"] = command("higen_row_break_rate.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    main()
