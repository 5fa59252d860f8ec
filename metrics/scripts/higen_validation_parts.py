"""Validation NLL per edge of a HiGen model, in total and per network, as its training loop records it.

    python metrics/scripts/higen_validation_parts.py MODEL DATASET [--batch-size 4] [--json OUT]

The likelihood is a sum of one term per network (each level's community network, each level's
cross-edge network; :attr:`graphgen.models.higen.HiGen.part_names`), so two models can be compared
term by term on the validation split. The batches are those of training with ``--batch-size``
(:func:`graphgen.models.higen.train.validation_batches`), so for the model's own batch size the total
equals the ``val_nll_per_edge`` of its training history at the saved epoch.
"""

from __future__ import annotations

import torch
from _higen_diagnostic import emit, model_parser, model_split


def main() -> None:
    parser = model_parser(__doc__)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from graphgen.models.higen import HiGen
    from graphgen.models.higen.train import validation_batches, validation_nll

    model = HiGen.from_pretrained(args.model).eval()
    total, parts = validation_nll(
        model, validation_batches(model, model_split(args.model, args.dataset, "val"), args.batch_size)
    )
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "batch_size": args.batch_size,
        "val_nll_per_edge": round(total, 4),
        "parts_per_edge": {name: round(value, 4) for name, value in parts.items()},
        "command": f"python metrics/scripts/higen_validation_parts.py {args.model} {args.dataset} --batch-size "
        f"{args.batch_size}" + (f" --json {args.json}" if args.json else ""),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
