import pytest
import torch

from graphgen.datasets import load_smiles
from graphgen.errors import InvalidGraphError, InvalidSmilesError
from graphgen.io import canonical_smiles, graph_to_smiles, smiles_to_graph


@pytest.mark.parametrize(
    "smiles",
    ["C", "c1ccccc1O", "c1cc[nH]c1", "C[N+](C)(C)C", "CC(=O)[O-]", "C#N", "O=c1cc[nH]cc1", "[NH4+]", "FC(F)(F)F"],
)
def test_smiles_round_trip(smiles):
    g = smiles_to_graph(smiles)
    assert g.x.shape == (g.num_nodes, 3)
    assert g.edge_attr.shape == (g.edge_index.shape[1],)
    assert graph_to_smiles(g) == canonical_smiles(smiles) == g.smiles


def test_qm9_sample_round_trips_exactly():
    smiles, targets, names = load_smiles("qm9", "test")
    assert names == ["mu", "alpha", "homo", "lumo", "gap"] and targets.shape == (len(smiles), 5)
    for s in smiles[:400]:
        assert graph_to_smiles(smiles_to_graph(s)) == canonical_smiles(s)


@pytest.mark.parametrize(
    "bad, why",
    [
        ("", "empty"),
        ("C1CC", "unclosed ring"),
        ("XYZ", "syntax error around position 1"),
        ("C((C", "syntax error around position 3"),
        ("[C+9]]", "syntax error around position 6"),
        ("C(C)(C)(C)(C)C", "explicit valence for atom # 0 C, 5, is greater than permitted"),
        ("c1cccc1", "can't kekulize mol. Unkekulized atoms: 0 1 2 3 4"),
    ],
)
def test_invalid_smiles_says_why_in_one_line(bad, why):
    """The error names the SMILES and RDKit's reason, without RDKit's time stamps or log prefixes."""
    for parse in (smiles_to_graph, canonical_smiles):
        with pytest.raises(InvalidSmilesError) as caught:
            parse(bad)
        assert str(caught.value) == f"invalid SMILES {bad!r}: {why}"


def test_valence_violation_in_a_generated_graph():
    g = smiles_to_graph("CC")
    g.edge_attr = torch.full_like(g.edge_attr, 3)
    g.x[:, 2] = 3  # three hydrogens plus a triple bond: carbon with valence 6
    with pytest.raises(InvalidGraphError, match="RDKit rejects"):
        graph_to_smiles(g)
