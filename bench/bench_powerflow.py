"""Power-flow benchmark: the cost of checking one switching state, against pandapower in the same run.

    .venv/bin/python bench/bench_powerflow.py                        # demo city, every tie
    .venv/bin/python bench/bench_powerflow.py --grid mv_oberrhein    # pandapower's example net

For each normally-open tie of the grid, the make-before-break state "tie closed"
(two feeders in a loop: the smallest state that touches a feeder pair) is solved
by ``gis.powerflow.check_state_flow`` at one time and at the 96 quarter-hours of
a day (one batched solve), and by pandapower's ``runpp`` on the whole exported net
(``gis.to_pandapower``) at one time, with numba, and with lightsim2grid when it is
installed. Both sides are checked to agree on the highest line loading. Prints one
JSON object with medians (ms) and ratios pandapower / ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _grid(name: str) -> Any:
    from gis import load_grid

    if name == "mv_oberrhein":
        import pandapower.networks as pn

        from gis.pandapower_io import from_pandapower

        return from_pandapower(pn.mv_oberrhein(), name=name)
    return load_grid(name)


def _ms(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000.0


def bench(grid_name: str, limit: int) -> dict[str, Any]:
    import pandapower as pp

    from gis import to_pandapower
    from gis.powerflow import LINE, check_state_flow, network

    grid = _grid(grid_name)
    at = datetime(2026, 12, 8, 18, 30, tzinfo=grid.timezone)
    day = [at.replace(hour=0, minute=0) + timedelta(minutes=15 * k) for k in range(96)]
    ties = grid.switches.loc[grid.switches["normally_open"].astype(bool), "id"].tolist()[:limit]
    t_net = _ms(lambda: network(grid))
    net = to_pandapower(grid, at=at)
    names = {str(n): i for i, n in net.switch["name"].items()}
    has_ls, ls_note = True, ""
    try:
        import lightsim2grid  # noqa: F401
    except ImportError:
        has_ls, ls_note = False, "lightsim2grid not installed"
    ours1, ours96, ppn, pls, diffs = [], [], [], [], []
    for tie in ties:
        t = time.perf_counter()
        flow = check_state_flow(grid, close_switches=[tie], times=[at], dg="off", baseline=False)
        ours1.append((time.perf_counter() - t) * 1000.0)
        t = time.perf_counter()
        check_state_flow(grid, close_switches=[tie], times=day, dg="off", baseline=False)
        ours96.append((time.perf_counter() - t) * 1000.0)
        net.switch.at[names[tie], "closed"] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ppn.append(_ms(lambda: pp.runpp(net, numba=True)))
            if has_ls:
                try:
                    pls.append(_ms(lambda: pp.runpp(net, lightsim2grid=True)))
                except NotImplementedError as e:  # e.g. several ext_grids without distributed slack
                    has_ls, ls_note = False, str(e)[:160]
        if flow.converged.all() and len(flow.loading_pct):
            line = flow.branch_kind == LINE
            ours_max = float(np.nanmax(flow.loading_pct[line, 0])) if line.any() else 0.0
            touched = net.line["name"].isin(flow.branch_ids[line])
            diffs.append(abs(ours_max - float(net.res_line.loc[touched, "loading_percent"].max())))
        net.switch.at[names[tie], "closed"] = False
    med = statistics.median
    out: dict[str, Any] = {
        "grid": grid_name, "nodes": len(grid.nodes), "states": len(ties), "network_build_ms": round(t_net, 1),
        "ours_one_time_ms": round(med(ours1), 2), "ours_96_times_ms": round(med(ours96), 2),
        "pandapower_runpp_numba_ms": round(med(ppn), 2),
        "ratio_pandapower_over_ours_one_time": round(med(ppn) / med(ours1), 2),
        "ratio_96_pandapower_runs_over_ours_batched": round(96 * med(ppn) / med(ours96), 1),
        "max_abs_diff_line_loading_pct": round(max(diffs), 6) if diffs else None,
    }
    if ls_note:
        out["lightsim2grid"] = ls_note
    elif pls:
        out["pandapower_lightsim2grid_ms"] = round(med(pls), 2)
        out["ratio_lightsim2grid_over_ours_one_time"] = round(med(pls) / med(ours1), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", default=str(ROOT / "outage_demo" / "monaco.gpkg"), help="grid file, or mv_oberrhein")
    ap.add_argument("--limit", type=int, default=60, help="at most this many ties")
    args = ap.parse_args()
    print(json.dumps(bench(args.grid, args.limit), indent=2))


if __name__ == "__main__":
    main()
