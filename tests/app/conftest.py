"""Fixtures for the Flask service: an app per test on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

The pages engineer's tests (``test_pages*.py``) get a pages-only app from
``pages_app.py`` under the same ``app``/``client`` fixture names, plus the
``small_ring`` and ``xss_grid`` grids.

* SQLite: a database file migrated once per session with Alembic, copied per test.
* PostgreSQL: a fresh schema per session (migrated with Alembic, dropped at the end),
  tables truncated before each test.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.auth import create_user, issue_token
from app.cli import upgrade
from app.config import ROLES
from app.models import Base, Crew
from app.services import grid as grid_service
from gis import Grid, load_grid, read_layers

_real_load = grid_service.load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages_app import pages_app  # noqa: E402

#: Customer names that must show as text and run nothing (issue 8).
XSS_NAMES = {
    "C1": "<img src=x onerror=alert(1)>",
    "C2": "${alert(1)}",
    "C3": "Hôpital `backtick` </script><script>alert(2)</script>",
}

ROOT = Path(__file__).resolve().parents[2]
PLANNING_NOW = "2026-11-20T09:00:00+01:00"
SMALL_RING = ROOT / "tests" / "data" / "small_ring"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def pg_url_with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def pg_url() -> Any:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set")
    schema = f"app_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_url_with_schema(base, schema)
    upgrade(url)
    yield url
    with engine.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every database test on each backend (pages-only tests need no database)."""
    if "database_url" in metafunc.fixturenames and not metafunc.definition.path.name.startswith("test_pages"):
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if getattr(request, "param", "sqlite") == "sqlite":
        db = tmp_path / "outage.db"
        shutil.copy(sqlite_template, db)
        return f"sqlite:///{db}"
    url = request.getfixturevalue("pg_url")
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def base_config(tmp_path: Path, database_url: str, **extra: Any) -> dict[str, Any]:
    cfg = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "GRID_PATH": str(SMALL_RING),
        "LOAD_ROADS": False,
        "ROADS_PATH": None,
        "GENERATORS_PATH": None,
        "RUNNER": "sync",
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret",
        "NOTIFY_FILE": str(tmp_path / "outbox.jsonl"),
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
        # the tests' calendar: their jobs lie in December 2026, checked on entry against this "now"
        "PLANNING_NOW": PLANNING_NOW,
    }
    cfg.update(extra)
    return cfg


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return base_config(tmp_path, database_url)


@pytest.fixture(autouse=True)
def _grid_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load each test grid once per session (the app would load it at every create_app)."""
    monkeypatch.setattr(grid_service, "load", _cached_load)


@functools.lru_cache(maxsize=8)
def _cached_load(path: str) -> Any:
    return _real_load(path)


@pytest.fixture(scope="session")
def small_ring() -> Grid:
    return load_grid(SMALL_RING)


@pytest.fixture(scope="session")
def xss_grid() -> Grid:
    layers = dict(read_layers(SMALL_RING))
    customers = layers["customers"].copy()
    customers["name"] = [XSS_NAMES.get(i, n) for i, n in zip(customers["id"], customers["name"], strict=True)]
    layers["customers"] = customers
    nodes = layers["nodes"].copy()
    nodes.loc[nodes["id"] == "R2", "name"] = "<b onmouseover=alert(3)>R2</b>"
    layers["nodes"] = nodes
    return Grid.from_layers(layers)


def _is_pages_test(request: pytest.FixtureRequest) -> bool:
    return Path(str(request.node.path)).name.startswith("test_pages")


@pytest.fixture
def app(request: pytest.FixtureRequest, app_config: dict[str, Any]) -> Any:
    if _is_pages_test(request):
        yield pages_app(request.getfixturevalue("small_ring"))
        return
    application = create_app(app_config, environ={})
    yield application
    application.extensions["db"].engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def make_config(tmp_path: Path, database_url: str) -> Any:
    """``make_config(**overrides)``: the test configuration with changes."""
    return lambda **extra: base_config(tmp_path, database_url, **extra)


@pytest.fixture
def make_tokens() -> Any:
    return make_role_tokens


@pytest.fixture
def tokens(app: Any) -> dict[str, dict[str, str]]:
    return make_role_tokens(app)


def make_role_tokens(app: Any) -> dict[str, dict[str, str]]:
    """``{role: headers}`` with one user and Bearer token per role (crew user on crew K1)."""
    out: dict[str, dict[str, str]] = {}
    with app.app_context(), app.extensions["db"].session(actor="test") as s:
        s.add(Crew(id="K1", name="Crew one", depot_id="DEP1", skills=["switching", "cable"]))
        s.add(Crew(id="K2", name="Crew two", depot_id="DEP1", skills=["switching"]))
        s.flush()
        for role in ROLES:
            u = create_user(s, username=f"{role}-user", password="correct horse", role=role,
                            crew_id="K1" if role == "crew" else None)
            out[role] = {"Authorization": f"Bearer {issue_token(s, u)}"}
    return out


# -- an app with a road network (dispatch tests) -----------------------------------------


def lattice_roads(path: Path) -> Path:
    """A two-way street lattice every 0.001 deg over the small ring (about 80-110 m blocks)."""
    import networkx as nx
    import osmnx as ox

    g = nx.MultiDiGraph(crs="EPSG:4326")
    xs = [7.416 + i * 0.001 for i in range(19)]
    ys = [43.726 + j * 0.001 for j in range(15)]
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            g.add_node(i * 100 + j, x=x, y=y)
    for i in range(len(xs)):
        for j in range(len(ys)):
            for di, dj, metres in ((1, 0, 80.0), (0, 1, 111.0)):
                if i + di < len(xs) and j + dj < len(ys):
                    a, b = i * 100 + j, (i + di) * 100 + j + dj
                    for u, v in ((a, b), (b, a)):
                        g.add_edge(u, v, length=metres, travel_time=metres / 8.0, highway="residential", oneway=False)
    ox.save_graphml(g, path)
    return path


@pytest.fixture
def routed_app(tmp_path: Path, make_config: Any) -> Any:
    roads = lattice_roads(tmp_path / "roads.graphml")
    app = create_app(make_config(ROADS_PATH=str(roads), LOAD_ROADS=True, ROUTING_TIME_LIMIT_S=2.0),
                     environ={})
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def rclient(routed_app: Any) -> Any:
    return routed_app.test_client()


@pytest.fixture
def rtokens(routed_app: Any, make_tokens: Any) -> Any:
    return make_tokens(routed_app)


#: The workflow steps that take a planned outage to published, and a role that may take each.
TO_PUBLISHED = (("review", "planner"), ("approve", "planner_lead"), ("publish", "planner"))


@pytest.fixture
def publish(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``publish(client, tokens, outage_id, now=ISO)``: review, approve (planner lead) and publish
    the outage with the workflow's clock at ``now``; returns the last answer's JSON."""

    def run(client: Any, tokens: dict[str, dict[str, str]], outage_id: int, *, now: str) -> Any:
        monkeypatch.setattr("app.api.workflow.utc_now", lambda: datetime.fromisoformat(now))
        version = client.get(f"/api/outages/{outage_id}", headers=tokens["planner"]).json["version"]
        out = None
        for action, role in TO_PUBLISHED:
            r = client.post(f"/api/outages/{outage_id}/{action}", json={"version": version}, headers=tokens[role])
            assert r.status_code == 200, (action, r.json)
            out, version = r.json, r.json["version"]
        return out

    return run
