"""Evaluation protocols: which descriptors, kernels, bandwidths and estimator a benchmark uses.

Protocols are JSON files in the repository's top-level ``metrics/protocols/`` folder (shipped in
the package as ``graphgen/_protocols``), one per benchmark, so every reported number can be traced
to its definition. Kernel names are resolved to kernel objects here, once.

Shipped: ``gran`` (GRAN/HiGen/SPECTRE/DiGress planar & SBM), ``graphrnn`` (GraphRNN/GDSS) and
``sound`` (positive-definite kernels, unbiased estimator).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from graphgen.errors import GraphgenError
from graphgen.metrics.kernels import KERNELS, Kernel
from graphgen.metrics.mmd import ESTIMATORS

__all__ = ["DescriptorSpec", "Protocol", "load_protocol", "list_protocols", "protocol_root"]


@dataclass(frozen=True)
class DescriptorSpec:
    """One descriptor of a protocol: its kernel and descriptor parameters (e.g. ``bins``)."""

    name: str
    kernel: Kernel
    kernel_name: str
    kernel_params: dict
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    name: str
    title: str
    source: str
    estimator: str
    descriptors: dict[str, DescriptorSpec]
    notes: tuple[str, ...] = ()

    def describe(self) -> dict:
        """A JSON-ready description (recorded with every result)."""
        return {
            "name": self.name,
            "estimator": self.estimator,
            "source": self.source,
            "descriptors": {
                k: {"kernel": d.kernel_name, **d.kernel_params, **d.params} for k, d in self.descriptors.items()
            },
        }


def protocol_root() -> Path:
    return Path(str(resources.files("graphgen") / "_protocols"))


def list_protocols() -> list[str]:
    return sorted(p.stem for p in protocol_root().glob("*.json"))


def load_protocol(name_or_path: str | os.PathLike) -> Protocol:
    """Load a shipped protocol by name, or a protocol JSON file by path."""
    from graphgen.metrics.descriptors import DESCRIPTORS

    path = Path(name_or_path)
    if not path.suffix:
        path = protocol_root() / f"{name_or_path}.json"
    if not path.is_file():
        raise GraphgenError(f"unknown protocol {str(name_or_path)!r}; shipped: {', '.join(list_protocols())}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        descriptors = {}
        for name, spec in raw["descriptors"].items():
            spec = dict(spec)
            kernel_name = spec.pop("kernel")
            params = {k: spec.pop(k) for k in ("bins", "clip") if k in spec}
            if name not in DESCRIPTORS:
                raise GraphgenError(f"unknown descriptor {name!r} (known: {', '.join(DESCRIPTORS)})")
            if kernel_name not in KERNELS:
                raise GraphgenError(f"unknown kernel {kernel_name!r} (known: {', '.join(KERNELS)})")
            descriptors[name] = DescriptorSpec(name, KERNELS[kernel_name](**spec), kernel_name, spec, params)
        if raw["estimator"] not in ESTIMATORS:
            raise GraphgenError(f"unknown estimator {raw['estimator']!r}")
        return Protocol(
            name=raw["name"],
            title=raw.get("title", ""),
            source=raw.get("source", ""),
            estimator=raw["estimator"],
            descriptors=descriptors,
            notes=tuple(raw.get("notes", ())),
        )
    except KeyError as exc:
        raise GraphgenError(f"malformed protocol file {path}: missing key {exc}") from None
    except (AttributeError, TypeError) as exc:
        raise GraphgenError(
            f"malformed protocol file {path}: expected an object with 'name', 'estimator' and 'descriptors' "
            f"(each descriptor an object with 'kernel' and its parameters): {exc}"
        ) from None
    except json.JSONDecodeError as exc:
        raise GraphgenError(f"malformed protocol file {path}: not JSON ({exc})") from None
