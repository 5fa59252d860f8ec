"""The command line, run in-process through its entry point (so the error boundary is tested)."""

import json
import os
import subprocess
import sys

import pytest
import torch

from graphgen.cli import main
from graphgen.data import from_edge_array
from graphgen.datasets import load_dataset
from graphgen.io import read_graphs, write_graphs


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def test_sample_default_says_what_it_sampled_from(capsys, tmp_path):
    code, out, err = run(capsys, "sample", "-n", "4", "--seed", "1")
    assert code == 0 and len(out.splitlines()) == 4
    assert "higen-community-small" in err and "trained 600 epochs" in err
    code, out2, _ = run(capsys, "sample", "-n", "4", "--seed", "1")
    assert out2 == out  # same seed, same graphs
    code, _, _ = run(
        capsys,
        "sample",
        "-c",
        "er-community-small",
        "-n",
        "3",
        "--out",
        str(tmp_path / "s.edgelist"),
        "--num-nodes",
        "9",
    )
    assert code == 0 and [g.num_nodes for g in read_graphs(tmp_path / "s.edgelist")] == [9, 9, 9]
    # HiGen's node count emerges from the model: --num-nodes steers it through the edge budget
    sizes = {}
    for target in (10, 40):
        code, _, _ = run(
            capsys, "sample", "-n", "6", "--num-nodes", str(target), "--out", str(tmp_path / f"h{target}.g6")
        )
        sizes[target] = sum(g.num_nodes for g in read_graphs(tmp_path / f"h{target}.g6")) / 6
    assert sizes[10] < sizes[40]


def test_datasets_commands(capsys, tmp_path):
    code, out, _ = run(capsys, "datasets", "list")
    assert code == 0 and "community_small" in out and "qm9" in out
    code, out, _ = run(capsys, "datasets", "info", "planar")
    assert code == 0 and "sha256" in out and "spectre" in out
    code, _, err = run(capsys, "datasets", "export", "sbm", "--split", "test", "--out", str(tmp_path / "t.g6"))
    assert code == 0 and len(read_graphs(tmp_path / "t.g6")) == 40
    code, _, _ = run(
        capsys, "datasets", "generate", "tree", "-n", "5", "--num-nodes", "10", "--out", str(tmp_path / "t.s6")
    )
    assert code == 0 and [g.num_nodes for g in read_graphs(tmp_path / "t.s6")] == [10] * 5


def test_export_and_generate_without_out_write_graph6_lines_on_stdout(capsys, tmp_path):
    """As `graphgen sample` does: the same graphs as the file, one graph6 line each; molecules and
    other formats need --out (usage errors, before any work)."""
    code, out, err = run(capsys, "datasets", "export", "sbm", "--split", "test")
    assert code == 0 and "wrote 40 graphs of sbm (test) to stdout" in err
    (tmp_path / "s.g6").write_text(out)
    run(capsys, "datasets", "export", "sbm", "--split", "test", "--out", str(tmp_path / "f.g6"))
    assert (tmp_path / "f.g6").read_text() == out and len(out.splitlines()) == 40
    code, out, _ = run(capsys, "datasets", "generate", "tree", "-n", "3", "--num-nodes", "6")
    assert code == 0 and len(out.splitlines()) == 3
    (tmp_path / "t.g6").write_text(out)
    assert [g.num_nodes for g in read_graphs(tmp_path / "t.g6")] == [6, 6, 6]
    code, _, err = run(capsys, "datasets", "export", "qm9")
    assert code == 2 and "qm9 holds molecules" in err and "--out FILE.smi" in err
    for command in (["datasets", "export", "planar"], ["datasets", "generate", "tree"], ["sample"]):
        code, out, err = run(capsys, *command, "--format", "pt")
        assert code == 2 and out == "" and "--format other than graph6 needs --out FILE" in err


