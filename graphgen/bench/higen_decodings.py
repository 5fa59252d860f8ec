"""What HiGen's constrained decodings cost in sampling time, against plain sampling in the same run.

The run-rows, face-run and planar-strips decodings (:class:`~graphgen.models.higen.model.Draws`)
add Python work per leaf row (border walks, face walks and their runs) and per leaf block (strip
redraws). For a shipped model (default ``higen-planar-strips``, at its temperature 0.7) this times
``HiGen.sample(num_graphs)`` under each decoding, ``repeats`` times in turns (plain, run rows, face
rows, face rows + planar strips, then again), one torch thread, sampling seed 0 each time, so that
every decoding sees the same machine load, after one untimed warm-up draw of each; each decoding's
median seconds and its ratio to plain, and the sampler's report of its last draw.
Decodings a model cannot take (e.g. planar strips without strip cross edges) are left out. With a
``baseline`` model (``--baseline``) its plain sampling is timed in the same turns, first, so that a
retrained model's own sampling (e.g. ``higen-planar-faces``' face-run rows) is compared with the model
it came from in the same run.
"""

from __future__ import annotations

import statistics
import time

DECODINGS = {
    "plain": {},
    "run_rows": {"run_rows": True},
    "face_rows": {"face_rows": True},
    "face_rows+planar_strips": {"face_rows": True, "planar_strips": True},
    "planar_strips": {"planar_strips": True},  # row_faces models keep their faces themselves
}


def run(
    checkpoint: str = "higen-planar-strips",
    num_graphs: int = 40,
    repeats: int = 3,
    temperature: float = 0.7,
    baseline: str | None = None,
) -> dict:
    """The records (the caller adds provenance); see the module docstring. ``baseline``: another
    model whose plain sampling is timed in the same turns (record ``baseline plain``), e.g. the model
    a retrained one came from."""
    import torch

    from graphgen.errors import InvalidArgumentError
    from graphgen.models.higen import HiGen

    model = HiGen.from_pretrained(checkpoint).eval()
    subjects = {"baseline plain": (HiGen.from_pretrained(baseline).eval(), {})} if baseline else {}
    subjects.update((name, (model, options)) for name, options in DECODINGS.items())
    chosen = {}
    for name, (sampler, options) in subjects.items():  # warm-up, untimed (the first calls' one-off costs)
        try:
            sampler.sample(1, generator=torch.Generator().manual_seed(0), temperature=temperature, **options)
        except InvalidArgumentError:  # HiGen.sample's own check: a decoding this model cannot take
            continue
        chosen[name] = (sampler, options)
    seconds: dict[str, list[float]] = {name: [] for name in chosen}
    reports: dict[str, dict] = {}
    for _ in range(repeats):
        for name, (sampler, options) in chosen.items():
            generator = torch.Generator().manual_seed(0)
            start = time.perf_counter()
            graphs = sampler.sample(num_graphs, generator=generator, temperature=temperature, **options)
            seconds[name].append(time.perf_counter() - start)
            reports[name] = {"nodes": sum(int(g.num_nodes) for g in graphs), **sampler.last_sample_report}
    base = statistics.median(seconds["plain"])
    records = [
        {
            "decoding": name,
            "median_seconds": statistics.median(times),
            "seconds": times,
            "ratio_to_plain": statistics.median(times) / base,
            "sample_report": reports[name],
        }
        for name, times in seconds.items()
    ]
    return {
        "records": records,
        "setup": {
            "checkpoint": checkpoint,
            "baseline": baseline,
            "num_graphs": num_graphs,
            "repeats": repeats,
            "temperature": temperature,
            "torch_threads": 1,
            "sampling_seed": 0,
        },
    }
