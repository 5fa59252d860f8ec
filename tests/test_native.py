import logging
import os
import time
from pathlib import Path

from graphgen.native import (
    ORPHAN_AGE_DAYS,
    STALE_LOCK_SECONDS,
    NativeExtension,
    clear_stale_build_lock,
    environment_tag,
    is_built,
    remove_orphaned_builds,
)


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


def test_environment_tag_names_the_torch_and_python_a_build_is_made_against():
    """Builds are cached per environment: the tag is eight hex digits, the same on every call,
    and changes with the torch version, torch's directory and the interpreter, each alone."""
    tag = environment_tag()
    assert len(tag) == 8 and int(tag, 16) >= 0 and tag == environment_tag()
    base = dict(torch_version="2.13.0", torch_dir="/venv/a/torch", python="3.11.7 /usr/include/python3.11")
    variants = [
        dict(base, torch_version="2.12.0"),
        dict(base, torch_dir="/venv/b/torch"),
        dict(base, python="3.12.1 /usr/include/python3.12"),
    ]
    tags = {environment_tag(**base)} | {environment_tag(**v) for v in variants}
    assert len(tags) == 4


def _fake_load_inline(calls, fail=()):
    """A stand-in for torch's ``load_inline``: records the names asked for, writes the shared
    library where torch would (so that ``is_built`` sees it), fails for names starting with ``fail``."""

    def load_inline(name, **kwargs):
        calls.append(name)
        if name.startswith(tuple(fail)):
            raise RuntimeError("Error building extension")
        from torch.utils.cpp_extension import _get_build_directory

        (Path(_get_build_directory(name, False)) / f"{name}.so").write_bytes(b"")
        return f"module {name}"

    return load_inline


def test_a_build_carries_the_environment_tag_and_is_announced_only_when_it_happens(tmp_path, monkeypatch, caplog):
    """The name handed to torch is the option's name plus the environment tag; the INFO notice
    comes before a build and not when the library is already in the cache; an option that fails to
    build falls through to the next, tagged as well."""
    import torch.utils.cpp_extension as cpp_extension

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.delenv("GRAPHGEN_TEST_EXT", raising=False)
    calls = []
    monkeypatch.setattr(cpp_extension, "load_inline", _fake_load_inline(calls, fail=("graphgen_test_fast",)))
    tag = environment_tag()

    def extension():
        options = [("graphgen_test_fast", ["-O3", "-ffast-math"]), ("graphgen_test_plain", ["-O3"])]
        return NativeExtension("", ["f"], options, "GRAPHGEN_TEST_EXT", "test kernel")

    with caplog.at_level(logging.INFO, logger="graphgen.native"):
        assert extension().load() == f"module graphgen_test_plain_{tag}"
    assert calls == [f"graphgen_test_fast_{tag}", f"graphgen_test_plain_{tag}"]
    assert is_built(f"graphgen_test_plain_{tag}") and not is_built("graphgen_test_plain")
    building = [r.getMessage() for r in caplog.records if r.getMessage().startswith("building the test kernel")]
    assert len(building) == 2  # both options were about to be built

    caplog.clear()
    calls.clear()
    monkeypatch.setattr(cpp_extension, "load_inline", _fake_load_inline(calls))
    with caplog.at_level(logging.INFO, logger="graphgen.native"):
        assert extension().load() == f"module graphgen_test_fast_{tag}"  # now builds: announced
        assert [r.getMessage().startswith("building") for r in caplog.records] == [True]
        caplog.clear()
        assert extension().load() == f"module graphgen_test_fast_{tag}"  # cached: no notice
        assert caplog.records == []


def test_builds_of_environments_whose_torch_is_gone_are_removed_and_no_other(tmp_path, monkeypatch, caplog):
    """Before a build, the same extension's cached copies that link against a torch library folder
    that no longer exists and were not built or loaded for ORPHAN_AGE_DAYS are removed; recent ones
    (another container may see that torch), copies whose torch exists, copies without build.ninja (a
    build under way or foreign), copies holding a lock, other extensions and the one being built are kept."""
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    from torch.utils.cpp_extension import _get_build_directory

    own = "graphgen_test_kernel_avx2_0000aaaa"
    root = Path(_get_build_directory(own, False)).parent
    live_torch = tmp_path / "venv-live" / "torch" / "lib"
    live_torch.mkdir(parents=True)
    gone_torch = tmp_path / "venv-deleted" / "torch" / "lib"

    def build(name, torch_lib=None, lock=False, days=ORPHAN_AGE_DAYS + 1):
        folder = root / name
        folder.mkdir(exist_ok=True)
        if torch_lib is not None:
            (folder / "build.ninja").write_text(f"cflags = -O3\nldflags = -shared -L{torch_lib} -lc10 -ltorch\n")
        (folder / f"{name}.so").write_bytes(b"")
        if lock:
            (folder / "lock").touch()
        then = time.time() - days * 86400
        for path in (*folder.iterdir(), folder):
            os.utime(path, (then, then))
        return folder

    orphans = [
        build("graphgen_test_kernel_avx2_1111bbbb", gone_torch),
        build("graphgen_test_kernel_avx2_2222cccc", gone_torch),
    ]
    kept = [
        build(own, gone_torch),  # the one asked for: torch rebuilds it in place
        build("graphgen_test_kernel_avx2_3333dddd", live_torch),
        build("graphgen_test_kernel_avx2_4444eeee"),  # no build.ninja
        build("graphgen_test_kernel_avx2_5555ffff", gone_torch, lock=True),
        build("graphgen_test_kernel_avx2_8888cccc", gone_torch, days=ORPHAN_AGE_DAYS - 1),  # loaded lately
        build("graphgen_test_kernel_plain_6666aaaa", gone_torch),  # another build option's name
        build("graphgen_other_avx2_7777bbbb", gone_torch),
    ]
    with caplog.at_level(logging.INFO, logger="graphgen.native"):
        assert remove_orphaned_builds(own) == orphans
    assert not any(p.exists() for p in orphans) and all(p.exists() for p in kept)
    assert sum("no longer installed" in r.getMessage() for r in caplog.records) == 2
    assert remove_orphaned_builds(own) == []
