"""Generative models sharing one contract: ``sample(n, *, generator, device) -> list[Data]``."""

from graphgen.models.baselines import ErdosRenyiBaseline, ErdosRenyiConfig
from graphgen.models.higen import HiGen, HiGenConfig
from graphgen.models.pretrained import DEFAULT_MODEL, PRETRAINED, load_model, resolve_checkpoint, sampling_preset

__all__ = [
    "ErdosRenyiBaseline",
    "ErdosRenyiConfig",
    "HiGen",
    "HiGenConfig",
    "DEFAULT_MODEL",
    "PRETRAINED",
    "load_model",
    "resolve_checkpoint",
    "sampling_preset",
]
