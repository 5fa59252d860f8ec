import pytest
import torch

from graphgen.data import check_simple_graph, num_undirected_edges
from graphgen.datasets import load_dataset
from graphgen.errors import CheckpointError, InvalidArgumentError, InvalidGraphError
from graphgen.io import load_checkpoint, save_checkpoint
from graphgen.models import DEFAULT_MODEL, PRETRAINED, ErdosRenyiBaseline, load_model


@pytest.fixture(scope="module")
def train():
    return load_dataset("community_small", "train")


def test_samples_have_training_sizes_and_are_simple(train):
    model = ErdosRenyiBaseline().fit(train)
    pairs = {(int(g.num_nodes), num_undirected_edges(g)) for g in train}
    for g in model.sample(50, generator=torch.Generator().manual_seed(1)):
        check_simple_graph(g)
        assert (int(g.num_nodes), num_undirected_edges(g)) in pairs


def test_seeded_sampling_repeats(train):
    model = ErdosRenyiBaseline().fit(train)
    a = model.sample(5, generator=torch.Generator().manual_seed(3))
    b = model.sample(5, generator=torch.Generator().manual_seed(3))
    assert [g.edge_index.tolist() for g in a] == [g.edge_index.tolist() for g in b]


def test_gnm_is_uniform_over_pairs():
    # every one of the 10 pairs of a 5-node graph is chosen with probability m / 10
    counts = torch.zeros(5, 5)
    gen = torch.Generator().manual_seed(0)
    for _ in range(4000):
        g = ErdosRenyiBaseline._gnm(5, 3, gen)
        counts[g.edge_index[0], g.edge_index[1]] += 1
    upper = counts[torch.triu_indices(5, 5, 1).unbind()] / 4000
    assert torch.allclose(upper, torch.full_like(upper, 0.3), atol=0.03)


def test_num_nodes_override_keeps_density(train):
    model = ErdosRenyiBaseline().fit(train)
    graphs = model.sample(10, generator=torch.Generator().manual_seed(0), num_nodes=40)
    assert all(g.num_nodes == 40 for g in graphs)
    with pytest.raises(InvalidArgumentError, match=">= 1"):
        model.sample(1, num_nodes=0)
    with pytest.raises(InvalidGraphError):
        ErdosRenyiBaseline().fit([])


def test_checkpoint_round_trip(tmp_path, train):
    model = ErdosRenyiBaseline().fit(train)
    save_checkpoint(model.to_checkpoint({"dataset": "community_small"}), tmp_path / "er.pt")
    back, ckpt = load_model(tmp_path / "er.pt")
    gen = lambda: torch.Generator().manual_seed(9)  # noqa: E731
    assert [g.edge_index.tolist() for g in back.sample(4, generator=gen())] == [
        g.edge_index.tolist() for g in model.sample(4, generator=gen())
    ]
    assert ckpt.data_fingerprint == model.data_fingerprint_


def test_shipped_models_load_and_are_labelled():
    model, ckpt = load_model("er-community-small")
    assert not PRETRAINED["er-community-small"].trained
    assert ckpt.metadata["dataset"] == "community_small" and model.num_nodes_.numel() == 80
    default, ckpt = load_model()
    assert DEFAULT_MODEL == "higen-community-small" and PRETRAINED[DEFAULT_MODEL].trained
    assert ckpt.model == "higen" and ckpt.metadata["dataset"] == "community_small" and ckpt.extra == {}
    with pytest.raises(CheckpointError, match="no checkpoint named"):
        load_model("higen-nonexistent")


def test_wrong_model_in_checkpoint(tmp_path, train):
    ckpt = ErdosRenyiBaseline().fit(train).to_checkpoint()
    ckpt.model = "mystery"
    save_checkpoint(ckpt, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="unknown model 'mystery'"):
        load_model(tmp_path / "m.pt")
    ckpt.model = "erdos-renyi"
    ckpt.state_dict = {}
    save_checkpoint(ckpt, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="malformed"):
        load_checkpoint(tmp_path / "m.pt") and load_model(tmp_path / "m.pt")


def test_every_shipped_checkpoint_is_small_stripped_matches_its_dataset_and_has_recorded_results():
    from pathlib import Path

    from graphgen.io.checkpoint import graphs_fingerprint
    from graphgen.models.pretrained import resolve_checkpoint, trained_split

    root = Path(__file__).resolve().parents[2]
    for name in PRETRAINED:
        path, _ = resolve_checkpoint(name)
        assert path.stat().st_size < 8_000_000, name  # "a few MB"
        model, ckpt = load_model(name)
        assert ckpt.extra == {}, name  # no optimizer or RNG state shipped
        assert ckpt.data_fingerprint == graphs_fingerprint(trained_split(ckpt, "train")), name
        if PRETRAINED[name].trained:
            assert (root / "metrics" / "results" / name / "summary.json").is_file(), name
        graphs = model.sample(2, generator=torch.Generator().manual_seed(0))
        assert len(graphs) == 2 and all(g.num_nodes > 0 for g in graphs), name


