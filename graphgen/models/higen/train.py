"""Training HiGen: seeded, resumable, with periodic atomic checkpoints.

The training graphs are split once into fixed minibatches (their hierarchies, orderings and
teacher-forcing tensors are prepared at first use and kept, within a memory budget, since Louvain
dominates the cost; see :class:`_Variants`); each epoch visits the minibatches in a seeded random
order. With validation graphs, the epoch of lowest validation NLL is also kept beside the checkpoint
as ``<out>.best.pt`` (a model only, for shipping), and each network at its own lowest validation term
as ``<out>.best-parts.pt`` (see *Per-part selection*). A checkpoint holds the model, the optimizer
state, the epoch, the RNG states and the loss history, so ``resume`` continues exactly where a
killed run stopped (same seed, same result); resuming under other model or training options than the
run's own is refused (only the epoch count, the checkpoint interval and the size-head refit may change).

**Hierarchy augmentation** (our option, off by default: the paper fixes one partition per graph).
With ``hierarchies = K``, every training graph is prepared with the Louvain seeds
``partition_seed + 0 .. K-1`` and epoch ``e`` trains on variant ``e mod K``; the model then learns
``p(G, H)`` over several plausible hierarchies ``H`` of each graph instead of memorising one.
Validation always uses ``partition_seed``, so validation NLLs stay comparable across settings.
Motivation, measured: on planar (128 training graphs, one hierarchy) validation NLL/edge bottoms out
at 1.683 at epoch 78 and climbs to 2.18 by epoch 200 while the training NLL keeps falling.

**Random ties** (our option, ``random_ties``, off by default): variant ``v`` also relabels every
training graph by a random permutation (seeded by ``partition_seed + v`` and the graph's batch,
``tie_seed`` of :meth:`HiGen.prepare`) before partitioning and ordering. The within-community
orders break their ties by node id (``bfsdc``'s last key), so each variant gives the same graph and
rule other generation orders: order augmentation, as GRAN trains on several orders of a graph. It
also gives a flat model (no partition to vary) distinct variants. Validation keeps each graph's
own labels.

**Per-part selection** (``<out>.best-parts.pt``, written beside ``.best.pt``). The NLL is a sum of
terms with disjoint parameters (:attr:`HiGen.part_names`: each level's community network, each
level's cross-edge network), Adam's update of a parameter reads only its own gradient, and without
``grad_clip_norm`` nothing else couples them, so training the model is training each part
separately on the same batch order. Each part's validation term therefore selects its own epoch,
and the model assembled from every part at its lowest validation term has the validation NLL
``Σ_p min_e val_p(e) <= min_e Σ_p val_p(e)`` (the ``.best.pt`` model's). Measured on SBM (session
17, the shipped command): the coarse network's term is lowest at epoch 11, the leaf rows' at 29 and
the cross edges' at 4 (the total at 20); the assembled model's validation NLL is 1.8053 against
1.8096, but its samples were no better than epoch 20's (``metrics/results/higen-sbm-best-parts/``). The
checkpoint's metadata names each part's epoch (``selected_parts``); every epoch's validation terms
are in the history (``val_parts``). A part whose validation term is 0 at every epoch (no validation
data for it) is taken from the last epoch (ties go to the later epoch). With
``grad_clip_norm > 0`` the clipping couples the parts; the file is still written, its parts
selected the same way.

**Size head refit** (our option, off by default). With ``size_head_refit_steps = S > 0`` and explicit
community sizes, the leaf size head is fitted alone after the last epoch, full batch, to its own
likelihood term over every hierarchy variant (:func:`refit_size_head`), and the checkpoint (and the
lowest-validation model) records it under ``size_head_refit``. A run killed before the refit
resumes into it; resuming a refitted run does not refit again.

**Threads.** Training runs with ``threads`` torch intra-op threads (default 1) and restores the
previous setting afterwards. Measured on the 2-core build machine with another process busy: two
threads made a 3-epoch run 40x slower (60 s vs 1.5 s) *and* not bit-reproducible (losses differed
at 1e-10 between identical runs); one thread is deterministic. Raise it on a larger idle machine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from graphgen.io.checkpoint import graphs_fingerprint, load_checkpoint, save_checkpoint
from graphgen.models.higen.model import HiGen, HiGenConfig

__all__ = [
    "TrainConfig",
    "train_higen",
    "best_checkpoint_path",
    "best_parts_checkpoint_path",
    "snapshot_checkpoint_path",
    "check_train_config",
    "refit_size_head",
]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 10
    keep_every: int = 0  # also keep the model of every keep_every-th epoch (snapshot_checkpoint_path); 0: none
    threads: int = 1  # torch intra-op threads while training (see the module docstring)
    lr_schedule: str = "constant"  # "constant" or "cosine" (decays to lr_min over the epochs)
    lr_min: float = 0.0
    grad_clip_norm: float = 0.0  # clip the global gradient norm to this value; 0 turns clipping off
    hierarchies: int = 1  # distinct Louvain hierarchies per training graph, cycled over epochs (see the docstring)
    random_ties: bool = False  # each hierarchy variant relabels the training graphs at random first (docstring)
    row_fraction: float = 1.0  # each step trains on this random share of community rows (HiGen.loss)
    size_head_refit_steps: int = 0  # after the last epoch, refit the leaf size head alone (refit_size_head)
    size_head_refit_lr: float = 0.003

    def __post_init__(self):
        if self.size_head_refit_steps < 0:
            raise ValueError(f"size_head_refit_steps must be >= 0, got {self.size_head_refit_steps}")
        if not self.size_head_refit_lr > 0:
            raise ValueError(f"size_head_refit_lr must be > 0, got {self.size_head_refit_lr}")
        if self.hierarchies < 1:
            raise ValueError(f"hierarchies must be >= 1, got {self.hierarchies}")
        if self.keep_every < 0:
            raise ValueError(f"keep_every must be >= 0, got {self.keep_every}")
        if not 0 < self.row_fraction <= 1:
            raise ValueError(f"row_fraction must be in (0, 1], got {self.row_fraction}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")


LR_SCHEDULES = ("constant", "cosine")


def learning_rate(tc: TrainConfig, epoch: int) -> float:
    """Learning rate of ``epoch`` (0-based): a pure function of the epoch, so resuming is exact.

    ``cosine``: lr_min + (lr - lr_min) * (1 + cos(pi * epoch / epochs)) / 2.

    >>> learning_rate(TrainConfig(epochs=4, lr=1.0, lr_schedule="cosine"), 2)
    0.5
    """
    import math

    if tc.lr_schedule == "constant":
        return tc.lr
    if tc.lr_schedule == "cosine":
        return tc.lr_min + (tc.lr - tc.lr_min) * (1 + math.cos(math.pi * epoch / tc.epochs)) / 2
    raise ValueError(f"unknown lr_schedule {tc.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")


def check_train_config(model_config: HiGenConfig, tc: TrainConfig) -> None:
    """Raise before any training when the training options do not fit the model: a size head refit
    needs a size head; several hierarchies need a level to partition or random ties (a flat model's
    would otherwise all be the same graph, prepared ``hierarchies`` times)."""
    if tc.size_head_refit_steps and not model_config.explicit_size:
        raise ValueError("size_head_refit_steps needs community_size='explicit'")
    if tc.hierarchies > 1 and model_config.num_levels < 2 and not tc.random_ties:
        raise ValueError(
            "hierarchies > 1 needs num_levels >= 2 or random_ties (a flat model has no Louvain partition to vary)"
        )


def best_checkpoint_path(out: str | Path) -> Path:
    """Where the lowest-validation-NLL model of a run writing ``out`` is kept.

    >>> best_checkpoint_path("runs/higen-sbm.pt").as_posix()
    'runs/higen-sbm.best.pt'
    """
    out = Path(out)
    return out.with_name(f"{out.stem}.best{out.suffix or '.pt'}")


def snapshot_epochs(epochs: int, keep_every: int) -> range:
    """The epochs after which a run of ``epochs`` epochs keeps a snapshot (``TrainConfig.keep_every``).

    >>> list(snapshot_epochs(10, 4)), list(snapshot_epochs(10, 0))
    ([4, 8], [])
    """
    return range(keep_every, epochs + 1, keep_every) if keep_every else range(0)


def snapshot_checkpoint_path(out: str | Path, epoch: int) -> Path:
    """Where a run writing ``out`` keeps its model after ``epoch`` (``TrainConfig.keep_every``).

    >>> snapshot_checkpoint_path("runs/higen-sbm.pt", 40).as_posix()
    'runs/higen-sbm.epoch0040.pt'
    """
    out = Path(out)
    return out.with_name(f"{out.stem}.epoch{epoch:04d}{out.suffix or '.pt'}")


def refit_size_head(model: HiGen, batches, steps: int, lr: float = 0.003) -> dict:
    """Fit the leaf size head of an explicit-size model alone, full batch, on prepared ``batches``.

    The size term of the negative log-likelihood,

        L_size(θ_s) = -(1/C) Σ_c log p(N_c | W_c, D_c, |V|, σ_c; θ_s),

    over the ``C`` leaf communities of ``batches`` (every hierarchy variant they hold), is the only
    term that reads the size head's parameters ``θ_s`` (the head reads the row context, never the
    row network; :meth:`HiGen.loss`). Minimising it over ``θ_s`` with every other parameter fixed
    therefore lowers the model's NLL by exactly what it lowers ``L_size``, and leaves the row and
    cross-edge likelihoods and every sampling step other than the community sizes unchanged. It is
    the same maximum-likelihood objective carried to convergence, not a new model: minibatch
    training, which weights each batch by ``1 / |E_batch|`` and moves ``θ_s`` only as fast as the
    row networks, leaves ``L_size`` short of its optimum (enzymes, session 17: 0.929 nats per
    community on the training hierarchies before a 1,500-step refit, 0.792 after; on the test graphs
    the session-16 head scored 0.787, the refitted shipped one 0.675).

    Full-batch Adam with learning rate ``lr`` for ``steps`` steps, starting from the trained head; no
    sampling, so the result is a deterministic function of the model and the batches.

    Returns ``{"steps", "lr", "communities", "nll_before", "nll_after"}`` (nats per community).
    """
    from graphgen.models.higen.stick_breaking import community_size_log_prob

    if not model.config.explicit_size:
        raise ValueError("refitting the size head needs explicit community sizes (community_size='explicit')")
    lv = model.config.num_levels
    net = model.community_nets[lv - 1]
    contexts, shares, sizes, budgets = [], [], [], []
    for batch in batches:
        rows, pb, _ = batch.levels[lv - 1]
        context, share = model.size_head_inputs(batch.hierarchy, lv, rows, pb)
        first = rows.position == 0
        contexts.append(context)
        shares.append(share)
        sizes.append(rows.size[first])
        budgets.append(rows.budget[first])
    context, size, budget = torch.cat(contexts), torch.cat(sizes), torch.cat(budgets)
    share = torch.cat(shares) if model.config.size_share else None

    def nll() -> torch.Tensor:
        return -community_size_log_prob(size, budget, *net.size_distribution(context, share)).mean()

    with torch.no_grad():
        before = float(nll())
    optimizer = torch.optim.Adam(net.size_head.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nll()
        loss.backward()
        optimizer.step()
    net.size_head.zero_grad(set_to_none=True)
    with torch.no_grad():
        after = float(nll())
    return {"steps": steps, "lr": lr, "communities": int(size.numel()), "nll_before": before, "nll_after": after}


def best_parts_checkpoint_path(out: str | Path) -> Path:
    """Where the model assembled from each part at its lowest validation NLL is kept.

    >>> best_parts_checkpoint_path("runs/higen-sbm.pt").as_posix()
    'runs/higen-sbm.best-parts.pt'
    """
    out = Path(out)
    return out.with_name(f"{out.stem}.best-parts{out.suffix or '.pt'}")


class _BestParts:
    """Each part's lowest validation term so far, its epoch and its parameters then (see the
    module docstring, *Per-part selection*); restored from the ``.best-parts.pt`` file on resume."""

    def __init__(self, model: HiGen, path: Path, resumed: bool):
        self.names = model.part_names
        self.value = {name: float("inf") for name in self.names}
        self.epoch: dict[str, int | None] = {name: None for name in self.names}
        self.state: dict[str, dict] = {}
        if resumed and path.exists():
            ckpt = load_checkpoint(path)
            for name, chosen in ckpt.metadata["selected_parts"].items():
                self.value[name], self.epoch[name] = chosen["val_nll_per_edge"], chosen["epoch"]
                self.state[name] = {k: v for k, v in ckpt.state_dict.items() if k.startswith(name + ".")}

    def update(self, model: HiGen, epoch: int, val_parts: dict[str, float]) -> bool:
        """Keep every part whose term is at or below its best; True if any was kept."""
        kept = [name for name in self.names if val_parts[name] <= self.value[name]]
        state = model.state_dict()
        for name in kept:
            self.value[name], self.epoch[name] = val_parts[name], epoch
            self.state[name] = {k: v.detach().clone() for k, v in state.items() if k.startswith(name + ".")}
        return bool(kept)

    def state_dict(self, model: HiGen) -> dict:
        assembled = dict(model.state_dict())  # buffers (the root size model) do not train
        for name in self.names:
            assembled.update(self.state[name])
        return assembled

    def record(self) -> dict:
        return {name: {"epoch": self.epoch[name], "val_nll_per_edge": self.value[name]} for name in self.names}


def validation_nll(model: HiGen, prepared, rank: int = 0, world: int = 1, reduce=None) -> tuple[float, dict]:
    """Validation NLL per edge and each part's (:attr:`HiGen.part_names`) over ``prepared`` batches
    (:meth:`HiGen.prepare`), as the training loop records them: batch ``i`` on rank ``i mod world``,
    the sums combined by ``reduce`` (DDP), each term weighted by its batch's edges."""
    with torch.no_grad():
        names = model.part_names
        sums = [0.0] * (len(names) + 2)  # loss, edges, then each part (NLL, not per edge)
        for i in range(rank, len(prepared), world):  # each batch on one rank
            out_i, e = model.loss(prepared[i]), prepared[i].num_edges
            terms = [float(out_i["loss"]) * e, e] + [float(out_i["parts"][name]) * e for name in names]
            sums = [a + b for a, b in zip(sums, terms)]
        if reduce is not None:
            sums = reduce(*sums)
    edges = max(sums[1], 1)
    return sums[0] / edges, {name: nll / edges for name, nll in zip(names, sums[2:])}


