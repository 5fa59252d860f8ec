"""Layout rules from DESIGN.md and the docstring examples of every public module."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import graphgen

REPO = Path(__file__).resolve().parents[1]


def test_top_level_datasets_and_metrics_are_not_packages():
    for folder in ("datasets", "metrics"):
        assert not (REPO / folder / "__init__.py").exists()


def test_shipped_data_resolves_independently_of_the_working_directory(tmp_path, monkeypatch):
    from graphgen.datasets import data_root, load_dataset

    monkeypatch.chdir(tmp_path)
    assert (data_root() / "catalog.json").is_file()
    assert len(load_dataset("ego_small", "test")) == 40


LAZY_PACKAGES = ("graphgen.models", "graphgen.io", "graphgen.datasets")


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_package_exports_are_the_submodules_objects(package):
    """Every name a lazy package exports (graphgen._lazy) reads as the very object one of its
    submodules defines; unknown names raise AttributeError; ``import *`` gives them all."""
    module = importlib.import_module(package)
    assert len(set(module.__all__)) == len(module.__all__) and set(module.__all__) <= set(dir(module))
    submodules = [importlib.import_module(m.name) for m in pkgutil.iter_modules(module.__path__, package + ".")]
    for name in module.__all__:
        value = getattr(module, name)
        assert any(vars(sub).get(name, object()) is value for sub in submodules), name
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018
    namespace: dict = {}
    exec(f"from {package} import *", namespace)
    assert set(module.__all__) <= set(namespace)


MODULES = sorted(
    m.name for m in pkgutil.walk_packages(graphgen.__path__, "graphgen.") if not m.name.startswith("graphgen.cli")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "pytest" in ci and ci in (REPO / "README.md").read_text()


def test_lint_is_clean():
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    out = subprocess.run([ruff, "check", "graphgen", "tests"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
