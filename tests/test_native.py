import os
import time

from graphgen.native import STALE_LOCK_SECONDS, clear_stale_build_lock


def test_a_stale_build_lock_is_removed_and_a_live_one_kept(tmp_path, monkeypatch):
    """torch waits without end on a build lock; one left by a killed build (older than
    STALE_LOCK_SECONDS) is removed, one of a build in progress (fresh, or a minute under the limit)
    is kept, and without a lock nothing happens."""
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    assert clear_stale_build_lock("graphgen_test_ext") is False  # no lock
    build_dirs = [p for p in tmp_path.rglob("graphgen_test_ext") if p.is_dir()]
    assert len(build_dirs) == 1
    lock = build_dirs[0] / "lock"
    for age, stale in ((0, False), (STALE_LOCK_SECONDS - 60, False), (STALE_LOCK_SECONDS + 5, True)):
        lock.touch()
        then = time.time() - age
        os.utime(lock, (then, then))
        assert clear_stale_build_lock("graphgen_test_ext") is stale and lock.exists() is not stale, age
