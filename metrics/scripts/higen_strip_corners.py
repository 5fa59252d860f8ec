"""The strip-corners decoding against the planar-strips decoding alone, on the validation split.

    python metrics/scripts/higen_strip_corners.py MODEL planar [--temperature 0.8] [--seeds 10]
        [--face-rows] [--json OUT]

For each of ``strip_corners`` off and on (``HiGen.sample(planar_strips=True, strip_corners=...)``,
with ``--face-rows`` also the face-run decoding) and sampling seeds ``0..S-1``: as many graphs as the
validation split holds at ``--temperature``, their gran-protocol MMDs against it, V.U.N. against the
training split, and from ``higen_global_shape.shape`` the mean ``λ_2 / λ_1`` (``ratio``), the holes per
planar graph (``holes``: faces of more than three places besides the longest) and the planar share.
"""

from __future__ import annotations

import torch
from _higen_diagnostic import emit, model_parser, model_split, temperature_sweep
from higen_global_shape import shape

from graphgen.cli.evaluate_cmd import DEFAULT_VALIDITY
from graphgen.data.convert import to_networkx
from graphgen.models.higen import HiGen

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")


def global_shape(samples) -> dict:
    """``ratio``, ``holes`` and ``planar`` of a sample set (:func:`higen_global_shape.shape`)."""
    s = shape([to_networkx(g) for g in samples])
    return {"ratio": s["ratio"]["mean"], "holes": s["inner_faces"]["all"], "planar": s["planar"]}


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--face-rows", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = HiGen.from_pretrained(args.model).eval()
    val = model_split(args.model, args.dataset, "val")
    vun = (model_split(args.model, args.dataset, "train"), DEFAULT_VALIDITY[args.dataset])
    runs = {}
    for corners in (False, True):
        options = {"planar_strips": True, "strip_corners": corners, "face_rows": args.face_rows}
        sweep = temperature_sweep(
            model, val, "gran", [args.temperature], args.seeds, KEYS, "temperature", vun, global_shape, **options
        )
        runs["corners" if corners else "planar_strips_alone"] = sweep[args.temperature]
    emit(
        {
            "model": args.model,
            "dataset": f"{args.dataset}:val ({len(val)} graphs)",
            "temperature": args.temperature,
            "seeds": args.seeds,
            "face_rows": args.face_rows,
            "runs": runs,
            "command": f"python metrics/scripts/higen_strip_corners.py {args.model} {args.dataset} "
            f"--temperature {args.temperature:g} --seeds {args.seeds}"
            + (" --face-rows" if args.face_rows else "")
            + (f" --json {args.json}" if args.json else ""),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
