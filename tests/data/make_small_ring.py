"""Writes tests/data/small_ring/: a two-feeder ring small enough to check by hand.

    BA =F1=> n1 --L1-- R1 -S1-> x1 --L2-- R2 -S2-> x2 --L3-- R3
                        |                  |                 |  .
                       S3                  L7                L8  T1 (normally open)
                        v                  |                 |  .
                        z1 --L11-- D5      D1 (C1, C2)       D2 (C3 hospital, C7*)
                                   (C6)                          .
    BB =F2=> m1 --L4-- R6 -S4-> y1 --L5-- R5 -S5-> y2 --L6-- R4 .
                        |                  |
                        L10                L9
                        D4 (C5)            D3 (C4)

Sections: s1={n1,R1}, s2={x1,R2,D1}, s3={x2,R3,D2}, s7={z1,D5} on F1;
s4={m1,R6,D4}, s5={y1,R5,D3}, s6={y2,R4} on F2; T1 joins R3 and R4.
C7* has no node_id: it is joined to the nearest distribution room (D2).
Run `python tests/data/make_small_ring.py` to rewrite the files.
"""

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from gis.format import write_grid

OUT = Path(__file__).parent / "small_ring"
LON0, LAT0, STEP = 7.420, 43.730, 0.002  # about 160 m per step

POS = {
    "BA": (0, 2), "n1": (1, 2), "R1": (2, 2), "x1": (3, 2), "R2": (4, 2), "x2": (5, 2), "R3": (6, 2),
    "z1": (2, 3), "D5": (2, 4), "D1": (4, 3), "D2": (6, 3),
    "BB": (0, 0), "m1": (1, 0), "R6": (2, 0), "y1": (3, 0), "R5": (4, 0), "y2": (5, 0), "R4": (6, 0),
    "D4": (2, -1), "D3": (4, -1),
}


def pt(name: str) -> Point:
    x, y = POS[name]
    return Point(LON0 + x * STEP, LAT0 + y * STEP)


