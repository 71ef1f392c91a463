"""Topology engine benchmark: load+index time, peak memory, and outage queries vs pandapower.

    .venv/bin/python bench/bench_topology.py --nodes 100000 1000000 [--queries 200] [--pp-queries 5]
    .venv/bin/python bench/bench_topology.py --bulk --nodes 100000 1000000 [--repeats 5]

For each size: a synthetic open-ring grid (gis.synthetic) is written to a
GeoPackage; a fresh process loads it (read + validate + index) and reports the
time and its peak resident memory; then the median time of
``affected_customers`` with one switch open and with three switches open plus
one tie closed, and the same questions answered by pandapower's
``create_nxgraph(respect_switches=True)`` + ``unsupplied_buses`` on the same
grid converted with ``gis.to_pandapower``, as a ratio measured in the same run.
Both sides are checked to give the same customers.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"


def _load_child(path: str) -> None:
    """Run in a fresh process: load the grid, print time and peak RSS as JSON."""
    from gis import load_grid

    t = time.perf_counter()
    grid = load_grid(path)
    load_s = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": load_s, "peak_rss_mb": rss_mb, "nodes": len(grid.nodes), "sections": grid.summary()["sections"]}))


def _median_ms(fn, cases) -> float:
    times = []
    for c in cases:
        t = time.perf_counter()
        fn(c)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench(n: int, queries: int, pp_queries: int, seed: int) -> dict:
    from gis import load_grid, to_pandapower, write_grid
    from gis.synthetic import make_layers

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"synthetic_{n}.gpkg"
    t = time.perf_counter()
    layers = make_layers(n, seed=seed)
    make_s = time.perf_counter() - t
    t = time.perf_counter()
    write_grid(layers, path)
    write_s = time.perf_counter() - t
    del layers
    child = subprocess.run(
        [sys.executable, __file__, "--load-child", str(path)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(child.stdout.strip().splitlines()[-1])

    grid = load_grid(path)
    rng = np.random.default_rng(seed)
    sw = grid.switches
    closed = sw["id"][~sw["normally_open"]].to_numpy()
    ties = sw["id"][sw["normally_open"]].to_numpy()
    one = [[s] for s in rng.choice(closed, queries, replace=False)]
    three = [(list(rng.choice(closed, 3, replace=False)), [rng.choice(ties)]) for _ in range(queries)]
    grid.affected_customers(open_switches=one[0])  # warm caches once
    one_ms = _median_ms(lambda c: grid.affected_customers(open_switches=c), one)
    three_ms = _median_ms(lambda c: grid.affected_customers(open_switches=c[0], close_switches=c[1]), three)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower.topology as top

        t = time.perf_counter()
        net = to_pandapower(grid)
        convert_s = time.perf_counter() - t
        sw_pos = {name: i for i, name in enumerate(net.switch["name"])}
        load_names = net.load["name"].to_numpy()
        base_closed = net.switch["closed"].to_numpy().copy()

        def pp_affected(opened, closed_ties=()):
            state = base_closed.copy()
            state[[sw_pos[s] for s in opened]] = False
            state[[sw_pos[s] for s in closed_ties]] = True
            net.switch["closed"] = state
            mg = top.create_nxgraph(net, respect_switches=True)
            dead = top.unsupplied_buses(net, mg=mg)
            return set(load_names[net.load["bus"].isin(dead).to_numpy()])

        pp_one, pp_three = [], []
        for c in one[:pp_queries]:
            t = time.perf_counter()
            got = pp_affected(c)
            pp_one.append((time.perf_counter() - t) * 1000)
            assert got == set(grid.affected_customers(open_switches=c)["id"]), c
        for o, cl in three[:pp_queries]:
            t = time.perf_counter()
            got = pp_affected(o, cl)
            pp_three.append((time.perf_counter() - t) * 1000)
            assert got == set(grid.affected_customers(open_switches=o, close_switches=cl)["id"]), (o, cl)
        net.switch["closed"] = base_closed
    pp_one_ms, pp_three_ms = statistics.median(pp_one), statistics.median(pp_three)
    return {
        "nodes": loaded["nodes"],
        "sections": loaded["sections"],
        "customers": len(grid.customers),
        "generate_s": round(make_s, 2),
        "write_gpkg_s": round(write_s, 2),
        "load_index_s": round(loaded["load_s"], 2),
        "peak_rss_mb": round(loaded["peak_rss_mb"]),
        "one_switch_ms": round(one_ms, 3),
        "three_open_one_tie_ms": round(three_ms, 3),
        "to_pandapower_s": round(convert_s, 2),
        "pandapower_one_switch_ms": round(pp_one_ms, 1),
        "pandapower_three_open_one_tie_ms": round(pp_three_ms, 1),
        "speedup_one_switch": round(pp_one_ms / one_ms),
        "speedup_three_open_one_tie": round(pp_three_ms / three_ms),
        "queries": queries,
        "pandapower_queries": pp_queries,
    }


def bulk(n: int, seed: int, repeats: int) -> list[dict]:
    """Study states with growing numbers of switches changed: the grid's own choice (``study``:
    tree for few changes, components pass for many), each path forced, and scipy's
    connected_components over the node graph (lines + closed switches, built per state) as the
    peer — all asked for the dead nodes, and checked to agree."""
    import scipy.sparse as sparse
    from scipy.sparse.csgraph import connected_components

    from gis.components import ComponentState
    from gis.synthetic import make_grid
    from gis.topology import State

    grid = make_grid(n, seed=seed)
    t = grid._topo
    rng = np.random.default_rng(seed)
    sw = grid.switches
    ties = np.flatnonzero(sw["normally_open"].to_numpy(dtype=bool))
    closed = np.flatnonzero(~sw["normally_open"].to_numpy(dtype=bool))
    busbar = np.flatnonzero((grid.nodes["kind"] == "busbar").to_numpy())
    line_a, line_b = t.line_from, t.line_to

    def peer(opened: np.ndarray, closing: np.ndarray) -> np.ndarray:
        on = ~t.sw_open
        on[opened] = False
        on[closing] = True
        a = np.concatenate([line_a, t.sw_from[on]])
        b = np.concatenate([line_b, t.sw_to[on]])
        g = sparse.csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(t.n_nodes, t.n_nodes))
        _, comp = connected_components(g, directed=False)
        return np.flatnonzero(~np.isin(comp, comp[busbar]))

    sizes = [(1, 0), (3, 1), (10, 0), (100, 10), (1000, 100), (3000, min(1000, len(ties))), (len(closed) // 2, len(ties))]
    rows = []
    for k_open, k_close in sizes:
        cases = [(rng.choice(closed, k_open, replace=False), rng.choice(ties, k_close, replace=False)) for _ in range(repeats)]

        def timed(fn, cases=cases):
            out = []
            for o, c in cases:
                t0 = time.perf_counter()
                fn(o, c)
                out.append((time.perf_counter() - t0) * 1000)
            return statistics.median(out)

        for o, c in cases[:2]:
            expected = peer(o, c)
            for state in (t.study(o, c), State(t, o, c), ComponentState(t, o, c)):
                assert np.array_equal(np.sort(grid._dead_node_idx(state)), expected), (k_open, k_close)
        auto = timed(lambda o, c: grid._dead_node_idx(t.study(o, c)))
        tree = timed(lambda o, c: grid._dead_node_idx(State(t, o, c)))
        comp = timed(lambda o, c: grid._dead_node_idx(ComponentState(t, o, c)))
        sci = timed(peer)
        rows.append({"nodes": t.n_nodes, "opened": k_open, "closed": k_close, "study_ms": round(auto, 2), "tree_ms": round(tree, 2),
                     "components_ms": round(comp, 2), "scipy_ms": round(sci, 2), "ratio_scipy_over_study": round(sci / auto, 1)})
    return rows


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--load-child":
        _load_child(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--pp-queries", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bulk", action="store_true", help="study states with many switches changed, against scipy")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if args.bulk:
        rows = [r for n in args.nodes for r in bulk(n, args.seed, args.repeats)]
        print("| nodes | opened | ties closed | study (ms) | tree (ms) | components (ms) | scipy (ms) | scipy / study |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['nodes']:,} | {r['opened']:,} | {r['closed']:,} | {r['study_ms']} | {r['tree_ms']} | {r['components_ms']} | {r['scipy_ms']} | {r['ratio_scipy_over_study']}x |")
        return
    rows = [bench(n, args.queries, args.pp_queries, args.seed) for n in args.nodes]
    print(json.dumps(rows, indent=1))
    print()
    print("| nodes | sections | customers | load+index (s) | peak RSS (MB) | 1 open (ms) | 3 open + 1 tie (ms) | pandapower 1 open (ms) | pandapower 3+1 (ms) | speed-up 1 | speed-up 3+1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['nodes']:,} | {r['sections']:,} | {r['customers']:,} | {r['load_index_s']} | {r['peak_rss_mb']:,} | "
            f"{r['one_switch_ms']} | {r['three_open_one_tie_ms']} | {r['pandapower_one_switch_ms']:,} | "
            f"{r['pandapower_three_open_one_tie_ms']:,} | {r['speedup_one_switch']:,}x | {r['speedup_three_open_one_tie']:,}x |"
        )


if __name__ == "__main__":
    main()
