import math

import pytest

from graphgen.bench.higen import _curve, _log_fit, goal, point, seconds_at, summarise
from graphgen.datasets import generate
from graphgen.models.higen import HiGenConfig, TrainConfig, train_higen


def test_growth_exponent_and_interpolation_are_exact_on_a_power_law():
    points = [{"nodes": n, "seconds": 3e-6 * n**1.5} for n in (100, 400, 1600)]
    assert _log_fit(points) == pytest.approx(1.5, rel=1e-12)
    assert seconds_at(points, 800) == pytest.approx(3e-6 * 800**1.5, rel=1e-12)
    assert seconds_at(points, 5000) is None  # never extrapolated
    assert _log_fit(points[:1]) is None


def test_summary_compares_at_equal_nodes_and_at_equal_edges():
    # flat: 2 edges per node, seconds = 1e-5 n^2; hierarchical: 4 edges per node, seconds = 1e-4 n
    flat = [{"model": "flat", "nodes": n, "edges": 2 * n, "seconds": 1e-5 * n**2} for n in (500, 1000, 4000)]
    hier = [{"model": "hierarchical", "nodes": n, "edges": 4 * n, "seconds": 1e-4 * n} for n in (250, 1000, 4000)]
    out = summarise(flat + hier + [{"model": "flat", "target_nodes": 9000, "skipped": "too slow"}], 2000, 4000)
    assert out["summary"]["flat"]["growth_exponent"] == pytest.approx(2.0, rel=1e-12)
    assert out["summary"]["hierarchical"]["growth_exponent_in_edges"] == pytest.approx(1.0, rel=1e-12)
    assert out["speedup_at_compare_size"] == pytest.approx((1e-5 * 2000**2) / (1e-4 * 2000), rel=1e-9)
    assert out["speedup_at_compare_edges"] == pytest.approx((1e-5 * 2000**2) / (1e-4 * 1000), rel=1e-9)


def test_a_sampling_point_reports_what_was_generated(tmp_path):
    graphs = generate("large_sbm", 3, num_nodes=80, seed=0, min_size=20, max_size=30)
    config = HiGenConfig(hidden=8, num_layers=1, num_mixtures=1, position_dim=4)
    train_higen(graphs, tmp_path / "m.pt", model_config=config, train_config=TrainConfig(epochs=1, batch_size=3))
    import graphgen.models.higen.esp_kernel as esp
    from graphgen.models.higen import HiGen

    calls = []
    load, sample = esp.esp_kernel, HiGen.sample

    def loading():
        calls.append("kernel")
        return load()

    def sampling(self, *args, **kwargs):
        calls.append("sample")
        return sample(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:  # the kernel is loaded (or built) before the timed draw
        patch.setattr(esp, "esp_kernel", loading)
        patch.setattr(HiGen, "sample", sampling)
        record = point(str(tmp_path / "m.pt"), 80)
    assert calls[:2] == ["kernel", "sample"]
    assert record["target_nodes"] == 80 and record["nodes"] > 0 and record["edges"] > 0
    assert record["seconds"] > 0 and math.isfinite(record["peak_memory_mb"])
    assert 1 <= record["communities"] <= record["nodes"]


def test_the_hierarchical_curve_doubles_its_target_until_a_sample_is_large_enough(monkeypatch):
    import graphgen.bench.higen as bench

    asked = []

    def fake_point(module, checkpoint, target, timeout):  # a model that generates half the target
        asked.append(target)
        return {"target_nodes": target, "nodes": target // 2, "edges": target, "seconds": target / 1000}

    monkeypatch.setattr(bench, "point_in_subprocess", fake_point)
    records = _curve("m.pt", [250, 1000], None, timeout=1, reach=900)
    assert asked == [250, 1000, 2000]  # doubled once: 1,000 nodes reached
    out = goal([{"model": "hierarchical", **r} for r in records], 900)
    assert out["first_sample_at_least_that_large"]["nodes"] == 1000 and out["under_a_minute"]
    assert out["seconds_at_900_nodes"] == pytest.approx(1.8, rel=1e-12)  # seconds = 2 nodes / 1000
    asked.clear()
    _curve("m.pt", [250, 1000], None, timeout=1, reach=9000)  # never reached: stops after 3 doublings
    assert asked == [250, 1000, 2000, 4000, 8000]
    assert goal([], 9000)["first_sample_at_least_that_large"] is None
    asked.clear()
    _curve("m.pt", [250, 1000], None, timeout=1, reach=None)
    assert asked == [250, 1000]


def test_higen_decodings_bench_times_every_decoding_the_model_takes():
    """Every decoding the strip model takes is timed (plain is its own baseline), with the sampler's
    report of its draw; a model without strips leaves planar strips out."""
    from graphgen.bench.higen_decodings import run

    result = run("higen-planar-strips", num_graphs=2, repeats=1)
    records = {r["decoding"]: r for r in result["records"]}
    assert list(records) == ["plain", "run_rows", "face_rows", "face_rows+planar_strips"]
    assert records["plain"]["ratio_to_plain"] == 1.0
    assert all(r["median_seconds"] > 0 and len(r["seconds"]) == 1 for r in records.values())
    assert "face_rows_lost" in records["face_rows"]["sample_report"]
    assert "planar_strips_exhausted" in records["face_rows+planar_strips"]["sample_report"]
    assert "face_rows_lost" not in records["plain"]["sample_report"]
    three_layers = run("higen-planar", num_graphs=1, repeats=1)
    assert [r["decoding"] for r in three_layers["records"]] == ["plain", "run_rows", "face_rows"]  # no strips
    # a row_faces model: no run rows, planar strips on its own faces; its origin timed in the same turns
    faces = run("higen-planar-faces", num_graphs=1, repeats=1, baseline="higen-planar-strips")
    records = {r["decoding"]: r for r in faces["records"]}
    assert list(records) == ["baseline plain", "plain", "face_rows", "face_rows+planar_strips", "planar_strips"]
    assert "face_rows_lost" in records["plain"]["sample_report"]
    assert "face_rows_lost" not in records["baseline plain"]["sample_report"]
    assert faces["setup"]["baseline"] == "higen-planar-strips"
