"""Terminal and file output shared by the commands: wide tables, graphs to a file or stdout, atomic JSON results."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer


def wide_console(min_width: int):
    """A rich console at least ``min_width`` columns wide, so table cells are never ellipsised
    (a narrow terminal wraps long lines instead)."""
    from rich.console import Console

    return Console(width=max(Console().width, min_width), emoji=False)


def stderr_progress(
    description: str,
    unit: str = "",
    *,
    transient: bool,
    disable: bool = False,
    count: str = "{task.completed}/{task.total}",
):
    """A rich progress bar on stderr (stdout carries the results): ``description`` (a rich column
    template), the bar, ``count`` (by default ``done/total``) with ``unit``, and the time left."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(description),
        BarColumn(),
        TextColumn(count + (f" {unit}" if unit else "")),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=transient,
        disable=disable,
    )


class LateProgressBar:
    """A :func:`stderr_progress` bar that starts with its first :meth:`update` coming ``after``
    seconds or more after it was made (0: the first update), so a command shows it only once its
    checks have passed, or only when the work runs long; :meth:`close` stops it if it started.
    ``task`` is the task's first description; the other arguments are :func:`stderr_progress`'s."""

    def __init__(self, *args, task: str, after: float = 0.0, **kwargs):
        self.progress = stderr_progress(*args, **kwargs)
        self.task_description, self.after = task, after
        self.made = time.monotonic()
        self.task = None

    @property
    def console(self):
        return self.progress.console

    def update(self, completed: float, total: float, **fields) -> None:
        if self.task is None:
            if time.monotonic() - self.made < self.after:
                return
            self.progress.start()
            self.task = self.progress.add_task(self.task_description, total=total, completed=completed)
        self.progress.update(self.task, completed=completed, **fields)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def make_table(title: str, columns: tuple[str, ...], right: tuple[str, ...] = ()):
    """A rich table whose columns never wrap; ``right`` columns are right-aligned."""
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left", no_wrap=True)
    return table


def output_file(path: Path | None) -> Path | None:
    """Typer callback of every option naming a file a command writes: refuses, before any work, a
    file whose folder does not exist (the work would be lost at the end)."""
    if path is not None:
        from graphgen.io._atomic import output_folder

        output_folder(path)  # a GraphgenError: one line, status 1, as when the write itself fails
    return path


def write_json(result: dict, path: Path | None, *, with_provenance: bool = True) -> None:
    """Write ``result`` atomically to ``path`` (if given), adding provenance (version, git sha,
    command line, date, machine) unless the result already carries it."""
    if path is None:
        return
    from graphgen.bench.record import provenance
    from graphgen.io._atomic import atomic_write

    if with_provenance and "graphgen_version" not in result:
        result["provenance"] = provenance("graphgen " + " ".join(sys.argv[1:]))
    with atomic_write(path, "w") as fh:
        json.dump(result, fh, indent=2)
    typer.echo(f"wrote {path}", err=True)


def check_graph_output(out: Path | None, format: str | None) -> None:
    """Refuse, before any work, a ``--format`` that stdout cannot carry: without ``--out`` graphs go
    to stdout as graph6 lines; a format name that is none of graphgen's is refused as such first."""
    from graphgen.errors import GraphFormatError
    from graphgen.io.formats import format_named

    if format is not None:
        try:
            format_named(format)
        except GraphFormatError as err:
            raise typer.BadParameter(str(err), param_hint="--format") from None
    if out is None and format not in (None, "graph6"):
        raise typer.BadParameter("--format other than graph6 needs --out FILE", param_hint="--format")


def write_graph_output(graphs, out: Path | None, format: str | None) -> str:
    """Write ``graphs`` to ``out`` atomically (``format``, else the extension's), or as graph6 lines
    on stdout without ``out`` (pipe-friendly: ``graphgen sample | ...``); returns where they went."""
    if out is not None:
        from graphgen.io import write_graphs

        write_graphs(graphs, out, format)
        return str(out)
    from graphgen.data import upper_edges
    from graphgen.io.graph6 import encode_graph6

    for g in graphs:
        sys.stdout.buffer.write(encode_graph6(int(g.num_nodes), upper_edges(g).numpy()) + b"\n")
    sys.stdout.flush()
    return "stdout"
