"""A probe: HiGen's sampling temperature on one kind of leaf choice at a time, on the validation split.

    PYTHONPATH=. python metrics/scripts/higen_choice_temperature.py MODEL DATASET CONFIGS SEEDS OUT.json [BASE]

``CONFIGS`` is a JSON list of settings, each a map from a kind of choice to its temperature; every
other choice is drawn at ``BASE`` (default 1; ``{}`` is then the model itself, and with ``BASE`` =
0.7 ``{"mass": 1}`` is the global temperature 0.7 except the leaf masses). Kinds, all at the leaf level only:
``component`` (a leaf row's categorical draws: its mixture component and, on ``row_faces`` models,
whether it is a face run and which face set), ``mass`` (its edge count: row mass, interval and
plain binomials), ``alloc`` (which earlier nodes the row joins, given the count) and ``cross`` (every
choice of the leaf cross-edge blocks). Per setting: as many samples as the validation split (read
through ``_higen_diagnostic.model_split``), seeds ``0..SEEDS-1``, gran-protocol MMDs against it.

A probe, not a sampling option: it wraps ``HiGen._sample_rows`` and ``HiGen._sample_cross_edges``
to hand each kind of choice its own :class:`~graphgen.models.higen.model.Draws` (the global
``--temperature`` applies one temperature to every choice, the coarse level's too). Session 28
asked whether a leaf-only temperature could sharpen planar's clustering without the degree cost of
the global one (``metrics/results/higen-choice-temperature-planar.json``).
"""

import json
import sys
from dataclasses import replace

import torch
from _higen_diagnostic import model_split, temperature_sweep

from graphgen.bench.record import provenance
from graphgen.cli._output import write_json
from graphgen.models.higen import HiGen
from graphgen.models.higen import model as M

KEYS = ("degree_mmd", "clustering_mmd", "orbit_mmd", "spectral_mmd")
CFG = {}


class Proxy:
    """The sampler's draws with each kind of choice in ``taus`` at its own temperature."""

    def __init__(self, d, taus):
        self._d = d
        self._t = {k: replace(d, temperature=v) for k, v in taus.items()}

    def __getattr__(self, n):
        return getattr(self._d, n)

    def allocations(self, *a, **k):
        return self._t.get("alloc", self._d).allocations(*a, **k)

    def categorical(self, *a, **k):
        return self._t.get("component", self._d).categorical(*a, **k)

    def row_mass(self, *a, **k):
        return self._t.get("mass", self._d).row_mass(*a, **k)

    def interval_binomial(self, *a, **k):
        return self._t.get("mass", self._d).interval_binomial(*a, **k)

    def binomial(self, *a, **k):
        return self._t.get("mass", self._d).binomial(*a, **k)


orig_rows, orig_cross = M.HiGen._sample_rows, M.HiGen._sample_cross_edges


def rows(self, net, state, comms, t, reserved, remaining, leaf, simple, draws):
    taus = {k: v for k, v in CFG.items() if k in ("alloc", "component", "mass")}
    if leaf and taus:
        draws = Proxy(draws, taus)
    return orig_rows(self, net, state, comms, t, reserved, remaining, leaf, simple, draws)


def cross(self, lv, g, parent, p_ei, p_w, draws, *rest):
    if "cross" in CFG and lv == self.config.num_levels:
        draws = replace(draws, temperature=CFG["cross"])
    return orig_cross(self, lv, g, parent, p_ei, p_w, draws, *rest)


M.HiGen._sample_rows, M.HiGen._sample_cross_edges = rows, cross

torch.set_num_threads(1)
model = HiGen.from_pretrained(sys.argv[1]).eval()
val = model_split(sys.argv[1], sys.argv[2], "val")
configs = json.loads(sys.argv[3])
seeds = int(sys.argv[4])
base = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
out = {"base_temperature": base}
for cfg in configs:
    CFG.clear()
    CFG.update(cfg)
    name = ",".join(f"{k}={v}" for k, v in cfg.items()) or f"tau={base:g}"
    print(name, flush=True)
    out[name] = temperature_sweep(model, val, "gran", [base], seeds, KEYS, "temperature")[base]
out.update(
    provenance("PYTHONPATH=. python metrics/scripts/higen_choice_temperature.py " + " ".join(map(repr, sys.argv[1:])))
)
write_json(out, sys.argv[5])
