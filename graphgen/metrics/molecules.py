"""Molecule metrics (MOSES definitions, Polykovskiy et al. 2018; GDSS's NSPDK), with RDKit.

Inputs are SMILES strings or molecule graphs (``Data`` with ``x``/``edge_attr``, see
:mod:`graphgen.io.molecules`). Definitions:

* ``validity``: fraction that RDKit parses and sanitises (MOSES; fragments allowed);
  ``validity_connected``: valid **and** a single fragment (the definition without keeping the
  largest fragment). Every later metric uses the valid molecules, each reduced to its largest
  fragment (by heavy-atom count, as DiGress), in canonical SMILES.
* ``uniqueness``: distinct canonical SMILES / valid molecules (MOSES unique@k with k = all valid).
* ``novelty``: distinct generated SMILES absent from the training set / distinct generated SMILES.
* ``fcd``: Fréchet ChemNet distance to the reference (fcd-torch, ChemNet weights shipped in the
  wheel; torch pinned to one thread), clamped at 0; ``None`` (undefined: no covariance) when either
  side has fewer than 2 valid molecules.
* ``snn``: mean over generated molecules of the largest Tanimoto similarity to a reference
  molecule (Morgan fingerprints, radius 2, 1024 bits).
* ``frag`` / ``scaf``: cosine similarity of BRICS-fragment / Bemis–Murcko-scaffold count vectors
  (scaffolds with fewer than 2 rings are dropped, as MOSES does).
* ``int_div`` (p = 1) and ``int_div2`` (p = 2): ``1 - mean_i (mean_j T(i, j)^p)^{1/p}`` over the
  generated set, ``j`` including ``i``.
* ``nspdk_mmd``: biased MMD² with the NSPDK kernel (:mod:`graphgen.metrics.nspdk`).
* ``w1_logp``, ``w1_qed``, ``w1_weight``, ``w1_sa``: 1-D Wasserstein distances between the property
  distributions of the generated and reference molecules.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from functools import cached_property, lru_cache

import numpy as np

from graphgen.io._atomic import atomic_write

__all__ = [
    "MoleculeReference",
    "canonical_valid",
    "molecule_metrics",
    "morgan_fingerprints",
    "tanimoto_matrix",
    "mol_to_labelled_nx",
]


def _chem():
    from rdkit import Chem

    return Chem


def _to_smiles(item) -> str | None:
    """SMILES of a string or a molecule graph; ``None`` when it cannot be built."""
    if isinstance(item, str):
        return item
    from graphgen.errors import InvalidGraphError
    from graphgen.io.molecules import graph_to_smiles

    try:
        return graph_to_smiles(item)
    except InvalidGraphError:
        return None


def canonical_valid(items: Sequence) -> tuple[list[str | None], list[bool]]:
    """Per input: the canonical SMILES of its largest fragment (``None`` if invalid), and whether
    the whole molecule was a single fragment."""
    from rdkit.rdBase import BlockLogs

    Chem = _chem()
    out, connected = [], []
    _block = BlockLogs()  # noqa: F841 - RDKit's own messages are muted while we parse
    for item in items:
        smiles = _to_smiles(item)
        mol = Chem.MolFromSmiles(smiles) if smiles else None
        if mol is None or mol.GetNumAtoms() == 0:
            out.append(None)
            connected.append(False)
            continue
        frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=True)
        largest = max(frags, key=lambda m: m.GetNumAtoms())
        out.append(Chem.MolToSmiles(largest))
        connected.append(len(frags) == 1)
    return out, connected


def morgan_fingerprints(smiles: Sequence[str], radius: int = 2, bits: int = 1024) -> np.ndarray:
    """Morgan fingerprints as a ``(N, bits)`` uint8 0/1 matrix."""
    from rdkit.Chem import rdFingerprintGenerator

    Chem = _chem()
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    out = np.zeros((len(smiles), bits), dtype=np.uint8)
    for i, s in enumerate(smiles):
        out[i] = gen.GetFingerprintAsNumPy(Chem.MolFromSmiles(s))
    return out


def tanimoto_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tanimoto similarity of 0/1 fingerprints; two empty fingerprints have similarity 1."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.ones_like(inter), where=union > 0)


def _cosine_counts(a: Counter, b: Counter) -> float | None:
    """Cosine similarity of two count vectors; ``None`` when either is empty (undefined)."""
    keys = sorted(set(a) | set(b))
    if not keys:
        return None
    x = np.array([a.get(k, 0) for k in keys], dtype=np.float64)
    y = np.array([b.get(k, 0) for k in keys], dtype=np.float64)
    denom = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / denom) if denom > 0 else None


def _fragments(smiles: Sequence[str]) -> Counter:
    from rdkit.Chem import BRICS

    Chem = _chem()
    counts: Counter = Counter()
    for s in smiles:
        counts.update(BRICS.BRICSDecompose(Chem.MolFromSmiles(s)))
    return counts


def _scaffolds(smiles: Sequence[str], min_rings: int = 2) -> Counter:
    from rdkit.Chem.Scaffolds import MurckoScaffold

    Chem = _chem()
    counts: Counter = Counter()
    for s in smiles:
        scaffold = MurckoScaffold.GetScaffoldForMol(Chem.MolFromSmiles(s))
        if scaffold is not None and scaffold.GetNumAtoms() and scaffold.GetRingInfo().NumRings() >= min_rings:
            counts[Chem.MolToSmiles(scaffold)] += 1
    return counts


def _properties(smiles: Sequence[str]) -> dict[str, np.ndarray]:
    import os
    import sys

    from rdkit import RDConfig
    from rdkit.Chem import QED, Crippen, Descriptors

    Chem = _chem()
    sa_dir = os.path.join(RDConfig.RDContribDir, "SA_Score")
    if sa_dir not in sys.path:
        sys.path.append(sa_dir)
    import sascorer  # RDKit Contrib, shipped in the rdkit wheel

    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return {
        "logp": np.array([Crippen.MolLogP(m) for m in mols]),
        "qed": np.array([QED.qed(m) for m in mols]),
        "weight": np.array([Descriptors.MolWt(m) for m in mols]),
        "sa": np.array([sascorer.calculateScore(m) for m in mols]),
    }


def mol_to_labelled_nx(smiles: str):
    """GDSS's molecule graph for NSPDK: atom symbols on nodes, ``int(bond order)`` on edges."""
    import networkx as nx

    mol = _chem().MolFromSmiles(smiles)
    g = nx.Graph()
    for a in mol.GetAtoms():
        g.add_node(a.GetIdx(), label=a.GetSymbol())
    for b in mol.GetBonds():
        g.add_edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx(), label=int(b.GetBondTypeAsDouble()))
    return g