def validation_batches(model: HiGen, graphs, batch_size: int) -> list:
    """The validation batches of the training loop: ``graphs`` in order, ``batch_size`` at a time,
    each prepared with the model's own Louvain seed."""
    return [model.prepare(batch) for batch in _batches(list(graphs), batch_size)]


def _tie_seed(partition_seed: int, batch: int) -> int:
    """The relabelling seed of training batch ``batch`` in the variant of ``partition_seed`` (random ties)."""
    return partition_seed * 1_000_003 + batch


def _batches(graphs, size: int) -> list[list]:
    return [graphs[i : i + size] for i in range(0, len(graphs), size)]


VARIANT_CACHE_BYTES = 4 << 30  # prepared hierarchy variants kept between their uses (see _Variants)


class _Variants:
    """The training minibatches of each hierarchy variant, prepared when first needed.

    Variant ``v`` is every minibatch prepared with Louvain seed ``partition_seed + v`` and, with
    random ties, relabelled by ``_tie_seed(partition_seed + v, b)``. :meth:`HiGen.prepare` draws only
    from generators seeded by these (never from torch's global RNG), so preparing a variant at its
    first epoch gives the same tensors, and the same training, as preparing all of them up front.

    A variant is kept for its next use (epoch ``e + K``) while the kept ones hold at most
    ``cache_bytes`` of tensor storage; past that it is prepared again each time, so memory no longer
    grows with ``hierarchies``. Measured on planar (128 training graphs, batches of 4; beside two
    training runs, ``metrics/results/higen-variant-memory-planar.json``): one variant takes 0.34 s and
    59 MB of tensors flat, 0.91 s and 16 MB with two levels, against 14 s and 8 s per epoch. Before,
    ``--hierarchies 240`` on a flat model held every variant: 15 GB resident 90 s after start-up.
    """

    def __init__(self, model: HiGen, batches: list[list], tc: TrainConfig):
        self.model, self.batches, self.tc = model, batches, tc
        self.seed0 = model.config.partition_seed
        self.reused = tc.hierarchies < tc.epochs  # some variant is trained on more than once
        self.cache_bytes = VARIANT_CACHE_BYTES  # read at construction, so a test may lower it
        self.kept: dict[int, list] = {}
        self.kept_bytes = 0

    def prepare(self, v: int) -> list:
        """Variant ``v``'s minibatches, prepared now (never kept)."""
        seed = self.seed0 + v
        return [
            self.model.prepare(batch, partition_seed=seed, tie_seed=_tie_seed(seed, b) if self.tc.random_ties else None)
            for b, batch in enumerate(self.batches)
        ]

    def __getitem__(self, v: int) -> list:
        if v in self.kept:
            return self.kept[v]
        prepared = self.prepare(v)
        size = tensor_bytes(prepared)
        if self.reused and self.kept_bytes + size <= self.cache_bytes:
            self.kept[v] = prepared
            self.kept_bytes += size
        return prepared


