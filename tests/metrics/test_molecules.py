import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphgen.errors import InvalidSmilesError
from graphgen.io import smiles_to_graph
from graphgen.metrics.molecules import canonical_valid, mol_to_labelled_nx, molecule_metrics, tanimoto_matrix
from graphgen.metrics.nspdk import nspdk_features, nspdk_mmd

DATA = Path(__file__).parent / "data"


def test_nspdk_equals_eden_features():
    ref = json.loads((DATA / "nspdk_eden_reference.json").read_text())
    feats = nspdk_features([mol_to_labelled_nx(s) for s in ref["smiles"]]).toarray()
    assert feats.shape[1] == ref["dim"]
    for row, expected in zip(feats, ref["features"]):
        want = np.zeros(ref["dim"])
        for col, val in expected:
            want[col] = val
        assert np.allclose(row, want, atol=1e-12)


def test_nspdk_is_independent_of_the_python_hash_seed():
    code = (
        "from graphgen.metrics.nspdk import nspdk_features; from graphgen.metrics.molecules import mol_to_labelled_nx;"
        "x = nspdk_features([mol_to_labelled_nx(s) for s in ['CCO', 'c1ccccc1N', 'OC(=O)C#N']]).tocoo();"
        "print(sorted(zip(x.row.tolist(), x.col.tolist(), [round(v, 12) for v in x.data])))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1")
    }
    assert len(outs) == 1


def test_nspdk_mmd_properties():
    a = [mol_to_labelled_nx(s) for s in ["CCO", "CCN", "c1ccccc1"]]
    b = [mol_to_labelled_nx(s) for s in ["CCCCCC", "OCCO"]]
    assert nspdk_mmd(a, a) == pytest.approx(0, abs=1e-12)
    assert nspdk_mmd(a, b) > 0
    feats = nspdk_features(a)
    assert np.allclose(np.sqrt(feats.multiply(feats).sum(axis=1)), 1)  # unit norm


def test_nspdk_mmd_by_mean_embeddings_equals_the_pairwise_kernel_means():
    """The linear kernel's MMD from mean embeddings is the biased estimator of the kernel matrices."""
    from graphgen.metrics.nspdk import nspdk_mean_embedding

    a = [mol_to_labelled_nx(s) for s in ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "C1CCOC1"]]
    b = [mol_to_labelled_nx(s) for s in ["CCCCCC", "OCCO", "c1ccncc1"]]
    x, y = nspdk_features(a), nspdk_features(b)
    pairwise = (x @ x.T).toarray().mean() + (y @ y.T).toarray().mean() - 2 * (x @ y.T).toarray().mean()
    assert nspdk_mmd(a, b) == pytest.approx(pairwise, rel=1e-12, abs=1e-15) and pairwise > 0.05
    assert nspdk_mmd(nspdk_mean_embedding(a), b) == nspdk_mmd(a, b)


def test_a_molecule_reference_gives_the_same_metrics_and_computes_its_side_once(monkeypatch):
    """graphgen evaluate scores the samples and the floor against one MoleculeReference: the same
    numbers as passing the lists, the reference's statistics computed on the first call only."""
    from graphgen.metrics import molecules

    reference, train = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCCl"], ["CCO", "CCC", "CCCC"]
    samples = ["OCC", "C(C)O", "CCCl", "C1CC", "c1ccncc1", "CC=O"]
    direct = molecule_metrics(samples, reference, train)
    prepared = molecules.MoleculeReference(reference, train)
    assert molecule_metrics(samples, prepared) == direct
    calls = []
    monkeypatch.setattr(molecules, "_properties", lambda smiles: calls.append(len(smiles)) or {})
    monkeypatch.setattr(molecules, "_fcd_statistics", lambda smiles: calls.append(len(smiles)) or {})
    molecule_metrics(["CCO", "CCN"], prepared)  # the reference's properties and ChemNet statistics are kept
    assert calls == [2, 2]  # the samples' only
    with pytest.raises(ValueError, match="holds its training molecules"):
        molecule_metrics(samples, prepared, train)
    with pytest.raises(InvalidSmilesError, match=r"the reference holds no valid molecule \(2 given\)"):
        molecule_metrics(samples, ["C1CC", "xx"])  # an IndexError-like numpy error before


def _reference_values(ref) -> dict:
    return {
        "smiles": ref.smiles,
        "train_set": ref.train_set,
        "fingerprints": ref.fingerprints.tolist(),
        "fragments": ref.fragments,
        "scaffolds": ref.scaffolds,
        "properties": {k: v.tolist() for k, v in ref.properties.items()},
        "nspdk_mean": ref.nspdk_mean.tolist(),
        "fcd": {k: v.tolist() for k, v in ref.fcd_statistics.items()},
    }