@lru_cache(maxsize=1)
def _fcd_model():
    try:
        from fcd_torch import FCD
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("FCD needs fcd-torch: pip install fcd-torch") from exc
    return FCD(device="cpu", n_jobs=1)


def _fcd_statistics(smiles: Sequence[str]) -> dict:
    """ChemNet activations' mean and covariance (fcd-torch's ``precalc``); ``{}`` below 2 molecules."""
    import warnings

    import torch

    if len(smiles) < 2:
        return {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ChemNet is ~4x faster with one thread on two shared cores
    try:
        with warnings.catch_warnings():  # fcd-torch 1.0.7 calls numpy's deprecated row_stack
            warnings.simplefilter("ignore", DeprecationWarning)
            return _fcd_model().precalc(list(smiles))
    finally:
        torch.set_num_threads(threads)


def _frechet_distance(generated: dict, reference: dict) -> float | None:
    """FCD of two sets' ChemNet statistics, clamped at 0; ``None`` when either has none."""
    import warnings

    if not generated or not reference:
        return None
    with warnings.catch_warnings():  # fcd-torch's scipy sqrtm(disp=...) is deprecated in scipy 1.16
        warnings.simplefilter("ignore", DeprecationWarning)
        # fcd-torch's argument order (generated first), as FCD()(gen, ref) had it: the same digits
        return max(float(_fcd_model().metric(generated, reference)), 0.0)


# Bump when a stored quantity's definition changes: entries of other numbers are never read.
REFERENCE_CACHE_FORMAT = 1

# How each stored quantity of a MoleculeReference is written to and read from its cache entry.
_CODECS = {
    "smiles": ("json", list, list),
    "train_set": ("json", lambda v: sorted(v), set),
    "fragments": ("json", dict, Counter),
    "scaffolds": ("json", dict, Counter),
    "fingerprints": (
        "npz",
        lambda v: {"bits": np.packbits(v, axis=1), "width": np.array(v.shape[1])},
        lambda a: np.unpackbits(a["bits"], axis=1, count=int(a["width"])).astype(np.uint8),
    ),
    "properties": ("npz", dict, dict),
    "nspdk_mean": ("npz", lambda v: {"mean": v}, lambda a: a["mean"]),
    "fcd_statistics": ("npz", dict, dict),
}


class MoleculeReference:
    """The reference side of :func:`molecule_metrics`, computed once and reused.

    ``graphgen evaluate`` scores the samples and then the floor (training molecules) against the
    same reference; with a 13,000-molecule reference (qm9's test split) its fingerprints, fragments,
    scaffolds, properties, NSPDK mean embedding and ChemNet statistics are nearly all the work, so
    each is computed on first use and kept. Pass it to :func:`molecule_metrics` as ``reference``.

    Each quantity is also stored in graphgen's cache folder (:mod:`graphgen.cache`; ``cache=False``
    or ``GRAPHGEN_CACHE=off`` to skip), under a digest of the reference's and the training set's
    SMILES, the versions of graphgen, RDKit and fcd-torch and :data:`REFERENCE_CACHE_FORMAT`, so a
    later evaluation against the same molecules reads it instead of computing it (only when both
    are given as SMILES strings; molecule graphs are computed every time). The values are the same
    either way (tested). Making an entry removes the entries unused for
    :data:`graphgen.cache.UNUSED_AGE_DAYS` days; reading one marks it used.

    Args:
        reference: reference molecules (SMILES or molecule graphs); only the valid ones count, each
            as the canonical SMILES of its largest fragment (none valid: ``InvalidSmilesError``).
        train: training molecules for novelty (default: ``reference``).
        cache: read and write the cache folder.
    """

    def __init__(self, reference: Sequence, train: Sequence | None = None, *, cache: bool = True) -> None:
        from graphgen.errors import InvalidSmilesError

        self._train = train
        self._entry = self._cache_entry(reference, train) if cache else None
        self.smiles = self._stored("smiles", lambda: [s for s in canonical_valid(reference)[0] if s is not None])
        if not self.smiles:
            raise InvalidSmilesError(f"the reference holds no valid molecule ({len(reference)} given)")

    @staticmethod
    def _cache_entry(reference: Sequence, train: Sequence | None):
        from importlib.metadata import PackageNotFoundError, version

        import graphgen
        from graphgen.cache import cache_dir, digest

        if not all(isinstance(s, str) for s in reference) or not (
            train is None or all(isinstance(s, str) for s in train)
        ):
            return None
        folder = cache_dir("molecule-reference")
        if folder is None:
            return None
        try:
            versions = [version(p) for p in ("rdkit", "fcd-torch")]
        except PackageNotFoundError:
            return None
        key = digest(REFERENCE_CACHE_FORMAT, graphgen.__version__, versions, list(reference), train and list(train))
        return folder / key

    def _stored(self, name: str, compute):
        """The quantity ``name``: read from the cache entry if there (and readable), else computed
        and, where there is an entry, written to it atomically."""
        kind, encode, decode = _CODECS[name]
        path = None if self._entry is None else self._entry / f"{name}.{kind}"
        if path is not None and path.is_file():
            from graphgen.cache import mark_used

            mark_used(self._entry)
            try:
                if kind == "json":
                    return decode(json.loads(path.read_text(encoding="utf-8")))
                with np.load(path, allow_pickle=False) as arrays:
                    return decode({k: arrays[k] for k in arrays.files})
            except (OSError, ValueError, KeyError):
                pass  # unreadable: computed again and replaced below
        value = compute()
        if path is not None:
            try:
                new = not self._entry.is_dir()
                self._entry.mkdir(exist_ok=True)
                if new:  # making an entry removes the unused ones of its kind (graphgen.cache)
                    from graphgen.cache import remove_unused

                    remove_unused(self._entry.parent, keep=self._entry)
                with atomic_write(path, "w" if kind == "json" else "wb") as handle:
                    if kind == "json":
                        json.dump(encode(value), handle)
                    else:
                        np.savez(handle, **encode(value))
            except OSError:
                pass  # a cache that cannot be written is no cache, not an error
        return value

    def __len__(self) -> int:
        return len(self.smiles)

    @cached_property
    def train_set(self) -> set[str]:
        if self._train is None:
            return set(self.smiles)
        return self._stored("train_set", lambda: {s for s in canonical_valid(self._train)[0] if s is not None})

    @cached_property
    def fingerprints(self) -> np.ndarray:
        return self._stored("fingerprints", lambda: morgan_fingerprints(self.smiles))

    @cached_property
    def fragments(self) -> Counter:
        return self._stored("fragments", lambda: _fragments(self.smiles))

    @cached_property
    def scaffolds(self) -> Counter:
        return self._stored("scaffolds", lambda: _scaffolds(self.smiles))

    @cached_property
    def properties(self) -> dict[str, np.ndarray]:
        return self._stored("properties", lambda: _properties(self.smiles))

    @cached_property
    def nspdk_mean(self) -> np.ndarray:
        from graphgen.metrics.nspdk import nspdk_mean_embedding

        return self._stored("nspdk_mean", lambda: nspdk_mean_embedding([mol_to_labelled_nx(s) for s in self.smiles]))

    @cached_property
    def fcd_statistics(self) -> dict:
        return self._stored("fcd_statistics", lambda: _fcd_statistics(self.smiles))


def molecule_metrics(
    samples: Sequence,
    reference: Sequence | MoleculeReference,
    train: Sequence | None = None,
    *,
    fcd: bool = True,
    nspdk: bool = True,
) -> dict:
    """All molecule metrics of ``samples`` against ``reference`` (and ``train`` for novelty).

    Args:
        samples: generated molecules (SMILES or molecule graphs).
        reference: reference molecules (e.g. the test split), or a :class:`MoleculeReference` of
            them (which then holds the training molecules too) to reuse across calls.
        train: training molecules for novelty (default: ``reference``).
        fcd, nspdk: compute the two slower metrics.
    """
    from scipy.stats import wasserstein_distance

    if len(samples) == 0:
        raise ValueError("no generated molecules")
    if isinstance(reference, MoleculeReference):
        if train is not None:
            raise ValueError("a MoleculeReference holds its training molecules: pass train to it, not here")
        ref = reference
    else:
        ref = MoleculeReference(reference, train)
    gen, connected = canonical_valid(samples)
    valid = [s for s in gen if s is not None]
    out: dict = {
        "n_samples": len(samples),
        "n_valid": len(valid),
        "n_reference": len(ref),
        "validity": len(valid) / len(samples),
        "validity_connected": float(np.mean(connected)),
    }
    if not valid:
        return out
    unique = set(valid)
    out["uniqueness"] = len(unique) / len(valid)
    out["novelty"] = len(unique - ref.train_set) / len(unique)
    fg = morgan_fingerprints(valid)
    out["snn"] = float(tanimoto_matrix(fg, ref.fingerprints).max(axis=1).mean())
    t = tanimoto_matrix(fg, fg)
    out["int_div"] = float(1 - t.mean(axis=1).mean())
    out["int_div2"] = float(1 - np.sqrt((t**2).mean(axis=1)).mean())
    out["frag"] = _cosine_counts(_fragments(valid), ref.fragments)
    out["scaf"] = _cosine_counts(_scaffolds(valid), ref.scaffolds)
    pg, pr = _properties(valid), ref.properties
    for key in pg:
        out[f"w1_{key}"] = float(wasserstein_distance(pg[key], pr[key]))
    if nspdk:
        from graphgen.metrics.nspdk import nspdk_mmd

        out["nspdk_mmd"] = nspdk_mmd(ref.nspdk_mean, [mol_to_labelled_nx(s) for s in valid])
    if fcd:
        stats = _fcd_statistics(valid)
        out["fcd"] = _frechet_distance(stats, ref.fcd_statistics) if stats else None
    return out
