import os
import pickle

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from graphgen.data import from_edge_array, upper_edge_weights, upper_edges
from graphgen.errors import GraphFormatError, InvalidGraphError
from graphgen.io import read_graphs, resolve_format, write_graphs
from graphgen.io._atomic import atomic_write
from tests.conftest import simple_graphs


def same_graph(a, b):
    return int(a.num_nodes) == int(b.num_nodes) and torch.equal(upper_edges(a), upper_edges(b))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(simple_graphs(max_nodes=30), simple_graphs(max_nodes=12))
@pytest.mark.parametrize("ext", [".g6", ".s6", ".edgelist", ".pt"])
def test_round_trip_every_format(tmp_path, ext, g1, g2):
    path = tmp_path / f"graphs{ext}"
    write_graphs([g1, g2], path)
    back = read_graphs(path)
    assert len(back) == 2 and same_graph(back[0], g1) and same_graph(back[1], g2)


def test_weighted_edgelist_and_pt_keep_weights_and_self_loops(tmp_path):
    g = from_edge_array(4, [[0, 0], [0, 1], [2, 3]], [5, 2, 1], allow_self_loops=True)
    for ext in (".edgelist", ".pt"):
        write_graphs([g], tmp_path / f"w{ext}")
        back = read_graphs(tmp_path / f"w{ext}")
        assert torch.equal(upper_edges(back[0]), upper_edges(g))
        assert torch.equal(upper_edge_weights(back[0]), upper_edge_weights(g))
    with pytest.raises(InvalidGraphError, match="self-loops"):
        write_graphs([g], tmp_path / "w.g6")
    multi = from_edge_array(3, [[0, 1], [1, 2]], [1, 4])
    with pytest.raises(InvalidGraphError, match="weights above 1"):
        write_graphs([multi], tmp_path / "w.s6")


def test_edgelist_without_headers_is_one_graph(tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("# a comment\n0 1\n1 2\n\n2 0\n")
    (g,) = read_graphs(p)
    assert g.num_nodes == 3 and upper_edges(g).tolist() == [[0, 1], [0, 2], [1, 2]]


def test_edgelist_header_keeps_isolated_nodes(tmp_path):
    p = tmp_path / "e.edgelist"
    p.write_text("# graph 0 nodes 5\n0 1\n# graph 1 nodes 2\n")
    a, b = read_graphs(p)
    assert (a.num_nodes, b.num_nodes, b.edge_index.shape[1]) == (5, 2, 0)


@pytest.mark.parametrize(
    "ext, content, message",
    [
        (".g6", b"", "empty"),
        (".g6", b"\n\n", "empty"),
        (".g6", b"Bw\nB\x10\n", "line 2"),
        (".s6", b"Bw\n", "start with ':'"),
        (".edgelist", b"0 1\n1 x\n", r"line 2: node ids and weights must be integers"),
        (".edgelist", b"0 1 2 3\n", "expected 'u v'"),
        (".edgelist", b"0 1\n1 1\n", "line 2: self-loop on node 1"),
        (".edgelist", b"0 1\n1 2\n1 0\n", r"line 3: duplicate edge \(1, 0\), first on line 1"),
        (".edgelist", b"0 -1\n", ">= 0"),
        (".edgelist", b"# graph 0 nodes 2\n0 1\n0 5\n", "line 3: node 5 is outside the graph's 2 nodes"),
        (".edgelist", b"0 1 1\n1 2\n", "mixes weighted"),
        (".smi", b"CCO\nC1CC\n", r"line 2: invalid SMILES 'C1CC': unclosed ring"),
        (".pt", b"not a zip", "not a PyTorch graph file"),
    ],
)
def test_malformed_files_raise_one_line_errors(tmp_path, ext, content, message):
    p = tmp_path / f"bad{ext}"
    p.write_bytes(content)
    with pytest.raises((GraphFormatError, InvalidGraphError), match=message) as info:
        read_graphs(p)
    assert "\n" not in str(info.value)


def test_a_folder_is_named_as_one(tmp_path):
    (tmp_path / "samples.g6").mkdir()  # even with a graph file's extension
    for folder in (tmp_path, tmp_path / "samples.g6"):
        with pytest.raises(GraphFormatError, match=f"^{folder} is a folder, not a graph file$"):
            read_graphs(folder)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pt_never_unpickles_arbitrary_objects(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"format": "graphgen.graphs", "version": 1, "graphs": [Evil()]}, p)
    with pytest.raises(GraphFormatError, match="refuses to unpickle"):
        read_graphs(p)


def test_pt_from_other_programs_is_refused(tmp_path):
    p = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(2)}, p)
    with pytest.raises(GraphFormatError, match="not a graphgen graph file"):
        read_graphs(p)


def test_missing_file_and_unknown_extension(tmp_path):
    for name in ("nope.g6", "nope.s6", "nope.txt", "nope.smi", "nope.pt"):  # one wording for every format
        with pytest.raises(GraphFormatError, match=f"^graph file .*{name} does not exist$"):
            read_graphs(tmp_path / name)
    with pytest.raises(GraphFormatError, match="is a folder, not a graph file"):
        read_graphs(tmp_path)
    with pytest.raises(GraphFormatError, match="cannot tell the format"):
        resolve_format(tmp_path / "x.csv")
    with pytest.raises(GraphFormatError, match="unknown format"):
        resolve_format(tmp_path / "x.g6", "gml")


def test_failed_write_leaves_previous_content_and_no_temp_files(tmp_path):
    p = tmp_path / "out.smi"
    p.write_text("C\n")
    plain = from_edge_array(2, [[0, 1]])  # no atom features: SMILES writing must fail
    with pytest.raises(InvalidGraphError):
        write_graphs([plain], p)
    assert p.read_text() == "C\n"
    assert sorted(os.listdir(tmp_path)) == ["out.smi"]


def test_atomic_write_interrupted_midway(tmp_path):
    p = tmp_path / "x.bin"
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(p) as fh:
            fh.write(b"half")
            raise KeyboardInterrupt
    assert not p.exists() and os.listdir(tmp_path) == []


def test_write_into_missing_folder_is_a_clear_error(tmp_path):
    from graphgen.errors import GraphgenError

    with pytest.raises(GraphgenError, match="does not exist"):
        write_graphs([from_edge_array(2, [[0, 1]])], tmp_path / "missing" / "x.g6")


def test_pickle_module_is_really_refused_not_just_unknown():
    # guard the test above: Evil really is a pickle that would execute code if unpickled
    assert b"system" in pickle.dumps(Evil())
