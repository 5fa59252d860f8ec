"""Generative models sharing one contract: ``sample(n, *, generator, device) -> list[Data]``, and
``log_likelihood(graphs)`` (nats per graph, given the node and edge counts).

The names below are imported on first use (:mod:`graphgen._lazy`), so that reading the catalogue of
shipped checkpoints does not import torch."""

from typing import TYPE_CHECKING

from graphgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "baselines": ("ErdosRenyiBaseline", "ErdosRenyiConfig"),
        "higen": ("HiGen", "HiGenConfig"),
        "pretrained": ("DEFAULT_MODEL", "PRETRAINED", "load_model", "resolve_checkpoint", "sampling_preset"),
        "valid_samples": ("sample_valid",),
    },
)

if TYPE_CHECKING:
    from graphgen.models.baselines import ErdosRenyiBaseline, ErdosRenyiConfig
    from graphgen.models.higen import HiGen, HiGenConfig
    from graphgen.models.pretrained import DEFAULT_MODEL, PRETRAINED, load_model, resolve_checkpoint, sampling_preset
    from graphgen.models.valid_samples import sample_valid
