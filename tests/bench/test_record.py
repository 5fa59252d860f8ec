import json

import pytest

from graphgen.bench.record import write_record


def test_write_record_adds_the_running_command_and_writes_atomically(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["metrics/scripts/x.py", "out.json", "--counts", "3"])
    path = tmp_path / "record.json"
    write_record(path, {"rows": [1, 2]})
    record = json.loads(path.read_text())
    assert record["rows"] == [1, 2] and list(record) == ["rows", "provenance"]
    assert record["provenance"]["command"] == "python metrics/scripts/x.py out.json --counts 3"
    with pytest.raises(TypeError):
        write_record(tmp_path / "bad.json", {"rows": object()})  # not JSON: nothing half-written
    assert not (tmp_path / "bad.json").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]