def test_train_erdos_renyi_writes_a_loadable_checkpoint(capsys, tmp_path):
    ckpt = tmp_path / "er.pt"
    code, _, _ = run(capsys, "train", "erdos-renyi", "--dataset", "grid", "--out", str(ckpt))
    assert code == 0
    code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "2")
    assert code == 0 and "trained on grid" in err and len(out.splitlines()) == 2


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["datasets", "info", "planr"], 1, "did you mean planar"),
        (["datasets", "export", "planar", "--protocol", "x", "--out", "{tmp}/a.g6"], 1, "no split protocol"),
        (["datasets", "export", "planar", "--out", "{tmp}/a.smi"], 1, "no atom features"),
        (["datasets", "export", "planar", "--out", "{tmp}/a.xyz"], 1, "cannot tell the format"),
        (["datasets", "export", "planar", "--out", "{tmp}/missing/a.g6"], 1, "does not exist"),
        (["datasets", "generate", "sbm", "--out", "{tmp}/a.g6", "-n", "0"], 2, "num-graphs"),
        (["sample", "--bogus"], 2, "No such option"),
        (["sample", "-n", "0"], 2, "num-graphs"),
        (["sample", "-c", "{tmp}/nope.pt"], 1, "no checkpoint named"),
        (["sample", "-c", "{tmp}/fake.pt"], 1, "not a PyTorch checkpoint"),
        (["sample", "--format", "pt"], 2, "needs --out"),
        (["sample", "--decoding", "argmax", "--out", "{tmp}/a.g6"], 2, "choose one of sample, mode"),
        (["sample", "-c", "er-community-small", "--decoding", "mode", "--out", "{tmp}/a.g6"], 2, "not a HiGen model"),
        (["sample", "-c", "er-community-small", "--temperature", "0.8", "--out", "{tmp}/a.g6"], 2, "not a HiGen model"),
        (["sample", "--temperature", "0", "--out", "{tmp}/a.g6"], 2, "must be a positive number"),
        (["sample", "--temperature", "nan", "--out", "{tmp}/a.g6"], 2, "must be a positive number"),
        (["sample", "--decoding", "mode", "--temperature", "0.5", "--out", "{tmp}/a.g6"], 2, "sample' only"),
        (["sample", "--size-temperature", "0.5", "--out", "{tmp}/a.g6"], 2, "no leaf size head"),
        (["sample", "-c", "higen-enzymes", "--size-temperature", "0", "--out", "{tmp}/a.g6"], 2, "positive number"),
        (["sample", "-c", "er-community-small", "--size-temperature", "0.5", "--out", "{tmp}/a.g6"], 2, "not a HiGen"),
        (["sample", "-c", "er-community-small", "--run-rows", "--out", "{tmp}/a.g6"], 2, "not a HiGen"),
        (["sample", "-c", "er-community-small", "--face-rows", "--out", "{tmp}/a.g6"], 2, "not a HiGen"),
        (["sample", "-c", "higen-planar-strips", "--run-rows", "--face-rows", "--out", "{tmp}/a.g6"], 2, "not both"),
        (["sample", "-c", "higen-planar-strips", "--planar-strips", "--out", "{tmp}/a.g6"], 2, "needs --face-rows"),
        (
            ["train", "higen", "-d", "community_small", "--row-runs", "--row-faces", "-o", "{tmp}/h.pt"],
            1,
            "choose --row-runs or --row-faces, not both",
        ),
        (
            ["sample", "-c", "higen-planar", "--face-rows", "--planar-strips", "--out", "{tmp}/a.g6"],
            2,
            "no strip-shaped",
        ),
        (["train", "higen", "-d", "enzymes", "--holdout", "0.7", "-o", "{tmp}/h.pt"], 2, "--holdout"),
        (
            ["train", "higen", "-d", "community_small", "--row-runs", "--row-coordination", "-o", "{tmp}/h.pt"],
            1,
            "--row-runs needs",
        ),
        # a bad output is refused before sampling: one line, nothing written
        (["sample", "--format", "xyz", "--out", "{tmp}/a.xyz"], 2, "unknown format 'xyz'"),
        (["sample", "--out", "{tmp}/a.foo"], 1, "cannot tell the format"),
        # a file whose folder does not exist is refused before any work, by every command
        (["sample", "--out", "{tmp}/missing/a.g6"], 1, "missing does not exist"),
        (["sample", "--plot", "{tmp}/missing/p.png", "--out", "{tmp}/a.g6"], 1, "missing does not exist"),
        (["train", "higen", "-d", "community_small", "-o", "{tmp}/missing/h.pt"], 1, "missing does not exist"),
        (["train", "erdos-renyi", "-d", "community_small", "-o", "{tmp}/missing/e.pt"], 1, "missing does not exist"),
        (["evaluate", "-r", "planar:test", "-s", "planar:val", "--json", "{tmp}/missing/o.json"], 1, "missing does"),
        (["bench", "higen-decodings", "--json", "{tmp}/missing/b.json"], 1, "missing does not exist"),
        (["value", "-b", "planar:test", "-s", "planar:val", "--json", "{tmp}/missing/v.json"], 1, "missing does"),
        (["sample", "--out", "{tmp}/a.smi"], 2, "without atom types"),
        (["sample", "--format", "edgelist"], 2, "needs --out FILE"),
        (["sample", "--format", "xyz"], 2, "unknown format 'xyz'; choose one of graph6"),
        (["datasets", "generate", "ego", "-o", "{tmp}/e.g6", "--seed", "-1"], 2, "--seed"),  # was numpy's traceback
        (["evaluate", "-r", "planar:test", "-s", "{tmp}/none.g6"], 1, "neither an existing file"),
        (["evaluate", "-r", "planar:test", "-s", "planar:val", "-p", "nope"], 1, "unknown protocol"),
        (
            ["evaluate", "-r", "planar:test", "-s", "planar:val", "--validity", "x", "--json", "{tmp}/o.json"],
            1,
            "unknown validity",
        ),
        (["evaluate", "-r", "planar:test", "-s", "{tmp}/fake.pt"], 1, "not a PyTorch graph file"),
        (["bench", "encoders", "--device", "tpu", "--json", "{tmp}/b.json"], 1, "unknown --device 'tpu'"),
        (["bench", "higen-decodings", "-c", "er-community-small", "--json", "{tmp}/b.json"], 2, "not a HiGen model"),
        (["bench", "higen-decodings", "--temperature", "0", "--json", "{tmp}/b.json"], 2, "positive number"),
        (
            ["bench", "higen-decodings", "--baseline", "er-community-small", "--json", "{tmp}/b.json"],
            2,
            "Invalid value for --baseline: er-community-small is not a HiGen model",
        ),
    ],
)
def test_bad_input_gives_one_line_error_and_no_output_file(capsys, tmp_path, args, code, message):
    (tmp_path / "fake.pt").write_text("not a checkpoint")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    got, out, err = run(capsys, *args)
    assert got == code
    assert message in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1 and err.startswith("graphgen: error:")
        assert "Traceback" not in err
    if "missing does" in message:
        assert out == ""  # refused before any work: no progress, no tables, no graphs
    assert sorted(os.listdir(tmp_path)) == ["fake.pt"]


def test_running_out_of_memory_is_a_one_line_error_and_other_errors_are_not_hidden(capsys, tmp_path, monkeypatch):
    """An allocation failure (torch's CPU allocator raises a RuntimeError; Python a MemoryError) is one
    line and status 1 with no output file; any other RuntimeError still surfaces as itself."""
    from graphgen.models.higen import HiGen

    failures = [
        RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory"),
        MemoryError(),
    ]
    for failure in failures:

        def fail(*args, failure=failure, **kwargs):
            raise failure

        monkeypatch.setattr(HiGen, "sample", fail)
        code, _, err = run(capsys, "sample", "--out", str(tmp_path / "a.g6"))
        assert code == 1 and err.strip() == "graphgen: error: out of memory; ask for fewer or smaller graphs"
    monkeypatch.setattr(HiGen, "sample", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("a real bug")))
    with pytest.raises(RuntimeError, match="a real bug"):
        main(["sample", "--out", str(tmp_path / "a.g6")])
    assert not list(tmp_path.iterdir())


