"""The dataset catalogue: where the shipped files live, what they are, and their checksums.

The files are the repository's top-level ``datasets/`` folder, shipped inside the package as
``graphgen/_data`` (a symlink in a source checkout, a copy in an installed wheel), and located
through ``importlib.resources`` -- never through the current working directory.
``datasets/catalog.json`` describes each dataset: title, kind (``graphs`` or ``molecules``),
source, citation, licence, split protocols with one default, and the sha256 of every file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from graphgen.errors import ChecksumError, DatasetError, UnknownDatasetError

__all__ = ["DatasetInfo", "data_root", "list_datasets", "dataset_info", "dataset_file", "normalize_name"]


@dataclass(frozen=True)
class DatasetInfo:
    """Catalogue entry of one dataset (see ``datasets/catalog.json``)."""

    name: str
    title: str
    origin: str
    kind: str
    source: str
    citation: str
    licence: str
    default_protocol: str
    protocols: dict[str, str]
    reproduces: str
    notes: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)


def data_root() -> Path:
    """The folder that holds ``catalog.json`` and one sub-folder per dataset."""
    return Path(str(resources.files("graphgen") / "_data"))


@lru_cache(maxsize=4)
def _load_catalog(root: str) -> dict[str, DatasetInfo]:
    path = Path(root) / "catalog.json"
    if not path.is_file():
        raise ChecksumError(f"the dataset catalogue {path} is missing; reinstall graphgen")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ChecksumError(f"the dataset catalogue {path} is corrupted: {exc}") from None
    out = {}
    for name, meta in raw["datasets"].items():
        meta = dict(meta)
        meta["notes"] = tuple(meta.get("notes", ()))
        out[name] = DatasetInfo(name=name, **meta)
    return out


def normalize_name(name: str) -> str:
    """``"Community-Small"`` -> ``"community_small"``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def list_datasets(root: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """All catalogue entries, in catalogue order."""
    return list(_load_catalog(str(root or data_root())).values())


def dataset_info(name: str, root: str | os.PathLike | None = None) -> DatasetInfo:
    """The catalogue entry of ``name``; raises :class:`UnknownDatasetError` with suggestions."""
    catalog = _load_catalog(str(root or data_root()))
    key = normalize_name(name)
    if key not in catalog:
        close = difflib.get_close_matches(key, list(catalog), n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise UnknownDatasetError(f"unknown dataset {name!r}{hint} (known: {', '.join(catalog)})")
    return catalog[key]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_file(name: str, filename: str, root: str | os.PathLike | None = None, *, verify: bool = True) -> Path:
    """Path of one shipped file of dataset ``name``, after checking its sha256.

    Raises:
        ChecksumError: the file is missing or its content differs from the catalogue.
    """
    info = dataset_info(name, root)
    if filename not in info.files:
        raise DatasetError(f"dataset {info.name} has no file {filename!r}")
    path = Path(root or data_root()) / info.name / filename
    if not path.is_file():
        raise ChecksumError(f"dataset file {path} is missing; reinstall graphgen or restore the file")
    if verify:
        digest = _sha256(path)
        if digest != info.files[filename]:
            raise ChecksumError(
                f"dataset file {path} is corrupted: sha256 {digest[:12]}... differs from the catalogue's "
                f"{info.files[filename][:12]}..."
            )
    return path
