"""Sampling presets of the shipped models: what they set, that the model takes it, and that each was
chosen on held-out graphs and measured at exactly these settings (their records under metrics/results)."""

import json
import re
import shlex
from pathlib import Path

import pytest
import torch

from graphgen.errors import InvalidArgumentError
from graphgen.models import PRETRAINED, load_model, sampling_preset
from graphgen.models.pretrained import PRESET_OPTIONS, SamplingPreset

ROOT = Path(__file__).resolve().parents[2]
PRESETS = [(name, preset) for name, entry in PRETRAINED.items() for preset in entry.presets]


def _flags(command: str) -> dict:
    """``--flag value`` / bare ``--flag`` words of a recorded command, as a dict (bare flags map to True);
    a trailing ``--note`` (free text that may quote flags) is left out."""
    words = shlex.split(command.split(" --note ")[0])
    flags = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            nxt = words[i + 1] if i + 1 < len(words) else "--"
            flags[word] = True if nxt.startswith("--") else nxt
    return flags


def _expected_flags(preset: SamplingPreset) -> dict:
    return {
        PRESET_OPTIONS[key]: (True if value is True else pytest.approx(float(value)))
        for key, value in preset.options.items()
    }


def test_the_presets_are_named_uniquely_and_set_only_sampling_options():
    assert {name for name, _ in PRESETS} == {
        "higen-planar",
        "higen-planar-sized",
        "higen-planar-strips",
        "higen-planar-faces",
        "higen-enzymes-graphrnn",
    }
    for name, entry in PRETRAINED.items():
        names = [p.name for p in entry.presets]
        assert len(names) == len(set(names)), name
        for preset in entry.presets:
            assert preset.options and set(preset.options) <= set(PRESET_OPTIONS), (name, preset.name)
            assert sampling_preset(name, preset.name) == preset.options
            assert sampling_preset(name, preset.name) is not preset.options  # a copy: callers may change it
    assert SamplingPreset("x", {"temperature": 0.8, "planar_strips": True}, "", "").flags() == (
        "--temperature 0.8 --planar-strips"
    )


@pytest.mark.parametrize(("name", "preset"), PRESETS, ids=[f"{n}:{p.name}" for n, p in PRESETS])
def test_each_preset_was_chosen_on_held_out_graphs_and_measured_at_its_settings(name, preset):
    """The record that chose the preset picked exactly its temperature (on the validation split or on
    held-out training graphs), under the same decodings and, where it names one, the shipped checkpoint;
    the test-split record its description cites ran at exactly these settings on the shipped model."""
    shipped = json.loads((ROOT / "metrics" / "results" / name / "summary.json").read_text())
    chooser = json.loads((ROOT / preset.chosen_by.split(" ")[0]).read_text())
    if "chosen" in chooser:  # higen_temperature.py: one model, on its validation split
        command = _flags(chooser["command"])
        assert float(chooser["chosen"]) == pytest.approx(preset.options["temperature"])
        assert shlex.split(chooser["command"])[2] == shipped["checkpoint"]
        for key in ("run_rows", "face_rows", "planar_strips"):
            assert (PRESET_OPTIONS[key] in command) == bool(preset.options.get(key)), key
    else:  # higen_size_temperature.py, pooled over two models of the same command with --holdout
        assert float(chooser["pooled_chosen"]) == pytest.approx(preset.options["size_temperature"])
        assert "--holdout" in chooser["training_command"]
    measured_dir = re.findall(r"metrics/results/[\w.-]+/", preset.measured)[-1]
    record = json.loads((ROOT / measured_dir / "summary.json").read_text())
    assert record["checkpoint"] in (name, shipped["checkpoint"])
    flags = _flags(record["command"])
    got = {
        flag: flags[flag] if flags[flag] is True else float(flags[flag])
        for flag in PRESET_OPTIONS.values()
        if flag in flags
    }
    assert got == _expected_flags(preset)
    assert "test" in record["dataset"]
    # the numbers quoted are the record's means, to the digits quoted
    quoted = re.search(r"(\d\.\d+) / (\d\.\d+) / (\d\.\d+)(?: / (\d\.\d+))?", preset.measured).groups()
    for text, key in zip(quoted, ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")):
        if text is not None:
            last_digit = 10.0 ** -len(text.split(".")[1])
            assert abs(float(text) - record["mean"][key]) <= 0.5 * last_digit + 1e-12, (key, text)
    vun = re.search(r"V\.U\.N\. ([\d.]+) %", preset.measured)
    if vun is not None:
        digits = len(vun.group(1).split(".")[1]) if "." in vun.group(1) else 0
        mean_vun = 100 * sum(record["vun"]) / len(record["vun"])
        assert abs(float(vun.group(1)) - mean_vun) <= 0.5 * 10.0**-digits + 1e-9, vun.group(1)


@pytest.mark.parametrize(("name", "preset"), PRESETS, ids=[f"{n}:{p.name}" for n, p in PRESETS])
def test_each_shipped_model_samples_under_its_presets(name, preset):
    model, _ = load_model(name)
    options = sampling_preset(name, preset.name)
    graphs = model.sample(2, generator=torch.Generator().manual_seed(0), **options)
    again = model.sample(2, generator=torch.Generator().manual_seed(0), **options)
    assert len(graphs) == 2 and all(g.num_nodes > 0 for g in graphs)
    assert all(torch.equal(a.edge_index, b.edge_index) for a, b in zip(graphs, again))


def test_asking_for_a_preset_that_does_not_exist_names_what_does():
    with pytest.raises(
        InvalidArgumentError,
        match=r"higen-planar-faces has no sampling preset 'best' \(its presets: tuned, strips, valid\)",
    ):
        sampling_preset("higen-planar-faces", "best")
    with pytest.raises(InvalidArgumentError, match="higen-sbm has no sampling preset 'tuned' .it has none"):
        sampling_preset("higen-sbm", "tuned")
    with pytest.raises(InvalidArgumentError, match="belong to shipped models, and 'runs/x.pt' is not one"):
        sampling_preset("runs/x.pt", "tuned")
