import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

from graphgen.data import to_networkx, upper_edges
from graphgen.errors import GraphFormatError
from graphgen.io.graph6 import _decode_size, _encode_size, decode_graph6, encode_graph6
from tests.conftest import simple_graphs


@settings(max_examples=150, deadline=None)
@given(simple_graphs(max_nodes=70))
def test_encode_matches_networkx_and_round_trips(g):
    n = int(g.num_nodes)
    ours = encode_graph6(n, upper_edges(g).numpy())
    assert ours == nx.to_graph6_bytes(to_networkx(g), header=False).strip()
    m, edges = decode_graph6(ours)
    assert m == n
    assert edges.tolist() == sorted(upper_edges(g).tolist(), key=lambda e: (e[1], e[0]))


@pytest.mark.parametrize("n", [0, 1, 62, 63, 64, 258047, 258048, 10**9])
def test_size_prefix_round_trip(n):
    raw = np.frombuffer(_encode_size(n), dtype=np.uint8).astype(np.int64) - 63
    assert _decode_size(raw)[0] == n


def test_header_and_known_value():
    # path 0-1-2: bits (0,1),(0,2),(1,2) = 1,0,1 -> 101000 = 40, +63 = 'g'; the triangle is 'w'
    assert encode_graph6(3, np.array([[0, 1], [1, 2]])) == b"Bg"
    assert encode_graph6(3, np.array([[0, 1], [0, 2], [1, 2]])) == b"Bw"
    n, e = decode_graph6(b">>graph6<<Bg")
    assert n == 3 and e.tolist() == [[0, 1], [1, 2]]
    assert decode_graph6(b"?")[0] == 0


@pytest.mark.parametrize(
    "line, message",
    [
        (b"", "empty"),
        (b"Bw~", "data bytes"),
        (b"B", "data bytes"),
        (b"Bh", "padding"),
        (b"B\x10", "outside the graph6 range"),
        (b":Fa@x^", "sparse6"),
        (b"&B?", "digraph6"),
    ],
)
def test_malformed_lines_raise(line, message):
    with pytest.raises(GraphFormatError, match=message):
        decode_graph6(line)


def test_encode_rejects_self_loops_and_out_of_range():
    with pytest.raises(GraphFormatError, match="self-loops"):
        encode_graph6(3, np.array([[1, 1]]))
    with pytest.raises(GraphFormatError, match="out of range"):
        encode_graph6(3, np.array([[0, 3]]))
