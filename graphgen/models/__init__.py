"""Generative models sharing one contract: ``sample(n, *, generator, device) -> list[Data]``."""

from graphgen.models.baselines import ErdosRenyiBaseline, ErdosRenyiConfig
from graphgen.models.pretrained import DEFAULT_MODEL, PRETRAINED, load_model, resolve_checkpoint

__all__ = ["ErdosRenyiBaseline", "ErdosRenyiConfig", "DEFAULT_MODEL", "PRETRAINED", "load_model", "resolve_checkpoint"]
