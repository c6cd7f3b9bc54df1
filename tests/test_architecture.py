"""docs/architecture.md matches the tree, and the import rules it states are enforced."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
APPS = ["kernel", "accounts", "casework", "funds", "reports", "amparo", "demo"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _tracked_top_level_dirs() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return {name.split("/")[0] for name in files if "/" in name and not name.startswith(".")}


def test_every_top_level_folder_is_described_in_the_architecture_doc():
    missing = sorted(d for d in _tracked_top_level_dirs() if f"`{d}/`" not in DOC)
    assert missing == []


def test_every_path_the_architecture_doc_names_exists():
    # Backticked paths such as `kernel/money.py`, `casework/receivers.py`, `tests/personas.py`.
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.(?:py|md|sh))`", DOC))
    assert named, "the doc names no files: the pattern is wrong"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == []


def _copy_packages(target: Path) -> None:
    for app in APPS:
        if (ROOT / app).is_dir():
            shutil.copytree(ROOT / app, target / app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, env={"PYTHONPATH": str(cwd)}
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("tree")
    _copy_packages(target)
    return target


def test_the_import_contracts_hold_for_the_tree(package_copy):
    result = _lint_imports(package_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_an_upward_import_breaks_the_layers_contract(package_copy, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(package_copy, tree)
    (tree / "accounts" / "upward.py").write_text("from casework.models import Case  # accounts may not read casework\n")

    result = _lint_imports(tree)

    assert result.returncode != 0
    assert "accounts is not allowed to import casework" in result.stdout
    assert "accounts.upward -> casework.models" in result.stdout


def test_a_cycle_inside_a_function_breaks_the_acyclic_contract(package_copy, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(package_copy, tree)
    # casework.tasks imports casework.services; an inline import back closes a cycle.
    (tree / "casework" / "services" / "cycle.py").write_text(
        "def late():\n    from casework.tasks import scan_reminders  # noqa: PLC0415\n\n    return scan_reminders\n"
    )

    result = _lint_imports(tree)

    assert result.returncode != 0
    assert "No cycles are allowed in casework" in result.stdout