def main() -> None:
    crs = "EPSG:4326"
    substations = gpd.GeoDataFrame(
        {"id": ["SA", "SB"], "name": ["Substation A", "Substation B"], "capacity_kva": [40000.0, 40000.0]},
        geometry=[Point(LON0 - STEP, LAT0 + 2 * STEP), Point(LON0 - STEP, LAT0)],
        crs=crs,
    )
    kinds = {"BA": "busbar", "BB": "busbar", "D1": "distribution_room", "D2": "distribution_room",
             "D3": "distribution_room", "D4": "distribution_room", "D5": "distribution_room"}
    names = sorted(POS)
    nodes = gpd.GeoDataFrame(
        {
            "id": names,
            "kind": [kinds.get(n, "rmu" if n.startswith("R") else "junction") for n in names],
            "name": [f"Node {n}" for n in names],
            "substation_id": [{"BA": "SA", "BB": "SB"}.get(n) for n in names],
            "kva": [630.0 if n.startswith("D") else None for n in names],
            "rating_a": [1250.0 if kinds.get(n) == "busbar" else None for n in names],
        },
        geometry=[pt(n) for n in names],
        crs=crs,
    )
    line_defs = [
        ("L1", "n1", "R1"), ("L2", "x1", "R2"), ("L3", "x2", "R3"), ("L7", "R2", "D1"), ("L8", "R3", "D2"),
        ("L11", "z1", "D5"), ("L4", "m1", "R6"), ("L5", "y1", "R5"), ("L6", "y2", "R4"), ("L9", "R5", "D3"),
        ("L10", "R6", "D4"),
    ]
    lines = gpd.GeoDataFrame(
        {
            "id": [i for i, _, _ in line_defs],
            "from_node": [a for _, a, _ in line_defs],
            "to_node": [b for _, _, b in line_defs],
            "kind": ["cable"] * len(line_defs),
            "rating_a": [400.0] * len(line_defs),
            "type": ["NA2XS2Y 1x240 RM/25 6/10 kV"] * len(line_defs),
        },
        geometry=[LineString([pt(a), pt(b)]) for _, a, b in line_defs],
        crs=crs,
    )
    sw_defs = [  # id, from, to, kind, normally_open, remote, fault_indicator, rating_a
        ("F1", "BA", "n1", "breaker", False, True, True, 400.0),
        ("F2", "BB", "m1", "breaker", False, True, True, 300.0),
        ("S1", "R1", "x1", "load_break", False, True, True, None),
        ("S2", "R2", "x2", "load_break", False, False, True, None),
        ("S3", "R1", "z1", "load_break", False, False, False, None),
        ("S4", "R6", "y1", "load_break", False, True, True, None),
        ("S5", "R5", "y2", "load_break", False, False, True, None),
        ("T1", "R3", "R4", "load_break", True, True, False, None),
    ]
    switches = gpd.GeoDataFrame(
        {
            "id": [s[0] for s in sw_defs],
            "from_node": [s[1] for s in sw_defs],
            "to_node": [s[2] for s in sw_defs],
            "kind": [s[3] for s in sw_defs],
            "normally_open": [s[4] for s in sw_defs],
            "remote": [s[5] for s in sw_defs],
            "fault_indicator": [s[6] for s in sw_defs],
            "rating_a": [s[7] for s in sw_defs],
        },
        geometry=[pt(s[1]) for s in sw_defs],
        crs=crs,
    )
    cust_defs = [  # id, name, node, category, importance, demand, profile, backup
        ("C1", "Résidence Les Pins", "D1", "residential", "normal", 100.0, "flat", False),
        ("C2", "Café du Port", "D1", "commercial", "normal", 50.0, "day", False),
        ("C3", "Hôpital Princesse", "D2", "public", "first", 400.0, "flat", True),
        ("C4", "École Saint-Charles", "D3", "public", "second", 80.0, "day", False),
        ("C5", "Atelier Nord", "D4", "industrial", "normal", 200.0, "flat", False),
        ("C6", "Villa Azur", "D5", "residential", "normal", 20.0, "flat", False),
        ("C7", "海景公寓", None, "residential", "normal", 30.0, "flat", False),
    ]
    cpos = {"C1": (4.1, 3.1), "C2": (3.9, 3.1), "C3": (6.1, 3.1), "C4": (4.1, -1.1), "C5": (2.1, -1.1),
            "C6": (2.1, 4.1), "C7": (6.2, 3.2)}
    customers = gpd.GeoDataFrame(
        {
            "id": [c[0] for c in cust_defs],
            "name": [c[1] for c in cust_defs],
            "node_id": [c[2] for c in cust_defs],
            "category": [c[3] for c in cust_defs],
            "importance": [c[4] for c in cust_defs],
            "demand_kw": [c[5] for c in cust_defs],
            "profile": [c[6] for c in cust_defs],
            "phone": ["+377 9300 0000"] * len(cust_defs),
            "address": ["Monaco"] * len(cust_defs),
            "backup_power": [c[7] for c in cust_defs],
            "dual_supply": [False] * len(cust_defs),
        },
        geometry=[Point(LON0 + cpos[c[0]][0] * STEP, LAT0 + cpos[c[0]][1] * STEP) for c in cust_defs],
        crs=crs,
    )
    depots = gpd.GeoDataFrame({"id": ["DEP1"], "name": ["Depot"]}, geometry=[Point(LON0, LAT0 + STEP)], crs=crs)
    meta = pd.DataFrame(
        {
            "key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor"],
            "value": ["Small ring", "Europe/Monaco", "10", "32632", "0.9"],
        }
    )
    rows = []
    for day in ("weekday", "saturday", "sunday"):
        for m in range(0, 1440, 15):
            rows.append(("flat", day, m, 1.0))
            # "day": 0.2 at night, 1.0 from 08:00 to 18:00 on weekdays, 0.5 at weekends
            daytime = 480 <= m < 1080
            rows.append(("day", day, m, (1.0 if day == "weekday" else 0.5) if daytime else 0.2))
    profiles = pd.DataFrame(rows, columns=["profile", "day_type", "minute_of_day", "factor"])
    write_grid(
        {"substations": substations, "nodes": nodes, "lines": lines, "switches": switches,
         "customers": customers, "depots": depots, "meta": meta, "profiles": profiles},
        OUT,
    )


if __name__ == "__main__":
    main()
