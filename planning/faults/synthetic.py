"""Small synthetic grids for tests and benchmarks of fault restoration.

:func:`build_grid` turns compact tuples into a validated :class:`gis.Grid`
(node positions are laid out on a lattice near Monaco, line geometries join
their end nodes); :func:`random_grid` draws a random radial grid with rings
closed by normally-open ties, remote and manual switches, fault indicators
and customers of every importance grade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from gis import Grid

WGS84 = "EPSG:4326"
LON0, LAT0, STEP = 7.40, 43.72, 0.001  # about 80 m between lattice points

NodeSpec = tuple[str, str, str | None]  # id, kind, substation id (busbars only)
LineSpec = tuple[str, str, str, str, float | None]  # id, from, to, kind, rating_a
# id, from, to, kind, normally_open, remote, fault_indicator, rating_a
SwitchSpec = tuple[str, str, str, str, bool, bool, bool, float | None]
# id, node, importance, demand_kw, backup_power
CustomerSpec = tuple[str, str, str, float, bool]


def build_grid(
    nodes: Sequence[NodeSpec],
    lines: Sequence[LineSpec],
    switches: Sequence[SwitchSpec],
    customers: Sequence[CustomerSpec],
    *,
    name: str = "synthetic",
    positions: dict[str, tuple[float, float]] | None = None,
    addresses: Mapping[str, str] | None = None,
) -> Grid:
    """A validated grid from tuples (see the ``*Spec`` aliases). Loads are flat (demand_kw at all times).

    ``positions`` maps node ids to lattice ``(x, y)`` (1 unit = about 80 m);
    nodes without one are laid out row by row. ``addresses`` maps customer ids to
    their address (the others have none).
    """
    pos: dict[str, tuple[float, float]] = {}
    width = max(8, int(np.ceil(np.sqrt(len(nodes)))))
    for i, (nid, _, _) in enumerate(nodes):
        pos[nid] = (positions or {}).get(nid, (float(i % width), float(i // width)))

    def pt(nid: str) -> Point:
        x, y = pos[nid]
        return Point(LON0 + x * STEP, LAT0 + y * STEP)

    subs = sorted({s for _, k, s in nodes if k == "busbar" and s})
    substations = gpd.GeoDataFrame(
        {"id": subs, "name": [f"Substation {s}" for s in subs], "capacity_kva": [40000.0] * len(subs)},
        geometry=[pt(next(n for n, k, s in nodes if s == sub)) for sub in subs],
        crs=WGS84,
    )
    node_df = gpd.GeoDataFrame(
        {
            "id": [n for n, _, _ in nodes],
            "kind": [k for _, k, _ in nodes],
            "name": [f"Node {n}" for n, _, _ in nodes],
            "substation_id": [s for _, _, s in nodes],
        },
        geometry=[pt(n) for n, _, _ in nodes],
        crs=WGS84,
    )
    line_df = gpd.GeoDataFrame(
        {
            "id": [x[0] for x in lines],
            "from_node": [x[1] for x in lines],
            "to_node": [x[2] for x in lines],
            "kind": [x[3] for x in lines],
            "rating_a": [np.nan if x[4] is None else x[4] for x in lines],
        },
        geometry=[LineString([pt(x[1]), pt(x[2])]) for x in lines],
        crs=WGS84,
    )
    sw_df = gpd.GeoDataFrame(
        {
            "id": [s[0] for s in switches],
            "from_node": [s[1] for s in switches],
            "to_node": [s[2] for s in switches],
            "kind": [s[3] for s in switches],
            "normally_open": [s[4] for s in switches],
            "remote": [s[5] for s in switches],
            "fault_indicator": [s[6] for s in switches],
            "rating_a": [np.nan if s[7] is None else s[7] for s in switches],
        },
        geometry=[pt(s[1]) for s in switches],
        crs=WGS84,
    )
    cust_df = gpd.GeoDataFrame(
        {
            "id": [c[0] for c in customers],
            "name": [f"Customer {c[0]}" for c in customers],
            "node_id": [c[1] for c in customers],
            "category": ["residential" if c[2] == "normal" else "public" for c in customers],
            "importance": [c[2] for c in customers],
            "demand_kw": [float(c[3]) for c in customers],
            "backup_power": [bool(c[4]) for c in customers],
            "address": [(addresses or {}).get(c[0]) for c in customers],
        },
        geometry=[pt(c[1]) for c in customers],
        crs=WGS84,
    )
    meta = pd.DataFrame(
        {
            "key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor"],
            "value": [name, "Europe/Monaco", "10", "32632", "0.9"],
        }
    )
    # one depot: an empty depots layer does not survive a GeoJSON round trip
    depots = gpd.GeoDataFrame({"id": ["DEP1"], "name": ["Depot"]}, geometry=[Point(LON0 - STEP, LAT0 - STEP)],
                              crs=WGS84)
    return Grid.from_layers(
        {"substations": substations, "nodes": node_df, "lines": line_df, "switches": sw_df,
         "customers": cust_df, "depots": depots, "meta": meta},
        source=name,
    )


@dataclass(frozen=True)
class RandomGridSpec:
    substations: int = 2
    feeders_per_substation: int = 2
    sections_per_feeder: int = 5
    ties: int = 3
    p_remote: float = 0.4
    p_indicator: float = 0.6
    p_overhead: float = 0.2
    feeder_rating_a: tuple[float, float] | None = (150.0, 500.0)  # None: unlimited capacity
    demand_kw: tuple[float, float] = (20.0, 400.0)


def random_grid(seed: int, spec: RandomGridSpec | None = None) -> Grid:
    """A random radial grid: feeders are random trees of sections (junction - RMU - distribution
    room), switches between sections, normally-open ties between RMUs of different feeders."""
    spec = spec or RandomGridSpec()
    rng = np.random.default_rng(seed)
    nodes: list[NodeSpec] = []
    lines: list[LineSpec] = []
    switches: list[SwitchSpec] = []
    customers: list[CustomerSpec] = []
    rmus_by_feeder: list[list[str]] = []
    importance = ["normal"] * 12 + ["second", "first", "temporary", "special"]
    for s in range(spec.substations):
        bus = f"B{s}"
        nodes.append((bus, "busbar", f"SS{s}"))
        for f in range(spec.feeders_per_substation):
            fid = f"{s}{chr(97 + f)}"
            rating = None if spec.feeder_rating_a is None else float(rng.uniform(*spec.feeder_rating_a))
            rmus: list[str] = []
            for k in range(spec.sections_per_feeder):
                j, r, d = f"J{fid}{k}", f"R{fid}{k}", f"D{fid}{k}"
                nodes += [(j, "junction", None), (r, "rmu", None), (d, "distribution_room", None)]
                kind = "overhead" if rng.random() < spec.p_overhead else "cable"
                lines.append((f"L{fid}{k}", j, r, kind, None))
                lines.append((f"M{fid}{k}", r, d, "cable", None))
                if k == 0:
                    switches.append((f"F{fid}", bus, j, "breaker", False, True, True, rating))
                else:
                    parent = rmus[int(rng.integers(0, len(rmus)))]
                    switches.append((f"S{fid}{k}", parent, j, "load_break", False,
                                     bool(rng.random() < spec.p_remote), bool(rng.random() < spec.p_indicator),
                                     None))
                rmus.append(r)
                for c in range(int(rng.integers(0, 4))):
                    imp = importance[int(rng.integers(0, len(importance)))]
                    customers.append((f"C{fid}{k}_{c}", d, imp, float(rng.uniform(*spec.demand_kw)),
                                      bool(rng.random() < 0.2)))
            rmus_by_feeder.append(rmus)
    used: set[tuple[str, str]] = set()
    for t in range(spec.ties):
        if len(rmus_by_feeder) < 2:
            break
        fa, fb = rng.choice(len(rmus_by_feeder), size=2, replace=False)
        a = rmus_by_feeder[int(fa)][int(rng.integers(0, len(rmus_by_feeder[int(fa)])))]
        b = rmus_by_feeder[int(fb)][int(rng.integers(0, len(rmus_by_feeder[int(fb)])))]
        if (a, b) in used or (b, a) in used:
            continue
        used.add((a, b))
        switches.append((f"T{t}", a, b, "load_break", True, bool(rng.random() < 0.5), False, None))
    return build_grid(nodes, lines, switches, customers, name=f"random-{seed}")
