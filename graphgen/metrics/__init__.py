"""Evaluation metrics: descriptors, kernels, MMD estimators, orbit counts and protocols."""

from graphgen.metrics.descriptors import (
    DESCRIPTORS,
    clustering_histograms,
    degree_histograms,
    orbit_features,
    spectral_histograms,
)
from graphgen.metrics.evaluate import compute_descriptors, evaluate, train_test_floor
from graphgen.metrics.graph_set import GraphSet, MetricInputWarning, as_graph_set
from graphgen.metrics.kernels import (
    KERNELS,
    GaussianEMD,
    GaussianL2,
    GaussianTV,
    Kernel,
    LaplacianEMD,
    LaplacianTV,
)
from graphgen.metrics.mmd import ESTIMATORS, mmd2
from graphgen.metrics.orbits import NUM_ORBITS, ORBIT_NAMES, orbit_counts_from_edges
from graphgen.metrics.protocols import Protocol, list_protocols, load_protocol
from graphgen.metrics.wasserstein import descriptor_ot, histogram_w1, pooled_w1

__all__ = [
    "DESCRIPTORS",
    "degree_histograms",
    "clustering_histograms",
    "orbit_features",
    "spectral_histograms",
    "evaluate",
    "compute_descriptors",
    "train_test_floor",
    "GraphSet",
    "MetricInputWarning",
    "as_graph_set",
    "KERNELS",
    "Kernel",
    "GaussianTV",
    "GaussianEMD",
    "GaussianL2",
    "LaplacianTV",
    "LaplacianEMD",
    "ESTIMATORS",
    "mmd2",
    "NUM_ORBITS",
    "ORBIT_NAMES",
    "orbit_counts_from_edges",
    "Protocol",
    "load_protocol",
    "list_protocols",
    "descriptor_ot",
    "histogram_w1",
    "pooled_w1",
]