def test_bench_on_cuda_without_a_gpu_is_a_one_line_error(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the message of a machine without a GPU")
    code, _, err = run(capsys, "bench", "encoders", "--device", "cuda", "--json", str(tmp_path / "b.json"))
    assert code == 1 and "sees no CUDA GPU here" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "b.json").exists()


def test_import_graphgen_is_light_and_help_needs_no_torch():
    code = (
        "import sys, graphgen, graphgen.cli; "
        "heavy = [m for m in ('torch', 'torch_geometric', 'rdkit', 'ot', 'networkx') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        ("models list", "higen-planar-faces"),
        ("datasets list", "community_small"),
        ("datasets info planar", "| spectre | test | 40 | 64 / 64.00 / 64 | 174 / 177.93 / 181 |"),
    ],
)
def test_listing_models_or_datasets_needs_no_torch(command, shows):
    # the catalogues and cards are text and tables: showing them should not pay torch's and PyG's imports
    stdout, loaded = _run_and_list_loaded(command.split(), ("torch", "torch_geometric", "rdkit", "ot", "networkx"))
    assert shows in stdout and loaded == []


def test_sampling_the_default_model_imports_neither_networkx_nor_rdkit(tmp_path):
    # graphgen sample pays torch's and PyG's imports; networkx (0.3 s, the planar face rows only) and
    # RDKit are not needed to draw and write the default model's graphs
    _, loaded = _run_and_list_loaded(
        ["sample", "-n", "2", "--out", str(tmp_path / "s.g6")], ("networkx", "rdkit", "ot")
    )
    assert loaded == [] and (tmp_path / "s.g6").read_text().count("\n") == 2


