"""What a face-run model's leaf rows draw, by how likely the mixture component they drew was.

    python metrics/scripts/higen_component_draws.py MODEL DATASET [--seeds 3] [--temperatures 1 0.7]
        [--json OUT]

For a ``row_faces`` model (or any model under ``--face-rows``), samples as many graphs as the
dataset's test split holds (sampling seeds ``0..--seeds-1`` at each temperature) and records, for
every leaf row drawn while its community still has a plane embedding, the mixture component the row
drew: its rank among the row's components by mixture weight (0: the most likely) and its weight.
Per rank group (``rank_0``, ``rank_1``, ``rank_2_3``, ``rank_4_plus``) and weight group
(``weight_below_0.1``, ``weight_0.1_0.3``, ``weight_0.3_plus``): the share of rows, the share of rows
whose node set fills a whole face of the prefix (a new node inside a triangle; :func:`fills_face`) and
the share that lose the embedding (a conditional-Bernoulli set off the faces). Session 38 found that
the rows into a triangle and the draws that break the samples both come back when the leaf rows'
component choice is drawn at τ = 1; this counts which components make them.

A diagnostic, not a sampling option: it wraps ``graphgen.models.higen.model.sample_face_rows`` and
reads the component draw (``k``) and the weights (``log_alpha``) of the calling
``HiGen._draw_rows``; it stops with a one-line error if that function no longer holds them.
"""

from __future__ import annotations

import sys

import torch
from _higen_diagnostic import command, emit, model_parser, model_split, two_level_model

from graphgen.models.higen import model as higen_model


def fills_face(faces: list[list[int]], nodes: tuple[int, ...]) -> bool:
    """Whether ``nodes`` is the node set of a whole face of ``faces`` with 3 or more places, each node
    once (a row joined to it closes that face into triangles, e.g. a new node inside a triangle)."""
    return any(
        len(walk) >= 3 and len(set(walk)) == len(walk) == len(nodes) and set(walk) == set(nodes) for walk in faces
    )


RANKS = (("rank_0", 0, 1), ("rank_1", 1, 2), ("rank_2_3", 2, 4), ("rank_4_plus", 4, 10**9))
WEIGHTS = (("weight_below_0.1", 0.0, 0.1), ("weight_0.1_0.3", 0.1, 0.3), ("weight_0.3_plus", 0.3, 1.01))


def summarise(rows: list[tuple[int, float, bool, bool]]) -> dict:
    """``rows``: ``(rank, weight, fills, lost)`` per recorded row; the groups of the module docstring."""
    total = max(len(rows), 1)
    out = {"rows": len(rows)}
    for groups, index in ((RANKS, 0), (WEIGHTS, 1)):
        for name, lo, hi in groups:
            mine = [r for r in rows if lo <= r[index] < hi]
            n = max(len(mine), 1)
            out[name] = {
                "share_of_rows": len(mine) / total,
                "fills_a_face": sum(r[2] for r in mine) / n,
                "loses_the_embedding": sum(r[3] for r in mine) / n,
            }
    return out


def recording_sampler(real, store: list):
    """``sample_face_rows`` that also appends ``(rank, weight, fills, lost)`` of each row drawn with an
    embedding to ``store`` (the caller's component draw read from its frame)."""

    def wrapped(chosen, lengths, take, faces, draws, *rest):
        caller = sys._getframe(1).f_locals
        if "k" not in caller or "log_alpha" not in caller:
            raise SystemExit("error: HiGen._draw_rows no longer holds k and log_alpha; update this script")
        k, log_alpha = caller["k"], caller["log_alpha"]
        before = [None if f is None else [list(w) for w in f] for f in faces]
        counts = real(chosen, lengths, take, faces, draws, *rest)
        offset = torch.cumsum(lengths, 0) - lengths
        order = torch.argsort(log_alpha, 1, descending=True)
        for i, f in enumerate(before):
            if f is None or int(take[i]) < 1:
                continue
            start, end = int(offset[i]), int(offset[i] + lengths[i])
            chosen_set = tuple((counts[start:end] > 0).nonzero().flatten().tolist())
            rank = int((order[i] == k[i]).nonzero()[0, 0])
            weight = float(log_alpha[i, k[i]].exp())
            store.append((rank, weight, fills_face(f, chosen_set), faces[i] is None))
        return counts

    return wrapped


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.7])
    parser.add_argument("--face-rows", action="store_true", help="sample under the face-run decoding")
    args = parser.parse_args()
    model = two_level_model(args.model)
    if not (model.config.row_faces or args.face_rows):
        raise SystemExit("error: a row_faces model, or --face-rows, keeps the embedding this script reads")
    test = model_split(args.model, args.dataset, "test")
    store: list = []
    real = higen_model.sample_face_rows
    higen_model.sample_face_rows = recording_sampler(real, store)
    result = {"model": args.model, "dataset": f"{args.dataset}:test ({len(test)} graphs)", "face_rows": args.face_rows}
    try:
        for tau in args.temperatures:
            store.clear()
            for seed in range(args.seeds):
                generator = torch.Generator().manual_seed(seed)
                model.sample(len(test), generator=generator, temperature=tau, face_rows=args.face_rows)
            result[str(tau)] = summarise(store)
            print(tau, result[str(tau)], flush=True)
    finally:
        higen_model.sample_face_rows = real
    result["command"] = command("higen_component_draws.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
