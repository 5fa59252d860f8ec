"""The documentation's commands and code still run: every ``graphgen`` command line in the README's
code blocks and in ``metrics/README.md``'s command column is accepted by the command line as it is
today (every flag exists, every value converts, every required argument is there, every shipped
model, preset and dataset it names exists), and the README's Python blocks run.

The commands are parsed, not run (``make_context`` of the command they reach: click's parsing and
type conversion, no callback), so a renamed flag or model fails here in a second instead of in a
user's terminal. Spans with placeholders (``--seed S``, ``…``, ``$m``) are prose, not commands, and
are skipped (:func:`_is_placeholder`).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
METRICS_README = REPO / "metrics" / "README.md"

# the graphgen command of a line: at its start, or after an install step / ``-m`` (torchrun)
_COMMAND_START = re.compile(r"(?:^|&& |/bin/|-m )(graphgen .*)$")


def _fenced_blocks(text: str, language: str = "") -> list[str]:
    """The bodies of the Markdown code fences whose info string is ``language`` (any if empty)."""
    blocks, body, inside, keep = [], [], False, False
    for line in text.splitlines():
        if line.startswith("```"):
            if inside and keep:
                blocks.append("\n".join(body))
            inside, body = not inside, []
            keep = inside and (not language or line[3:].strip() == language)
            continue
        if inside:
            body.append(line)
    return blocks


def readme_commands() -> list[str]:
    """Every ``graphgen`` command line of the README's shell blocks (comments cut off)."""
    out = []
    for block in _fenced_blocks(README.read_text(encoding="utf-8"), "bash"):
        for line in block.splitlines():
            match = _COMMAND_START.search(line.split(" # ")[0].rstrip())
            if match:
                out.append(match.group(1))
    return out


def _is_placeholder(argv: list[str]) -> bool:
    """A documentation fragment rather than a command: a placeholder word (``S``, ``FILE``), an
    ellipsis, shell expansion or a template."""
    return any(
        re.fullmatch(r"[A-Z][A-Z_]*", token) or any(mark in token for mark in ("…", "...", "$", "{", "<", "τ"))
        for token in argv
    )


def metrics_readme_commands() -> list[str]:
    """The ``graphgen`` commands quoted in the command column of ``metrics/README.md``'s tables,
    those with at least two options and no placeholder (the rest are fragments of prose)."""
    out = []
    for row in METRICS_README.read_text(encoding="utf-8").splitlines():
        cells = row.split(" | ")
        if not row.startswith("|") or len(cells) < 3:
            continue
        for span in re.findall(r"`([^`]+)`", cells[1]):
            match = re.search(r"(?:^|OMP_NUM_THREADS=\d+ )(graphgen .*)$", span)
            if not match:
                continue
            argv = shlex.split(match.group(1))
            if sum(token.startswith("-") for token in argv) >= 2 and not _is_placeholder(argv):
                out.append(match.group(1))
    return out


def parse_command(line: str) -> dict:
    """The parameters ``graphgen`` would call the command of ``line`` with, parsed exactly as the
    console script parses them (click's parser and converters; nothing is run). Raises what click
    raises on a bad command line (unknown flag, bad value, missing argument)."""
    from graphgen.cli.app import app

    argv = shlex.split(line)
    assert argv[0] == "graphgen", line
    command, args, path = typer.main.get_command(app), argv[1:], []
    while hasattr(command, "commands"):  # a group: the next word names the sub-command
        assert args and args[0] in command.commands, f"{line!r}: no command {' '.join(path + args[:1])!r}"
        path.append(args[0])
        command, args = command.commands[args[0]], args[1:]
    ctx = command.make_context(" ".join(["graphgen", *path]), list(args))
    return {"command": " ".join(path), **ctx.params}


def check_names(params: dict, own_files: set[str]) -> None:
    """The shipped models, presets and datasets a parsed command names exist."""
    from graphgen.datasets import dataset_info
    from graphgen.models.pretrained import DEFAULT_MODEL, PRETRAINED, sampling_preset

    checkpoint = params.get("checkpoint")
    if checkpoint and checkpoint not in own_files and "/" not in checkpoint and not checkpoint.endswith(".pt"):
        assert checkpoint in PRETRAINED, f"no shipped model {checkpoint!r}"
    if params.get("preset"):
        sampling_preset(checkpoint or DEFAULT_MODEL, params["preset"])  # raises for an unknown preset
    if params.get("dataset"):
        dataset_info(params["dataset"])  # raises for an unknown dataset
    for value in params.values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and re.fullmatch(r"[a-z0-9_]+:(train|val|test)(:[a-z]+)?", item):
                dataset_info(item.split(":")[0])


