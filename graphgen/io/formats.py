"""Reading and writing lists of graphs: graph6, sparse6, edge lists, SMILES and safe PyG ``.pt``.

The format is chosen from the file extension, or named explicitly:

=========  ===========================  =====================================================
format     extensions                   content
=========  ===========================  =====================================================
graph6     ``.g6 .graph6``              one simple graph per line (see :mod:`graphgen.io.graph6`)
sparse6    ``.s6 .sparse6``             one graph per line, compact for sparse graphs
edgelist   ``.edgelist .edges .txt``    ``u v [weight]`` lines; ``# graph K nodes N`` separates
                                        graphs and records isolated nodes
smiles     ``.smi .smiles``             one molecule per line (first whitespace-separated field)
pt         ``.pt``                      graphgen's tensor file, opened with ``weights_only=True``
=========  ===========================  =====================================================

Every write is atomic. Every parse error names the file and line.

Example:
    >>> import tempfile, os
    >>> from graphgen.data import from_edge_array
    >>> path = os.path.join(tempfile.mkdtemp(), "path.g6")
    >>> write_graphs([from_edge_array(3, [[0, 1], [1, 2]])], path)
    >>> [g.num_nodes for g in read_graphs(path)]
    [3]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from graphgen.data.convert import from_edge_array, upper_edge_weights, upper_edges
from graphgen.errors import GraphFormatError, GraphgenError, InvalidGraphError, InvalidSmilesError
from graphgen.io._atomic import atomic_write
from graphgen.io._safe_load import safe_torch_load
from graphgen.io.graph6 import decode_graph6, encode_graph6

__all__ = ["GraphFormat", "FORMATS", "resolve_format", "read_graphs", "write_graphs", "parse_graph6_lines"]

PT_FORMAT = "graphgen.graphs"
PT_VERSION = 1


@dataclass(frozen=True)
class GraphFormat:
    """A file format: its name, extensions, a reader ``path -> list[Data]`` and a writer."""

    name: str
    extensions: tuple[str, ...]
    read: Callable[[Path], list[Data]]
    write: Callable[[Sequence[Data], Path], None]


# ----------------------------------------------------------------------------------------- helpers
def _check_graph_file(path: Path) -> None:
    """One wording for every format (the ``.pt`` reader's :func:`safe_torch_load` says the same)."""
    if path.is_dir():
        raise GraphFormatError(f"{path} is a folder, not a graph file")
    if not path.is_file():
        raise GraphFormatError(f"graph file {path} does not exist")


def _read_lines(path: Path) -> list[bytes]:
    _check_graph_file(path)
    lines = path.read_bytes().splitlines()
    if not any(line.strip() for line in lines):
        raise GraphFormatError(f"{path} is empty: it holds no graphs")
    return lines


def _line_error(path: Path, lineno: int, exc: Exception) -> GraphFormatError:
    return GraphFormatError(f"{path}, line {lineno}: {exc}")


def _simple_edges(data: Data, path: Path, fmt: str) -> np.ndarray:
    w = getattr(data, "edge_weight", None)
    e = upper_edges(data)
    if bool((e[:, 0] == e[:, 1]).any()):
        raise InvalidGraphError(f"cannot write {path} as {fmt}: a graph has self-loops")
    if w is not None and bool((upper_edge_weights(data) != 1).any()):
        raise InvalidGraphError(
            f"cannot write {path} as {fmt}: a graph has integer edge weights above 1; use edgelist or pt"
        )
    return e.numpy()


# ------------------------------------------------------------------------------------------ graph6
def parse_graph6_lines(lines: Sequence[bytes], source: str = "<bytes>") -> list[Data]:
    """Decode graph6 lines (blank lines skipped) into graphs; errors name ``source`` and the line."""
    graphs = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            n, edges = decode_graph6(line)
            graphs.append(from_edge_array(n, edges))
        except GraphgenError as exc:
            raise _line_error(Path(source), lineno, exc) from None
    return graphs


def _read_graph6(path: Path) -> list[Data]:
    return parse_graph6_lines(_read_lines(path), str(path))


def _write_graph6(graphs: Sequence[Data], path: Path) -> None:
    payload = b"".join(encode_graph6(int(g.num_nodes), _simple_edges(g, path, "graph6")) + b"\n" for g in graphs)
    with atomic_write(path, "wb") as fh:
        fh.write(payload)


# ----------------------------------------------------------------------------------------- sparse6
def _read_sparse6(path: Path) -> list[Data]:
    import networkx as nx

    graphs = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(b">>sparse6<<"):
            line = line[len(b">>sparse6<<") :]
        if not line.startswith(b":"):
            raise _line_error(path, lineno, GraphFormatError("sparse6 lines start with ':'"))
        try:
            g = nx.from_sparse6_bytes(line)
        except (nx.NetworkXError, ValueError, IndexError) as exc:
            raise _line_error(path, lineno, GraphFormatError(f"malformed sparse6 ({exc})")) from None
        edges = np.array([(u, v) for u, v, *_ in g.edges()], dtype=np.int64).reshape(-1, 2)
        try:
            graphs.append(from_edge_array(g.number_of_nodes(), edges))
        except InvalidGraphError as exc:
            raise _line_error(path, lineno, exc) from None
    return graphs


def _write_sparse6(graphs: Sequence[Data], path: Path) -> None:
    import networkx as nx

    chunks = []
    for g in graphs:
        nxg = nx.Graph()
        nxg.add_nodes_from(range(int(g.num_nodes)))
        nxg.add_edges_from(_simple_edges(g, path, "sparse6").tolist())
        chunks.append(nx.to_sparse6_bytes(nxg, header=False).strip() + b"\n")
    with atomic_write(path, "wb") as fh:
        fh.write(b"".join(chunks))


# ---------------------------------------------------------------------------------------- edgelist
def _read_edgelist(path: Path) -> list[Data]:
    """``u v [w]`` lines; ``# graph K nodes N`` headers start graphs (else the file is one graph)."""
    records: list[tuple[int | None, int, list]] = []  # (declared nodes, header line, rows)
    current: tuple[int | None, int, list] | None = None
    for lineno, raw in enumerate(_read_lines(path), start=1):
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            continue
        if text.startswith("#"):
            words = text[1:].split()
            if words[:1] == ["graph"]:
                nodes = None
                if len(words) >= 4 and words[2] == "nodes":
                    try:
                        nodes = int(words[3])
                    except ValueError:
                        raise _line_error(path, lineno, GraphFormatError(f"bad node count {words[3]!r}")) from None
                current = (nodes, lineno, [])
                records.append(current)
            continue
        if current is None:
            current = (None, lineno, [])
            records.append(current)
        parts = text.split()
        if len(parts) not in (2, 3):
            raise _line_error(path, lineno, GraphFormatError(f"expected 'u v' or 'u v weight', got {text!r}"))
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise _line_error(
                path, lineno, GraphFormatError(f"node ids and weights must be integers: {text!r}")
            ) from None
        current[2].append((lineno, values))
    graphs = []
    for nodes, header_line, rows in records:
        weighted = any(len(v) == 3 for _, v in rows)
        if weighted and not all(len(v) == 3 for _, v in rows):
            raise _line_error(path, header_line, GraphFormatError("mixes weighted and unweighted lines"))
        edges = np.array([v[:2] for _, v in rows], dtype=np.int64).reshape(-1, 2)
        if edges.size and edges.min() < 0:
            line = next(ln for ln, v in rows if min(v[:2]) < 0)
            raise _line_error(path, line, GraphFormatError("node ids must be >= 0"))
        n = nodes if nodes is not None else (int(edges.max()) + 1 if edges.size else 0)
        _check_edge_rows(path, rows, n, allow_self_loops=weighted)
        weights = np.array([v[2] for _, v in rows], dtype=np.int64) if weighted else None
        try:
            graphs.append(from_edge_array(n, edges, weights, allow_self_loops=weighted))
        except InvalidGraphError as exc:
            raise _line_error(path, header_line, exc) from None
    return graphs


def _check_edge_rows(path: Path, rows: list, num_nodes: int, *, allow_self_loops: bool) -> None:
    """Name the line of the first edge outside ``0..num_nodes-1``, self-loop (unless allowed) or
    repeated pair (with the line it repeats), so an edge-list error points at the line to fix."""
    seen: dict[tuple[int, int], int] = {}
    for lineno, values in rows:
        u, v = values[0], values[1]
        if max(u, v) >= num_nodes:
            raise _line_error(
                path, lineno, InvalidGraphError(f"node {max(u, v)} is outside the graph's {num_nodes} nodes")
            )
        if u == v and not allow_self_loops:
            raise _line_error(path, lineno, InvalidGraphError(f"self-loop on node {u}"))
        key = (min(u, v), max(u, v))
        if key in seen:
            raise _line_error(path, lineno, InvalidGraphError(f"duplicate edge ({u}, {v}), first on line {seen[key]}"))
        seen[key] = lineno


def _write_edgelist(graphs: Sequence[Data], path: Path) -> None:
    lines = ["# graphgen edge list: '# graph K nodes N' starts graph K; lines are 'u v [weight]'"]
    for k, g in enumerate(graphs):
        lines.append(f"# graph {k} nodes {int(g.num_nodes)}")
        e = upper_edges(g).tolist()
        if getattr(g, "edge_weight", None) is None:
            lines += [f"{u} {v}" for u, v in e]
        else:
            lines += [f"{u} {v} {w}" for (u, v), w in zip(e, upper_edge_weights(g).tolist())]
    with atomic_write(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------ smiles
def _read_smiles(path: Path) -> list[Data]:
    from graphgen.io.molecules import smiles_to_graph

    graphs = []
    for lineno, raw in enumerate(_read_lines(path), start=1):
        text = raw.decode("utf-8", errors="replace").strip()
        if not text or text.startswith("#"):
            continue
        smiles = text.split()[0]
        if lineno == 1 and smiles.lower() == "smiles":
            continue  # a header line
        try:
            graphs.append(smiles_to_graph(smiles))
        except InvalidSmilesError as exc:
            raise GraphFormatError(f"{path}, line {lineno}: {exc}") from None
    return graphs


def _write_smiles(graphs: Sequence[Data], path: Path) -> None:
    from graphgen.io.molecules import graph_to_smiles

    lines = []
    for k, g in enumerate(graphs):
        try:
            lines.append(graph_to_smiles(g))
        except InvalidGraphError as exc:
            raise InvalidGraphError(f"cannot write graph {k} to {path}: {exc}") from None
    with atomic_write(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------- pt
def _read_pt(path: Path) -> list[Data]:
    obj = safe_torch_load(path, GraphFormatError, "graph file")
    if not isinstance(obj, dict) or obj.get("format") != PT_FORMAT:
        raise GraphFormatError(f"{path} is a torch file but not a graphgen graph file (format {PT_FORMAT!r})")
    if obj.get("version") != PT_VERSION:
        raise GraphFormatError(f"{path}: unsupported graph file version {obj.get('version')!r}")
    graphs = []
    for k, record in enumerate(obj.get("graphs", [])):
        if not isinstance(record, dict) or "num_nodes" not in record or "edge_index" not in record:
            raise GraphFormatError(f"{path}: graph {k} lacks num_nodes or edge_index")
        graphs.append(Data(**record))
    return graphs


def _write_pt(graphs: Sequence[Data], path: Path) -> None:
    records = []
    for g in graphs:
        record = {k: v for k, v in g.to_dict().items() if k != "num_nodes"}
        record["num_nodes"] = int(g.num_nodes)
        records.append(record)
    with atomic_write(path, "wb") as fh:
        torch.save({"format": PT_FORMAT, "version": PT_VERSION, "graphs": records}, fh)


FORMATS: dict[str, GraphFormat] = {
    f.name: f
    for f in (
        GraphFormat("graph6", (".g6", ".graph6"), _read_graph6, _write_graph6),
        GraphFormat("sparse6", (".s6", ".sparse6"), _read_sparse6, _write_sparse6),
        GraphFormat("edgelist", (".edgelist", ".edges", ".txt"), _read_edgelist, _write_edgelist),
        GraphFormat("smiles", (".smi", ".smiles"), _read_smiles, _write_smiles),
        GraphFormat("pt", (".pt",), _read_pt, _write_pt),
    )
}


def format_named(format: str) -> GraphFormat:
    """The :class:`GraphFormat` called ``format``; :class:`GraphFormatError` naming the formats otherwise."""
    try:
        return FORMATS[format]
    except KeyError:
        raise GraphFormatError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}") from None


def resolve_format(path: str | os.PathLike, format: str | None = None) -> GraphFormat:
    """The :class:`GraphFormat` named ``format``, or the one matching ``path``'s extension."""
    if format is not None:
        return format_named(format)
    suffix = Path(path).suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.extensions:
            return fmt
    known = ", ".join(e for f in FORMATS.values() for e in f.extensions)
    raise GraphFormatError(f"cannot tell the format of {path} from its extension ({known}); name it explicitly")


def read_graphs(path: str | os.PathLike, format: str | None = None) -> list[Data]:
    """Read every graph in ``path``. Raises :class:`GraphFormatError` with the file and line."""
    _check_graph_file(Path(path))
    return resolve_format(path, format).read(Path(path))


def write_graphs(graphs: Sequence[Data], path: str | os.PathLike, format: str | None = None) -> None:
    """Write ``graphs`` to ``path`` atomically (a failed write leaves no partial file)."""
    fmt = resolve_format(path, format)
    graphs = list(graphs)
    fmt.write(graphs, Path(path))
