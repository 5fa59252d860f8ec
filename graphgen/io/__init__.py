"""Graph files (graph6, sparse6, edge lists, SMILES, safe ``.pt``) and the checkpoint format."""

from graphgen.io.checkpoint import Checkpoint, graphs_fingerprint, load_checkpoint, save_checkpoint
from graphgen.io.formats import FORMATS, GraphFormat, read_graphs, resolve_format, write_graphs
from graphgen.io.graph6 import decode_graph6, encode_graph6
from graphgen.io.molecules import canonical_smiles, graph_to_smiles, smiles_to_graph

__all__ = [
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "graphs_fingerprint",
    "FORMATS",
    "GraphFormat",
    "read_graphs",
    "write_graphs",
    "resolve_format",
    "decode_graph6",
    "encode_graph6",
    "smiles_to_graph",
    "graph_to_smiles",
    "canonical_smiles",
]