def _outputs(line: str, options: tuple[str, ...] = ("--out",)) -> set[str]:
    """The files a command writes (``--out``), which later commands of the README may read."""
    argv = shlex.split(line)
    return {argv[i + 1] for i, token in enumerate(argv[:-1]) if token in options}


def test_the_readme_has_commands_to_check():
    commands = readme_commands()
    assert len(commands) >= 40 and "graphgen sample -n 8" in commands  # the first command of the README
    assert len(metrics_readme_commands()) >= 50


@pytest.mark.parametrize("source", ["README.md", "metrics/README.md"])
def test_documented_commands_parse_and_name_what_exists(source, tmp_path, monkeypatch):
    commands = readme_commands() if source == "README.md" else metrics_readme_commands()
    monkeypatch.chdir(tmp_path)  # the output options' checks see the folders a reader would have made
    own_files: set[str] = set()
    failures = []
    for line in commands:
        for path in _outputs(line, ("--out", "--json", "--plot")):
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        try:
            check_names(parse_command(line), own_files)
        except Exception as exc:  # click's usage errors and the assertions above alike
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            failures.append(f"{line[:120]}\n    -> {type(exc).__name__}: {message}")
        own_files |= _outputs(line)
    assert not failures, f"{len(failures)} documented command(s) of {source} no longer parse:\n" + "\n".join(failures)


def test_the_checker_catches_what_it_is_for():
    """A renamed flag, a bad value, a missing argument, an unknown model, preset or dataset all fail."""
    assert parse_command("graphgen sample -n 3 --seed 2")["num_graphs"] == 3
    for bad in (
        "graphgen sample --num-graph 3",
        "graphgen sample -n three",
        "graphgen evaluate --samples x.g6",
        "graphgen smaple -n 3",
    ):
        with pytest.raises(Exception):  # noqa: B017 - click's exceptions or the checker's assertion
            parse_command(bad)
    for bad in (
        "graphgen sample -c higen-planet",
        "graphgen sample -c higen-planar-faces --preset stripes",
        "graphgen train higen --dataset planer",
        "graphgen evaluate --reference planer:test --samples x.g6",
    ):
        with pytest.raises(Exception):  # noqa: B017
            check_names(parse_command(bad), set())
    check_names(parse_command("graphgen sample -c mine.pt"), set())  # a file of one's own is not checked


# What the README's Python blocks leave to the reader, defined here so that they run.
_PRELUDES = {
    "graphgen.nn": """
        import torch
        from torch_geometric.data import Batch, Data
        g = torch.Generator().manual_seed(0)
        batch = Batch.from_data_list([
            Data(x=torch.randn(n, 16, generator=g), edge_index=torch.stack([torch.arange(n - 1), torch.arange(1, n)]))
            for n in (5, 7)
        ])
    """,
    "graphgen.valuation": """
        import numpy as np
        from graphgen.datasets import generate
        rng = np.random.default_rng(0)
        buyer_features, seller_features = rng.normal(size=(200, 6)), rng.normal(size=(150, 6))
        buyer_graphs = generate("sbm", 6, seed=0, min_communities=2, max_communities=3, min_size=8, max_size=12)
        graphs_a = generate("sbm", 6, seed=1, min_communities=2, max_communities=3, min_size=8, max_size=12)
        graphs_b = generate("grid", 6, seed=2)
    """,
}
# ... and what each block must have made.
_CHECKS = {
    "graphgen.datasets": """
        assert len(graphs) == 8 and all(hasattr(d, "community") for d in graphs)
        assert len(planar) == 8 and len(larger) == 4 and len(valid.graphs) == 8 and 0 < valid.share <= 1
        assert len(open("samples.g6").read().split()) == 8
    """,
    "graphgen.nn": """
        assert h.shape == (12, 64) and y.shape == (2, 1)
    """,
    "graphgen.valuation": """
        assert 0 <= score.relevance <= 1 and 0 <= score.diversity <= 1 and len(rows) == 2
    """,
}


def readme_python_blocks() -> list[str]:
    return _fenced_blocks(README.read_text(encoding="utf-8"), "python")


def _block_id(block: str) -> str:
    return re.search(r"from (graphgen\.\w+) import", block).group(1)


def test_the_readme_python_blocks_are_known():
    assert sorted(_block_id(b) for b in readme_python_blocks()) == sorted(_CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("block", readme_python_blocks(), ids=_block_id)
def test_readme_python_block_runs(block, tmp_path):
    """Each block run as a reader would paste it, in a fresh interpreter and an empty folder."""
    name = _block_id(block)
    script = textwrap.dedent(_PRELUDES.get(name, "")) + block + "\n" + textwrap.dedent(_CHECKS[name])
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
