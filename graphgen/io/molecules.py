"""Molecules as graphs: SMILES <-> ``Data`` through RDKit (imported when called).

A molecule graph carries
    ``x``          int64 ``(n, 3)``: atomic number, formal charge, total number of hydrogens;
    ``edge_attr``  int64 ``(2E,)``: Kekulé bond order 1, 2 or 3, aligned with ``edge_index``;
    ``smiles``     the canonical SMILES (RDKit) of the molecule.
Hydrogens are implicit (not nodes). Bonds are stored in Kekulé form so that rebuilding the
molecule needs no aromaticity perception; the hydrogen count makes the rebuild exact for charged
and aromatic nitrogen (``[nH]``) alike.

Example:
    >>> g = smiles_to_graph("c1ccccc1O")
    >>> g.num_nodes, g.x[:, 0].tolist()
    (7, [6, 6, 6, 6, 6, 6, 8])
    >>> graph_to_smiles(g)
    'Oc1ccccc1'
"""

from __future__ import annotations

import re

import torch
from torch_geometric.data import Data

from graphgen.errors import InvalidGraphError, InvalidSmilesError

__all__ = ["smiles_to_graph", "graph_to_smiles", "canonical_smiles"]


def _rdkit():
    try:
        from rdkit import Chem
    except ImportError as exc:  # pragma: no cover - rdkit is a core dependency
        raise ImportError("molecule support needs RDKit: pip install rdkit") from exc
    return Chem


_LOG_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


def _parse_with_reason(smiles: str):
    """``(molecule, None)``, or ``(None, reason)`` where ``reason`` is RDKit's first error message
    without its time stamp and prefix ("unclosed ring", "syntax error around position 3", "explicit
    valence for atom # 0 C, 5, is greater than permitted"; ``None`` from an RDKit without
    ``rdBase.CaptureErrorLog``, which cannot hand its messages over). RDKit's own log lines are
    muted for this call only (our exception says what went wrong), leaving the user's RDKit logging
    settings untouched."""
    from rdkit import rdBase

    Chem = _rdkit()
    if not smiles:
        return None, "empty"
    _block = rdBase.BlockLogs()  # noqa: F841 - logs stay blocked while this object lives
    capture = getattr(rdBase, "CaptureErrorLog", None)
    if capture is None:  # pragma: no cover - older RDKit
        mol, messages = Chem.MolFromSmiles(smiles), ""
    else:
        with capture() as log:
            mol = Chem.MolFromSmiles(smiles)
        messages = log.messages
    if mol is not None and mol.GetNumAtoms() > 0:
        return mol, None
    lines = [_LOG_STAMP.sub("", line).removeprefix("SMILES Parse Error: ") for line in messages.splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None, "no atoms" if mol is not None else None
    reason = re.sub(r" (for input|while parsing): .*$", "", lines[0])
    position = next((m[1] for line in lines if (m := re.search(r"around position (\d+)", line))), None)
    if position is not None:
        reason += f" around position {position}"
    reason = " ".join(reason.split())
    return None, reason[:1].lower() + reason[1:]


def _invalid(smiles: str, reason: str | None) -> InvalidSmilesError:
    return InvalidSmilesError(f"invalid SMILES {smiles!r}" + (f": {reason}" if reason else ""))


def canonical_smiles(smiles: str) -> str:
    """RDKit canonical SMILES of ``smiles``; raises :class:`InvalidSmilesError` (saying why, in
    RDKit's words) if it does not parse."""
    mol, reason = _parse_with_reason(smiles)
    if mol is None:
        raise _invalid(smiles, reason)
    return _rdkit().MolToSmiles(mol)


def smiles_to_graph(smiles: str) -> Data:
    """Parse ``smiles`` with RDKit into a molecule graph (see the module docstring for the fields)."""
    Chem = _rdkit()
    mol, reason = _parse_with_reason(smiles)
    if mol is None:
        raise _invalid(smiles, reason)
    canonical = Chem.MolToSmiles(mol)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    x = torch.tensor(
        [[a.GetAtomicNum(), a.GetFormalCharge(), a.GetTotalNumHs()] for a in mol.GetAtoms()],
        dtype=torch.long,
    ).reshape(-1, 3)
    rows, cols, orders = [], [], []
    for b in mol.GetBonds():
        u, v = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        order = int(round(b.GetBondTypeAsDouble()))
        if order not in (1, 2, 3):
            raise InvalidSmilesError(f"unsupported bond type {b.GetBondType()} in {smiles!r}")
        rows += [u, v]
        cols += [v, u]
        orders += [order, order]
    ei = torch.tensor([rows, cols], dtype=torch.long).reshape(2, -1)
    attr = torch.tensor(orders, dtype=torch.long)
    if ei.numel():
        perm = torch.argsort(ei[0] * mol.GetNumAtoms() + ei[1])
        ei, attr = ei[:, perm], attr[perm]
    return Data(x=x, edge_index=ei, edge_attr=attr, num_nodes=mol.GetNumAtoms(), smiles=canonical)


def graph_to_smiles(data: Data) -> str:
    """Rebuild the molecule of a molecule graph and return its canonical SMILES.

    Raises:
        InvalidGraphError: the graph has no atom features, or RDKit rejects the molecule
            (e.g. a valence violation in a generated graph).
    """
    Chem = _rdkit()
    x = getattr(data, "x", None)
    attr = getattr(data, "edge_attr", None)
    if x is None or x.dim() != 2 or x.shape[1] < 1:
        raise InvalidGraphError("graph has no atom features (x); it cannot be written as SMILES")
    ei = data.edge_index
    if attr is None:
        attr = torch.ones(ei.shape[1], dtype=torch.long)
    rw = Chem.RWMol()
    for row in x.tolist():
        atom = Chem.Atom(int(row[0]))
        if len(row) > 1:
            atom.SetFormalCharge(int(row[1]))
        if len(row) > 2:
            atom.SetNumExplicitHs(int(row[2]))
            atom.SetNoImplicit(True)
        rw.AddAtom(atom)
    bond_types = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
    for (u, v), order in zip(ei.t().tolist(), attr.reshape(-1).tolist()):
        if u < v:
            if int(order) not in bond_types:
                raise InvalidGraphError(f"bond order {order} between atoms {u} and {v} is not 1, 2 or 3")
            rw.AddBond(u, v, bond_types[int(order)])
    mol = rw.GetMol()
    from rdkit.rdBase import BlockLogs

    _block = BlockLogs()  # noqa: F841
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several unrelated exception types here
        raise InvalidGraphError(f"RDKit rejects the molecule: {str(exc).splitlines()[0]}") from None
    return Chem.MolToSmiles(mol)
