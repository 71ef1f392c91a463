"""Travel-time matrix speed: ``RoadNetwork.matrix`` vs plain ``scipy.sparse.csgraph.dijkstra``.

    .venv/bin/python bench/bench_matrix.py [--roads outage_demo/monaco_roads.graphml] [-n 500]

Both run in the same process on the same CSR graph, interleaved, and the
median of ``--repeat`` runs is compared:

* baseline: ``dijkstra(csr, indices=500 nodes)[:, 500 nodes]`` (node to node);
* ours: ``roads.matrix(points, points)`` for 500 random points snapped to edges
  (exact partial edges, one-way streets), points snapped beforehand (as
  access points are, at load time).

Target: ours <= 1.2 x baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from routing import load_roads  # noqa: E402

DEFAULT_ROADS = Path("outage_demo/monaco_roads.graphml")
# the OSM extract beside the checkout (../shared/data), when the city is not built
FALLBACK_ROADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "monaco.osm.pbf"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--roads", default=str(DEFAULT_ROADS if DEFAULT_ROADS.exists() else FALLBACK_ROADS)
    )
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    roads = load_roads(args.roads)
    rng = np.random.default_rng(args.seed)
    # random points near random edges' midpoints: all on the network, mostly mid-edge
    edges = rng.choice(roads.num_edges, args.n, replace=args.n > roads.num_edges)
    mids = []
    for e in edges:
        c = roads.edge_lonlat[e]
        k = rng.integers(0, len(c) - 1)
        t = rng.uniform(0.05, 0.95)
        mids.append(tuple(c[k] + t * (c[k + 1] - c[k]) + rng.normal(0, 5e-5, 2)))
    pts = roads.snap_many(mids)
    nodes = rng.choice(roads.num_nodes, min(args.n, roads.num_nodes), replace=False)
    if len(nodes) < args.n:
        nodes = rng.choice(roads.num_nodes, args.n, replace=True)

    def baseline() -> np.ndarray:
        return dijkstra(roads.csr, directed=True, indices=nodes)[:, nodes]

    def ours() -> np.ndarray:
        return roads.matrix(pts, pts)

    baseline()
    ours()  # warm up
    tb, to = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        baseline()
        tb.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m = ours()
        to.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    roads.matrix(pts, pts, with_length=True)
    t_len = time.perf_counter() - t0
    med_b, med_o = statistics.median(tb), statistics.median(to)
    out = {
        "roads": args.roads,
        "nodes": roads.num_nodes,
        "edges": roads.num_edges,
        "n": args.n,
        "repeat": args.repeat,
        "scipy_dijkstra_ms_median": round(med_b * 1000, 2),
        "matrix_ms_median": round(med_o * 1000, 2),
        "ratio": round(med_o / med_b, 3),
        "scipy_dijkstra_ms_min": round(min(tb) * 1000, 2),
        "matrix_ms_min": round(min(to) * 1000, 2),
        "ratio_min": round(min(to) / min(tb), 3),
        "matrix_with_length_ms": round(t_len * 1000, 2),
        "finite": bool(np.isfinite(m).all()),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
