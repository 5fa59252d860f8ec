import shutil

import pytest
import torch

from graphgen.datasets import data_root, dataset_info, list_datasets, load_dataset, load_smiles, split_indices
from graphgen.datasets.cards import render_card, render_index
from graphgen.errors import ChecksumError, DatasetError, UnknownDatasetError

# (dataset, protocol) -> graphs per split, from the source MANIFEST
EXPECTED = {
    ("planar", "spectre"): {"train": 128, "val": 32, "test": 40},
    ("planar", "digress"): {"train": 128, "val": 32, "test": 40},
    ("sbm", "spectre"): {"train": 128, "val": 32, "test": 40},
    ("tree", "source"): {"train": 128, "val": 32, "test": 40},
    ("community_small", "gdss"): {"train": 80, "test": 20},
    ("ego_small", "gdss"): {"train": 160, "test": 40},
    ("grid", "gdss"): {"train": 80, "test": 20},
    ("enzymes", "gdss"): {"train": 470, "test": 117},
    ("enzymes", "graphrnn"): {"train": 469, "val": 117, "test": 118},
    ("proteins", "graphrnn"): {"train": 591, "val": 147, "test": 148},
    ("community20", "spectre"): {"train": 64, "val": 16, "test": 20},
    ("community20", "digress"): {"train": 68, "val": 15, "test": 17},
    ("qm9", "digress"): {"train": 97734, "val": 20042, "test": 13055},
    ("qm9", "gdss"): {"train": 117917, "test": 12914},
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_split_sizes_match_the_literature(key):
    name, protocol = key
    for split, count in EXPECTED[key].items():
        assert len(split_indices(name, split, protocol=protocol)) == count


def test_spectre_split_equals_the_source_files():
    from graphgen.io import read_graphs

    for split in ("train", "val", "test"):
        ours = load_dataset("planar", split)
        theirs = read_graphs(data_root() / "planar" / f"{split}.g6")
        assert [g.edge_index.tolist() for g in ours] == [g.edge_index.tolist() for g in theirs]


def test_graph_statistics_of_a_few_splits():
    train = load_dataset("enzymes", "train")
    nodes = [g.num_nodes for g in train]
    edges = [g.edge_index.shape[1] // 2 for g in train]
    assert (min(nodes), max(nodes), min(edges), max(edges)) == (10, 125, 17, 149)
    assert all(g.y.shape == (1,) and 1 <= int(g.y) <= 6 for g in train)
    trees = load_dataset("tree", "test")
    assert all(g.num_nodes == 64 and g.edge_index.shape[1] == 126 for g in trees)


def test_molecules_carry_features_and_targets():
    mols = load_dataset("qm9", "test", limit=50)
    assert len(mols) == 50
    for m in mols:
        assert m.x.shape[1] == 3 and m.y.shape == (1, 5) and isinstance(m.smiles, str)
        assert int(m.num_nodes) <= 9
    smiles, targets, _ = load_smiles("qm9", "val")
    assert len(smiles) == 20042 and torch.isfinite(targets).all()


def test_qm9_smiles_targets_and_splits_equal_a_plain_csv_reading():
    """load_smiles (whole-file numpy parsing, cached) gives exactly what the csv module reads from the
    shipped files, row for row, for every split of both protocols."""
    import csv
    import gzip

    def rows(name):
        with gzip.open(data_root() / "qm9" / name, "rt", encoding="ascii") as fh:
            return list(csv.DictReader(fh))

    smiles_rows, target_rows, split_rows = (
        rows("qm9_smiles.csv.gz"),
        rows("qm9_targets.csv.gz"),
        rows("qm9_splits.csv.gz"),
    )
    names = ["mu", "alpha", "homo", "lumo", "gap"]
    for protocol in ("digress", "gdss"):
        for split in EXPECTED[("qm9", protocol)]:
            chosen = [i for i, row in enumerate(split_rows) if row[protocol] == split]
            smiles, targets, target_names = load_smiles("qm9", split, protocol=protocol)
            assert split_indices("qm9", split, protocol=protocol) == chosen and target_names == names
            assert smiles == [smiles_rows[i]["smiles"] for i in chosen]
            expected = torch.tensor([[float(target_rows[i][k]) for k in names] for i in chosen], dtype=torch.float64)
            assert targets.dtype == torch.float64 and torch.equal(targets, expected)
    mols = load_dataset("qm9", "test", limit=3)
    first = split_rows.index(next(row for row in split_rows if row["digress"] == "test"))
    assert mols[0].qm9_index == int(smiles_rows[first]["index"])
    load_smiles("qm9", "test")[1][0, 0] = 1e9  # the caller's copy: the cached table is not changed
    assert float(load_smiles("qm9", "test")[1][0, 0]) == float(target_rows[first]["mu"])


def test_a_malformed_molecule_table_is_one_clear_error(tmp_path):
    import gzip

    from graphgen.datasets.loader import _molecule_table

    def table(smiles: str, targets: str):
        paths = tmp_path / "s.csv.gz", tmp_path / "t.csv.gz"
        for path, text in zip(paths, (smiles, targets)):
            path.write_bytes(gzip.compress(text.encode("ascii")))
        return _molecule_table(*paths, (len(smiles), len(targets)))

    smiles, index, targets, names = table("index,smiles\n1,C\n2,CO\n", "index,mu,gap\n1,0.5,1\n2,-1,2e-3\n")
    assert smiles == ("C", "CO") and index.tolist() == [1, 2] and names == ("mu", "gap")
    assert targets.tolist() == [[0.5, 1.0], [-1.0, 0.002]]
    with pytest.raises(DatasetError, match="expected a CSV header starting 'index,smiles'"):
        table("idx,smiles\n1,C\n", "index,mu\n1,0\n")
    with pytest.raises(DatasetError, match="malformed molecule CSV"):
        table("index,smiles\n1,C,C\n", "index,mu\n1,0\n")  # a comma in a SMILES field
    with pytest.raises(DatasetError, match="malformed molecule CSV"):
        table("index,smiles\n1,C\n", "index,mu\n1,zero\n")
    with pytest.raises(DatasetError, match="do not list the same molecules"):
        table("index,smiles\n1,C\n2,N\n", "index,mu\n1,0\n3,0\n")
    from graphgen.datasets.splits import _molecule_split_table

    splits = tmp_path / "splits.csv.gz"
    splits.write_bytes(gzip.compress(b"index,gdss,digress\n1,train,test\n2,test,train\n3,train,val\n"))
    assert _molecule_split_table(splits, 0) == {
        "gdss": {"train": [0, 2], "test": [1]},
        "digress": {"test": [0], "train": [1], "val": [2]},
    }
    splits.write_bytes(gzip.compress(b"index,gdss,digress\n1,train,test\n2,test\n"))
    with pytest.raises(DatasetError, match="every row must have the 3 fields of its header"):
        _molecule_split_table(splits, 1)


def test_names_are_normalised_and_unknown_ones_suggest():
    assert dataset_info("Community-Small").name == "community_small"
    with pytest.raises(UnknownDatasetError, match="did you mean planar"):
        load_dataset("planr")
    with pytest.raises(DatasetError, match="no split protocol 'foo'"):
        load_dataset("enzymes", protocol="foo")
    with pytest.raises(DatasetError, match="no 'val' split"):
        load_dataset("grid", "val")


@pytest.fixture
def copied_root(tmp_path):
    root = tmp_path / "catalogue"
    shutil.copytree(data_root(), root, symlinks=False)
    return root


def test_corrupted_file_is_detected(copied_root):
    path = copied_root / "planar" / "all.g6"
    data = bytearray(path.read_bytes())
    data[100] = data[100] ^ 1
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="corrupted"):
        load_dataset("planar", root=copied_root)


def test_missing_file_is_detected(copied_root):
    (copied_root / "grid" / "all.g6").unlink()
    with pytest.raises(ChecksumError, match="missing"):
        load_dataset("grid", root=copied_root)


def test_every_catalogued_file_exists_with_its_checksum():
    from graphgen.datasets.catalog import dataset_file

    for info in list_datasets():
        for filename in info.files:
            dataset_file(info.name, filename)
        assert info.default_protocol in info.protocols


def test_committed_cards_match_the_renderer():
    root = data_root()
    for info in list_datasets():
        assert (root / info.name / "README.md").read_text(encoding="utf-8") == render_card(info.name), info.name
    assert (root / "README.md").read_text(encoding="utf-8") == render_index()


def test_holdout_divides_the_training_split_the_same_way_every_time():
    train = split_indices("enzymes", "train", protocol="graphrnn")
    kept = split_indices("enzymes", "train", protocol="graphrnn", holdout=0.15)
    held = split_indices("enzymes", "val", protocol="graphrnn", holdout=0.15)
    assert len(held) == round(0.15 * len(train)) == 70 and len(kept) == len(train) - 70
    assert not set(kept) & set(held) and sorted(kept + held) == sorted(train)
    assert kept == [i for i in train if i in set(kept)] and held == [i for i in train if i in set(held)]  # order kept
    assert held == split_indices("enzymes", "val", protocol="graphrnn", holdout=0.15)  # seeded
    assert split_indices("enzymes", "test", protocol="graphrnn", holdout=0.15) == split_indices(
        "enzymes", "test", protocol="graphrnn"
    )
    val = load_dataset("enzymes", "val", protocol="graphrnn", holdout=0.15)
    assert len(val) == 70 and int(val[0].y) >= 0  # labels still attached
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(DatasetError, match="held-out share"):
            split_indices("enzymes", "val", holdout=bad)


def test_dataset_summary_equals_what_the_loaded_graphs_give():
    """``graphgen datasets list`` and the cards read only split tables and graph6 sizes
    (``graph_sizes``); those equal the counts of the graphs ``load_dataset`` builds, and the
    summary's counts and node ranges equal the cards' statistics."""
    from graphgen.datasets.cards import dataset_summary, graph_sizes, split_statistics

    for info in list_datasets():
        stats = split_statistics(info.name)
        summary = dataset_summary(info.name)
        expected = {r["split"]: r["graphs"] for r in stats if r["protocol"] == info.default_protocol}
        all_row = next(r for r in stats if r["split"] == "all")
        assert summary["splits"] == expected and summary["total"] == all_row["graphs"], info.name
        if info.kind == "molecules":
            assert summary["nodes"] == "–" and all_row["nodes"] is None, info.name
            with pytest.raises(DatasetError, match="holds molecules"):
                graph_sizes(info.name)
            continue
        graphs = load_dataset(info.name, "all")
        nodes, edges = graph_sizes(info.name)
        assert nodes == [int(g.num_nodes) for g in graphs], info.name
        assert edges == [int(g.edge_index.shape[1]) // 2 for g in graphs], info.name
        lo, _, hi = all_row["nodes"].split(" / ")
        assert summary["nodes"] == f"{lo}–{hi}" == f"{min(nodes)}–{max(nodes)}", info.name


def test_protocol_splits_reads_every_split_as_split_indices_does():
    from graphgen.datasets.splits import protocol_splits

    for info in list_datasets():
        for protocol in info.protocols:
            splits = protocol_splits(info.name, protocol)
            assert {"train", "test", "all"} <= set(splits), (info.name, protocol)
            for split, indices in splits.items():
                assert indices == split_indices(info.name, split, protocol=protocol), (info.name, protocol, split)
        assert protocol_splits(info.name) == protocol_splits(info.name, info.default_protocol)
