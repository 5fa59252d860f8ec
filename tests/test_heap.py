"""glibc heap tuning (graphgen.heap): what it decides, and that it changes the allocator's behaviour."""

import json
import subprocess
import sys

import pytest

from graphgen.heap import ENV_VAR, USER_SETTINGS, _glibc, tune_heap

# Allocate and touch tensors of growing size, freeing each: glibc's default maps every one afresh
# (each is larger than any block freed before, so above the dynamic threshold) and faults all its
# pages in; with fixed thresholds they come from the heap, which grows to the largest and is reused.
_PROBE = """
import json, resource, sys, torch
from graphgen.heap import tune_heap
tuned = tune_heap() if sys.argv[1] == "tune" else False
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for mib in range(1, 31):
    torch.empty(mib << 20, dtype=torch.uint8).fill_(1)
print(json.dumps({"tuned": tuned, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _probe(mode: str, env: dict | None = None) -> dict:
    import os

    environ = {k: v for k, v in os.environ.items() if k not in USER_SETTINGS and k != ENV_VAR}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], env={**environ, **(env or {})}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(_glibc() is None, reason="glibc's mallopt is what is tuned")
def test_tuning_the_heap_removes_the_page_faults_of_freed_and_reallocated_tensors():
    """465 MiB allocated in 30 growing tensors: about 119,000 page faults by default (every page of
    every tensor), about 20,000 once tuned (the heap is reused); turned off, or with the user's own
    MALLOC_ setting, nothing is changed."""
    default, tuned = _probe("default"), _probe("tune")
    assert tuned["tuned"] and not default["tuned"]
    assert default["faults"] > 100_000 and 4 * tuned["faults"] < default["faults"], (default, tuned)
    off = _probe("tune", {ENV_VAR: "off"})
    assert not off["tuned"] and off["faults"] > 100_000
    mine = _probe("tune", {"MALLOC_TRIM_THRESHOLD_": "131072"})
    assert not mine["tuned"]


def test_the_heap_is_left_alone_when_turned_off_or_set_by_the_user():
    assert tune_heap({ENV_VAR: "off"}) is False
    assert tune_heap({ENV_VAR: " OFF "}) is False
    for name in USER_SETTINGS:
        assert tune_heap({name: "1048576"}) is False, name
