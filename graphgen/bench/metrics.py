"""Metrics benchmark: graphgen's vectorised protocols against the reference approach, same run.

Inputs: 100 reference and 100 "generated" SBM graphs of 40-400 nodes (2-5 blocks of 20-80 nodes,
seeds 0 and 1). For each protocol (``gran``, ``graphrnn``) the benchmark times
:func:`graphgen.metrics.evaluate` and :func:`graphgen.metrics.reference.evaluate_reference` (per-graph
networkx descriptors, pairwise Python kernel loops, EMD by linear programming, default BLAS
threads -- what the literature's evaluation code does), checks that all four values agree to
1e-9 relative, and reports the speed-up per protocol, plus a per-descriptor breakdown of the time
spent extracting descriptors and in the kernel/MMD step for both approaches.

The reference approach here counts orbits with graphgen's numpy counter graph by graph (the
literature runs the ORCA binary through temporary files, which cannot ship with graphgen); when the
``orbit-count`` ORCA binding is installed (a test-only dependency) its time on the same graphs is
recorded beside it (``context.orca_binding_seconds``) to show the stand-in is fair. graphgen's side
is timed three times and the median kept (the baseline once: it is 10-100x longer). The record
also holds the bare LAPACK time of the spectra (``context.eigvalsh_seconds``: ``scipy.linalg.eigvalsh``
of every normalised Laplacian, one BLAS thread), the floor of any exact float64 spectral step.
"""

from __future__ import annotations

import time

from graphgen.bench.record import median_seconds, provenance


def _breakdown(reference, samples, protocol_name: str) -> dict:
    """Seconds per descriptor: extraction and kernel/MMD step, for both approaches."""
    from graphgen.metrics import as_graph_set, load_protocol, mmd2
    from graphgen.metrics.descriptors import DESCRIPTORS
    from graphgen.metrics.reference import _descriptor, _kernel, _mmd_loop, _nx

    proto = load_protocol(protocol_name)
    ref, gen = as_graph_set(reference), as_graph_set(samples)
    ref_nx, gen_nx = _nx(ref), _nx(gen)
    out = {}
    for name, spec in proto.descriptors.items():
        t0 = time.perf_counter()
        x, y = DESCRIPTORS[name](ref, **spec.params), DESCRIPTORS[name](gen, **spec.params)
        t1 = time.perf_counter()
        mmd2(x, y, spec.kernel, proto.estimator)
        t2 = time.perf_counter()
        xs = [_descriptor(name, g, spec.params) for g in ref_nx]
        ys = [_descriptor(name, g, spec.params) for g in gen_nx]
        t3 = time.perf_counter()
        _mmd_loop(xs, ys, _kernel(spec.kernel_name, spec.kernel_params), proto.estimator)
        t4 = time.perf_counter()
        out[name] = {
            "graphgen_descriptor_seconds": t1 - t0,
            "graphgen_kernel_seconds": t2 - t1,
            "reference_descriptor_seconds": t3 - t2,
            "reference_kernel_seconds": t4 - t3,
        }
    return out


def _context(graphs) -> dict:
    """Reference times on the same graphs: bare ``eigvalsh`` of all spectra, and ORCA if installed."""
    import numpy as np
    from scipy.linalg import eigvalsh
    from threadpoolctl import threadpool_limits

    from graphgen.metrics import as_graph_set
    from graphgen.metrics.descriptors import _normalized_laplacian_dense
    from graphgen.metrics.reference import _nx

    gs = as_graph_set(graphs)
    laplacians = [_normalized_laplacian_dense(int(n), e) for n, e in zip(gs.num_nodes, gs.edges)]
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        for lap in laplacians:
            eigvalsh(lap, check_finite=False)
        eig_seconds = time.perf_counter() - start
    out = {"eigvalsh_seconds": eig_seconds, "orca_binding_seconds": None}
    try:
        import orbit_count  # GPL-3.0 ORCA binding, test-only: timed when present, never required
    except ImportError:
        return out
    nx_graphs = _nx(gs)
    start = time.perf_counter()
    for g in nx_graphs:
        if g.number_of_edges():
            np.asarray(orbit_count.node_orbit_counts(g, graphlet_size=4))
    out["orca_binding_seconds"] = time.perf_counter() - start
    return out


def run(quick: bool = False) -> dict:
    from graphgen.datasets import generate
    from graphgen.metrics import evaluate
    from graphgen.metrics.reference import evaluate_reference

    count = 30 if quick else 100
    params = dict(min_communities=2, max_communities=5, min_size=20, max_size=80)
    reference = generate("sbm", count, seed=0, **params)
    samples = generate("sbm", count, seed=1, **params)
    records = []
    for protocol in ("gran", "graphrnn"):
        evaluate(reference[:2], samples[:2], protocol)  # warm caches and imports
        fast = evaluate(reference, samples, protocol)
        fast_seconds = median_seconds(lambda p=protocol: evaluate(reference, samples, p), repeats=3, warmup=0)
        start = time.perf_counter()
        slow = evaluate_reference(reference, samples, protocol)
        slow_seconds = time.perf_counter() - start
        values = {}
        for d in ("degree", "clustering", "orbit", "spectral"):
            a, b = fast[f"{d}_mmd"], slow[f"{d}_mmd"]
            rel = abs(a - b) / max(abs(b), 1e-300)
            if rel > 1e-9:
                raise AssertionError(f"{protocol} {d}: graphgen {a} differs from the reference approach {b}")
            values[d] = {"graphgen": a, "reference_approach": b, "relative_difference": rel}
        records.append(
            {
                "protocol": protocol,
                "graphs": [len(reference), len(samples)],
                "nodes": [
                    min(int(g.num_nodes) for g in reference + samples),
                    max(int(g.num_nodes) for g in reference + samples),
                ],
                "graphgen_seconds": fast_seconds,
                "reference_approach_seconds": slow_seconds,
                "speedup": slow_seconds / fast_seconds,
                "values": values,
                "breakdown": _breakdown(reference, samples, protocol),
            }
        )
    return {
        "benchmark": "metrics",
        "quick": quick,
        **provenance(f"graphgen bench metrics{' --quick' if quick else ''}"),
        "context": _context(reference + samples),
        "records": records,
    }