def tensor_bytes(obj) -> int:
    """Bytes of the distinct tensor storages reachable from ``obj`` through lists, tuples, dicts and
    object attributes (dataclasses, PyG ``Data``); each storage is counted once."""
    storages, seen, stack = {}, set(), [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            storage = item.untyped_storage()
            storages[(item.device, storage.data_ptr())] = storage.nbytes()
        elif id(item) in seen or isinstance(item, (str, bytes, int, float, bool, type)) or item is None:
            continue
        else:
            seen.add(id(item))
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, (list, tuple)):
                stack.extend(item)
            elif hasattr(item, "__dict__"):
                stack.extend(vars(item).values())
    return sum(storages.values())


def train_higen(
    train_graphs,
    out: str | Path,
    *,
    model_config: HiGenConfig | None = None,
    train_config: TrainConfig | None = None,
    val_graphs=None,
    resume: str | Path | None = None,
    metadata: dict | None = None,
    progress=None,
) -> dict:
    """Train a :class:`HiGen` on ``train_graphs`` and write checkpoints to ``out``.

    Args:
        progress: optional callable ``(epoch, epochs, train_loss, val_loss)`` for progress display:
            called once with ``train_loss=None`` when training starts (at ``epoch`` 0, or the resumed
            run's epoch) after every check has passed, then after every epoch.

    Returns:
        The final metrics: last train/validation NLL per edge, epochs, seconds.
    """
    tc = train_config or TrainConfig()
    learning_rate(tc, 0)  # validates the schedule name before any work
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(tc.threads)
    try:
        return _train(train_graphs, out, model_config, tc, val_graphs, resume, metadata, progress)
    finally:
        torch.set_num_threads(previous_threads)


