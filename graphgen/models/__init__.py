"""Generative models sharing one contract: ``sample(n, *, generator, device) -> list[Data]``, and
``log_likelihood(graphs)`` (nats per graph, given the node and edge counts)."""

from graphgen.models.baselines import ErdosRenyiBaseline, ErdosRenyiConfig
from graphgen.models.higen import HiGen, HiGenConfig
from graphgen.models.pretrained import DEFAULT_MODEL, PRETRAINED, load_model, resolve_checkpoint, sampling_preset
from graphgen.models.valid_samples import sample_valid

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
    "sample_valid",
]
