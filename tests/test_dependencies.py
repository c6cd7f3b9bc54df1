"""The dependency pins (ASVS 15.1.2): every package the requirements pull in, however indirectly, is
pinned in constraints.txt at the version installed, so nothing arrives unpinned or unlisted."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{line!r} in {path.name} is not an exact pin"
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether a requirement's marker holds here, with the extras its declaring package was asked for."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""}))


def _dependency_tree(roots: list[Requirement]) -> set[str]:
    """The installed distributions the requirements need, following each one's own requirements."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(root.name), frozenset(root.extras)) for root in roots if _applies(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for text in metadata.requires(name) or []:
            child = Requirement(text)
            if _applies(child, extras):
                todo.append((canonicalize_name(child.name), frozenset(child.extras)))
    return {name for name, _extras in seen}


def test_every_requirement_is_an_exact_pin_that_the_constraints_agree_with():
    direct = {**_pins(ROOT / "requirements.txt"), **_pins(ROOT / "requirements-test.txt")}
    constraints = _pins(ROOT / "constraints.txt")

    assert {name: constraints.get(name) for name in direct} == direct


def test_the_constraints_pin_the_whole_installed_dependency_tree_at_the_installed_versions():
    roots = [
        Requirement(line.split("#", 1)[0].strip())
        for name in ("requirements.txt", "requirements-test.txt")
        for line in (ROOT / name).read_text().splitlines()
        if line.split("#", 1)[0].strip() and not line.startswith("-")
    ]
    tree = _dependency_tree(roots)
    constraints = _pins(ROOT / "constraints.txt")

    assert len(tree) > len(roots)  # the walk really followed the transitive requirements
    assert sorted(tree - set(constraints)) == []
    installed = {name: metadata.version(name) for name in tree}
    assert {name: version for name, version in installed.items() if constraints[name] != version} == {}
