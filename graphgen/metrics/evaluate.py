"""Score any list of graphs against a reference set under a protocol.

Example:
    >>> from graphgen.datasets import load_dataset
    >>> test = load_dataset("community_small", "test")
    >>> result = evaluate(test, test, protocol="gran")
    >>> result["degree_mmd"], result["n_samples"]
    (0.0, 20)
"""

from __future__ import annotations

import numpy as np

from graphgen.errors import InvalidGraphError
from graphgen.metrics.descriptors import DESCRIPTORS, spectral_histograms
from graphgen.metrics.graph_set import GraphSet, as_graph_set
from graphgen.metrics.mmd import mmd2
from graphgen.metrics.protocols import Protocol, load_protocol
from graphgen.metrics.wasserstein import pooled_w1
from graphgen.seeding import numpy_rng

__all__ = ["evaluate", "compute_descriptors", "train_test_floor"]


def compute_descriptors(graphs: GraphSet, protocol: Protocol) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Descriptor matrix of each of the protocol's descriptors for one set, and diagnostics
    (``spectral_eigenvalues_dropped``: eigenvalues outside the histogram range, which the
    reference code drops silently)."""
    out, diagnostics = {}, {}
    for name, spec in protocol.descriptors.items():
        if name == "spectral":
            out[name], dropped = spectral_histograms(graphs, **spec.params, return_dropped=True)
            diagnostics["spectral_eigenvalues_dropped"] = int(dropped.sum())
        else:
            out[name] = DESCRIPTORS[name](graphs, **spec.params)
    return out, diagnostics


def evaluate(reference, samples, protocol: str | Protocol = "gran") -> dict:
    """MMD² of every descriptor of ``protocol`` between ``reference`` and ``samples``.

    Args:
        reference: reference graphs (e.g. a test split): ``list[Data]``, networkx graphs or a Batch.
        samples: generated graphs, same types.
        protocol: a shipped protocol name (``gran``, ``graphrnn``, ``sound``) or a :class:`Protocol`.

    Returns:
        A JSON-ready dict: ``{descriptor}_mmd`` for each descriptor, ``pooled_w1`` (degree and
        clustering, see :mod:`graphgen.metrics.wasserstein`), ``n_reference``, ``n_samples``,
        ``n_empty`` (0-node samples excluded), the same hygiene counts for the reference, and the
        protocol's full description.

    Raises:
        InvalidGraphError: a set has no graph with at least one node.
    """
    proto = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    ref = as_graph_set(reference, name="reference")
    gen = as_graph_set(samples, name="samples")
    for label, s in (("reference", ref), ("samples", gen)):
        if len(s) == 0:
            raise InvalidGraphError(
                f"the {label} set holds no graph with at least one node ({s.n_input} given, {s.n_empty} empty)"
            )
    (ref_desc, ref_diag), (gen_desc, gen_diag) = compute_descriptors(ref, proto), compute_descriptors(gen, proto)
    result: dict = {"protocol": proto.name, "estimator": proto.estimator}
    for name, spec in proto.descriptors.items():
        result[f"{name}_mmd"] = mmd2(ref_desc[name], gen_desc[name], spec.kernel, proto.estimator)
    result["pooled_w1"] = {stat: pooled_w1(ref, gen, stat) for stat in ("degree", "clustering")}
    result.update(
        {
            "n_reference": len(ref),
            "n_samples": len(gen),
            "n_empty": gen.n_empty,
            "n_empty_reference": ref.n_empty,
            "input": {"reference": {**ref.report(), **ref_diag}, "samples": {**gen.report(), **gen_diag}},
            "protocol_definition": proto.describe(),
        }
    )
    return result


def floor_subset(num_train: int, num_samples: int, seed: int = 0) -> list[int]:
    """The indices (ascending) of the seeded random training subset :func:`train_test_floor` scores."""
    pick = numpy_rng(seed).choice(num_train, size=min(num_samples, num_train), replace=False)
    return sorted(int(i) for i in pick)


def train_test_floor(train, test, num_samples: int, protocol: str | Protocol = "gran", seed: int = 0) -> dict:
    """The same metrics between ``num_samples`` training graphs (a seeded random subset) and the test
    set: the value a perfect generator would get at this sample size, reported beside every result."""
    if num_samples < 1:
        raise InvalidGraphError("the floor needs at least one sample")
    train = list(train)
    pick = floor_subset(len(train), num_samples, seed)
    result = evaluate(test, [train[i] for i in pick], protocol)
    result["floor_seed"] = seed
    return result
