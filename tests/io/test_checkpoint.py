import os

import pytest
import torch

from graphgen.data import from_edge_array
from graphgen.errors import CheckpointError
from graphgen.io import Checkpoint, graphs_fingerprint, load_checkpoint, save_checkpoint


def make_ckpt():
    return Checkpoint(
        model="toy",
        config={"hidden": 8, "levels": [1, 2]},
        state_dict={"w": torch.arange(6.0).reshape(2, 3)},
        data_fingerprint="sha256:abc",
        metadata={"dataset": "planar", "epochs": 3},
        extra={"rng": torch.get_rng_state()},
    )


def test_round_trip_is_exact_and_opens_with_weights_only(tmp_path):
    p = tmp_path / "c.pt"
    save_checkpoint(make_ckpt(), p)
    raw = torch.load(p, weights_only=True)  # safe to open with plain torch too
    assert raw["format"] == "graphgen.checkpoint" and raw["graphgen_version"]
    back = load_checkpoint(p)
    assert back.model == "toy" and back.config == {"hidden": 8, "levels": [1, 2]}
    assert torch.equal(back.state_dict["w"], torch.arange(6.0).reshape(2, 3))
    assert back.metadata["epochs"] == 3 and back.data_fingerprint == "sha256:abc"
    assert torch.equal(back.extra["rng"], torch.get_rng_state()) or back.extra["rng"].dtype == torch.uint8


def test_wrong_version_and_foreign_files(tmp_path):
    p = tmp_path / "c.pt"
    save_checkpoint(make_ckpt(), p)
    raw = torch.load(p, weights_only=True)
    raw["format_version"] = 99
    torch.save(raw, p)
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(p)
    torch.save({"state_dict": {}}, p)
    with pytest.raises(CheckpointError, match="not a graphgen checkpoint"):
        load_checkpoint(p)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unsafe_and_truncated_checkpoints_are_refused(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"format": "graphgen.checkpoint", "x": Evil()}, p)
    with pytest.raises(CheckpointError, match="refuses to unpickle"):
        load_checkpoint(p)
    good = tmp_path / "good.pt"
    save_checkpoint(make_ckpt(), good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(cut)


def test_fingerprint_depends_on_graphs_and_order():
    a, b = from_edge_array(3, [[0, 1]]), from_edge_array(3, [[1, 2]])
    assert graphs_fingerprint([a, b]) == graphs_fingerprint([a, b])
    assert graphs_fingerprint([a, b]) != graphs_fingerprint([b, a])
    assert graphs_fingerprint([a]) != graphs_fingerprint([from_edge_array(4, [[0, 1]])])


def test_strip_training_state(tmp_path):
    from graphgen.io.checkpoint import strip_training_state

    save_checkpoint(make_ckpt(), tmp_path / "run.pt")
    slim = strip_training_state(tmp_path / "run.pt", tmp_path / "ship.pt")
    back = load_checkpoint(tmp_path / "ship.pt")
    assert back.extra == {} and slim.extra == {} and back.metadata["epochs"] == 3
    assert torch.equal(back.state_dict["w"], make_ckpt().state_dict["w"])
