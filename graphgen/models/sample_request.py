"""The arguments every generator's ``sample(n, *, generator, ...)`` takes, checked once for all of them.

A bad request (a float or negative graph count, a seed where a ``torch.Generator`` belongs, a node or
edge count below its minimum, more edges than the nodes can hold) raises
:class:`~graphgen.errors.InvalidArgumentError` naming the argument, before any work, instead of a
``TypeError`` from inside torch.
"""

from __future__ import annotations

import operator

import torch

from graphgen.errors import InvalidArgumentError

__all__ = ["check_sample_request", "whole_number", "real_number", "check_device"]


def whole_number(value, name: str, minimum: int) -> int:
    """``value`` as an ``int`` (bool refused) that is at least ``minimum``, else
    :class:`~graphgen.errors.InvalidArgumentError` naming ``name``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise InvalidArgumentError(f"{name} must be >= {minimum}, got {number}")
    return number


def real_number(value, name: str) -> float:
    """``value`` as a ``float`` (bool and strings refused), else
    :class:`~graphgen.errors.InvalidArgumentError` naming ``name``; the range is the caller's to check."""
    if isinstance(value, (bool, str, bytes)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}") from None


def check_device(device) -> torch.device | None:
    """``device`` as a ``torch.device`` (``None`` stays ``None``), refusing before any work one that
    this torch cannot use (``"cuda"`` on a CPU-only build or without a GPU, a misspelt name)."""
    if device is None:
        return None
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidArgumentError(f"unknown device {device!r} (e.g. 'cpu', 'cuda', 'cuda:1')") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidArgumentError(f"device {str(device)!r}: torch {torch.__version__} sees no CUDA GPU here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InvalidArgumentError(
                f"device {str(device)!r}: torch {torch.__version__} sees {torch.cuda.device_count()} CUDA GPU(s) here"
            )
    return device


def check_sample_request(
    num_graphs, generator=None, *, num_nodes=None, num_edges=None
) -> tuple[int, int | None, int | None]:
    """``(num_graphs, num_nodes, num_edges)`` as ints after checking: ``num_graphs >= 0``,
    ``num_nodes >= 1`` and ``num_edges >= 0`` where given, no more edges than ``num_nodes`` nodes can
    hold (``num_nodes * (num_nodes - 1) / 2``, simple graphs) where both are given, ``generator`` a
    ``torch.Generator`` or ``None``.

    Example:
        >>> check_sample_request(4, num_nodes=3, num_edges=3)
        (4, 3, 3)
        >>> check_sample_request(4, num_nodes=3, num_edges=4)
        Traceback (most recent call last):
        ...
        graphgen.errors.InvalidArgumentError: graphs of 3 nodes hold at most 3 edges, not 4
    """
    if generator is not None and not isinstance(generator, torch.Generator):
        raise InvalidArgumentError(
            "generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)), "
            f"got {type(generator).__name__}"
        )
    num_graphs = whole_number(num_graphs, "number of graphs", 0)
    num_nodes = None if num_nodes is None else whole_number(num_nodes, "number of nodes", 1)
    num_edges = None if num_edges is None else whole_number(num_edges, "number of edges", 0)
    if num_nodes is not None and num_edges is not None and num_edges > num_nodes * (num_nodes - 1) // 2:
        raise InvalidArgumentError(
            f"graphs of {num_nodes:,} nodes hold at most {num_nodes * (num_nodes - 1) // 2:,} edges, not {num_edges:,}"
        )
    return num_graphs, num_nodes, num_edges
