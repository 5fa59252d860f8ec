"""``graphgen value``: the ranking table, the JSON list, and one-line errors."""

import json

from graphgen.datasets import erdos_renyi_graphs, sbm_graphs
from graphgen.io import write_graphs
from tests.cli.test_cli import run


def test_value_ranks_sellers_and_writes_one_object_per_seller(capsys, tmp_path):
    write_graphs(sbm_graphs(6, seed=0), tmp_path / "buyer.g6")
    write_graphs(sbm_graphs(6, seed=1), tmp_path / "near.g6")
    write_graphs(erdos_renyi_graphs(6, seed=2, p=0.4), tmp_path / "far.g6")
    out = tmp_path / "value.json"
    code, stdout, err = run(
        capsys,
        "value",
        "--buyer", str(tmp_path / "buyer.g6"),
        "--seller", str(tmp_path / "far.g6"),
        "--seller", str(tmp_path / "near.g6"),
        "--json", str(out),
        "--sort-by", "structural_disparity",
    )  # fmt: skip
    assert code == 0
    assert "structural node descriptors" in err  # the graphs have no features, and it says so
    rows = json.loads(out.read_text())
    assert [r["seller"] for r in rows] == [str(tmp_path / "near.g6"), str(tmp_path / "far.g6")]
    for r in rows:
        assert {"seller", "structural_disparity", "relevance", "diversity"} <= set(r)
    assert rows[0]["structural_disparity"] < rows[1]["structural_disparity"]
    assert stdout.index("near.g6") < stdout.index("far.g6")


def test_value_accepts_dataset_splits_and_combined_value(capsys):
    code, stdout, _ = run(
        capsys, "value", "-b", "community_small:test", "-s", "community_small:train", "-s", "planar:test",
        "--s-scale", "2", "--sort-by", "value",
    )  # fmt: skip
    assert code == 0 and "value" in stdout and stdout.index("community_small:train") < stdout.index("planar:test")


def test_value_bad_inputs_give_one_line_errors(capsys, tmp_path):
    bad = tmp_path / "bad.g6"
    bad.write_text("this is not graph6\n")
    out = tmp_path / "never.json"
    cases = [
        (["value", "-b", "nothere.g6", "-s", "sbm:test"], "neither an existing file"),
        (["value", "-b", str(bad), "-s", "sbm:test"], "bad.g6"),
        (["value", "-b", "sbm:test", "-s", "sbm:train", "--method", "exact"], "unknown --method"),
        (["value", "-b", "sbm:test", "-s", "sbm:train", "-s", "sbm:train"], "given twice"),
    ]
    for args, message in cases:
        code, _, err = run(capsys, *args)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    usage = [  # refused before any graph is read, naming the flag
        (["--sort-by", "value"], "Invalid value for --sort-by: sorting by the combined value needs --s-scale"),
        (["--s-scale", "-1", "--json", str(out)], "Invalid value for --s-scale: must be a positive number, got -1.0"),
        (["--s-scale", "nan"], "Invalid value for --s-scale: must be a positive number, got nan"),
    ]
    for args, message in usage:
        code, _, err = run(capsys, "value", "-b", "sbm:test", "-s", "sbm:train", *args)
        assert code == 2 and err.strip().splitlines()[-1] == f"Error: {message}", (args, err)
    assert not out.exists()
    code, _, _ = run(capsys, "value", "-b", "sbm:test")
    assert code == 2  # a missing required option is a usage error