def _run_and_list_loaded(argv: list[str], modules: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run ``graphgen ARGV`` in a fresh interpreter (it must succeed); its stdout and which of
    ``modules`` it had imported by the end."""
    code = (
        "import json, sys; from graphgen.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"print(json.dumps([m for m in {modules!r} if m in sys.modules]), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout, json.loads(out.stderr.strip().splitlines()[-1])


def test_evaluate_graphs_and_molecules(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "evaluate",
        "-r",
        "community_small:test",
        "-s",
        "community_small:test",
        "--json",
        str(tmp_path / "g.json"),
        "--gnn-seeds",
        "2",
    )
    assert code == 0 and "floor" in out
    import json

    result = json.loads((tmp_path / "g.json").read_text())
    assert result["degree_mmd"] == pytest.approx(0, abs=1e-12) and result["provenance"]["command"].startswith(
        "graphgen"
    )
    assert result["vun"]["n_in_train"] > 0 and "gnn" in result and "floor" in result
    (tmp_path / "ref.smi").write_text("SMILES\nCCO\nCCN\nc1ccccc1\nCC(=O)O\n")
    (tmp_path / "gen.smi").write_text("OCC\nCCCl\nC1CC\n")
    code, out, _ = run(
        capsys,
        "evaluate",
        "-r",
        str(tmp_path / "ref.smi"),
        "-s",
        str(tmp_path / "gen.smi"),
        "--json",
        str(tmp_path / "m.json"),
    )
    assert code == 0
    metrics = json.loads((tmp_path / "m.json").read_text())["metrics"]
    assert metrics["validity"] == pytest.approx(2 / 3) and metrics["n_reference"] == 4
    # graphs against molecules: refused in one line (a graph6 file was read as SMILES, all "invalid")
    write_graphs([from_edge_array(3, [[0, 1], [1, 2]])], tmp_path / "g.g6")
    code, _, err = run(capsys, "evaluate", "-r", str(tmp_path / "ref.smi"), "-s", str(tmp_path / "g.g6"))
    assert code == 1 and err.strip().startswith("graphgen: error: samples") and "is a graph file (graph6)" in err


def test_validation_graphs_in_training_are_counted():
    from graphgen.cli.train_cmd import validation_graphs_in_training

    assert validation_graphs_in_training("enzymes", "graphrnn") == 117  # GraphRNN's validate set: train[:117]
    assert validation_graphs_in_training("planar", None) == 0


def test_train_a_face_run_model_then_sample_it_with_planar_strips(capsys, tmp_path):
    """--row-faces reaches the model; its samples take --planar-strips without --face-rows (the model
    keeps its faces) and refuse --run-rows in one line."""
    ckpt = tmp_path / "f.pt"
    code, _, err = run(
        capsys,
        "train",
        "higen",
        "-d",
        "community_small",
        "--epochs",
        "1",
        "--hidden",
        "16",
        "--num-layers",
        "1",
        "--row-faces",
        "--cross-strips",
        "-o",
        str(ckpt),
    )
    assert code == 0, err
    from graphgen.io import load_checkpoint

    assert load_checkpoint(ckpt).config["row_faces"] is True
    code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "2", "--planar-strips")
    assert code == 0 and len(out.splitlines()) == 2 and "planar strips" in err
    code, _, err = run(capsys, "sample", "-c", str(ckpt), "-n", "2", "--run-rows")
    assert code == 2 and "--run-rows" in err and "use --face-rows" in err and "Traceback" not in err


def test_train_higen_then_sample(capsys, tmp_path):
    ckpt = tmp_path / "h.pt"
    code, _, err = run(
        capsys,
        "train",
        "higen",
        "--dataset",
        "community_small",
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--num-layers",
        "1",
        "--self-loop-concentration",
        "--cross-ladder",
        "--triangle-features",
        "--row-coordination",
        "--cross-order",
        "boundary",
        "--cross-both-directions",
        "--cross-contact",
        "--cross-strips",
        "--cross-strip-segments",
        "--cross-strip-windows",
        "--out",
        str(ckpt),
    )
    assert code == 0 and "trained higen" in err
    assert "epoch 1/2: train NLL/edge" in err and "epoch 2/2:" in err  # not a terminal: one line per epoch
    from graphgen.io import load_checkpoint

    config = load_checkpoint(ckpt).config
    assert config["self_loop_concentration"] is True and config["cross_ladder"] is True  # the flags reach the model
    assert config["triangle_features"] is True and config["row_coordination"] is True
    assert config["cross_order"] == "boundary" and config["cross_both_directions"] is True
    assert config["cross_contact"] is True and config["cross_strips"] is True
    assert config["cross_strip_segments"] is True and config["cross_strip_windows"] is True
    code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "3", "--seed", "1")
    assert code == 0 and len(out.splitlines()) == 3 and "higen trained on community_small" in err
    code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "3", "--seed", "1", "--decoding", "mode")
    assert code == 0 and len(out.splitlines()) == 3 and "mode decoding" in err
    code, cold, err = run(capsys, "sample", "-c", str(ckpt), "-n", "3", "--seed", "1", "--temperature", "0.7")
    assert code == 0 and len(cold.splitlines()) == 3 and "temperature 0.7" in err
    assert run(capsys, "sample", "-c", str(ckpt), "-n", "3", "--seed", "1", "--temperature", "0.7")[1] == cold
    for flag in ("--run-rows", "--face-rows"):  # its rows are coordinated
        code, _, err = run(capsys, "sample", "-c", str(ckpt), "-n", "3", flag)
        assert code == 2 and "without coordination" in err and flag in err
    code, runs, err = run(
        capsys, "sample", "-c", "higen-planar-strips", "-n", "2", "--temperature", "0.7", "--run-rows"
    )
    assert code == 0 and len(runs.splitlines()) == 2 and "temperature 0.7, run rows" in err
    code, faces, err = run(
        capsys, "sample", "-c", "higen-planar-strips", "-n", "2", "--temperature", "0.7", "--face-rows"
    )
    assert code == 0 and len(faces.splitlines()) == 2 and "temperature 0.7, face rows" in err and faces != runs
    code, planar, err = run(
        capsys,
        "sample",
        "-c",
        "higen-planar-strips",
        "-n",
        "2",
        "--temperature",
        "0.7",
        "--face-rows",
        "--planar-strips",
    )
    assert code == 0 and len(planar.splitlines()) == 2 and "face rows, planar strips" in err
    code, _, err = run(capsys, "train", "higen", "--dataset", "qm9", "--out", str(tmp_path / "x.pt"))
    assert code == 1 and "molecules" in err
    bad = tmp_path / "y.pt"
    code, _, err = run(capsys, "train", "higen", "-d", "community_small", "--bipartite-encoder", "mlp", "-o", str(bad))
    assert code == 1 and "unknown --bipartite-encoder 'mlp'" in err and not bad.exists()
    for flags, message in (
        (("--resolution", "0"), "--resolution must be > 0"),
        (("--lr-schedule", "step"), "unknown --lr-schedule 'step'"),
        (("--row-fraction", "0"), "--row-fraction must be in (0, 1]"),
        (("--cross-edges", "pairs"), "unknown --cross-edges 'pairs'; choose one of coordinated, independent"),
        (("--cross-order", "border"), "unknown --cross-order 'border'; choose one of generation, boundary"),
        (("--community-count", "fixed"), "unknown --community-count 'fixed'; choose one of emergent, explicit"),
        (("--fair-share",), "--fair-share needs --community-count='explicit' or --community-size='explicit'"),
        (("--size-concentration",), "--size-concentration needs --community-size='explicit'"),
        (("--cross-both-directions", "--cross-edges", "independent"), "--cross-both-directions needs --cross-edges"),
        (("--size-share",), "--size-share needs --community-size='explicit' and --size-context"),
        (("--refit-size-head", "5"), "--refit-size-head needs --community-size='explicit'"),
        (("--refit-size-lr", "0"), "--refit-size-lr must be > 0"),
    ):
        code, _, err = run(capsys, "train", "higen", "-d", "community_small", *flags, "-o", str(bad))
        assert code == 1 and message in err and not bad.exists(), err
    # the bench's speed subjects are checked by the same configuration before any training
    out_json = tmp_path / "bench.json"
    code, _, err = run(capsys, "bench", "higen", "--cross-edges", "pairs", "--json", str(out_json))
    assert code == 1 and "unknown --cross-edges 'pairs'" in err and not out_json.exists(), err


def test_train_higen_keep_every_keeps_samplable_snapshots(capsys, tmp_path):
    """--keep-every K reaches the run: OUT.epochNNNN.pt after epochs K, 2K, ...; each samples."""
    ckpt = tmp_path / "h.pt"
    code, _, err = run(
        capsys, "train", "higen", "-d", "community_small", "-e", "3", "--hidden", "8", "--num-layers", "1",
        "--keep-every", "1", "-o", str(ckpt),
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.glob("h.epoch*.pt")) == [f"h.epoch000{e}.pt" for e in (1, 2, 3)]
    assert f"kept 3 snapshot(s) {tmp_path / 'h.epoch0001.pt'} ... {tmp_path / 'h.epoch0003.pt'}" in " ".join(
        err.split()
    )
    code, out, err = run(capsys, "sample", "-c", str(tmp_path / "h.epoch0002.pt"), "-n", "2", "--seed", "0")
    assert code == 0 and len(out.splitlines()) == 2, err
    code, out, err = run(capsys, "models", "info", str(tmp_path / "h.epoch0002.pt"))
    assert code == 0 and "a snapshot kept after epoch 2 (--keep-every)" in " ".join(out.split()), err
    assert "epoch 2 of 3" in out and "resumable: no (a snapshot" in out


def test_train_higen_levels(capsys, tmp_path):
    """--levels reaches the model: a flat (GRAN-style) model and a three-level one train and sample."""
    from graphgen.io import load_checkpoint

    for levels in (1, 3):
        ckpt = tmp_path / f"h{levels}.pt"
        code, _, err = run(
            capsys, "train", "higen", "-d", "community_small", "-e", "1", "--hidden", "8", "--num-layers", "1",
            "--levels", str(levels), "-o", str(ckpt),
        )  # fmt: skip
        assert code == 0 and "trained higen" in err, err
        assert load_checkpoint(ckpt).config["num_levels"] == levels
        code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "2", "--seed", "0")
        assert code == 0 and len(out.splitlines()) == 2, err
    bad = tmp_path / "bad.pt"
    code, _, err = run(
        capsys, "train", "higen", "-d", "community_small", "--levels", "1", "--cross-rounds", "-o", str(bad)
    )
    assert code == 1 and "--cross-rounds needs --levels >= 2" in err and not bad.exists(), err
    for flags, message in (
        (("--hierarchies", "4"), "--hierarchies > 1 needs --levels >= 2"),
        (("--resolution", "0.3"), "a --resolution other than 1 needs --levels >= 2"),
    ):
        code, _, err = run(capsys, "train", "higen", "-d", "community_small", "--levels", "1", *flags, "-o", str(bad))
        assert code == 1 and message in err and not bad.exists(), err
    code, _, err = run(capsys, "train", "higen", "-d", "community_small", "--levels", "0", "-o", str(bad))
    assert code == 2 and "--levels" in err and not bad.exists(), err


def test_sample_plot(capsys, tmp_path):
    code, _, err = run(capsys, "sample", "-n", "4", "--plot", str(tmp_path / "grid.png"))
    assert code == 0 and (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {tmp_path / 'grid.png'}\n" in err  # all four drawn: no note
    code, out, err = run(capsys, "sample", "-c", "er-community-small", "-n", "70", "--plot", str(tmp_path / "70.png"))
    assert code == 0 and len(out.splitlines()) == 70
    assert f"wrote {tmp_path / '70.png'} (the first 64 of the 70 graphs)" in err
    code, _, err = run(capsys, "sample", "-c", "er-community-small", "-n", "2", "--plot", str(tmp_path / "er.png"))
    assert code == 0 and (tmp_path / "er.png").exists()  # no communities stored: Louvain colours
    code, _, err = run(capsys, "sample", "-n", "2", "--plot", str(tmp_path / "grid.jpg"))
    assert code == 2 and ".png" in err and not (tmp_path / "grid.jpg").exists()


def test_evaluate_one_graph_against_one_graph(capsys, tmp_path):
    """A single graph per side (no covariance for the Fréchet distance) evaluates; FD is shown as
    undefined instead of failing inside LAPACK."""
    path = tmp_path / "one.edgelist"
    path.write_text("0 1\n1 2\n")
    code, out, err = run(capsys, "evaluate", "-r", str(path), "-s", str(path), "--gnn-seeds", "2")
    assert code == 0 and "FD – (needs 2+ graphs per set)" in out and "Traceback" not in err


def test_train_without_out_writes_a_default_file_never_over_an_earlier_run(capsys, tmp_path, monkeypatch):
    """`graphgen train higen --dataset NAME` (the issue's `[--out CKPT]`) writes higen-NAME.pt in the
    working folder; run again it refuses to overwrite it and names both ways on; --resume alone goes
    on in place (the same file, more epochs)."""
    monkeypatch.chdir(tmp_path)
    small = ["--hidden", "8", "--num-layers", "1", "--num-mixtures", "1"]
    code, _, err = run(capsys, "train", "higen", "-d", "community_small", "--epochs", "1", *small)
    assert code == 0, err
    from graphgen.io import load_checkpoint

    assert (tmp_path / "higen-community_small.pt").exists()
    assert load_checkpoint(tmp_path / "higen-community_small.pt").extra["epoch"] == 1
    code, _, err = run(capsys, "train", "higen", "-d", "community_small", "--epochs", "2", *small)
    assert code == 1 and err.strip() == (
        "graphgen: error: higen-community_small.pt exists (an earlier run?): continue it with "
        "--resume higen-community_small.pt, or name another file with --out"
    )
    assert load_checkpoint(tmp_path / "higen-community_small.pt").extra["epoch"] == 1  # untouched
    code, _, err = run(
        capsys,
        "train",
        "higen",
        "-d",
        "community_small",
        "--epochs",
        "2",
        *small,
        "--resume",
        "higen-community_small.pt",
    )
    assert code == 0, err
    assert load_checkpoint(tmp_path / "higen-community_small.pt").extra["epoch"] == 2
    code, _, err = run(capsys, "train", "erdos-renyi", "-d", "grid")
    assert code == 0 and (tmp_path / "er-grid.pt").exists()
    assert run(capsys, "train", "erdos-renyi", "-d", "grid")[0] == 1


def test_resuming_a_shipped_checkpoint_is_one_line_and_training_writes_nothing_on_stdout(capsys, tmp_path):
    """A shipped (stripped) checkpoint has no optimizer or random state: resuming it is refused in one
    line, before the progress bar starts (a KeyError before); a run's progress goes to stderr."""
    from importlib.resources import files

    shipped = tmp_path / "cs.pt"
    shipped.write_bytes(files("graphgen").joinpath("checkpoints/higen-community-small.pt").read_bytes())
    flags = ["--num-mixtures", "8", "--row-mass", "capacity", "--row-concentration"]
    code, out, err = run(
        capsys, "train", "higen", "-d", "community_small", "--epochs", "601", *flags, "--resume", str(shipped)
    )
    assert code == 1 and out == ""
    assert err.strip() == (
        f"graphgen: error: {shipped} holds no training state (optimizer, epoch, random streams): a shipped or "
        "stripped checkpoint samples but cannot be resumed; resume from the run's own checkpoint"
    )
    small = ["--hidden", "8", "--num-layers", "1", "--num-mixtures", "1"]
    code, out, err = run(
        capsys, "train", "higen", "-d", "community_small", "--epochs", "1", *small, "-o", str(tmp_path / "a.pt")
    )
    assert code == 0 and out == "" and "1/1" in err and "epoch 1/1: train NLL/edge" in err


def test_sampling_more_than_a_chunk_keeps_stdout_to_the_graphs(capsys, monkeypatch):
    """Past SAMPLE_CHUNK graphs the CLI draws them with a progress bar on stderr: stdout holds exactly
    the graphs, the same as the API's chunked draw."""
    import torch

    import graphgen.models.higen.model as higen_model
    from graphgen.data import upper_edges
    from graphgen.io.graph6 import encode_graph6
    from graphgen.models import HiGen

    monkeypatch.setattr(higen_model, "SAMPLE_CHUNK", 2)
    code, out, err = run(capsys, "sample", "-n", "5", "--seed", "4")
    assert code == 0 and "sampled 5 graphs" in err
    graphs = HiGen.from_pretrained("higen-community-small").sample(5, generator=torch.Generator().manual_seed(4))
    assert out.splitlines() == [encode_graph6(int(g.num_nodes), upper_edges(g).numpy()).decode() for g in graphs]


def test_disconnected_graphs_past_the_training_sizes_get_a_note(capsys, tmp_path):
    """--num-nodes past a HiGen model's largest training graph: a note counts the disconnected graphs
    (higen-community-small-sized at 4x its 20-node training graphs: its communities seldom all join);
    none within the training sizes, none when every graph is connected, none without --num-nodes."""
    import networkx as nx
    from torch_geometric.data import Data

    from graphgen.cli.sample_cmd import _note_disconnected_past_training
    from graphgen.data.convert import to_networkx
    from graphgen.models import HiGen

    out = tmp_path / "big.g6"
    code, _, err = run(
        capsys, "sample", "-c", "higen-community-small-sized", "-n", "3", "--num-nodes", "80", "--out", str(out)
    )
    apart = sum(not nx.is_connected(to_networkx(g)) for g in read_graphs(out))
    assert code == 0 and apart > 0
    note = f"note: {apart} of 3 graphs are disconnected; --num-nodes 80 is past this model's largest training graph"
    assert f"{note} (20 nodes)" in err
    model = HiGen.from_pretrained("higen-community-small-sized")
    split = Data(edge_index=torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]]), num_nodes=4)  # two separate edges
    joined = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)  # a path
    _note_disconnected_past_training(model, 40, [split, joined])
    assert capsys.readouterr().err.startswith("note: 1 of 2 graphs are disconnected; --num-nodes 40 is past")
    for num_nodes, graphs in ((20, [split]), (40, [joined]), (None, [split])):
        _note_disconnected_past_training(model, num_nodes, graphs)
    assert capsys.readouterr().err == ""


