"""Benchmark: the planner page with every customer, in headless Chromium.

Measures, for the demo city (``outage_demo/monaco.gpkg``) or, when it is absent or
``--synthetic N`` is given, a synthetic grid of about N customers:

- server: seconds to build the planner map (folium) and the customers GeoJSON;
- sizes: the planner page HTML plus its map script (what the issue calls the page's
  HTML: the map script is served as a file only because of the CSP), and the data
  the map fetches by URL (grid layers as GeoJSON, customers as columns; preloaded);
- browser (Debian's chromium via Playwright, fresh context each run, median of
  ``--runs``): time from navigation start to DOMContentLoaded, to the grid and the
  important customers drawn, and to every customer in the cluster layer with the
  clusters on screen ("first render" of the whole map).

Run: ``.venv/bin/python bench/bench_map.py [--grid PATH | --synthetic 23000] [--runs 5] [--json]``.
Targets (issue 8): HTML <= 5 MB, first render <= 2 s.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_babel import Babel  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from gis import Grid, load_grid  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WAIT_ALL = """() => window.OutageMap && OutageMap.maps.planner && ['lines', 'equipment', 'switches', 'substations', 'important', 'customers', 'roads']
    .filter(k => OutageMap.maps.planner.layers[k]).every(k => OutageMap.loadedAt['planner:' + k] !== undefined)"""
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def synthetic(n_customers: int) -> Grid:
    from gis.synthetic import make_grid

    # about 4 customers per distribution room, 2 rooms per RMU, ~6 nodes per RMU
    return make_grid(max(40, int(n_customers * 0.75)), seed=1)


def app_for(grid: Grid, roads: object | None = None) -> Flask:
    app = Flask("bench_map", static_folder=str(ROOT / "app" / "static"), static_url_path="/static", template_folder=str(ROOT / "app" / "templates"))
    app.config.update(PAGES_BASE_TEMPLATE="pages/_standalone.html", LANGUAGES=("en", "zh"),
                      BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "app" / "translations"))
    Babel(app, locale_selector=lambda: "en")
    app.extensions["grid"] = grid
    if roads is not None:
        app.extensions["roads"] = roads
    from app.pages import bp

    app.register_blueprint(bp)
    return app


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(ROOT / "outage_demo" / "monaco.gpkg"))
    ap.add_argument("--synthetic", type=int, default=None, help="use a synthetic grid of about N customers")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--roads", default=str(ROOT / "outage_demo" / "monaco_roads.graphml"),
                    help="road GraphML drawn under the grid, as the service does (demo city only; '' for none)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    if args.synthetic is None and Path(args.grid).exists():
        grid, source = load_grid(args.grid), args.grid
    else:
        n = args.synthetic or 23000
        grid, source = synthetic(n), f"synthetic (make_grid, ~{n} customers)"
    load_s = time.perf_counter() - t0
    roads = None
    if args.synthetic is None and args.roads and Path(args.roads).exists():
        from app.services.grid import load_roads

        roads = load_roads(args.roads, grid)
    app = app_for(grid, roads)
    client = app.test_client()

    t0 = time.perf_counter()
    page = client.get("/planner")
    build_s = time.perf_counter() - t0
    html = page.data
    script_url = next(line.split('"')[1] for line in html.decode().splitlines() if "/pages/map/planner.js" in line)
    script = client.get(script_url).data
    t0 = time.perf_counter()
    customers = client.get("/pages/data/customers.geojson").data
    customers_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    columns = client.get("/pages/data/customers.columns.json").data
    layers = {k: client.get(f"/pages/data/grid/{k}.geojson").data for k in ("lines", "equipment", "switches", "substations", "important")}
    if roads is not None:
        layers["roads"] = client.get("/pages/data/grid/roads.geojson").data
    data_s = time.perf_counter() - t0

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/planner"

    from playwright.sync_api import sync_playwright

    runs: list[dict[str, float]] = []
    external: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(args.runs):
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            pg = ctx.new_page()
            pg.on("request", lambda r: external.append(r.url) if not r.url.startswith("http://127.0.0.1") else None)
            pg.goto(url, wait_until="load")
            pg.wait_for_function(WAIT_ALL, timeout=60000)
            t = pg.evaluate(
                """() => { const n = performance.getEntriesByType('navigation')[0];
                           const at = OutageMap.loadedAt;
                           const grid = ['lines', 'equipment', 'switches', 'substations', 'important', 'roads']
                               .filter(k => OutageMap.maps.planner.layers[k]).map(k => at['planner:' + k]);
                           return {dcl: n.domContentLoadedEventEnd, grid: Math.max(...grid),
                                   all: Math.max(...grid, at['planner:customers']),
                                   customers: OutageMap.loaded['planner:customers']}; }"""
            )
            runs.append({"dcl_s": t["dcl"] / 1000, "grid_drawn_s": t["grid"] / 1000, "all_customers_s": t["all"] / 1000, "customers": t["customers"]})
            ctx.close()
        browser.close()
    server.shutdown()

    med = {k: round(statistics.median(r[k] for r in runs), 3) for k in ("dcl_s", "grid_drawn_s", "all_customers_s")}
    out = {
        "grid": source,
        "roads_layer": roads is not None,
        "customers": int(len(grid.customers)),
        "nodes": int(len(grid.nodes)),
        "lines": int(len(grid.lines)),
        "grid_load_s": round(load_s, 2),
        "server_first_page_s": round(build_s, 3),
        "server_customers_geojson_s": round(customers_s, 3),
        "page_html_bytes": len(html),
        "map_script_bytes": len(script),
        "html_total_mb": round((len(html) + len(script)) / 1e6, 3),
        "server_map_data_s": round(data_s, 3),
        "customers_geojson_mb": round(len(customers) / 1e6, 3),
        "customers_columns_mb": round(len(columns) / 1e6, 3),
        "customers_columns_gzip_mb": round(len(gzip.compress(columns, 5)) / 1e6, 3),
        "grid_layers_mb": {k: round(len(v) / 1e6, 3) for k, v in layers.items()},
        "browser_runs": args.runs,
        "browser_median": med,
        "browser_all_runs": runs,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "customers_drawn": runs[-1]["customers"],
        "external_requests": sorted(set(external)),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
