"""The batched sparse graph backend: PyG ``Data``/``Batch`` plus per-graph ops and the hierarchy."""

from graphgen.data.convert import (
    check_simple_graph,
    from_edge_array,
    from_networkx,
    graph_from_dense,
    num_undirected_edges,
    to_networkx,
    upper_edge_weights,
    upper_edges,
)
from graphgen.data.hierarchy import BipartiteBlocks, Hierarchy, batch_from_edges, build_hierarchy, coarsen
from graphgen.data.ops import (
    batch_vector,
    clustering_coefficients,
    degree,
    from_dense,
    graph_triangle_counts,
    node_offsets,
    nodes_per_graph,
    normalized_laplacian,
    num_graphs,
    to_dense,
    triangle_counts,
)
from graphgen.data.ordering import (
    bfs_order,
    degree_order,
    dfs_order,
    inverse_permutation,
    permute_graph,
    random_order,
)
from graphgen.data.partition import FixedPartitioner, LouvainPartitioner, Partitioner, canonical_assignment

__all__ = [
    "from_edge_array", "upper_edges", "upper_edge_weights", "num_undirected_edges", "check_simple_graph",
    "from_networkx", "to_networkx", "graph_from_dense",
    "batch_vector", "num_graphs", "nodes_per_graph", "node_offsets", "degree", "triangle_counts",
    "graph_triangle_counts", "clustering_coefficients", "normalized_laplacian", "to_dense", "from_dense",
    "bfs_order", "dfs_order", "degree_order", "random_order", "permute_graph", "inverse_permutation",
    "Partitioner", "LouvainPartitioner", "FixedPartitioner", "canonical_assignment",
    "Hierarchy", "BipartiteBlocks", "build_hierarchy", "coarsen", "batch_from_edges",
]