def test_a_sized_sibling_is_a_shipped_model_of_the_same_data_that_draws_its_community_count():
    """``PretrainedEntry.sized`` (what ``graphgen sample`` names when --num-nodes is missed) is a trained
    shipped model of the same dataset and split whose number of communities is drawn at the root."""
    named = [(name, entry.sized) for name, entry in PRETRAINED.items() if entry.sized]
    assert named == [
        ("higen-community-small", "higen-community-small-sized"),
        ("higen-planar", "higen-planar-sized"),
        ("higen-planar-strips", "higen-planar-sized"),
        ("higen-planar-faces", "higen-planar-sized"),
    ]
    for name, sized in named:
        model, ckpt = load_model(name)
        sibling, sibling_ckpt = load_model(sized)
        assert PRETRAINED[sized].trained and PRETRAINED[sized].sized is None
        assert sibling.config.explicit_count and not model.config.explicit_count
        for key in ("dataset", "protocol"):
            assert sibling_ckpt.metadata.get(key) == ckpt.metadata.get(key), key
        assert sibling_ckpt.data_fingerprint == ckpt.data_fingerprint


def test_the_sized_models_description_quotes_its_records():
    """The numbers ``higen-community-small-sized``'s description quotes are its records' (reach at 8x and
    2x of the sibling and of the default, in whole percent; the test-split mean of each, to 3 decimals)."""
    import json
    import re
    from pathlib import Path

    results = Path(__file__).resolve().parents[2] / "metrics" / "results"
    text = PRETRAINED["higen-community-small-sized"].description

    def reach(record: str, model: str) -> dict:
        rows = json.loads((results / record).read_text())["models"][model]["rows"]
        return {row["multiple"] if "multiple" in row else row["num_nodes"] // 20: row["reached"] for row in rows}

    sized = reach("higen-num-nodes-reach-community-small.json", "higen-community-small-sized")
    default = reach("higen-num-nodes-reach-community-small.json", "higen-community-small")
    quoted = re.search(r"have (\d+) % of the nodes asked for, at 2x (\d+) % \(the default: (\d+) % and (\d+) %", text)
    assert [int(q) for q in quoted.groups()] == [round(100 * r) for r in (sized[8], sized[2], default[8], default[2])]
    means = re.search(r"MMD (0\.\d+) against (0\.\d+)", text).groups()
    for value, name in zip(means, ("higen-community-small-sized", "higen-community-small")):
        summary = json.loads((results / name / "summary.json").read_text())
        assert float(value) == round(summary["mean"]["deg_clus_orbit_mean"], 3), name


def test_the_planar_sized_models_description_quotes_its_records():
    """``higen-planar-sized``'s description: reach at 8x and 4x of it and of ``higen-planar`` (one record,
    one run), in whole percent; the test-split clustering MMD of both at temperature 1 and at each one's
    chosen temperature (its `tuned` preset), to 3 decimals."""
    import json
    import re
    from pathlib import Path

    results = Path(__file__).resolve().parents[2] / "metrics" / "results"
    text = PRETRAINED["higen-planar-sized"].description
    record = json.loads((results / "higen-num-nodes-reach-planar-sized-seed-0.json").read_text())["models"]

    def reach(model: str) -> dict:
        return {row["multiple"]: row["reached"] for row in record[model]["rows"]}

    shipped = json.loads((results / "higen-planar-sized" / "summary.json").read_text())["checkpoint"]
    sized, default = reach(shipped), reach("higen-planar")
    quoted = re.search(r"have (\d+) % of the nodes asked for, at 4x (\d+) % \(higen-planar: (\d+) % and (\d+) %", text)
    assert [int(q) for q in quoted.groups()] == [round(100 * r) for r in (sized[8], sized[4], default[8], default[4])]
    quoted = re.search(
        r"MMD (0\.\d+) against (0\.\d+) at temperature 1, (0\.\d+) at its chosen (0\.\d+) against (0\.\d+) at "
        r"higen-planar's (0\.\d+)",
        text,
    ).groups()
    tuned = {name: PRETRAINED[name].presets[0] for name in ("higen-planar-sized", "higen-planar")}
    assert [float(quoted[3]), float(quoted[5])] == [tuned[name].options["temperature"] for name in tuned]
    records = (
        "higen-planar-sized",
        "higen-planar",
        re.findall(r"metrics/results/([\w.-]+)/", tuned["higen-planar-sized"].measured)[-1],
        re.findall(r"metrics/results/([\w.-]+)/", tuned["higen-planar"].measured)[-1],
    )
    for value, name in zip(quoted[:3] + quoted[4:5], records):
        summary = json.loads((results / name / "summary.json").read_text())
        assert float(value) == round(summary["mean"]["clustering_mmd"], 3), name


def test_trained_split_reads_the_checkpoints_protocol_and_holdout():
    from graphgen.datasets import load_dataset
    from graphgen.errors import CheckpointError
    from graphgen.io.checkpoint import Checkpoint
    from graphgen.models.pretrained import trained_split

    def ckpt(**meta):
        return Checkpoint(model="higen", config={}, state_dict={}, metadata=meta)

    held = trained_split(ckpt(dataset="enzymes", protocol="graphrnn", holdout=0.1), "val")
    assert [g.num_nodes for g in held] == [
        g.num_nodes for g in load_dataset("enzymes", "val", protocol="graphrnn", holdout=0.1)
    ]
    assert len(trained_split(ckpt(dataset="planar"), "test")) == len(load_dataset("planar", "test"))
    with pytest.raises(CheckpointError, match="no dataset"):
        trained_split(ckpt(), "train")


def test_every_shipped_model_reproduces_its_recorded_samples(tmp_path):
    """Each trained shipped checkpoint is the file its results record (sha256), and sampling it with its
    first recorded evaluation command's options (count, seed, temperature, size temperature, decoding)
    gives ``samples_seed0.g6`` byte for byte: the numbers under ``metrics/results/NAME`` are this file's."""
    import hashlib
    import json
    import shlex
    from pathlib import Path

    from graphgen.io import write_graphs
    from graphgen.models.pretrained import resolve_checkpoint

    root = Path(__file__).resolve().parents[2]
    checked = 0
    for name, entry in PRETRAINED.items():
        if not entry.trained:
            continue
        results = root / "metrics" / "results" / name
        summary = json.loads((results / "summary.json").read_text())
        path, _ = resolve_checkpoint(name)
        assert summary["shipped_checkpoint"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), name
        words = shlex.split(summary["evaluation_commands"][0])
        options = dict(zip(words[:-1], words[1:]))
        assert options["--out"].endswith(f"{name}/samples_seed0.g6"), name
        kwargs = {}
        for flag, key, kind in (
            ("--temperature", "temperature", float),
            ("--size-temperature", "size_temperature", float),
            ("--decoding", "decoding", str),
        ):
            if flag in options:
                kwargs[key] = kind(options[flag])
        model, _ = load_model(name)
        graphs = model.sample(
            int(options["-n"]), generator=torch.Generator().manual_seed(int(options["--seed"])), **kwargs
        )
        out = tmp_path / f"{name}.g6"
        write_graphs(graphs, out, "graph6")
        assert out.read_bytes() == (results / "samples_seed0.g6").read_bytes(), name
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((-1,), {}, "number of graphs must be >= 0, got -1"),
        ((2.5,), {}, "number of graphs must be a whole number, got 2.5"),
        ((True,), {}, "number of graphs must be a whole number"),
        ((2,), {"generator": 5}, "generator must be a torch.Generator"),
        ((2,), {"num_nodes": 0}, "number of nodes must be >= 1, got 0"),
        ((2,), {"num_nodes": 3.5}, "number of nodes must be a whole number"),
        ((2,), {"num_edges": -3}, "number of edges must be >= 0, got -3"),
        ((2,), {"num_nodes": 3, "num_edges": 4}, "graphs of 3 nodes hold at most 3 edges, not 4"),
        ((2,), {"device": "cuda:99"}, "device 'cuda:99': torch .* sees (no|\\d+) CUDA GPU"),
        ((2,), {"device": "gpu"}, "unknown device 'gpu'"),
    ],
)
def test_every_generator_refuses_a_bad_sample_request_by_name(train, args, kwargs, message):
    """Both generators check sample()'s arguments the same way, before any work (no TypeError from
    inside torch, no silently empty graphs for a negative edge count)."""
    from graphgen.models import HiGen

    models = [HiGen.from_pretrained("higen-community-small")]
    if "num_edges" not in kwargs:  # the baseline has no edge-count override
        models.append(ErdosRenyiBaseline().fit(train))
    for model in models:
        with pytest.raises(InvalidArgumentError, match=message):
            model.sample(*args, **kwargs)


