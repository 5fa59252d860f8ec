"""Exception types raised by graphgen.

Every error a user can cause (a malformed file, an unknown dataset name, an impossible size) is a
subclass of :class:`GraphgenError`; the command line turns these into a one-line message and a
non-zero exit status. Anything else escaping graphgen is a bug.
"""

from __future__ import annotations

__all__ = [
    "GraphgenError",
    "GraphFormatError",
    "InvalidGraphError",
    "InvalidSmilesError",
    "InvalidArgumentError",
    "DatasetError",
    "UnknownDatasetError",
    "ChecksumError",
    "CheckpointError",
    "TrainingError",
]


class GraphgenError(Exception):
    """Base class of every error caused by bad input to graphgen."""


class GraphFormatError(GraphgenError, ValueError):
    """A graph file (graph6, sparse6, edge list, ``.pt``) could not be parsed."""


class InvalidGraphError(GraphgenError, ValueError):
    """A graph violates what the operation needs (self-loops, duplicate edges, no nodes, ...)."""


class InvalidSmilesError(GraphgenError, ValueError):
    """A SMILES string could not be parsed into a molecule by RDKit."""


class InvalidArgumentError(GraphgenError, ValueError):
    """An argument outside what the operation takes (e.g. a negative seed)."""


class DatasetError(GraphgenError):
    """A dataset, split or protocol request that cannot be satisfied."""


class UnknownDatasetError(DatasetError, KeyError):
    """No dataset of that name is in the catalogue."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ChecksumError(DatasetError):
    """A shipped data file is missing or its sha256 does not match the catalogue."""


class CheckpointError(GraphgenError):
    """A checkpoint file is missing, corrupted, of an unknown format, or unsafe to open."""


class TrainingError(GraphgenError):
    """Training cannot go on (e.g. the loss became NaN or infinite)."""