def test_a_node_count_the_graphs_miss_gets_a_note(capsys, tmp_path):
    """HiGen's node count emerges from the model: where the graphs miss --num-nodes by more than 20 % on
    average, a note gives their mean and range, and says why for a model whose community sizes and count
    both emerge from its rows (the default model: 4x its largest training graph reaches about half),
    naming the shipped model of the same data that follows the request (which draws 80 within 20 %)."""
    import torch
    from torch_geometric.data import Data

    from graphgen.cli.sample_cmd import _note_size_reached
    from graphgen.models import HiGen

    code, _, err = run(capsys, "sample", "-n", "3", "--num-nodes", "80", "--out", str(tmp_path / "big.g6"))
    sizes = [g.num_nodes for g in read_graphs(tmp_path / "big.g6")]
    assert code == 0 and sum(sizes) / 3 < 0.8 * 80
    note = f"note: the graphs have {sum(sizes) / 3:,.0f} nodes on average ({min(sizes)}-{max(sizes)}), not the 80"
    assert note in err and "both emerge from its rows" in err and "(up to 20 nodes)" in err
    assert "(up to 20 nodes); --checkpoint higen-community-small-sized follows --num-nodes further\n" in err
    for args in (
        ("-n", "3", "--num-nodes", "20"),
        ("-c", "higen-enzymes", "-n", "2", "--num-nodes", "250"),
        ("-c", "higen-community-small-sized", "-n", "3", "--num-nodes", "80"),
    ):
        code, _, err = run(capsys, "sample", *args, "--out", str(tmp_path / "ok.g6"))  # within 20 %: no note
        assert code == 0 and "note: the graphs have" not in err
    sbm = HiGen.from_pretrained("higen-sbm")  # an explicit community count: the numbers, no explanation
    _note_size_reached(sbm, 100, [Data(num_nodes=60), Data(num_nodes=80)])
    err = capsys.readouterr().err
    assert err.startswith("note: the graphs have 70 nodes on average (60-80), not the 100") and "emerge" not in err
    _note_size_reached(sbm, 100, [Data(num_nodes=81), Data(num_nodes=81)])
    _note_size_reached(sbm, None, [Data(num_nodes=1)])
    assert capsys.readouterr().err == "" and torch.is_tensor(sbm.node_counts)
    default = HiGen.from_pretrained("higen-community-small")  # no shipped sibling named: the training flag
    _note_size_reached(default, 100, [Data(num_nodes=20)])
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith("models trained with --community-count explicit follow --num-nodes further")
    )