def test_a_whole_number_tensor_is_a_valid_count(train):
    graphs = ErdosRenyiBaseline().fit(train).sample(torch.tensor(2), num_nodes=torch.tensor(7))
    assert [int(g.num_nodes) for g in graphs] == [7, 7]


def test_log_likelihood_sums_to_one_over_every_labelled_graph_of_each_size():
    """Enumerate every labelled graph on 4 nodes: for each edge count m the probabilities given
    (n, m) sum to 1, each being 1 / C(6, m)."""
    import itertools
    import math

    from graphgen.data import from_edge_array

    model = ErdosRenyiBaseline()
    pairs = list(itertools.combinations(range(4), 2))
    graphs, counts = [], []
    for m in range(len(pairs) + 1):
        for chosen in itertools.combinations(pairs, m):
            graphs.append(from_edge_array(4, torch.tensor(chosen, dtype=torch.long).reshape(-1, 2)))
            counts.append(m)
    ll = model.log_likelihood(graphs)
    assert ll.dtype == torch.float64 and ll.shape == (64,)
    counts = torch.tensor(counts)
    for m in range(len(pairs) + 1):
        assert ll[counts == m].exp().sum().item() == pytest.approx(1.0, rel=1e-12)
        assert ll[counts == m][0].item() == pytest.approx(-math.log(math.comb(6, m)), rel=1e-12, abs=1e-12)
