"""graphgen.cache: entries named by a digest, marked used when read, removed when long unused."""

import os
import time

from graphgen.cache import UNUSED_AGE_DAYS, cache_dir, mark_used, remove_unused


def _aged(path, days):
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_remove_unused_takes_only_entry_folders_older_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHGEN_CACHE_DIR", str(tmp_path))
    folder = cache_dir("kind")
    old, recent, kept, used = (folder / name for name in ("old", "recent", "kept", "used"))
    for entry in (old, recent, kept, used):
        entry.mkdir()
        (entry / "values.json").write_text("[]")
    (folder / "note.txt").write_text("not an entry")
    for entry in (old, kept, used, folder / "note.txt"):
        _aged(entry, UNUSED_AGE_DAYS + 1)
    _aged(recent, UNUSED_AGE_DAYS - 1)
    mark_used(used)  # read just now
    assert remove_unused(folder, keep=kept) == [old]
    assert sorted(p.name for p in folder.iterdir()) == ["kept", "note.txt", "recent", "used"]
    assert remove_unused(folder, keep=kept, days=0.5) == [recent]  # another limit
    assert remove_unused(tmp_path / "missing") == []


def test_a_new_molecule_reference_entry_removes_the_unused_ones(tmp_path, monkeypatch):
    """Making an entry removes those unused for UNUSED_AGE_DAYS; reading an entry marks it used."""
    from graphgen.metrics.molecules import MoleculeReference

    monkeypatch.setenv("GRAPHGEN_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "molecule-reference"
    MoleculeReference(["CCO", "CCN"]).fingerprints  # noqa: B018
    (first,) = folder.iterdir()
    _aged(first, UNUSED_AGE_DAYS + 1)
    MoleculeReference(["CCO", "CCN"]).fingerprints  # noqa: B018 - read back: used again
    assert time.time() - first.stat().st_mtime < 3600
    MoleculeReference(["CCC"]).fingerprints  # noqa: B018 - a new entry, the first is recent
    assert len(list(folder.iterdir())) == 2
    _aged(first, UNUSED_AGE_DAYS + 1)
    MoleculeReference(["CCCC"]).fingerprints  # noqa: B018 - a new entry: the unused first goes
    assert first not in list(folder.iterdir()) and len(list(folder.iterdir())) == 2
