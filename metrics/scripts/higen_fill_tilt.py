"""A probe: more leaf rows into a triangle at sampling time, and the validation MMDs they give.

    PYTHONPATH=. python metrics/scripts/higen_fill_tilt.py MODEL DATASET [--betas 0 1 2] [--seeds 10]
        [--temperature 0.8] [--face-rows] [--planar-strips] [--json OUT]

On a ``row_faces`` model (or under the face-run decoding) a leaf row drawn as a face run picks its
node set ``Y`` among the runs along a face with probability ``∝ exp(Σ_{j ∈ Y} θ_j)``
(:func:`graphgen.models.higen.face_runs.sample_face_rows`). This probe adds ``β`` to the score of every
set that fills a whole face of the community so far (``higen_component_draws.fills_face``: the set of
a face of at least 3 places, each node once; for a triangle, a new node inside it), at sampling time
only -- nothing is trained. ``β = 0`` is the model itself. Session 38 found the rows into a triangle
at 1.0-1.4 % of leaf rows at ``τ = 0.7`` against 2.75 % in planar's test graphs (and 2.0-2.2 % at
``τ = 1``); this asks whether putting them back at the sampling temperature lowers the clustering
MMD.

Per ``β``: as many samples as the validation split per sampling seed ``0..--seeds-1`` at
``--temperature`` (under the decoding flags), the gran-protocol MMDs against the validation split and
``closed_degree_3``, the nodes per graph of degree 3 on 3 triangles (inside a triangle; planar's
splits: ``higen_planar_split.py``'s ``splits``). A probe, not a sampling option: it wraps
``face_runs.sample_face_rows`` and ``face_runs.set_scores``.
"""

from __future__ import annotations

import torch
from _higen_diagnostic import (
    add_decoding_options,
    command,
    decoding_options,
    emit,
    model_parser,
    model_split,
    temperature_sweep,
    two_level_model,
)
from higen_component_draws import fills_face
from higen_planar_split import per_graph

from graphgen.data.convert import to_networkx
from graphgen.models.higen import face_runs
from graphgen.models.higen import model as higen_model

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
TILT = {"beta": 0.0, "faces": {}}  # faces: a drawing row's first entry -> its community's faces
_sample_face_rows, _set_scores = face_runs.sample_face_rows, face_runs.set_scores


def sample_face_rows(chosen_logits, lengths, take, faces, draws, share=None):
    """``face_runs.sample_face_rows`` with each row's faces noted under its first entry."""
    offset = (torch.cumsum(lengths, 0) - lengths).tolist()
    TILT["faces"] = {o: f for o, f in zip(offset, faces) if f is not None}  # read before the rows are placed
    return _sample_face_rows(chosen_logits, lengths, take, faces, draws, share)


def set_scores(entry_logits, offset, sets):
    """``face_runs.set_scores`` plus ``β`` for every set that fills a whole face of its row."""
    scores = _set_scores(entry_logits, offset, sets)
    if TILT["beta"] == 0.0:
        return scores
    fills = torch.zeros(scores.shape[:2], dtype=scores.dtype)
    for r, first in enumerate(offset.tolist()):
        faces = TILT["faces"].get(first, [])
        for s, nodes in enumerate(sets[r].tolist()):
            members = tuple(u for u in nodes if u >= 0)
            fills[r, s] = float(bool(members) and fills_face(faces, members))
    return scores + TILT["beta"] * fills.unsqueeze(-1)


def closed_degree_3(samples) -> dict:
    return {"closed_degree_3": per_graph([to_networkx(data) for data in samples])["closed_degree_3"]}


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--betas", type=float, nargs="+", default=[0.0, 1.0, 2.0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=0.8)
    add_decoding_options(parser)
    args = parser.parse_args()
    model = two_level_model(args.model)
    if not (model.config.row_faces or args.face_rows):
        raise SystemExit("error: the tilt acts on face-run rows: a row_faces model or --face-rows")
    val = model_split(args.model, args.dataset, "val")
    face_runs.set_scores, higen_model.sample_face_rows = set_scores, sample_face_rows
    result = {"model": args.model, "dataset": f"{args.dataset}:val ({len(val)} graphs)", "betas": {}}
    for beta in args.betas:
        TILT["beta"] = beta
        print("beta", beta, flush=True)
        runs = temperature_sweep(
            model,
            val,
            "gran",
            [args.temperature],
            args.seeds,
            KEYS,
            "temperature",
            extra=closed_degree_3,
            **decoding_options(args),
        )
        result["betas"][f"{beta:g}"] = runs[args.temperature]
    result["command"] = "PYTHONPATH=. " + command("higen_fill_tilt.py", args)
    emit(result, args.json)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
