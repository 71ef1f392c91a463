"""The app served by a real WSGI server on a free loopback port, for concurrency tests.

Also used by ``bench/bench_writes.py``. ``serve_in_thread(app)`` serves an app of this process (a threaded werkzeug server);
``serve_in_process(config)`` starts another Python process that builds its own app from
``config`` (run as ``python live_server.py <config-json> <port>``), so two processes share
only the database, as two production app processes do.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Yield the base URL of ``app`` served on 127.0.0.1 by a threaded server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def together(n: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """``call(0..n-1)`` from ``n`` threads released at the same moment (a barrier)."""
    barrier = threading.Barrier(n)

    def run(i: int) -> requests.Response:
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_process(config: dict[str, Any], *, timeout_s: float = 60.0) -> Iterator[str]:
    """Yield the base URL of an app built from ``config`` in a child process."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__)), json.dumps(config), str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the app process did not start (exit {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _main(config_json: str, port: str) -> None:
    sys.path.insert(0, str(ROOT))
    from app import create_app

    app = create_app(json.loads(config_json), environ={})
    make_server("127.0.0.1", int(port), app, threaded=True).serve_forever()


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
