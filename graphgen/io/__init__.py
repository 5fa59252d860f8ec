"""Graph files (graph6, sparse6, edge lists, SMILES, safe ``.pt``) and the checkpoint format.

The names below are imported on first use (:mod:`graphgen._lazy`)."""

from typing import TYPE_CHECKING

from graphgen._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "checkpoint": ("Checkpoint", "save_checkpoint", "load_checkpoint", "graphs_fingerprint"),
        "formats": ("FORMATS", "GraphFormat", "read_graphs", "write_graphs", "resolve_format"),
        "graph6": ("decode_graph6", "encode_graph6"),
        "molecules": ("smiles_to_graph", "graph_to_smiles", "canonical_smiles"),
    },
)

if TYPE_CHECKING:
    from graphgen.io.checkpoint import Checkpoint, graphs_fingerprint, load_checkpoint, save_checkpoint
    from graphgen.io.formats import FORMATS, GraphFormat, read_graphs, resolve_format, write_graphs
    from graphgen.io.graph6 import decode_graph6, encode_graph6
    from graphgen.io.molecules import canonical_smiles, graph_to_smiles, smiles_to_graph
