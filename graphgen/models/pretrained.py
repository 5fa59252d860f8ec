"""Checkpoints shipped inside the package, addressable by name, and loading of any checkpoint.

``graphgen sample`` with no ``--checkpoint`` uses :data:`DEFAULT_MODEL`, the HiGen model trained
on community_small; the Erdős–Rényi baseline fitted to the same data ships beside it as the floor
a learned model must beat. Quality and the exact training command: ``metrics/results/``.

**Sampling presets.** Some shipped models sample better at settings chosen on held-out graphs (a
temperature, a constrained decoding) than at their own distribution, which stays the default. Each
such setting ships as a named :class:`SamplingPreset` of its entry, with the record that chose it
(always the validation split or held-out training graphs, never the test split) and what it
measured on the test split, so a user need not copy flags from the README:
``graphgen sample -c higen-planar-faces --preset strips`` or
``model.sample(16, generator=g, **sampling_preset("higen-planar-faces", "strips"))``; ``graphgen models
list`` and ``graphgen models info NAME`` show them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from graphgen.errors import CheckpointError, InvalidArgumentError

if TYPE_CHECKING:  # torch is imported only to load a checkpoint, not to list the shipped ones
    from graphgen.io.checkpoint import Checkpoint

__all__ = [
    "SamplingPreset",
    "PretrainedEntry",
    "PRETRAINED",
    "DEFAULT_MODEL",
    "resolve_checkpoint",
    "load_model",
    "sampling_preset",
    "trained_split",
]

#: The ``HiGen.sample`` keyword arguments a preset may set, with the ``graphgen sample`` flag of each.
PRESET_OPTIONS = {
    "temperature": "--temperature",
    "size_temperature": "--size-temperature",
    "run_rows": "--run-rows",
    "face_rows": "--face-rows",
    "planar_strips": "--planar-strips",
}


@dataclass(frozen=True)
class SamplingPreset:
    """Named sampling options of a shipped model, chosen on held-out graphs.

    ``options`` are keyword arguments of ``HiGen.sample`` (keys of :data:`PRESET_OPTIONS`);
    ``chosen_by`` is the record under ``metrics/results/`` that chose them on the validation split or
    on held-out training graphs (never the test split); ``measured`` says in one line what they give on
    the test split and where that is recorded.
    """

    name: str
    options: dict
    chosen_by: str
    measured: str

    def flags(self) -> str:
        """The ``graphgen sample`` flags that give the same draws, e.g. ``--temperature 0.8 --planar-strips``."""
        parts = []
        for key, value in self.options.items():
            flag = PRESET_OPTIONS[key]
            parts.append(flag if value is True else f"{flag} {value:g}")
        return " ".join(parts)


@dataclass(frozen=True)
class PretrainedEntry:
    """A shipped checkpoint: file name under ``graphgen/checkpoints``, a one-line description, its
    sampling presets (none: its own distribution is what held-out graphs chose, or nothing chose) and,
    for a model that hardly grows past its training graphs, the shipped model of the same data that
    follows ``--num-nodes`` further (``sized``; ``graphgen sample`` names it when a request is missed)."""

    filename: str
    description: str
    trained: bool
    presets: tuple[SamplingPreset, ...] = field(default=())
    sized: str | None = None


PRETRAINED: dict[str, PretrainedEntry] = {
    "higen-community-small": PretrainedEntry(
        "higen-community-small.pt",
        "HiGen (2 levels, defaults: coordinated cross edges, stop decision; row mass over the capacity and coarse "
        "self-loop split each with a learned concentration; K=8) trained 600 epochs on the 80 community_small "
        "training graphs, each in 8 random relabellings whose generation orders break ties anew (--hierarchies 8 "
        "--random-ties, session 52; --self-loop-concentration, session 53: 199 of its 200 recorded test samples are "
        "connected, as every training graph is); graphrnn-protocol MMDs in metrics/results/higen-community-small/",
        trained=True,
        sized="higen-community-small-sized",
    ),
    "higen-community-small-sized": PretrainedEntry(
        "higen-community-small-sized.pt",
        "higen-community-small's recipe with the number of communities drawn at the root (--community-count "
        "explicit --fair-share, training seed 0, session 53), so that it follows --num-nodes: at 8x its largest "
        "training graph its graphs have 93 % of the nodes asked for, at 2x 92 % (the default: 30 % and 65 %; "
        "metrics/results/higen-num-nodes-reach-community-small.json), but past the training sizes its extra "
        "communities are seldom joined to the rest (4 of 8 graphs connected at 2x, none at 4x); its own samples "
        "are about as good as the default's (mean degree/clustering/orbit MMD 0.036 against 0.031, target "
        "0.046): graphrnn-protocol MMDs in metrics/results/higen-community-small-sized/",
        trained=True,
    ),
    "higen-enzymes": PretrainedEntry(
        "higen-enzymes.pt",
        "HiGen (2 levels, defaults: coordinated cross edges; explicit community sizes with a learned concentration "
        "that see each community's share of |V|, "
        "leaf rows centred on their fair share with a learned concentration, coarse self-loops with a learned "
        "concentration, cross blocks in rounds; K=4) "
        "trained 150 epochs (cosine schedule, 4 Louvain hierarchies per graph) on the 470 enzymes training graphs, "
        "then its size head refitted alone (1,500 full-batch steps); "
        "gran-protocol MMDs against the test split (degree 0.011, clustering met) in metrics/results/higen-enzymes/",
        trained=True,
    ),
    "higen-enzymes-graphrnn": PretrainedEntry(
        "higen-enzymes-graphrnn.pt",
        "HiGen with higen-enzymes' configuration and training command, trained on the graphrnn split of enzymes "
        "(469 training graphs, EC classes 1-6; the gdss split's test graphs are classes 5-6 only); gran-protocol "
        "MMDs against its 118 test graphs: clustering and orbit met, degree 0.0040 (target 0.004); all three met "
        "with --size-temperature 0.3 (chosen on held-out training graphs): "
        "metrics/results/higen-enzymes-graphrnn{,-size-temperature}/",
        trained=True,
        presets=(
            SamplingPreset(
                "tuned",
                {"size_temperature": 0.3},
                "metrics/results/higen-size-temperature-enzymes-graphrnn-split-holdout-15.json (pooled_chosen)",
                "degree / clustering / orbit MMD 0.0032 / 0.024 / 0.0016, all three DiGress values met "
                "(its own distribution: 0.0040 / 0.025 / 0.0012); "
                "metrics/results/higen-enzymes-graphrnn-size-temperature/",
            ),
        ),
    ),
    "higen-planar": PretrainedEntry(
        "higen-planar.pt",
        "HiGen (2 levels, defaults: coordinated cross edges with the ladder and contact features, each block a "
        "mixture of both directions, stop decision; row mass over the capacity with a learned concentration, cross "
        "blocks in rounds; K=16, Louvain resolution 0.3) trained 240 epochs (lowest validation NLL at epoch 209; "
        "batch 4, cosine schedule, 24 Louvain hierarchies per graph, training seed 1) on the 128 planar training "
        "graphs; no MMD target met at temperature 1 (degree 0.0013 against 0.0012), degree and orbit met at "
        "temperature 0.7 (--temperature 0.7), about 1 % planar samples: gran-protocol MMDs in "
        "metrics/results/higen-planar/",
        trained=True,
        sized="higen-planar-sized",
        presets=(
            SamplingPreset(
                "tuned",
                {"temperature": 0.7},
                "metrics/results/higen-temperature-planar-24-hierarchies.json",
                "degree / clustering / orbit / spectral MMD 0.0011 / 0.074 / 0.0090 / 0.012, V.U.N. 2.5 % "
                "(its own distribution: 0.0013 / 0.127 / 0.027 / 0.015, 0 %); "
                "metrics/results/higen-planar-24-hierarchies-temperature/",
            ),
        ),
    ),
    "higen-planar-sized": PretrainedEntry(
        "higen-planar-sized.pt",
        "higen-planar's recipe with the number of communities drawn at the root (--community-count explicit "
        "--fair-share, training seed 0, lowest validation NLL at epoch 209, session 49; chosen on the validation "
        "split over session 48's training seed 1), so that it follows --num-nodes: at 8x its largest training graph "
        "its graphs have 90 % of the nodes asked for, at 4x 92 % (higen-planar: 46 % and 66 %; "
        "metrics/results/higen-num-nodes-reach-planar-sized-seed-0.json); at the training size its samples are "
        "about as good as higen-planar's (test clustering MMD 0.127 against 0.127 at temperature 1, 0.076 at its "
        "chosen 0.6 against 0.074 at higen-planar's 0.7): gran-protocol MMDs in metrics/results/higen-planar-sized/",
        trained=True,
        presets=(
            SamplingPreset(
                "tuned",
                {"temperature": 0.6},
                "metrics/results/higen-temperature-planar-sized-seed-0-retrained.json",
                "degree / clustering / orbit / spectral MMD 0.0010 / 0.076 / 0.0086 / 0.012, V.U.N. 3.5 % "
                "(its own distribution: 0.0020 / 0.127 / 0.036 / 0.016, 0.25 %); "
                "metrics/results/higen-planar-sized-temperature-0.6/",
            ),
        ),
    ),
    "higen-planar-strips": PretrainedEntry(
        "higen-planar-strips.pt",
        "HiGen with higen-planar's recipe and seven GNN layers (--num-layers 7, training seed 1, lowest validation "
        "NLL at epoch 170), its leaf cross-edge network then retrained alone as a strip mixture (--cross-strips: "
        "each leaf block a zipped strip along the two communities' borders or the coordinated model; 120 epochs "
        "warm-started, metrics/scripts/higen_cross_refit.py); sample it at temperature 0.7 (chosen on the "
        "validation split): degree and orbit met, clustering 0.060 (higen-planar 0.074), V.U.N. 25 % (2.5 %); "
        "with --face-rows --planar-strips (session 36, two constrained decodings) V.U.N. 82 % and MMDs as good "
        "(metrics/results/higen-planar-strips-planar-strips/); "
        "gran-protocol MMDs in metrics/results/higen-planar-strips/ (session 34; session 33's three-layer model: "
        "metrics/results/higen-planar-strips-before-s34/)",
        trained=True,
        sized="higen-planar-sized",
        presets=(
            SamplingPreset(
                "tuned",
                {"temperature": 0.7},
                "metrics/results/higen-temperature-planar-7-layers-strips-seed-1.json",
                "degree / clustering / orbit / spectral MMD 0.0011 / 0.060 / 0.014 / 0.011, V.U.N. 25 %; "
                "metrics/results/higen-planar-strips/",
            ),
            SamplingPreset(
                "valid",
                {"temperature": 0.7, "face_rows": True, "planar_strips": True},
                "metrics/results/higen-temperature-planar-7-layers-strips-planar-strips-seed-1.json",
                "the most valid planar graphs (two constrained decodings): 0.0008 / 0.061 / 0.015 / 0.011, "
                "V.U.N. 82 %; metrics/results/higen-planar-strips-planar-strips/",
            ),
        ),
    ),
    "higen-planar-faces": PretrainedEntry(
        "higen-planar-faces.pt",
        "higen-planar-strips with its leaf community network retrained alone as face-run rows (row_faces: each "
        "leaf row a learned mixture of a run along a face of the community's plane embedding so far and the "
        "conditional Bernoulli; 20 epochs warm-started, metrics/scripts/higen_row_refit.py --face-runs, session "
        "37); sample it at temperature 0.7 (chosen on the validation split): degree and orbit met, clustering "
        "0.060, V.U.N. 38 % from the model's own distribution (higen-planar-strips: 25 %); with --planar-strips "
        "at 0.8 clustering 0.049 and V.U.N. 52 %, with --face-rows --planar-strips at 0.7 V.U.N. 81 %: "
        "gran-protocol MMDs in metrics/results/higen-planar-faces/ and "
        "metrics/results/higen-planar-7-layers-strips-row-faces-*-seed-1/",
        trained=True,
        sized="higen-planar-sized",
        presets=(
            SamplingPreset(
                "tuned",
                {"temperature": 0.7},
                "metrics/results/higen-temperature-planar-7-layers-strips-row-faces-seed-1.json",
                "degree / clustering / orbit / spectral MMD 0.0011 / 0.060 / 0.012 / 0.010, V.U.N. 38 %; "
                "metrics/results/higen-planar-faces/",
            ),
            SamplingPreset(
                "strips",
                {"temperature": 0.8, "planar_strips": True},
                "metrics/results/higen-temperature-planar-7-layers-strips-row-faces-planar-strips-seed-1.json",
                "the lowest clustering MMD of any shipped planar model (strips along the kept faces): "
                "0.0005 / 0.049 / 0.012 / 0.011, V.U.N. 52 %; "
                "metrics/results/higen-planar-7-layers-strips-row-faces-planar-strips-seed-1/",
            ),
            SamplingPreset(
                "valid",
                {"temperature": 0.7, "face_rows": True, "planar_strips": True},
                "metrics/results/higen-temperature-planar-7-layers-strips-row-faces-both-seed-1.json",
                "the most valid planar graphs (two constrained decodings): 0.0009 / 0.069 / 0.014 / 0.011, "
                "V.U.N. 81 %; metrics/results/higen-planar-7-layers-strips-row-faces-both-seed-1/",
            ),
        ),
    ),
    "higen-sbm": PretrainedEntry(
        "higen-sbm.pt",
        "HiGen (2 levels, defaults; row mass over the capacity with a learned concentration; the number of "
        "communities drawn at the root, coarse rows centred on their fair share; K=8) trained on the 128 SBM "
        "training graphs with 8 Louvain hierarchies per graph whose generation orders break ties at random "
        "(--hierarchies 8 --random-ties, session 51), epoch 38 of a 40-epoch cosine schedule (lowest validation "
        "NLL; batch 1); gran-protocol MMDs over 10 sampling seeds (clustering, orbit and spectral under the "
        "published HiGen values, degree 0.0023 against 0.0017) and V.U.N. (53 %) in metrics/results/higen-sbm/",
        trained=True,
    ),
    "er-community-small": PretrainedEntry(
        "er-community-small.pt",
        "Erdős–Rényi baseline G(n, m), (n, m) drawn from the 80 community_small training graphs "
        "(not a trained model: the floor a learned generator must beat)",
        trained=False,
    ),
}
DEFAULT_MODEL = "higen-community-small"


def _model_classes() -> dict[str, type]:
    from graphgen.models.baselines import ErdosRenyiBaseline
    from graphgen.models.higen.model import HiGen

    return {ErdosRenyiBaseline.model_name: ErdosRenyiBaseline, HiGen.model_name: HiGen}


def resolve_checkpoint(name_or_path: str | os.PathLike | None) -> tuple[Path, str]:
    """Path of a shipped checkpoint name, or of a file; returns ``(path, label)``."""
    key = str(name_or_path) if name_or_path is not None else DEFAULT_MODEL
    if key in PRETRAINED:
        path = Path(str(resources.files("graphgen") / "checkpoints" / PRETRAINED[key].filename))
        return path, key
    path = Path(key)
    if path.is_file():
        return path, str(path)
    names = ", ".join(PRETRAINED)
    raise CheckpointError(f"no checkpoint named {key!r} and no such file (shipped names: {names})")


def load_model(name_or_path: str | os.PathLike | None = None):
    """Load a generator from a shipped name or a checkpoint file; returns ``(model, checkpoint)``."""
    path, _ = resolve_checkpoint(name_or_path)
    from graphgen.io.checkpoint import load_checkpoint

    ckpt: Checkpoint = load_checkpoint(path)
    classes = _model_classes()
    if ckpt.model not in classes:
        raise CheckpointError(f"checkpoint {path} holds unknown model {ckpt.model!r} (known: {', '.join(classes)})")
    return classes[ckpt.model].from_checkpoint(ckpt), ckpt


def sampling_preset(model: str, preset: str) -> dict:
    """The ``HiGen.sample`` keyword arguments of a shipped model's named preset (a copy).

    Example:
        >>> sampling_preset("higen-planar-faces", "strips")
        {'temperature': 0.8, 'planar_strips': True}
    """
    entry = PRETRAINED.get(str(model))
    if entry is None:
        with_presets = ", ".join(name for name, e in PRETRAINED.items() if e.presets)
        raise InvalidArgumentError(
            f"sampling presets belong to shipped models, and {model!r} is not one (shipped models with presets: "
            f"{with_presets})"
        )
    for candidate in entry.presets:
        if candidate.name == preset:
            return dict(candidate.options)
    names = ", ".join(p.name for p in entry.presets)
    raise InvalidArgumentError(
        f"{model} has no sampling preset {preset!r} "
        + (f"(its presets: {names})" if names else "(it has none: sample its own distribution)")
    )


def trained_split(ckpt: Checkpoint, split: str, dataset: str | None = None) -> list:
    """The ``split`` graphs of the dataset ``ckpt`` was trained on (its metadata ``dataset``, or
    ``dataset`` when given), under the split the run used: its metadata ``protocol`` (the dataset's
    default split when it records none) and ``holdout`` (``graphgen train --holdout F``: that share of
    the training split is the validation split and was left out of training)."""
    from graphgen.datasets import load_dataset

    meta = ckpt.metadata
    name = dataset if dataset is not None else meta.get("dataset")
    if name is None:
        raise CheckpointError("the checkpoint records no dataset: name one")
    return load_dataset(name, split, protocol=meta.get("protocol"), holdout=float(meta.get("holdout", 0.0)))
