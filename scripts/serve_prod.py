"""The production topology on one machine, without containers (``make serve-prod``).

Several app processes (``outage run``, waitress) and several RQ workers (``outage
worker``) share one PostgreSQL database, one Redis and one grid file — the same
processes ``compose.yaml`` runs, here as plain child processes::

    .venv/bin/python scripts/serve_prod.py                 # 2 apps on :8001 :8002, 2 workers
    .venv/bin/python scripts/serve_prod.py --apps 3 --workers 4 --port 9001 --no-seed

Before starting them it creates the database when it is missing, migrates it
(``outage db upgrade``) and seeds the demo users, crews and jobs (``outage demo
seed``, passwords printed once). It prints ``ready: URL ...`` when every app answers
``/healthz``, then stays in the foreground; Ctrl-C (or SIGTERM) stops every process.
If one process dies, the others are stopped and the exit status is 1.

The processes inherit this environment (``OUTAGE_*``, ``docs/deploy.md``); the
options below set ``DATABASE_URL`` and ``REDIS_URL``. On a loopback address the
session cookie is sent over plain HTTP (``OUTAGE_SESSION_COOKIE_SECURE=false``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = [sys.executable, "-m", "app.console"]
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/outage"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
STOP_GRACE_S = 10.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=2, help="app processes (default 2)")
    ap.add_argument("--workers", type=int, default=2, help="RQ worker processes (default 2)")
    ap.add_argument("--host", default="127.0.0.1", help="address the apps listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8001, help="port of the first app; the next ones follow (default 8001)")
    ap.add_argument("--threads", type=int, default=8, help="request threads per app process (default 8)")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB,
                    help=f"PostgreSQL URL (default $DATABASE_URL, else {DEFAULT_DB})")
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS,
                    help=f"Redis URL (default $REDIS_URL, else {DEFAULT_REDIS})")
    ap.add_argument("--seed", action=argparse.BooleanOptionalAction, default=True,
                    help="seed demo users, crews and jobs (default yes)")
    ap.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for /healthz (default 120)")
    args = ap.parse_args(argv)
    if args.apps < 1 or args.workers < 1:
        ap.error("--apps and --workers must be at least 1")
    return args


def child_environ(args: argparse.Namespace) -> dict[str, str]:
    """This environment plus the shared database and Redis; plain-HTTP cookies on loopback."""
    env = dict(os.environ, DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, OUTAGE_RUNNER="rq")
    if args.host in ("127.0.0.1", "localhost", "::1"):
        env.setdefault("OUTAGE_SESSION_COOKIE_SECURE", "false")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named by ``url`` when it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if not exists:
                c.execute(text(f'CREATE DATABASE "{target.database}"'))
                print(f"created database {target.database}", flush=True)
    except OperationalError as exc:
        raise SystemExit(f"cannot reach PostgreSQL at {target.render_as_string(hide_password=True)}: {exc.orig}") from None
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisConnectionError as exc:
        raise SystemExit(f"cannot reach Redis at {url}: {exc}") from None


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def label(proc: subprocess.Popen[bytes]) -> str:
    """The command line of a child process, for messages."""
    args = proc.args
    return " ".join(str(a) for a in args) if isinstance(args, list) else str(args)


def wait_ready(procs: list[subprocess.Popen[bytes]], urls: list[str], timeout_s: float) -> None:
    """Block until every app answers ``/healthz``; raise SystemExit when a process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    waiting = list(urls)
    while waiting:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise SystemExit(f"{label(dead[0])} exited with status {dead[0].returncode} during start-up")
        if time.monotonic() > deadline:
            raise SystemExit(f"no answer from {', '.join(waiting)} within {timeout_s:.0f} s")
        waiting = [u for u in waiting if not healthy(u)]
        if waiting:
            time.sleep(0.3)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process still running, then SIGKILL what is left after the grace period."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def supervise(procs: list[subprocess.Popen[bytes]]) -> int:
    """Wait until one process exits (status 1) or this script is interrupted (status 0)."""
    try:
        while True:
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                print(f"{label(dead[0])} exited with status {dead[0].returncode}; stopping the others",
                      file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def step(args: list[str], env: dict[str, str]) -> None:
    """Run one preparation command; a failure stops the script with its command line."""
    done = subprocess.run([*CONSOLE, *args], env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"outage {' '.join(args)} failed with status {done.returncode}")


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops everything like Ctrl-C
    env = child_environ(args)
    ensure_database(args.database_url)
    check_redis(args.redis_url)
    step(["db", "upgrade"], env)
    if args.seed:
        step(["demo", "seed"], env)
    ports = [args.port + i for i in range(args.apps)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            procs.append(subprocess.Popen([*CONSOLE, "run", "--host", args.host, "--port", str(port),
                                           "--threads", str(args.threads)], env=env, cwd=ROOT))
        for _ in range(args.workers):
            procs.append(subprocess.Popen([*CONSOLE, "worker"], env=env, cwd=ROOT))
        urls = [url_of(args.host, port) for port in ports]
        wait_ready(procs, urls, args.ready_timeout)
        print(f"ready: {' '.join(urls)} ({args.workers} RQ workers)", flush=True)
        return supervise(procs)
    except KeyboardInterrupt:
        return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):  # a second Ctrl-C must not cut the shutdown short
            signal.signal(sig, signal.SIG_IGN)
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
