"""Typer application and the error boundary of the ``graphgen`` command.

Heavy libraries (torch, PyG, RDKit, POT) are imported inside the commands that need them, so
``graphgen --help`` answers quickly. Every :class:`~graphgen.errors.GraphgenError` becomes one line
on stderr and exit status 1; usage errors (unknown flag, bad value) exit with status 2. Running out
of memory (a size far beyond what a model was trained on, say) is one line and status 1 as well: the
console script caps its memory at what the machine has available (:mod:`graphgen.cli.memory_cap`), so
that such a request fails inside the process instead of being killed by the kernel without a word.
It also fixes glibc's heap thresholds (:mod:`graphgen.heap`: fewer page faults, the same results)
and prints the library's log messages of level ``INFO`` and above on stderr as ``graphgen: ...``
lines (:func:`log_to_stderr`; today: a C++ kernel being built on first use, which otherwise holds
the first command for half a minute without a word).
"""

from __future__ import annotations

import logging
import sys

import typer

from graphgen.cli import (
    bench_cmd,
    datasets_cmd,
    evaluate_cmd,
    models_cmd,
    sample_cmd,
    score_cmd,
    train_cmd,
    value_cmd,
)

app = typer.Typer(
    name="graphgen",
    help="Graph generation and graph learning: sample, evaluate, score, value, train, datasets, models, bench.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(datasets_cmd.app, name="datasets")
app.add_typer(models_cmd.app, name="models")
app.command("sample")(sample_cmd.sample)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("score")(score_cmd.score)
app.command("value")(value_cmd.value)
app.add_typer(train_cmd.app, name="train")
app.add_typer(bench_cmd.app, name="bench")


def _print_version(value: bool) -> None:
    """``--version``: answered while the options are parsed, before click asks for a command (a
    plain option of the callback never ran: ``graphgen --version`` said "Missing command")."""
    if value:
        from graphgen import __version__

        typer.echo(f"graphgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the graphgen version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    pass


def log_to_stderr() -> logging.Handler:
    """Print the ``graphgen`` loggers' messages of level ``INFO`` and above on stderr, one
    ``graphgen: message`` line each (once per process); the handler."""
    logger = logging.getLogger("graphgen")
    for handler in logger.handlers:
        if getattr(handler, "_graphgen_cli", False):
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("graphgen: %(message)s"))
    handler._graphgen_cli = True
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``graphgen`` console script."""
    from graphgen.cli.memory_cap import cap_memory, describe_cap
    from graphgen.errors import GraphgenError
    from graphgen.heap import tune_heap

    cap = None
    try:
        if argv is None:  # the console script; called with arguments, leave the caller's process alone
            cap = cap_memory()
            tune_heap()
            log_to_stderr()
        app(args=argv, prog_name="graphgen")
    except GraphgenError as exc:
        typer.echo(f"graphgen: error: {exc}", err=True)
        sys.exit(1)
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        # a MemoryError that says what it needed (HiGen's block tables, numpy's "Unable to allocate ...") says it
        detail = str(exc) if isinstance(exc, MemoryError) and str(exc) else "ask for fewer or smaller graphs"
        typer.echo(f"graphgen: error: out of memory{describe_cap(cap)}; {detail}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("graphgen: interrupted", err=True)
        sys.exit(130)


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure: Python's ``MemoryError``, or torch's (a
    ``RuntimeError`` from its CPU allocator, ``torch.OutOfMemoryError`` on an accelerator)."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in text or "out of memory" in text
