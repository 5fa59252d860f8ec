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
(``higen-face-share-scan-planar-7-layers-strips-seed-*.json``); a trained face-run mixture is not
built yet.

Choices written down: a set's score does not depend on its face (on a sphere all faces are alike);
face 0, the walk the first node starts, is the one the sampler calls outer, and a set placed on it
keeps the new node there; a row of ``0`` edges on a later node (a disconnected community) loses the
embedding. Pure Python on lists, ``O(Σ_F L_F · w)`` per row.
"""

from __future__ import annotations

import torch

__all__ = ["Faces", "placements", "place_row", "prefix_faces", "row_options", "sample_face_rows", "outer_border"]

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


def sample_face_rows(
    chosen_logits: torch.Tensor, lengths: torch.Tensor, take: torch.Tensor, faces: list[Faces | None], draws
) -> torch.Tensor:
    """Edges ``(P,)`` 0/1 of rows drawn together under the face-run decoding (module docstring): row
    ``i`` has ``lengths[i]`` consecutive entries of ``chosen_logits`` ``(P,)`` (its component's scores
    of the earlier nodes ``0..t_i-1``), takes ``take[i]`` of them and grows the community whose faces
    are ``faces[i]`` (``None``: embedding lost). A row with a run of its size draws a node set by the
    softmax of the set scores (``draws.categorical``, so a temperature applies), then one of the set's
    placements uniformly (those on the outer face if it has any), and ``faces[i]`` is replaced by the
    faces after it; the other rows are drawn by ``draws.allocations`` and ``faces[i]`` becomes
    ``None``. ``draws``: the sampler's :class:`~graphgen.models.higen.model.Draws`."""
    r = lengths.numel()
    offset = (torch.cumsum(lengths, 0) - lengths).tolist()
    options = [row_options(f, int(w)) if f is not None else [] for f, w in zip(faces, take.tolist())]
    placed = [i for i in range(r) if options[i]]
    counts = torch.zeros(int(lengths.sum()), dtype=torch.long)
    if placed:
        width = max(len(options[i]) for i in placed)
        w_max = int(take[placed].max())
        index = torch.zeros((len(placed), width, w_max), dtype=torch.long)
        counted = torch.zeros((len(placed), width, w_max), dtype=torch.bool)
        ways = torch.zeros((len(placed), max(len(p) for i in placed for _, p in options[i])))
        for row, i in enumerate(placed):
            for k, (nodes, _) in enumerate(options[i]):
                index[row, k, : len(nodes)] = torch.tensor(nodes) + offset[i]
                counted[row, k, : len(nodes)] = True
        scores = torch.where(counted, chosen_logits.double()[index], 0.0).sum(2)
        scores = torch.where(counted[:, :, 0], scores, torch.full_like(scores, float("-inf")))
        pick = draws.categorical(torch.softmax(scores, 1)).tolist()
        for row, i in enumerate(placed):
            ways[row, : len(options[i][pick[row]][1])] = 1.0
        way = draws.categorical(ways).tolist()
        for row, i in enumerate(placed):
            nodes, where = options[i][pick[row]]
            counts[torch.tensor(nodes) + offset[i]] = 1
            face, start = where[way[row]]
            faces[i] = place_row(faces[i], face, start, len(nodes), int(lengths[i]))
    rest = take.clone()
    rest[placed] = 0
    for i in set(range(r)).difference(placed):
        faces[i] = None
    counts += draws.allocations(chosen_logits, lengths, rest, True)
    return counts


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
