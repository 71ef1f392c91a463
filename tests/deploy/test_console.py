"""The ``outage`` command: its commands, clear errors, and one app process served by waitress."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, text

from app import settings
from app.cli import upgrade
from app.console import _maintenance_app, cli

ROOT = Path(__file__).resolve().parents[2]
SMALL_RING = ROOT / "tests" / "data" / "small_ring"


def invoke(args: list[str], env: dict[str, str]):
    """Run ``outage ARGS`` in-process with exactly these OUTAGE_* / URL variables."""
    cleared = {k: None for k in os.environ if k.startswith("OUTAGE_") or k in ("DATABASE_URL", "REDIS_URL")}
    return CliRunner().invoke(cli, args, obj=ScriptInfo(create_app=_maintenance_app, set_debug_flag=False),
                              env=cleared | env)


def base_env(tmp_path: Path) -> dict[str, str]:
    return {"OUTAGE_INSTANCE_PATH": str(tmp_path / "instance"), "OUTAGE_GRID_PATH": str(SMALL_RING),
            "OUTAGE_LOAD_ROADS": "false", "OUTAGE_GENERATORS_PATH": "", "OUTAGE_SECRET_KEY": "console-test"}


def test_help_lists_the_service_and_maintenance_commands(tmp_path: Path) -> None:
    result = invoke(["--help"], base_env(tmp_path))
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {"run", "worker", "db", "demo", "users", "notify", "runs"}


def test_worker_without_redis_url_says_so(tmp_path: Path) -> None:
    result = invoke(["worker"], base_env(tmp_path))
    assert result.exit_code == 1
    assert "outage worker needs REDIS_URL" in result.output
    assert "Traceback" not in result.output


def test_worker_with_unreachable_redis_says_so(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = invoke(["worker", "--burst"], base_env(tmp_path) | {"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert result.exit_code == 1
    assert "cannot reach Redis at REDIS_URL" in result.output


def test_a_bad_setting_stops_a_command_with_the_key_named(tmp_path: Path) -> None:
    result = invoke(["db", "upgrade"], base_env(tmp_path) | {"OUTAGE_RUNNER": "bogus"})
    assert result.exit_code == 1
    assert "RUNNER must be thread, rq or sync, got 'bogus'" in result.output
    assert "Traceback" not in result.output


def test_db_upgrade_migrates_the_configured_database(tmp_path: Path) -> None:
    db = tmp_path / "outage.db"
    result = invoke(["db", "upgrade"], base_env(tmp_path) | {"DATABASE_URL": f"sqlite:///{db}"})
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as c:
        tables = set(c.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
    engine.dispose()
    assert {"alembic_version", "users", "runs", "plans"} <= tables


def test_settings_take_the_instance_folder_from_the_environment(tmp_path: Path) -> None:
    cfg = settings(environ={"OUTAGE_INSTANCE_PATH": str(tmp_path / "inst"), "OUTAGE_GRID_PATH": str(SMALL_RING)})
    assert cfg["INSTANCE_PATH"] == str(tmp_path / "inst")
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'outage.db'}"
    assert (tmp_path / "inst" / "secret_key").read_text().strip() == cfg["SECRET_KEY"]
    given = settings({"INSTANCE_PATH": str(tmp_path / "given")},
                     environ={"OUTAGE_INSTANCE_PATH": str(tmp_path / "inst"), "OUTAGE_GRID_PATH": str(SMALL_RING)})
    assert given["INSTANCE_PATH"] == str(tmp_path / "given")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


@pytest.mark.slow
def test_run_serves_the_app_and_fails_runs_a_dead_process_left(tmp_path: Path) -> None:
    db = tmp_path / "outage.db"
    upgrade(f"sqlite:///{db}")
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as c:
        c.execute(text("INSERT INTO runs (id, kind, status, progress, message, created_at) "
                       "VALUES ('orphan', 'plan', 'running', 0.5, '', CURRENT_TIMESTAMP)"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGE_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env |= base_env(tmp_path) | {"DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.console", "run", "--port", str(port), "--threads", "2"],
                                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert status == 200 and b'"runner":"thread"' in body.replace(b" ", b"")
        assert get(f"http://127.0.0.1:{port}/static/vendor/leaflet-1.9.4/dist/leaflet.js")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    output = log.read_text()
    assert "1 unfinished run(s) of a previous process marked failed" in output
    assert f"serving on http://127.0.0.1:{port}" in output
    with engine.connect() as c:
        assert c.scalar(text("SELECT status FROM runs WHERE id = 'orphan'")) == "failed"
    engine.dispose()
