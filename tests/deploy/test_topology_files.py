"""Dockerfile, compose.yaml and the proxy config agree with the package they deploy.

Docker is not installed where the suite runs, so these files are checked by reading:
every package the wheel holds is copied into the image, the image installs the wheel
with the tested pins as a non-root user, and every process compose starts is an
``outage`` command that exists, on one shared database, Redis and secret.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml

from app.config import DEFAULTS
from app.console import cli

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines]


def test_image_copies_every_package_the_wheel_holds() -> None:
    copied = {src.rstrip("/") for op, args in dockerfile_instructions() if op == "COPY" and "--from" not in args
              for src in args.split()[:-1]}
    packages = {p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, sorted(packages - copied)
    assert {"pyproject.toml", PYPROJECT["project"]["readme"], "requirements/runtime.txt"} <= copied


def test_image_installs_the_wheel_with_the_tested_pins_as_a_non_root_user() -> None:
    steps = dockerfile_instructions()
    froms = [args for op, args in steps if op == "FROM"]
    assert len(froms) == 2 and all("${PYTHON_IMAGE}" in f for f in froms)
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE)
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "pip wheel" in runs and "-c /tmp/runtime.txt /tmp/wheels/outage_planner-*.whl" in runs
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, (op, _) in enumerate(steps) if op == "USER")
    assert all(op != "RUN" for op, _ in steps[last_user:])  # nothing runs as root after it
    (cmd,) = [args for op, args in steps if op == "CMD"]
    assert cmd.startswith('["outage", "run"')


def outage_command(service: dict) -> list[str]:
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        command = next(shlex.split(part) for part in command[2].split(";") if "outage" in part)
        command = command[command.index("outage"):]
    return command


def test_every_compose_process_is_an_outage_command_that_exists() -> None:
    services = COMPOSE["services"]
    used = {name: outage_command(s) for name, s in services.items() if name not in ("db", "redis", "proxy")}
    assert set(used) == {"migrate", "app", "worker", "notify"}
    for name, command in used.items():
        assert command[0] == "outage", name
        sub = cli.get_command(None, command[1])  # type: ignore[arg-type]
        assert sub is not None, f"{name}: outage {command[1]}"
        if hasattr(sub, "commands"):
            assert command[2] in sub.commands, f"{name}: outage {' '.join(command[1:3])}"
    assert used["migrate"][1:] == ["db", "upgrade"]
    assert used["app"][1] == "run" and used["worker"][1] == "worker"


def test_app_and_workers_share_database_redis_and_secret_and_scale_by_replicas() -> None:
    services = COMPOSE["services"]
    envs = [services[n]["environment"] for n in ("migrate", "app", "worker", "notify")]
    for key in ("DATABASE_URL", "REDIS_URL", "OUTAGE_SECRET_KEY"):
        assert len({e[key] for e in envs}) == 1, key
    assert envs[0]["DATABASE_URL"].startswith("postgresql+psycopg://") and "@db:5432/" in envs[0]["DATABASE_URL"]
    assert envs[0]["REDIS_URL"].startswith("redis://redis:")
    assert "postgis" in services["db"]["image"]
    for name in ("app", "worker"):
        assert "replicas" in services[name]["deploy"]
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    port = services["app"]["command"][services["app"]["command"].index("--port") + 1]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f"http://app:{port}" in nginx
    body_mib = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    assert body_mib * 1024 * 1024 == DEFAULTS["MAX_CONTENT_LENGTH"]
