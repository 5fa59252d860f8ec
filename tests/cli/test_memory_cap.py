"""The console script's memory cap: a request beyond it is a one-line error, not the kernel's SIGKILL."""

import os
import subprocess
import sys

import pytest

from graphgen.cli.memory_cap import ENV_VAR, describe_cap, parse_memory_size
from graphgen.errors import InvalidArgumentError
from graphgen.system_memory import available_memory

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA caps the heap on Linux")

MEMINFO = "MemTotal:       24683784 kB\nMemFree:         1000000 kB\nMemAvailable:   23055224 kB\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("16G", 16 << 30),
        ("1.5G", 3 << 29),
        ("512M", 512 << 20),
        ("512MiB", 512 << 20),
        ("2gb", 2 << 30),
        ("64k", 64 << 10),
        ("1048576", 1 << 20),
        (" off ", None),
        ("OFF", None),
    ],
)
def test_memory_sizes_in_binary_units_or_off(text, expected):
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("text", ["abc", "0", "0G", "-1G", "", "16 X", "1e9"])
def test_a_bad_memory_size_names_the_variable(text):
    with pytest.raises(InvalidArgumentError, match=f"^{ENV_VAR} must be 'off' or a positive size"):
        parse_memory_size(text)


def test_available_memory_is_memavailable_lowered_to_the_room_left_in_the_cgroup():
    assert available_memory(MEMINFO) == 23055224 * 1024
    assert available_memory(MEMINFO, "max\n", "123\n") == 23055224 * 1024  # no cgroup limit
    assert available_memory(MEMINFO, "4294967296\n", "1073741824\n") == 3 << 30
    assert available_memory(MEMINFO, "100\n", "200\n") == 0  # already over: nothing left
    assert available_memory("MemTotal: 1 kB\n") is None  # an old kernel without MemAvailable


def test_the_message_says_where_the_cap_came_from():
    assert describe_cap(None, {}) == ""
    assert describe_cap(3 << 30, {ENV_VAR: "3G"}) == f" (graphgen capped itself at 3.0 GiB, set by {ENV_VAR})"
    assert "the memory available at start" in describe_cap(3 << 30, {})


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


@linux_only
def test_the_cap_lowers_the_data_limit_and_torch_allocations_beyond_it_fail_inside_the_process():
    code = (
        "import resource, torch\n"
        "from graphgen.cli.memory_cap import cap_memory\n"
        "from graphgen.cli.app import _out_of_memory\n"
        f"print(cap_memory({{'{ENV_VAR}': '256M'}}), resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
        "try:\n"
        "    torch.ones(1 << 30, dtype=torch.uint8)\n"
        "except RuntimeError as exc:\n"
        "    print(_out_of_memory(exc))\n"
        f"print(cap_memory({{'{ENV_VAR}': '1G'}}))\n"  # never raised above a cap in force
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(256 << 20), str(256 << 20), "True", str(256 << 20)]
    result = _python(
        "import resource\nfrom graphgen.cli.memory_cap import cap_memory\n"
        f"before = resource.getrlimit(resource.RLIMIT_DATA)\nprint(cap_memory({{'{ENV_VAR}': 'off'}}), "
        "resource.getrlimit(resource.RLIMIT_DATA) == before)"
    )
    assert result.stdout.split() == ["None", "True"]


@linux_only
def test_a_request_beyond_the_cap_is_one_line_and_writes_nothing(tmp_path):
    """The Erdős–Rényi baseline at 20,000 nodes draws a permutation of its 2e8 node pairs (1.6 GB):
    under a 512 MiB cap the console script says so in one line, exit status 1, and no file."""
    out = tmp_path / "big.g6"
    result = subprocess.run(
        [sys.executable, "-m", "graphgen", "sample", "-c", "er-community-small", "-n", "1"]
        + ["--num-nodes", "20000", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, ENV_VAR: "512M"},
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"graphgen: error: out of memory (graphgen capped itself at 0.5 GiB, set by {ENV_VAR}); "
        "ask for fewer or smaller graphs"
    ]
    assert not out.exists()
    bad = subprocess.run(
        [sys.executable, "-m", "graphgen", "sample", "-n", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, ENV_VAR: "lots"},
        timeout=300,
    )
    assert bad.returncode == 1 and bad.stderr.strip() == (
        f"graphgen: error: {ENV_VAR} must be 'off' or a positive size such as 16G or 512M, got 'lots'"
    )


def test_a_cross_block_too_large_for_the_memory_is_the_one_line_out_of_memory_error(tmp_path, monkeypatch, capsys):
    """HiGen's coordinated sampler refuses suffix tables larger than the available memory with
    MemoryError; the command line turns it into its one out-of-memory line with what was needed,
    exit 1, no output file."""
    import graphgen.models.higen.block_sequence as block_sequence
    from graphgen.cli import main

    monkeypatch.setattr(block_sequence, "available_bytes", lambda: 1 << 10)
    out = tmp_path / "s.g6"
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", "-c", "higen-planar", "-n", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and not out.exists()
    assert err.startswith("graphgen: error: out of memory; the coordinated cross edges of ")
    assert "GiB of suffix tables" in err and len(err.strip().splitlines()) == 1
