"""Benchmark: exactly-once writes under concurrency (issue 17).

    .venv/bin/python bench/bench_writes.py                    # SQLite, 5 trials
    .venv/bin/python bench/bench_writes.py --trials 20 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The service runs twice (two apps, each behind a threaded werkzeug server on a free
loopback port) on one database: a fresh SQLite file, or a fresh schema of the
PostgreSQL database named by ``--database-url`` (dropped at the end). Per trial:

* **creates**: 20 clients ``POST /api/jobs`` without an id at the same moment (a barrier),
  alternating between the servers. Every answer should be 201 with its own id; a 409 is
  a false conflict.
* **same key**: 10 clients send the same body with the same ``Idempotency-Key`` at the
  same moment. Exactly one job should be created (executions = jobs the burst created)
  and all 10 answers should be identical (replays carry ``Idempotent-Replayed``).

Prints one JSON object with the totals over the trials and the wall time.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests" / "app"))

from live_server import serve_in_thread, together  # noqa: E402  (the tests' loopback server)

from app import create_app  # noqa: E402
from app.auth import create_user, issue_token  # noqa: E402
from app.cli import upgrade  # noqa: E402

BODY = {"equipment": ["R2"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
        "latest": "2026-12-04T18:00:00+01:00"}


@contextmanager
def database(url: str | None, folder: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file in ``folder`` or a new schema at ``url``."""
    if url is None:
        path = f"sqlite:///{folder / 'bench.db'}"
        upgrade(path)
        yield path
        return
    schema = f"bench_writes_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"
    try:
        upgrade(scoped)
        yield scoped
    finally:
        with engine.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def total_jobs(base: str, headers: dict[str, str]) -> int:
    return int(requests.get(f"{base}/api/jobs?limit=1", headers=headers, timeout=30).json()["total"])


def trial(bases: list[str], headers: dict[str, str], n: int) -> dict[str, int]:
    """One burst of 20 creates and one of 10 same-key requests; their counts."""
    creates = together(20, lambda i: requests.post(f"{bases[i % 2]}/api/jobs", json=BODY, headers=headers, timeout=60))
    before = total_jobs(bases[0], headers)
    keyed = {**headers, "Idempotency-Key": f"bench-{n}"}
    same = together(10, lambda i: requests.post(f"{bases[i % 2]}/api/jobs", json=BODY, headers=keyed, timeout=60))
    return {
        "creates_201": sum(r.status_code == 201 for r in creates),
        "creates_false_409": sum(r.status_code == 409 for r in creates),
        "creates_distinct_ids": len({r.json()["id"] for r in creates if r.status_code == 201}),
        "same_key_executions": total_jobs(bases[0], headers) - before,
        "same_key_409": sum(r.status_code == 409 for r in same),
        "same_key_distinct_answers": len({(r.status_code, r.text) for r in same}),
        "same_key_trials_not_exactly_once": int(total_jobs(bases[0], headers) - before != 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--database-url", default=None, help="a PostgreSQL URL (default: a SQLite file)")
    args = ap.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, Path(tmp)) as url, ExitStack() as stack:
        config = {"DATABASE_URL": url, "INSTANCE_PATH": str(Path(tmp) / "instance"), "SECRET_KEY": "bench",
                  "GRID_PATH": str(ROOT / "tests" / "data" / "small_ring"), "LOAD_ROADS": False,
                  "GENERATORS_PATH": None, "RUNNER": "sync", "REDIS_URL": None}
        apps = [create_app(config, environ={}) for _ in range(2)]
        with apps[0].app_context(), apps[0].extensions["db"].session(actor="bench") as s:
            planner = create_user(s, username="bench-planner", password="bench password", role="planner")
            headers = {"Authorization": f"Bearer {issue_token(s, planner)}"}
        bases = [stack.enter_context(serve_in_thread(a)) for a in apps]
        totals: dict[str, int] = {}
        for n in range(args.trials):
            for k, v in trial(bases, headers, n).items():
                totals[k] = totals.get(k, 0) + v
        for a in apps:
            a.extensions["db"].engine.dispose()
    backend = "postgresql" if args.database_url else "sqlite"
    print(json.dumps({"backend": backend, "trials": args.trials, **totals,
                      "wall_s": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
