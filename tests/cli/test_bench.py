import json

import pytest

from tests.cli.test_cli import run


@pytest.mark.slow
def test_bench_backend_quick_writes_records_with_provenance(capsys, tmp_path):
    out = tmp_path / "bench.json"
    code, stdout, _ = run(capsys, "bench", "backend", "--quick", "--json", str(out))
    assert code == 0 and "graph6_decode" in stdout
    result = json.loads(out.read_text())
    assert result["benchmark"] == "backend" and result["graphgen_version"] and result["machine"]["cpu_count"]
    tasks = {r["task"]: r for r in result["records"]}
    assert set(tasks) == {"graph6_decode", "triangles_clustering", "normalized_laplacian", "hierarchy"}
    for r in tasks.values():
        assert r["graphgen_seconds"] > 0
        if "baseline_seconds" in r:
            assert r["speedup"] == pytest.approx(r["baseline_seconds"] / r["graphgen_seconds"])


@pytest.mark.slow
def test_bench_valuation_quick_records_speed_solvers_and_usefulness(capsys, tmp_path):
    out = tmp_path / "valuation.json"
    code, stdout, _ = run(capsys, "bench", "valuation", "--quick", "--json", str(out))
    assert code == 0 and "usefulness" in stdout
    result = json.loads(out.read_text())
    assert result["benchmark"] == "valuation" and result["speed"]["graphs"] == [200, 200]
    assert set(result["speed"]["methods"]) == {"sliced", "sinkhorn"}
    solvers = result["solvers"]["methods"]
    assert solvers["sliced"]["speedup_vs_emd"] == pytest.approx(
        solvers["emd"]["seconds"] / solvers["sliced"]["seconds"]
    )
    assert -1 <= solvers["sinkhorn"]["spearman_vs_emd"] <= 1
    assert set(result["usefulness"]["summary"]["utility_seller_alone"]) == {
        "relevance",
        "-structural_disparity",
        "diversity",
        "featural_value",
    }


@pytest.mark.slow
def test_bench_encoders_quick_records_tasks_and_scaling(capsys, tmp_path):
    out = tmp_path / "encoders.json"
    code, stdout, _ = run(capsys, "bench", "encoders", "--quick", "--epochs", "1", "--json", str(out))
    assert code == 0 and "gsm++" in stdout
    result = json.loads(out.read_text())
    assert result["benchmark"] == "encoders" and result["command"].endswith("--quick --part all --epochs 1")
    for r in result["records"]:
        assert {"model", "task", "metric", "value", "std", "params", "seconds_per_epoch", "peak_memory_mb"} <= set(r)
    assert {r["model"] for r in result["records"]} == {"gine", "gatedgcn", "gps", "gmn", "gsm++"}
    points = [r for r in result["scaling"] if "seconds" in r]
    assert {(r["model"], r["num_nodes"]) for r in points} == {
        (m, n) for m in ("gmn", "gmn-m0", "gsm++", "gsm++-window", "gps") for n in (1000, 3000)
    }
    for r in points:
        assert {"model", "num_nodes", "seconds", "peak_memory_mb"} <= set(r) and r["seconds"] > 0
        assert r["peak_memory_mb"] > 0
    code, _, err = run(capsys, "bench", "encoders", "--part", "everything")
    assert code == 1 and "unknown --part" in err


@pytest.mark.slow
def test_bench_metrics_quick_checks_values_and_records_context(capsys, tmp_path):
    out = tmp_path / "bench.json"
    code, stdout, _ = run(capsys, "bench", "metrics", "--quick", "--json", str(out))
    assert code == 0 and "bare eigvalsh" in stdout
    result = json.loads(out.read_text())
    assert result["benchmark"] == "metrics" and result["context"]["eigvalsh_seconds"] > 0
    for r in result["records"]:
        assert r["graphs"] == [30, 30]
        assert r["speedup"] == pytest.approx(r["reference_approach_seconds"] / r["graphgen_seconds"])
        assert all(v["relative_difference"] <= 1e-9 for v in r["values"].values())
        assert set(r["breakdown"]) == {"degree", "clustering", "orbit", "spectral"}