def test_the_sampling_progress_bar_appears_only_once_a_draw_runs_long(monkeypatch):
    """graphgen sample hands HiGen a callback that opens a transient stderr bar only after
    PROGRESS_AFTER seconds, then follows the fractional graph count; a quick draw opens none."""
    from rich.progress import Progress

    import graphgen.cli.sample_cmd as sample_cmd

    opened = []
    real_start = Progress.start
    monkeypatch.setattr(Progress, "start", lambda self: opened.append(self) or real_start(self))
    quick = sample_cmd.sampling_bar(after=3600.0)
    quick.update(0.5, 4)
    quick.update(4, 4)
    quick.close()
    assert quick.task is None and opened == []
    slow = sample_cmd.sampling_bar(after=0.0)
    slow.update(0.25, 4)
    slow.update(2.5, 4)
    task = slow.progress.tasks[0]
    assert len(opened) == 1 and task.total == 4 and task.completed == 2.5
    slow.update(4, 4)
    slow.close()
    assert slow.progress.tasks[0].completed == 4 and not slow.progress.live.is_started


def test_a_size_far_beyond_the_training_graphs_gets_a_note(capsys):
    code, out, err = run(capsys, "sample", "-n", "1", "--num-nodes", "300")
    assert code == 0 and len(out.splitlines()) == 1
    assert "note: --num-nodes 300 is 15x the largest training graph (20 nodes)" in err
    code, _, err = run(capsys, "sample", "-n", "1", "--num-nodes", "100")  # 5x: no note
    assert code == 0 and "note: --num-nodes" not in err


