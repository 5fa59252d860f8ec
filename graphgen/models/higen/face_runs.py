"""A growing community's planar embedding, kept as face walks, and leaf rows as runs along a face.

The run-rows decoding (:mod:`graphgen.models.higen.row_runs`) joins a new node to a run of the
prefix's *border cycle* as the ``T <= 1`` border walk reads it. That walk cannot see the outer
triangle of a K4 (every edge of a K4 lies on two triangles), and a run of the outer border never
closes a separating triangle, which planar's communities hold (3.8 % of their nodes lie on more
triangles than they have community neighbours; session 35). This module keeps instead the
embedding that the rows themselves build.

**Faces.** A plane embedding of a connected graph is described by its faces, each a closed walk of
places ``F = (f_0, ..., f_{L-1})`` read cyclically (consecutive places are joined by an edge; a
node may appear more than once on a walk, e.g. the centre of a star). A single node is the face
``(0,)``.

**Runs.** A row of ``w >= 1`` edges is a run of face ``F`` at start ``s`` when it joins the new node
``v`` to ``r_q = f_{(s+q) mod L}``, ``q = 0..w-1``, and these ``w`` nodes are distinct. Drawing
``v`` inside ``F`` and joining it to a run keeps the embedding plane; the face ``F`` becomes

    F' = (r_{w-1}, f_{s+w}, ..., f_{s+L-1}, r_0, v)                (the rest of F, then v)

and ``w - 1`` new triangles ``(r_q, r_{q+1}, v)``, ``q = 0..w-2``, are added (for ``w = 1``: ``F' =
(r_0, f_{s+1}, ..., f_{s+L-1}, r_0, v)``, a pendant; a single-node face ``(a,)`` becomes ``(a, v)``).
Euler's formula ``V - E + F = 2`` is kept (tested).

**Placements and the draw.** A placement is a pair (face, start) whose run is distinct; the same
node set may have several (an edge lies on two faces; a whole simple face of ``L`` nodes has ``L``
starts), which differ in the faces they leave. The face-run decoding (``Draws.face_rows``) draws,
for a row of ``w`` edges with scores ``θ_j`` of its component, a **node set** ``Y`` among the sets
``R_w`` that are runs of some face,

    P(Y | w) = exp(Σ_{j ∈ Y} θ_j) / Σ_{Y' ∈ R_w} exp(Σ_{j ∈ Y'} θ_j),

the conditional Bernoulli restricted to ``R_w`` (each set once, however many placements it has:
counted per placement, every inner edge and inner triangle would weigh twice or three times an outer
run, and a first, unrecorded try that did so put most rows inside the community), then one of its
placements uniformly, among those on face 0 when it has any (:func:`row_options`). A row with no run
of its size (``w`` larger than every face's distinct run, or ``w = 0``) is drawn from the plain
conditional Bernoulli, after which the community's embedding is lost and its later rows are plain
too (counted by the sampler). Every community whose rows all were runs is planar by construction.

**Measured (session 36; planar, the two seven-layer strip models of session 34, each at its
validation temperature 0.7).** In the data 99.1 % of the leaf rows ``t >= 2`` are runs along a face of
the embedding that the community's planar embedding induces on the prefix (test 2,344 of 2,366; all
rows of two edges), against 95 % along the border cycle (``face_runs`` in
``higen-face-rows-structure-planar-7-layers-strips-seed-*.json``). Under the decoding 99.6-100 % of
the sampled communities are planar, and 3.1-4.2 % of their nodes lie on more triangles than they have
community neighbours (the data's 3.8 %; run rows 1.1-1.2 %, plain 1.8-2.9 %): the separating
triangles are back. On the test split (10 seeds, ``higen-planar-strips-face-rows/``,
``higen-planar-7-layers-strips-face-rows-seed-0/``) V.U.N. rises from 25 / 21 % to 47 / 58 % with the
MMDs within the retraining noise (clustering 0.063 / 0.059 against 0.060 / 0.059). Communities keep
face 0 as their outer face (a new node placed on face 0 stays on it, module docstring), and the strip
cross edges run along it (:func:`outer_border`) instead of the border walk's cycle. Unlike the
border-walk runs, the likelihood wants face runs: each leaf row as ``π p_face + (1 - π) p_cb`` with
the models' scores fixed lowers the validation NLL by 0.0051 / 0.0077 nats per edge at ``π = 0.73``
(``higen-face-share-scan-planar-7-layers-strips-seed-*.json``).

**The model option** (``HiGenConfig.row_faces``, conditional-Bernoulli leaf rows without
coordination, not with ``row_runs``). In component ``k`` a leaf row of ``w`` edges with node sets
``R_w`` (the sets that run along a face, as above) is the mixture

    p_k(Y | w) = π p_face^k(Y | w) + (1 - π) p_cb^k(Y | w),
    p_face^k(Y | w) = [Y ∈ R_w] exp(Σ_{j ∈ Y} θ^k_j) / Σ_{Y' ∈ R_w} exp(Σ_{j ∈ Y'} θ^k_j),

``π = σ(g(log1p [w, |R_w|, t]))`` (``g``: the MLP of :func:`~graphgen.models.higen.row_runs.run_share_net`,
zero at initialisation; ``π = 0`` when ``R_w`` is empty), both terms distributions over the
``w``-subsets of ``0..t-1`` (tested by enumeration). **Training** reads ``R_w`` from the data: the
faces that networkx's planar embedding of the whole community induces on the row's prefix
(:func:`data_face_sets`; a non-planar community's rows ``t >= 2`` have no sets). **Sampling** keeps
the embedding the rows build: a row is a face run with probability ``π``, drawn as in the decoding;
otherwise it is the conditional Bernoulli's draw, which keeps the embedding when its set is in
``R_w`` (placed as a face run would be) and loses it otherwise -- together a draw from the mixture
(:func:`sample_face_rows`; tested by frequencies). Choice written down: after a lost embedding the
community's later rows have no sets (``π = 0``), whereas in training the data's embedding always
gives them some; the sampler counts such communities (``face_rows_lost``): at τ = 0.7, 13-24 of
90-100 leaf communities per 40 samples on the two planar models of session 37 (the learned ``π`` is
0.64-0.66 on average over validation rows, and the conditional Bernoulli's share of draws off the
faces is what loses them). Re-embedding a community that stays planar (networkx's embedding of the
grown community, its longest face as outer face; commit c86a40f, reverted) cut that to 2-7 but moved
neither V.U.N. nor the MMDs beyond the sampling noise on validation
(``higen-temperature-planar-7-layers-strips-row-faces-reembed-seed-*.json``), so the sampler keeps
the simpler rule. The face-run decoding on such a model sets ``π = 1``. Measured (session 37, the
leaf networks of both strip models retrained so, ``higen-row-faces-refit-*``): validation NLL/edge
0.5400 / 0.5411 → 0.5336 / 0.5327; test split, 10 seeds, the model's own samples at τ = 0.7:
V.U.N. 42 / 38 % (the strip models: 21 / 25 %), orbit MMD lower, degree and spectral alike,
clustering 0.068 / 0.060 (0.059 / 0.060); shipped as ``higen-planar-faces``. Session 38: the rows
into a triangle (a set that fills a whole face) are 2.75 % of the data's rows and 2.0-2.2 % of these
models' at τ = 1 but 1.0-1.4 % at τ = 0.7, which is where the clustering MMD's missing nodes of
degree 3 go; a learned score for such sets, refitted, stays at 0 (probe reverted;
``higen-face-fills-*.json``).

Choices written down: a set's score does not depend on its face (on a sphere all faces are alike);
face 0, the walk the first node starts, is the one the sampler calls outer, and a set placed on it
keeps the new node there; a row of ``0`` edges on a later node (a disconnected community) loses the
embedding. Pure Python on lists, ``O(Σ_F L_F · w)`` per row.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = [
    "Faces",
    "placements",
    "place_row",
    "prefix_faces",
    "row_options",
    "data_face_sets",
    "pack_face_sets",
    "face_set_counts",
    "face_log_prob",
    "set_scores",
    "sample_face_rows",
    "outer_border",
]

Faces = list[list[int]]


def placements(faces: Faces, w: int) -> list[tuple[int, int, list[int]]]:
    """Every placement ``(face index, start, run nodes)`` of a row of ``w`` edges (module docstring),
    faces in order, starts increasing."""
    out = []
    if w < 1:
        return out
    for f, walk in enumerate(faces):
        n = len(walk)
        if w > n:
            continue
        for s in range(n):
            run = [walk[(s + q) % n] for q in range(w)]
            if len(set(run)) == w:
                out.append((f, s, run))
    return out


def place_row(faces: Faces, face: int, start: int, w: int, v: int) -> Faces:
    """The faces after joining the new node ``v`` to the run of ``w`` places of ``faces[face]`` from
    ``start`` (module docstring); ``faces`` is not changed."""
    walk = faces[face]
    n = len(walk)
    if not 1 <= w <= n:
        raise ValueError(f"a run of {w} places does not fit a face of {n}")
    run = [walk[(start + q) % n] for q in range(w)]
    if len(set(run)) != w:
        raise ValueError("a run must hold distinct nodes")
    if n == 1:
        rest = [walk[0], v]
    else:
        rest = [walk[(start + q) % n] for q in range(w - 1, n + 1)] + [v]
    triangles = [[run[q], run[q + 1], v] for q in range(w - 1)]
    return faces[:face] + [rest] + faces[face + 1 :] + triangles


def prefix_faces(rotation: dict[int, list[int]], nodes: set[int]) -> Faces:
    """The faces of the embedding that ``rotation`` (each node's neighbours in clockwise order, e.g.
    networkx's ``PlanarEmbedding.get_data()``) induces on ``nodes`` (a connected node set): every
    half-edge ``(u, x)`` is followed by ``(x, y)``, ``y`` the neighbour after ``u`` in ``x``'s
    rotation restricted to ``nodes``. A single node is the face ``(u,)``."""
    local = {u: [x for x in rotation.get(u, []) if x in nodes] for u in nodes}
    if all(not nbrs for nbrs in local.values()):
        return [[u] for u in sorted(nodes)]
    seen: set[tuple[int, int]] = set()
    faces: Faces = []
    for u in sorted(nodes):
        for x in local[u]:
            if (u, x) in seen:
                continue
            walk, a, b = [], u, x
            while (a, b) not in seen:
                seen.add((a, b))
                walk.append(a)
                around = local[b]
                a, b = b, around[(around.index(a) + 1) % len(around)]
            faces.append(walk)
    return faces


def row_options(faces: Faces, w: int) -> list[tuple[list[int], list[tuple[int, int]]]]:
    """The node sets a row of ``w`` edges may take, each a run along some face: ``(sorted nodes,
    its placements (face, start))``, the sets in order of their first placement; a set's placements
    on face 0 (the outer face, module docstring) come first."""
    sets: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for face, start, run in placements(faces, w):
        sets.setdefault(tuple(sorted(run)), []).append((face, start))
    return [(list(key), [p for p in where if p[0] == 0] or where) for key, where in sets.items()]


def data_face_sets(rows) -> list[list[tuple[int, ...]]]:
    """For every row of ``rows`` (a :class:`~graphgen.models.higen.rows.CommunityRows` holding all rows
    of its communities, in order), the node sets of its size that are runs along a face of the
    embedding that networkx's planar embedding of the whole community induces on the row's prefix
    (:func:`prefix_faces`, :func:`row_options`; teacher forcing of ``row_faces``): no sets for a first
    row, a row of no edges, or a row ``t >= 2`` of a non-planar community; a second row's only set is
    the first node."""
    import networkx as nx  # here, not at import: graphgen sample loads this module and never needs it (0.3 s)

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


def pack_face_sets(sets: list[list[tuple[int, ...]]]) -> torch.Tensor:
    """Rows' node sets (:func:`data_face_sets`) as one tensor ``(R, S, W)`` of local node ids, ``-1``
    where a row has fewer than ``S`` sets or a set fewer than ``W`` nodes."""
    width = max([len(x) for x in sets] + [1])
    w_max = max([len(x[0]) for x in sets if x] + [1])
    out = torch.full((len(sets), width, w_max), -1, dtype=torch.long)
    for i, row_sets in enumerate(sets):
        if row_sets:
            out[i, : len(row_sets), : len(row_sets[0])] = torch.tensor(row_sets, dtype=torch.long)
    return out


def face_set_counts(sets: torch.Tensor) -> torch.Tensor:
    """How many sets ``(R,)`` each row of :func:`pack_face_sets`' tensor holds."""
    return (sets[:, :, 0] >= 0).sum(1)


def face_log_prob(
    entry_logits: torch.Tensor, entry_count: torch.Tensor, entry_row: torch.Tensor, sets: torch.Tensor
) -> torch.Tensor:
    """``log p_face^k(Y | w)`` ``(R, K)`` of every row's edge set ``Y`` (entries with ``entry_count >
    0``; row ``i``'s entries are its earlier nodes ``0..t_i-1`` in order) under every component ``k``
    (``entry_logits`` ``(P, K)``): the conditional Bernoulli restricted to the row's sets ``sets[i]``
    (:func:`pack_face_sets`), ``Σ_{j ∈ Y} θ^k_j - log Σ_S exp(Σ_{j ∈ S} θ^k_j)`` when ``Y`` is one of
    them, ``-inf`` otherwise (and for rows without sets)."""
    r, k = sets.shape[0], entry_logits.shape[1]
    if entry_logits.shape[0] == 0:  # no row has earlier nodes: no sets either
        return entry_logits.new_full((r, k), float("-inf"))
    counts = torch.bincount(entry_row, minlength=r)
    offset = torch.cumsum(counts, 0) - counts
    denominator = torch.logsumexp(set_scores(entry_logits, offset, sets), 1)
    hit = entry_count > 0
    numerator = entry_logits.new_zeros((r, k)).index_add_(0, entry_row[hit], entry_logits[hit])
    size = torch.bincount(entry_row[hit], minlength=r).view(r, 1)
    chosen = set_scores(hit.double().unsqueeze(1), offset, sets)[:, :, 0]  # chosen nodes in each set
    is_set = ((chosen == size) & ((sets >= 0).sum(2) == size)).any(1)  # Y is one of the sets
    lp = numerator - denominator
    return torch.where(is_set.unsqueeze(1), lp, torch.full_like(lp, float("-inf")))


def set_scores(entry_logits: torch.Tensor, offset: torch.Tensor, sets: torch.Tensor) -> torch.Tensor:
    """``Σ_{j ∈ S} θ^k_j`` ``(R, S, K)`` of every set of every row (``entry_logits`` ``(P, K)``; row
    ``i``'s entries start at ``offset[i]``, one per earlier node in order; ``sets``:
    :func:`pack_face_sets`), ``-inf`` where a row has fewer sets."""
    r = sets.shape[0]
    member = sets >= 0
    index = (offset.view(r, 1, 1) + sets.clamp(min=0)).clamp(max=max(entry_logits.shape[0] - 1, 0))
    summed = torch.where(member.unsqueeze(-1), entry_logits[index], 0.0).sum(2)
    return torch.where(member[:, :, :1], summed, torch.full_like(summed, float("-inf")))


def sample_face_rows(
    chosen_logits: torch.Tensor,
    lengths: torch.Tensor,
    take: torch.Tensor,
    faces: list[Faces | None],
    draws,
    share: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Edges ``(P,)`` 0/1 of rows drawn together along faces: row ``i`` has ``lengths[i]`` consecutive
    entries of ``chosen_logits`` ``(P,)`` (its component's scores of the earlier nodes ``0..t_i-1``),
    takes ``take[i]`` of them and grows the community whose faces are ``faces[i]`` (``None``:
    embedding lost; replaced in place by the faces after the row).

    ``share=None`` (the face-run decoding, module docstring): a row with a run of its size draws a
    node set by the softmax of the set scores (``draws.categorical``, so a temperature applies), then
    one of the set's placements uniformly (those on the outer face if it has any); the other rows are
    drawn by ``draws.allocations`` and lose their embedding. ``share(take, sets, t)`` (``row_faces``
    models: the logit of ``π`` from the row's edge count, its number of sets and its position): a row
    with sets is first a face run with probability ``π`` (drawn by ``draws.categorical``), drawn as
    above, and otherwise a conditional Bernoulli, which keeps the embedding when the set it draws is
    one of the row's sets (then placed as above) and loses it otherwise: together a draw from
    ``π p_face + (1 - π) p_cb`` (:func:`face_log_prob`; tested by frequencies). ``draws``: the
    sampler's :class:`~graphgen.models.higen.model.Draws`."""
    r = lengths.numel()
    offset = torch.cumsum(lengths, 0) - lengths
    options = [row_options(f, int(w)) if f is not None else [] for f, w in zip(faces, take.tolist())]
    as_face = torch.tensor([bool(o) for o in options], dtype=torch.bool)
    if share is not None:
        pi = torch.sigmoid(share(take, torch.tensor([len(o) for o in options], dtype=torch.long), lengths).double())
        as_face &= draws.categorical(torch.stack([1 - pi, pi], 1)) == 1
    placed = as_face.nonzero().flatten().tolist()
    counts = torch.zeros(int(lengths.sum()), dtype=torch.long)
    if placed:
        sets = pack_face_sets([[tuple(nodes) for nodes, _ in options[i]] for i in placed])
        scores = set_scores(chosen_logits.double().unsqueeze(1), offset[placed], sets)[:, :, 0]
        pick = draws.categorical(torch.softmax(scores, 1)).tolist()
        for row, i in enumerate(placed):
            counts[torch.tensor(options[i][pick[row]][0]) + offset[i]] = 1
        _place(list(zip(placed, pick)), options, faces, lengths, draws)
    counts += draws.allocations(chosen_logits, lengths, torch.where(as_face, 0, take), True)
    kept = []  # row_faces: conditional-Bernoulli rows whose set is a run along a face
    if share is not None:
        for i in (~as_face).nonzero().flatten().tolist():
            drawn = (counts[int(offset[i]) : int(offset[i] + lengths[i])] > 0).nonzero().flatten().tolist()
            match = [k for k, (nodes, _) in enumerate(options[i]) if nodes == drawn]
            if match:
                kept.append((i, match[0]))
        _place(kept, options, faces, lengths, draws)
    for i in set(range(r)).difference(placed, (i for i, _ in kept)):
        faces[i] = None
    return counts


def _place(chosen: list[tuple[int, int]], options, faces: list[Faces | None], lengths: torch.Tensor, draws) -> None:
    """For each ``(row i, set k)`` of ``chosen``, one of the placements of ``options[i][k]`` drawn
    uniformly (``draws.categorical``, one call for all rows), and ``faces[i]`` replaced by the faces
    after joining the row's new node ``lengths[i]`` to it."""
    if not chosen:
        return
    ways = torch.zeros((len(chosen), max(len(options[i][k][1]) for i, k in chosen)))
    for row, (i, k) in enumerate(chosen):
        ways[row, : len(options[i][k][1])] = 1.0
    way = draws.categorical(ways).tolist()
    for row, (i, k) in enumerate(chosen):
        nodes, where = options[i][k]
        face, start = where[way[row]]
        faces[i] = place_row(faces[i], face, start, len(nodes), int(lengths[i]))


def outer_border(
    faces: dict[int, Faces | None], starts: torch.Tensor, place: torch.Tensor, length: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The border cycles of a level's communities with the outer face where the face-run decoding
    kept one: ``(place, length)`` as :func:`~graphgen.models.higen.boundary_walk.border_cycles`
    returns them (its ``place``/``length`` are the fallback, for communities whose embedding was
    lost), except that community ``c`` with faces ``faces[c]`` has its face 0 as border cycle, nodes
    in the order of their first place on the walk (``starts[c]``: its first node's id)."""
    place, length = place.clone(), length.clone()
    for c, walk in faces.items():
        if walk is None:
            continue
        cycle = list(dict.fromkeys(walk[0]))
        first = int(starts[c])
        place[first : first + len(faces_nodes(walk))] = -1  # every node lies on some face
        for p, u in enumerate(cycle):
            place[first + u] = p
        length[c] = len(cycle)
    return place, length


def faces_nodes(faces: Faces) -> set[int]:
    """The nodes on any of ``faces``."""
    return {u for walk in faces for u in walk}