class _Processes:
    """The process group when launched by ``torchrun`` (``WORLD_SIZE > 1``), else a single process.

    Under ``torchrun`` every process builds the same model from the same seed (DDP also broadcasts
    rank 0's parameters), visits the same seeded permutation of minibatches and takes every
    ``world``-th one (``ceil(batches / world)`` steps per epoch, wrapping around so each step has a
    batch on every rank); DDP averages the gradients over the ranks (gloo on CPU). Losses are summed
    over the ranks; only rank 0 reports progress and writes checkpoints.
    """

    def __init__(self):
        import os

        import torch.distributed as dist

        self.dist = dist
        self.owned = False
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
            dist.init_process_group("gloo")
            self.owned = True
        self.active = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.active else 0
        self.world = dist.get_world_size() if self.active else 1

    def wrap(self, model: HiGen) -> torch.nn.Module:
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        # a batch without bipartite blocks leaves the cross-edge networks unused
        return DistributedDataParallel(model, find_unused_parameters=True)

    def shard(self, order: list[int]) -> list[int]:
        if self.world == 1 or not order:
            return order
        steps = -(-len(order) // self.world)
        return [order[(step * self.world + self.rank) % len(order)] for step in range(steps)]

    def sum(self, *values: float) -> list[float]:
        if not self.active:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        self.dist.all_reduce(t)
        return t.tolist()

    def close(self) -> None:
        if self.owned:
            self.dist.destroy_process_group()


def _train(train_graphs, out, model_config, tc, val_graphs, resume, metadata, progress) -> dict:
    processes = _Processes()
    try:
        return _train_loop(train_graphs, out, model_config, tc, val_graphs, resume, metadata, progress, processes)
    finally:
        processes.close()


# a resumed run may run longer, save or keep more often, or change the size-head refit done after its last epoch
RESUME_MAY_CHANGE = ("epochs", "checkpoint_every", "keep_every", "size_head_refit_steps", "size_head_refit_lr")


def _check_same_run(resume, ckpt, model_config: HiGenConfig | None, tc: TrainConfig) -> None:
    """A resumed run continues the checkpoint's run exactly, so its model and training options must
    be the run's own (only :data:`RESUME_MAY_CHANGE` may differ): a ``TrainingError`` listing every
    option that differs, instead of silently training the checkpoint's model under other settings.
    Options a checkpoint predates are not compared."""
    from graphgen.errors import TrainingError

    pairs = [(ckpt.config, asdict(model_config) if model_config is not None else {})]
    pairs.append((ckpt.metadata.get("train_config", {}), asdict(tc)))
    differ = [
        f"{key} {saved[key]!r} in the checkpoint, {given[key]!r} now"
        for saved, given in pairs
        for key in sorted(saved.keys() & given.keys())
        if key not in RESUME_MAY_CHANGE and saved[key] != given[key]
    ]
    if differ:
        raise TrainingError(
            f"{resume} was trained with other options ({'; '.join(differ)}): resume with the run's own options"
        )


def _train_loop(train_graphs, out, model_config, tc, val_graphs, resume, metadata, progress, processes) -> dict:
    import time

    torch.manual_seed(tc.seed)
    model = HiGen(model_config or HiGenConfig()).fit_size_model(train_graphs)
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
    history: list[dict] = []
    start_epoch = 0
    refit = None  # the size head refit's record, once done after the last epoch
    generator = torch.Generator().manual_seed(tc.seed)
    if resume is not None:
        ckpt = load_checkpoint(resume)
        if ckpt.data_fingerprint and ckpt.data_fingerprint != graphs_fingerprint(train_graphs):
            from graphgen.errors import TrainingError

            raise TrainingError(
                f"{resume} was trained on other graphs than these {len(train_graphs)}: resume with the same "
                "dataset, split protocol and --holdout"
            )
        if not all(key in ckpt.extra for key in ("optimizer", "epoch", "generator_state", "torch_rng_state")):
            from graphgen.errors import TrainingError

            raise TrainingError(
                f"{resume} holds no training state (optimizer, epoch, random streams): a shipped or stripped "
                "checkpoint samples but cannot be resumed; resume from the run's own checkpoint"
            )
        _check_same_run(resume, ckpt, model_config, tc)
        model = HiGen.from_checkpoint(ckpt)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr)
        optimizer.load_state_dict(ckpt.extra["optimizer"])
        start_epoch = int(ckpt.extra["epoch"])
        history = list(ckpt.metadata.get("history", []))
        refit = ckpt.metadata.get("size_head_refit")
        generator.set_state(ckpt.extra["generator_state"])
        torch.set_rng_state(ckpt.extra["torch_rng_state"])
    check_train_config(model.config, tc)  # the resumed model's configuration counts
    network = processes.wrap(model)  # model itself, or its DDP wrapper under torchrun
    seed0 = model.config.partition_seed
    variants = _Variants(model, _batches(list(train_graphs), tc.batch_size), tc)
    val_prepared = validation_batches(model, val_graphs, tc.batch_size) if val_graphs else []
    fingerprint = graphs_fingerprint(train_graphs)
    started = time.perf_counter()

    def save(epoch: int, path=out, resumable: bool = True, parts: _BestParts | None = None, more=None) -> None:
        if processes.rank != 0:
            return
        meta = {**(metadata or {}), "history": history, "train_config": asdict(tc), "processes": processes.world}
        meta.update(more or {})  # e.g. a kept snapshot's epoch and time
        if refit is not None:
            meta["size_head_refit"] = refit
        ckpt = model.to_checkpoint(meta, fingerprint)
        if parts is not None:  # the model assembled from each part's lowest-validation state
            ckpt.state_dict = parts.state_dict(model)
            ckpt.metadata["selected_parts"] = parts.record()
            ckpt.metadata["val_nll_per_edge"] = sum(parts.value.values())
        if resumable:
            ckpt.extra = {
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "generator_state": generator.get_state(),
                "torch_rng_state": torch.get_rng_state(),
            }
        save_checkpoint(ckpt, path)

    best_path, parts_path = best_checkpoint_path(out), best_parts_checkpoint_path(out)
    best = min((h["val_nll_per_edge"] for h in history if h["val_nll_per_edge"] is not None), default=float("inf"))
    best_parts = _BestParts(model, parts_path, resumed=resume is not None)

    if progress is not None and processes.rank == 0:
        progress(start_epoch, tc.epochs, None, None)  # every check passed: training starts (or resumes) here
    for epoch in range(start_epoch, tc.epochs):
        refit = None  # training moves the size head again
        model.train()
        prepared = variants[epoch % tc.hierarchies]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(tc, epoch)
        total, edges = 0.0, 0
        for i in processes.shard(torch.randperm(len(prepared), generator=generator).tolist()):
            batch = prepared[i]
            result = network(batch, tc.row_fraction)
            loss = result["loss"]
            if not bool(torch.isfinite(loss.detach())):
                from graphgen.errors import TrainingError

                bad = [name for name, term in result["parts"].items() if not bool(torch.isfinite(term.detach()))]
                raise TrainingError(
                    f"training loss became {float(loss.detach())} at epoch {epoch + 1} "
                    f"(term {', '.join(bad) or 'loss'}, Louvain seed {seed0 + epoch % tc.hierarchies}); "
                    "training stopped"
                )
            optimizer.zero_grad()
            loss.backward()
            if tc.grad_clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip_norm)
            optimizer.step()
            total += float(loss.detach()) * batch.num_edges
            edges += batch.num_edges
        total, edges = processes.sum(total, edges)
        val, val_parts = None, None
        if val_prepared:
            model.eval()
            val, val_parts = validation_nll(model, val_prepared, processes.rank, processes.world, processes.sum)
        entry = {"epoch": epoch + 1, "train_nll_per_edge": total / max(edges, 1), "val_nll_per_edge": val}
        if val_parts is not None:
            entry["val_parts"] = val_parts
        history.append(entry)
        if val is not None and val < best:
            best = val
            save(epoch + 1, best_path, resumable=False)
        if val_parts is not None and best_parts.update(model, epoch + 1, val_parts):
            save(epoch + 1, parts_path, resumable=False, parts=best_parts)
        if progress is not None and processes.rank == 0:
            progress(epoch + 1, tc.epochs, total / max(edges, 1), val)
        if epoch + 1 in snapshot_epochs(tc.epochs, tc.keep_every):
            # the model as it stands after this epoch, to sample or score later (a curve of samples'
            # quality against training time); not resumable, so a few MB each
            seconds = time.perf_counter() - started
            snapshot = {"epoch": epoch + 1, "seconds_in_this_process": seconds, "process_started_at_epoch": start_epoch}
            save(epoch + 1, snapshot_checkpoint_path(out, epoch + 1), resumable=False, more={"snapshot": snapshot})
        if (epoch + 1) % tc.checkpoint_every == 0 or epoch + 1 == tc.epochs:
            save(epoch + 1)
    if tc.size_head_refit_steps and refit is None:
        batches = [batch for v in range(tc.hierarchies) for batch in variants[v]]
        refit = {"epoch": tc.epochs, **refit_size_head(model, batches, tc.size_head_refit_steps, tc.size_head_refit_lr)}
        save(tc.epochs)
        for path in (best_path, parts_path):
            if processes.rank == 0 and path.exists():
                _refit_best(path, batches, tc)
    return {
        "epochs": tc.epochs,
        "history": history,
        "seconds": time.perf_counter() - started,
        "size_head_refit": refit,
    }


def _refit_best(path: Path, batches, tc: TrainConfig) -> None:
    """Refit the size head of a lowest-validation model too, once (its metadata records it)."""
    ckpt = load_checkpoint(path)
    if "size_head_refit" in ckpt.metadata:
        return
    best = HiGen.from_checkpoint(ckpt)
    record = refit_size_head(best, batches, tc.size_head_refit_steps, tc.size_head_refit_lr)
    save_checkpoint(best.to_checkpoint({**ckpt.metadata, "size_head_refit": record}, ckpt.data_fingerprint), path)
