"""The pinned sets under requirements/ against pyproject.toml, and the script that writes them."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQ = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CHAIN = ("runtime", "test", "browser", "dev")
TOOLS = {"pytest", "pytest-cov", "coverage", "hypothesis", "schemathesis", "playwright", "mypy", "ruff"}


def _lock_module():
    spec = importlib.util.spec_from_file_location("lock_requirements", ROOT / "scripts" / "lock_requirements.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


lock = _lock_module()


def read_set(stem: str) -> tuple[str | None, dict[str, str]]:
    """(the file it includes, {canonical name: pinned version}) of one requirements file."""
    include, pins = None, {}
    for line in (REQ / f"{stem}.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            include = line[3:].strip()
            continue
        name, sep, version = line.partition("==")
        assert sep and version and not Requirement(name).specifier, f"{stem}.txt: {line!r} is not name==version"
        key = canonicalize_name(name)
        assert key not in pins, f"{stem}.txt pins {name} twice"
        pins[key] = version
    return include, pins


def pins_along(stem: str) -> dict[str, str]:
    """Every pin a set installs: its own and those of the files it includes."""
    include, pins = read_set(stem)
    if include is None:
        return pins
    below = pins_along(include.removesuffix(".txt"))
    assert not set(below) & set(pins), f"{stem}.txt repeats {sorted(set(below) & set(pins))}"
    return below | pins


def test_each_set_includes_the_one_below_and_make_install_takes_them_all() -> None:
    assert [read_set(stem)[0] for stem in CHAIN] == [None, "runtime.txt", "test.txt", "browser.txt"]
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "-r requirements/dev.txt" in lines
    assert [ln for ln in lines if ln and not ln.startswith("#")] == ["-r requirements/dev.txt"]


@pytest.mark.parametrize(("stem", "extra"), [("runtime", None), ("test", "test"), ("browser", "browser"), ("dev", "dev")])
def test_every_declared_requirement_is_pinned_inside_its_range(stem: str, extra: str | None) -> None:
    pins = pins_along(stem)
    for req in lock.declared(PYPROJECT, extra):
        version = pins.get(canonicalize_name(req.name))
        assert version is not None, f"{req} is declared but {stem}.txt does not pin it"
        assert req.specifier.contains(version, prereleases=True), f"{stem}.txt pins {req.name}=={version} outside {req}"


def test_the_runtime_set_holds_no_test_browser_or_lint_tool() -> None:
    assert not TOOLS & set(pins_along("runtime"))
    assert not {"playwright", "mypy", "ruff"} & set(pins_along("test"))
    assert set(pins_along("dev")) >= TOOLS


def fake(name: str, version: str, *requires: str):
    return lock.Installed(name, version, requires)


DISTS = {canonicalize_name(d.name): d for d in (
    fake("Alpha", "1.0", "beta>=2", 'gamma[fast]; python_version >= "3"', 'never; sys_platform == "no-such-os"'),
    fake("beta", "2.5"),
    fake("gamma", "0.3", 'delta; extra == "fast"', 'epsilon; extra == "slow"'),
    fake("delta", "4.0", "beta"),
    fake("epsilon", "1.0"),
    fake("pytest", "9.0", "beta"),
    fake("never", "1.0"),
)}


def test_closure_follows_requirements_extras_and_markers() -> None:
    got = lock.closure([Requirement("alpha>=1")], DISTS)
    assert sorted(d.name for d in got.values()) == ["Alpha", "beta", "delta", "gamma"]


def test_closure_lists_every_missing_or_out_of_range_requirement() -> None:
    with pytest.raises(SystemExit) as info:
        lock.closure([Requirement("alpha>=2"), Requirement("zeta")], DISTS)
    message = str(info.value)
    assert "Alpha 1.0 is installed but pyproject.toml wants alpha>=2" in message
    assert "zeta (wanted by pyproject.toml) is not installed" in message


def test_render_writes_each_set_as_what_it_adds_to_the_one_below() -> None:
    pyproject = {"project": {"name": "me", "dependencies": ["alpha"],
                             "optional-dependencies": {"test": ["pytest"], "browser": ["me[test]", "epsilon"],
                                                       "dev": ["me[browser]"]}}}
    files = lock.render(pyproject, DISTS)
    body = {name: [ln for ln in text.splitlines() if not ln.startswith("#")] for name, text in files.items()}
    assert body == {
        "runtime.txt": ["Alpha==1.0", "beta==2.5", "delta==4.0", "gamma==0.3"],
        "test.txt": ["-r runtime.txt", "pytest==9.0"],
        "browser.txt": ["-r test.txt", "epsilon==1.0"],
        "dev.txt": ["-r browser.txt"],
    }