@pytest.fixture
def terminal(monkeypatch):
    """What rich draws on a 120-column terminal: every rich Console made meanwhile writes to this
    buffer as it would to a terminal (colours, cursor moves)."""
    import io

    import rich.console

    screen = io.StringIO()
    real_console = rich.console.Console
    monkeypatch.setattr(rich.console, "Console", lambda **kw: real_console(file=screen, force_terminal=True, width=120))
    return screen


def test_the_sampling_bar_renders_its_share_of_the_graphs_on_a_terminal(terminal):
    """What the bar shows on a terminal (stderr): 'sampling', the bar, the percent of the graphs drawn
    and their number, then it is erased (transient) when the draw ends."""
    import graphgen.cli.sample_cmd as sample_cmd

    bar = sample_cmd.sampling_bar(after=0.0)
    bar.update(1.5, 4)
    bar.progress.refresh()
    shown = terminal.getvalue()
    assert "sampling" in shown and " 38% of 4 graphs" in shown and "━" in shown
    bar.close()
    after = terminal.getvalue()[len(shown) :]
    assert "\x1b[?25h" in after and after.endswith("\x1b[1A\x1b[2K")  # cursor back, the bar's line erased


def test_evaluate_names_each_step_beside_its_spinner_on_a_terminal(capsys, terminal):
    """On a terminal, graphgen evaluate shows 'evaluating: STEP' beside a spinner on stderr, every step
    drawn as it starts (a short one too), in the order they run (the GNN metrics counting their GINs)."""
    code, _, _ = run(
        capsys, "evaluate", "-r", "community_small:test", "-s", "community_small:train", "--gnn-seeds", "2"
    )
    shown = terminal.getvalue()
    steps = [
        "evaluating: descriptors and MMDs",
        "evaluating: the train-vs-reference floor",
        "evaluating: validity, uniqueness and novelty",
        "evaluating: GNN metrics, 0/2 GINs",
        "evaluating: GNN metrics, 1/2 GINs",
        "evaluating: GNN metrics, 2/2 GINs",
    ]
    assert code == 0 and all(step in shown for step in steps)
    assert [shown.index(step) for step in steps] == sorted(shown.index(step) for step in steps)


def test_version_prints_the_package_version_without_a_command(capsys):
    """``graphgen --version`` alone answers (it once asked for a command: "Missing command")."""
    from graphgen import __version__

    code, out, err = run(capsys, "--version")
    assert code == 0 and out.strip() == f"graphgen {__version__}" and err == ""


