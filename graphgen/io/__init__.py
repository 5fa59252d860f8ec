"""Graph files (graph6, sparse6, edge lists, SMILES, safe ``.pt``) and the checkpoint format.

The names below are imported on first use (:mod:`graphgen._lazy`)."""

from typing import TYPE_CHECKING

from graphgen._lazy import lazy_exports

_EXPORTS = {
    "Checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "graphs_fingerprint": "checkpoint",
    "FORMATS": "formats",
    "GraphFormat": "formats",
    "read_graphs": "formats",
    "write_graphs": "formats",
    "resolve_format": "formats",
    "decode_graph6": "graph6",
    "encode_graph6": "graph6",
    "smiles_to_graph": "molecules",
    "graph_to_smiles": "molecules",
    "canonical_smiles": "molecules",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from graphgen.io.checkpoint import Checkpoint, graphs_fingerprint, load_checkpoint, save_checkpoint
    from graphgen.io.formats import FORMATS, GraphFormat, read_graphs, resolve_format, write_graphs
    from graphgen.io.graph6 import decode_graph6, encode_graph6
    from graphgen.io.molecules import canonical_smiles, graph_to_smiles, smiles_to_graph
