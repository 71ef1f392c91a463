"""The wheel a utility's IT installs: contents, metadata, and a run from an installed copy.

The wheel is built offline from a copy of the source (``pip wheel --no-deps
--no-build-isolation --no-index``, setuptools from the test environment). Installing
it with its dependencies needs the network, so that check is manual (docs/deploy.md);
here the wheel goes into a fresh virtualenv without dependencies, which borrows them
from the test environment, and runs from outside the checkout: migrations, demo data,
templates, static files and translations must then all come from the installed package.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Folders of data files that must ship (all their files), relative to the checkout.
DATA_DIRS = ("app/templates", "app/static", "app/translations", "app/migrations", "outage_demo")
SMALL_RING = ROOT / "tests" / "data" / "small_ring"

pytestmark = pytest.mark.slow


def source_files(folder: Path) -> set[str]:
    """Files below ``folder`` as paths relative to the checkout, without bytecode."""
    return {p.relative_to(ROOT).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if Version(metadata.version("setuptools")) < Version("77"):
        pytest.skip("setuptools < 77 in this environment (it predates requirements/runtime.txt): run make install")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]:
        top = pattern.rstrip("*")
        shutil.copytree(ROOT / top, src / top, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = work / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "--wheel-dir", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (whl,) = out.glob("outage_planner-*.whl")
    return whl


def record(whl: Path) -> set[str]:
    with zipfile.ZipFile(whl) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        return {line.split(",")[0] for line in z.read(name).decode().splitlines() if line}


def wheel_metadata(whl: Path, filename: str) -> str:
    with zipfile.ZipFile(whl) as z:
        name = next(n for n in z.namelist() if n.endswith(f".dist-info/{filename}"))
        return z.read(name).decode()


def test_record_lists_every_template_static_file_translation_migration_and_demo_file(wheel: Path) -> None:
    listed = record(wheel)
    for folder in DATA_DIRS:
        expected = source_files(ROOT / folder)
        assert expected, folder
        assert expected <= listed, sorted(expected - listed)
    assert {"app/translations/zh/LC_MESSAGES/messages.mo", "outage_demo/monaco.gpkg",
            "app/migrations/env.py", "app/templates/base.html"} <= listed


def test_wheel_holds_every_module_and_nothing_of_tests_bench_or_scripts(wheel: Path) -> None:
    listed = record(wheel)
    for top in ("app", "gis", "planning", "routing", "outage_demo"):
        modules = {f for f in source_files(ROOT / top) if f.endswith(".py")}
        assert modules <= listed, sorted(modules - listed)
    assert not [f for f in listed if f.split("/")[0] in ("tests", "bench", "scripts", "docs")]
    assert not [f for f in listed if "__pycache__" in f]


def test_requires_dist_matches_pyproject(wheel: Path) -> None:
    meta = Parser().parsestr(wheel_metadata(wheel, "METADATA"))
    project = PYPROJECT["project"]
    expected = {str(Requirement(r)) for r in project["dependencies"]}
    for extra, reqs in project["optional-dependencies"].items():
        expected |= {str(Requirement(f'{r}; extra == "{extra}"')) for r in reqs}
    assert {str(Requirement(r)) for r in meta.get_all("Requires-Dist")} == expected
    assert set(meta.get_all("Provides-Extra")) == {"test", "browser", "dev"}
    assert meta["Name"] == project["name"] and meta["Version"] == project["version"]
    assert meta["Requires-Python"] == project["requires-python"]


def test_console_script_is_outage(wheel: Path) -> None:
    entry_points = wheel_metadata(wheel, "entry_points.txt")
    assert "[console_scripts]" in entry_points
    assert "outage = app.console:main" in entry_points.splitlines()


def installed_venv(wheel: Path, where: Path) -> Path:
    """A fresh virtualenv holding only the wheel; its dependencies come from this environment."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "test_dependencies.pth").write_text("\n".join(deps) + "\n")
    return venv


CHECK_PAGES = """
import app, outage_demo
from app import create_app
print(app.__file__); print(outage_demo.__file__)
flask_app = create_app()
client = flask_app.test_client()
assert client.get("/static/vendor/leaflet-1.9.4/dist/leaflet.js").status_code == 200
assert client.get("/static/js/outage-map.js").status_code == 200
en = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
zh = client.get("/login", headers={"Accept-Language": "zh"}).get_data(as_text=True)
assert "Log in" in en and "\\u767b\\u5f55" in zh, (en, zh)
print("pages ok")
"""


def test_installed_wheel_migrates_seeds_and_serves_pages_from_the_package(wheel: Path, tmp_path: Path) -> None:
    venv = installed_venv(wheel, tmp_path)
    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing can come from the source tree
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTAGE_", "PYTHON")) and k not in
           ("DATABASE_URL", "REDIS_URL")}
    env |= {"OUTAGE_INSTANCE_PATH": str(tmp_path / "instance"), "OUTAGE_LOAD_ROADS": "false"}
    outage = [str(venv / "bin" / "outage")]

    upgraded = subprocess.run([*outage, "db", "upgrade"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert upgraded.returncode == 0, upgraded.stderr[-3000:]
    with sqlite3.connect(tmp_path / "instance" / "outage.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    heads = sorted(p.name.split("_")[0] for p in (ROOT / "app" / "migrations" / "versions").glob("*.py"))
    assert version == heads[-1]

    seeded = subprocess.run([*outage, "demo", "seed"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    installed_demo = f"{venv}/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages/outage_demo"
    assert f"crews: 8 added from {installed_demo}/crews.csv" in seeded.stdout, seeded.stdout
    assert "jobs: 120 added" in seeded.stdout

    pages = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK_PAGES], cwd=elsewhere, timeout=300,
                           env=env | {"OUTAGE_GRID_PATH": str(SMALL_RING)}, capture_output=True, text=True)
    assert pages.returncode == 0, pages.stderr[-3000:]
    app_file, demo_file, verdict = pages.stdout.splitlines()
    assert app_file.startswith(str(venv)) and demo_file.startswith(str(venv)), pages.stdout
    assert verdict == "pages ok"