def test_train_higen_on_a_graph_file_with_a_held_out_share_then_sample_it(capsys, tmp_path):
    """--graphs FILE trains on the file's graphs; --holdout takes the same seeded share as for a
    dataset (holdout_split); the checkpoint names the file and its SHA-256, resumes only on the same
    graphs, and `sample` says what it was trained on."""
    import hashlib

    from graphgen.datasets.splits import holdout_split
    from graphgen.io import load_checkpoint, write_graphs
    from graphgen.models import HiGen

    graphs = load_dataset("community_small", "train")[:20]
    path = tmp_path / "mine.g6"
    write_graphs(graphs, path)
    ckpt = tmp_path / "mine.pt"
    args = ["train", "higen", "--graphs", str(path), "--holdout", "0.25", "--hidden", "16", "--num-layers", "1"]
    code, _, err = run(capsys, *args, "--epochs", "2", "--out", str(ckpt))
    assert code == 0 and "trained higen on 15 mine.g6 graphs" in err and "val " in err
    meta = load_checkpoint(ckpt).metadata
    assert meta["graphs_file"] == "mine.g6" and meta["graphs_in_file"] == 20 and meta["num_training_graphs"] == 15
    assert meta["graphs_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and meta["holdout"] == 0.25
    kept, held = holdout_split(read_graphs(path), 0.25)
    model = HiGen.from_checkpoint(load_checkpoint(ckpt))
    assert model.edge_counts.tolist() == [int(g.edge_index.shape[1]) // 2 for g in kept] and len(held) == 5
    code, _, _ = run(capsys, *args, "--epochs", "3", "--resume", str(ckpt))  # the same graphs: resumes
    assert code == 0
    code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "2")
    assert code == 0 and "trained on 15 graphs of mine.g6" in err and len(out.splitlines()) == 2


def test_train_on_a_graph_file_refuses_bad_combinations_and_bad_graphs_in_one_line(capsys, tmp_path):
    from graphgen.io import write_graphs

    good, edgeless = tmp_path / "good.g6", tmp_path / "edgeless.g6"
    write_graphs(load_dataset("community_small", "train")[:4], good)
    write_graphs([from_edge_array(3, torch.zeros((0, 2), dtype=torch.long))], edgeless)
    cases = [
        (["higen", "--dataset", "community_small", "--graphs", str(good)], "--dataset NAME or --graphs FILE"),
        (["higen"], "--dataset NAME or --graphs FILE"),
        (["higen", "--dataset", "community_small", "--val-graphs", str(good)], "--val-graphs goes with --graphs"),
        (["higen", "--graphs", str(good), "--val-graphs", str(good), "--holdout", "0.1"], "not both"),
        (["higen", "--graphs", str(tmp_path / "missing.g6")], "does not exist"),
        (["higen", "--graphs", str(good), "--protocol", "gdss"], "has none"),
        (["higen", "--graphs", str(edgeless)], "have no edges"),
        (["higen", "--graphs", str(good), "--resume", str(tmp_path / "none.pt")], "none.pt"),
        (["erdos-renyi", "--graphs", str(tmp_path / "missing.g6")], "does not exist"),
    ]
    for args, message in cases:
        out = tmp_path / "never.pt"
        epochs = ["--epochs", "1"] if args[0] == "higen" else []
        code, stdout, err = run(capsys, "train", *args, *epochs, "--out", str(out))
        assert code == 1 and message in err and "Traceback" not in err and stdout == "", (args, err)
        assert not out.exists()


def test_train_erdos_renyi_on_a_graph_file(capsys, tmp_path):
    from graphgen.io import write_graphs

    path = tmp_path / "grids.g6"
    write_graphs(load_dataset("grid", "train")[:5], path)
    ckpt = tmp_path / "er.pt"
    code, _, err = run(capsys, "train", "erdos-renyi", "--graphs", str(path), "--out", str(ckpt))
    assert code == 0 and "fitted erdos-renyi on 5 grids.g6 graphs" in err
    code, out, err = run(capsys, "sample", "-c", str(ckpt), "-n", "2")
    assert code == 0 and "trained on 5 graphs of grids.g6" in err and len(out.splitlines()) == 2


def test_sample_keep_valid_writes_only_passing_graphs_and_says_what_it_threw_away(capsys, tmp_path):
    import networkx as nx

    from graphgen.data.convert import to_networkx
    from graphgen.metrics.validity import is_planar_graph

    out = tmp_path / "valid.g6"
    code, _, err = run(capsys, "sample", "-n", "6", "--keep-valid", "planar", "--out", str(out))
    assert code == 0 and "kept the first 6 valid graphs" in err and "pass the planar test" in err
    graphs = read_graphs(out)
    assert len(graphs) == 6 and all(is_planar_graph(g) for g in graphs)
    # G(n, m) fitted on enzymes graphs (mean degree about 4): some of its draws are disconnected
    from graphgen.io import write_graphs

    enzymes, er = tmp_path / "enzymes.g6", tmp_path / "er-enzymes.pt"
    write_graphs(load_dataset("enzymes", "train")[:5], enzymes)
    assert run(capsys, "train", "erdos-renyi", "--graphs", str(enzymes), "--out", str(er))[0] == 0
    sparse = ("-c", str(er), "-n", "6")
    connected = tmp_path / "connected.g6"
    code, _, err = run(capsys, "sample", *sparse, "--keep-valid", "connected", "--out", str(connected))
    assert code == 0 and "pass the connected test" in err
    assert [nx.is_connected(to_networkx(g)) for g in read_graphs(connected)] == [True] * 6
    first_draws = run(capsys, "sample", *sparse)[1].splitlines()  # the same seed, unfiltered
    assert not all(nx.is_connected(nx.from_graph6_bytes(line.encode())) for line in first_draws)
    never = tmp_path / "never.g6"
    code, _, err = run(capsys, "sample", "-n", "6", "--keep-valid", "tree", "--max-draws", "12", "--out", str(never))
    assert code == 1 and "of 12 draws pass the tree test" in err and not never.exists()
    for args, message in (
        (["--max-draws", "10"], "goes with --keep-valid"),
        (["--keep-valid", "planr"], "unknown validity test"),
        (["--keep-valid", "planar", "--max-draws", "3"], "below the 6 graphs"),
    ):
        code, _, err = run(capsys, "sample", "-n", "6", *args)
        assert code == 2 and message in err, (args, err)


def test_a_graph_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    """The checkpoint records the sha256 of the graphs it trained on: the file is hashed before and
    after it is read, and one written to in between is refused instead of recorded wrongly."""
    import graphgen.io
    from graphgen.cli.train_cmd import _file_training_data
    from graphgen.errors import GraphFormatError

    path = tmp_path / "g.g6"
    write_graphs([from_edge_array(3, [[0, 1], [1, 2]])] * 2, path)
    assert _file_training_data(path, None, 0.0).metadata["graphs_in_file"] == 2
    real = graphgen.io.read_graphs

    def read_while_written(p, *args, **kwargs):
        graphs = real(p, *args, **kwargs)
        with open(p, "ab") as handle:
            handle.write(b"Bw\n")
        return graphs

    monkeypatch.setattr(graphgen.io, "read_graphs", read_while_written)
    with pytest.raises(GraphFormatError, match="changed while it was read"):
        _file_training_data(path, None, 0.0)


def test_sample_num_edges_gives_every_graph_that_many_edges_and_is_higen_only(capsys, tmp_path):
    out = tmp_path / "e.g6"
    code, _, _ = run(capsys, "sample", "-n", "3", "--num-edges", "45", "--seed", "2", "--out", str(out))
    assert code == 0 and [int(g.edge_index.shape[1]) // 2 for g in read_graphs(out)] == [45, 45, 45]
    code, _, err = run(capsys, "sample", "-n", "2", "--num-edges", "45", "-c", "er-community-small")
    assert code == 2 and "is not a HiGen model" in err
    code, _, err = run(capsys, "sample", "-n", "1", "--num-edges", "100000000")
    assert code == 1 and "16,777,215" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "sample", "-n", "1", "--num-nodes", "3", "--num-edges", "4", "--out", str(out))
    assert code == 1 and err.strip() == "graphgen: error: graphs of 3 nodes hold at most 3 edges, not 4"


def test_sample_num_nodes_with_num_edges_conditions_on_both(capsys, tmp_path):
    """Both given: every graph has exactly --num-edges edges, and the node count follows --num-nodes
    (it used to be ignored: the graphs of 150 and of 300 nodes asked for were the same)."""
    means = []
    for nodes in (150, 300):
        out = tmp_path / f"{nodes}.g6"
        args = ["-c", "higen-sbm", "-n", "4", "--num-nodes", str(nodes), "--num-edges", "1500", "--out", str(out)]
        code, _, _ = run(capsys, "sample", *args)
        graphs = read_graphs(out)
        assert code == 0 and [int(g.edge_index.shape[1]) // 2 for g in graphs] == [1500] * 4
        means.append(sum(int(g.num_nodes) for g in graphs) / 4)
    assert means[1] - means[0] > 40, means  # 208 and 273 nodes (ad hoc, seed 0)
