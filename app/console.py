"""``outage``: the one command a utility's IT runs (the wheel's console script).

::

    outage db upgrade                 # Alembic migrations shipped in the package
    outage demo seed                  # demo users (passwords printed once), crews, jobs
    outage run --host 0.0.0.0 --port 8000 --threads 8    # one app process (waitress)
    outage worker                     # one RQ worker for background runs (needs REDIS_URL)
    outage users create NAME --role planner
    outage notify send-due            # cron it every minute
    outage runs reap                  # fail runs whose process stopped heartbeating (safe while serving)

Configuration is the service's own (``app/config.py``, ``docs/deploy.md``): ``OUTAGE_*``
environment variables, ``DATABASE_URL``, ``REDIS_URL``, the instance folder's
``config.py``. A bad value stops the command with a message naming the key. The
maintenance commands (``db``, ``demo``, ``users``, ``notify``, ``runs``) are the app's
Flask commands; they never load the road network.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from app import create_app, settings
from app.cli import db_cli, demo_cli, notify_cli, runs_cli, users_cli
from app.config import ConfigError

log = logging.getLogger(__name__)

#: The forwarded headers waitress trusts from ``--trusted-proxy``.
PROXY_HEADERS = "x-forwarded-for x-forwarded-host x-forwarded-port x-forwarded-proto"


def _maintenance_app() -> Flask:
    """The app the maintenance commands run in: the grid, no road network."""
    return _checked(create_app, {"LOAD_ROADS": False})


def _checked(build: Any, *args: Any) -> Any:
    """Call ``build``; a configuration error becomes a one-line message and exit status 1."""
    try:
        return build(*args)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None


@click.group(help=__doc__.split("\n\n")[0])
def cli() -> None:
    """The ``outage`` command group."""


for group in (db_cli, demo_cli, users_cli, notify_cli, runs_cli):
    cli.add_command(group)


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="request threads of this process")
@click.option("--trusted-proxy", default=None, metavar="ADDRESS",
              help="address of the TLS reverse proxy whose X-Forwarded-* headers are believed ('*': any)")
def run(host: str, port: int, threads: int, trusted_proxy: str | None) -> None:
    """Serve the app with waitress: one process; start several behind a load balancer.

    With the in-process thread runner (no REDIS_URL) the runs an earlier process of this
    host left queued or running are first marked failed (those of live processes are
    left); with RQ they belong to the workers and ``outage runs reap``.
    """
    import waitress

    from app.runs import recover

    app = _checked(create_app)
    if app.config["RUNNER"] == "thread":
        report = recover(app)
        click.echo(f"{len(report.failed)} unfinished run(s) of a previous process marked failed")
    proxy: dict[str, Any] = {}
    if trusted_proxy:
        proxy = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": PROXY_HEADERS,
                 "clear_untrusted_proxy_headers": True}
    click.echo(f"outage: serving on http://{host}:{port} ({threads} threads, runner {app.config['RUNNER']})")
    waitress.serve(app, host=host, port=port, threads=threads, ident="outage", **proxy)


@cli.command("worker")
@click.option("--queue", "queue_name", default=None, help="RQ queue (default: RQ_QUEUE, 'outage')")
@click.option("--burst", is_flag=True, help="exit when the queue is empty")
@click.option("--fork/--no-fork", default=False, show_default=True,
              help="run each job in a forked child (isolated, but loads the grid per job)")
def worker(queue_name: str | None, burst: bool, fork: bool) -> None:
    """Execute background runs (plans, dispatches) queued on Redis by the app processes.

    Without --fork the worker keeps one app per configuration, so it reads the grid once
    and not per job; a job that crashes the process takes the worker down with it, so
    run workers under a supervisor that restarts them (compose, systemd).
    """
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue, SimpleWorker, Worker

    cfg = _checked(settings)
    if not cfg.get("REDIS_URL"):
        raise click.ClickException("outage worker needs REDIS_URL (the Redis the app processes queue runs on)")
    connection = Redis.from_url(cfg["REDIS_URL"])
    try:
        connection.ping()
    except RedisConnectionError as exc:
        raise click.ClickException(f"cannot reach Redis at REDIS_URL: {exc}") from None
    queue = Queue(queue_name or cfg["RQ_QUEUE"], connection=connection)
    worker_class = Worker if fork else SimpleWorker
    worker_class([queue], connection=connection).work(burst=burst, logging_level="INFO")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``outage`` console script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cli.main(args=argv, prog_name="outage", obj=ScriptInfo(create_app=_maintenance_app, set_debug_flag=False))


if __name__ == "__main__":
    main()