def test_a_molecule_reference_is_stored_in_the_cache_folder_and_read_back(tmp_path, monkeypatch):
    """The second reference of the same SMILES reads every quantity from the cache folder (nothing is
    computed: the computing functions are replaced by ones that fail) and equals the first; another
    training set is another entry; an unreadable file is computed again; GRAPHGEN_CACHE=off and
    molecule graphs write nothing."""
    from graphgen.metrics import molecules

    monkeypatch.setenv("GRAPHGEN_CACHE_DIR", str(tmp_path))
    reference, train = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "C1CCC2CCCCC2C1"], ["CCO", "CCC"]
    first = _reference_values(molecules.MoleculeReference(reference, train))
    entries = list((tmp_path / "molecule-reference").iterdir())
    assert len(entries) == 1 and len(list(entries[0].iterdir())) == 8
    computed = {}
    for name in (
        "canonical_valid",
        "morgan_fingerprints",
        "_fragments",
        "_scaffolds",
        "_properties",
        "_fcd_statistics",
    ):
        real = getattr(molecules, name)
        monkeypatch.setattr(
            molecules, name, lambda *a, _real=real, _name=name, **k: computed.setdefault(_name, 0) or _real(*a, **k)
        )
    monkeypatch.setattr("graphgen.metrics.nspdk.nspdk_mean_embedding", lambda *a, **k: computed.setdefault("nspdk", 0))
    assert _reference_values(molecules.MoleculeReference(reference, train)) == first and computed == {}
    monkeypatch.undo()
    monkeypatch.setenv("GRAPHGEN_CACHE_DIR", str(tmp_path))
    (entries[0] / "properties.npz").write_bytes(b"not an npz file")
    assert _reference_values(molecules.MoleculeReference(reference, train)) == first
    with np.load(entries[0] / "properties.npz") as arrays:  # replaced by a good one
        assert sorted(arrays.files) == ["logp", "qed", "sa", "weight"]
    molecules.MoleculeReference(reference, ["CCO"]).train_set  # noqa: B018 - another entry
    assert len(list((tmp_path / "molecule-reference").iterdir())) == 2
    monkeypatch.setenv("GRAPHGEN_CACHE", "off")
    molecules.MoleculeReference(reference, ["CCN"]).fingerprints  # noqa: B018
    monkeypatch.delenv("GRAPHGEN_CACHE")
    molecules.MoleculeReference([smiles_to_graph(s) for s in reference], ["CCN"]).fingerprints  # noqa: B018
    assert len(list((tmp_path / "molecule-reference").iterdir())) == 2


def test_validity_canonicalisation_and_fragments():
    smiles, connected = canonical_valid(["OCC", "C(O)C", "C1CC", "CC.O", "", smiles_to_graph("c1ccccc1")])
    assert smiles[:2] == ["CCO", "CCO"] and smiles[2] is None and smiles[3] == "CC" and smiles[4] is None
    assert smiles[5] == "c1ccccc1" and connected == [True, True, False, False, False, True]


def test_molecule_metrics_definitions():
    train = ["CCO", "CCN", "c1ccccc1", "CC(=O)O"]
    samples = ["OCC", "C(C)O", "CCCl", "C1CC", "c1ccncc1"]
    r = molecule_metrics(samples, train, train, fcd=False, nspdk=False)
    assert r["validity"] == 4 / 5 and r["uniqueness"] == 3 / 4  # OCC and C(C)O are the same molecule
    assert r["novelty"] == 2 / 3  # CCCl and pyridine are new; ethanol is in train
    same = molecule_metrics(["CCO"] * 4, ["CCO"], fcd=False, nspdk=False)
    assert same["int_div"] == 0 and same["snn"] == 1.0
    fps = np.array([[1, 0, 1], [0, 0, 0]], dtype=np.uint8)
    assert tanimoto_matrix(fps, fps).tolist() == [[1.0, 0.0], [0.0, 1.0]]  # two empty prints: 1


def test_fcd_of_a_set_with_itself_is_zero():
    from graphgen.datasets import load_smiles

    smiles, _, _ = load_smiles("qm9", "val")
    r = molecule_metrics(smiles[:300], smiles[:300], fcd=True, nspdk=False)
    assert r["fcd"] == pytest.approx(0, abs=1e-3)
    other = molecule_metrics(smiles[:300], smiles[5000:5300], fcd=True, nspdk=False)
    assert other["fcd"] > 0.1


def test_fcd_is_undefined_below_two_valid_molecules():
    """One valid molecule has no covariance: fcd is None (shown as '–'), not fcd-torch's nan."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fcd-torch's "Can't compute FCD" warnings must not come up
        r = molecule_metrics(["CCO", "C1CC"], ["CCO", "CCN", "CCC"], nspdk=False)
    assert r["n_valid"] == 1 and r["fcd"] is None
