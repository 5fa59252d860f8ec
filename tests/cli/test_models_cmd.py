"""``graphgen models`` and ``graphgen sample --preset``."""

from graphgen.models import PRETRAINED
from tests.cli.test_cli import run


def test_models_list_names_every_shipped_model_and_its_presets(capsys):
    code, out, err = run(capsys, "models", "list")
    assert code == 0 and err == ""
    for name in PRETRAINED:
        assert any(line == name or line.startswith(name + " (") for line in out.splitlines()), name
    assert "higen-community-small (the default)" in out
    faces = "presets: tuned (--temperature 0.7); strips (--temperature 0.8 --planar-strips); "
    assert faces + "valid (--temperature 0.7 --face-rows --planar-strips)" in " ".join(out.split())
    assert out.count("presets: none (sample its own distribution)") == 5  # community_small (2), enzymes, SBM, ER
    default = out.split("higen-community-small (the default)\n")[1].split("\nhigen-")[0]
    assert "--num-nodes far past its training graphs: -c higen-community-small-sized follows it" in " ".join(
        default.split()
    )
    assert " ".join(out.split()).count("-c higen-community-small-sized follows it") == 1


def test_models_info_shows_each_preset_its_choice_and_its_test_numbers(capsys):
    code, out, _ = run(capsys, "models", "info", "higen-planar-faces")
    assert code == 0
    out = " ".join(out.split())  # as read, not as wrapped
    assert "graphgen sample -c higen-planar-faces --preset strips (= --temperature 0.8 --planar-strips)" in out
    assert (
        "chosen by: metrics/results/higen-temperature-planar-7-layers-strips-row-faces-planar-strips-seed-1.json" in out
    )
    assert out.count("test split:") == 3 and "V.U.N. 81 %" in out
    code, out, err = run(capsys, "models", "info", "higen-planr")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "no shipped model named 'higen-planr' and no such checkpoint file (shipped: higen-community-small" in err


def test_sample_with_a_preset_draws_what_its_flags_draw_and_says_so(capsys):
    code, by_preset, err = run(capsys, "sample", "-c", "higen-planar", "-n", "3", "--preset", "tuned")
    assert code == 0 and "(seed 0, preset tuned, temperature 0.7)" in err and "note:" not in err
    code, by_flags, _ = run(capsys, "sample", "-c", "higen-planar", "-n", "3", "--temperature", "0.7")
    assert code == 0 and by_preset == by_flags
    code, plain, err = run(capsys, "sample", "-c", "higen-planar", "-n", "3")
    assert code == 0 and plain != by_preset
    assert "note: higen-planar has sampling presets chosen on held-out graphs (tuned): --preset NAME" in err
    code, _, err = run(capsys, "sample", "-n", "2")
    assert code == 0 and "note:" not in err  # the default model has no presets


def test_a_preset_with_other_sampling_options_or_on_a_model_without_it_is_refused(capsys, tmp_path):
    for args, message in (
        (["-c", "higen-planar", "--preset", "tuned", "--temperature", "0.7"], "drop --temperature or the preset"),
        (["-c", "higen-planar-faces", "--preset", "valid", "--face-rows"], "drop --face-rows or the preset"),
        (
            ["-c", "higen-planar", "--preset", "valid"],
            "higen-planar has no sampling preset 'valid' (its presets: tuned)",
        ),
        (["--preset", "tuned"], "higen-community-small has no sampling preset 'tuned'"),
        (["-c", str(tmp_path / "nothing.pt"), "--preset", "tuned"], "no checkpoint named"),
    ):
        code, out, err = run(capsys, "sample", "-n", "2", "--out", str(tmp_path / "s.g6"), *args)
        assert code in (1, 2) and message in " ".join(err.split()), args
        assert out == "" and not (tmp_path / "s.g6").exists()


def test_models_info_of_a_checkpoint_file_reads_what_it_holds(capsys, tmp_path):
    """A run's own checkpoint: its graphs file and hash, command, last and lowest validation epochs,
    the options that differ from the defaults, and that it resumes; its stripped .best.pt does not;
    a shipped checkpoint file lists the refits run after its training command."""
    from graphgen.datasets import load_dataset
    from graphgen.io import write_graphs
    from graphgen.models.pretrained import resolve_checkpoint

    graphs = tmp_path / "mine.g6"
    write_graphs(load_dataset("community_small", "train")[:12], graphs)
    ckpt = tmp_path / "mine.pt"
    args = ["--graphs", str(graphs), "--holdout", "0.25", "--epochs", "2", "--hidden", "16", "--out", str(ckpt)]
    assert run(capsys, "train", "higen", *args)[0] == 0
    code, out, _ = run(capsys, "models", "info", str(ckpt))
    text = " ".join(out.split())  # the lines are wrapped
    assert code == 0 and "trained on 9 graphs of mine.g6 (SHA-256" in text and "0.25 of it held out" in text
    assert "epoch 2 of 2: train NLL/edge" in text and "lowest" in text and "configuration: hidden=16" in text
    assert "resumable: yes" in text
    code, out, _ = run(capsys, "models", "info", str(tmp_path / "mine.best.pt"))
    assert code == 0 and "resumable: no" in " ".join(out.split())
    path, _ = resolve_checkpoint("higen-planar-faces")
    code, out, _ = run(capsys, "models", "info", str(path))
    text = " ".join(out.split())
    assert code == 0 and "trained on planar (train split), protocol spectre" in text
    assert "then: python metrics/scripts/higen_cross_refit.py" in text and "row_faces=True" in text
    code, _, err = run(capsys, "models", "info", str(graphs))
    assert code == 1 and "not a PyTorch checkpoint" in err
