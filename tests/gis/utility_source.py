"""A small utility GIS export made at test time: foreign layer and field names, codes, kA/km/MVA
units, a projected CRS and no node ids. The same network is written as a FileGDB or as a folder
of shapefiles, clean or with one planted defect of each kind the quality report knows.

The intended topology is stated here independently of the importer (``INTENDED``): each line
between two "places" (a station id, or a switch id for a line ending at that switch), each
switch on the station it sits on (if any).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pyogrio
from shapely.geometry import LineString, MultiLineString, Point

ORIGIN = (500_000.0, 5_400_000.0)  # EPSG:32632 (UTM 32N), near 9 E 48.7 N
UTM = "EPSG:32632"


def _p(x: float, y: float) -> Point:
    return Point(ORIGIN[0] + x, ORIGIN[1] + y)


def _l(*xy: tuple[float, float]) -> LineString:
    return LineString([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in xy])


# station id -> (x, y, TYP code, UW_REF, TR_KVA, I_MAX_KA, STATUS)
STATIONS = {
    "B1": (0, 0, 10, "UW1", None, 1.25, "B"),
    "R1": (200, 0, 20, "", None, None, "B"),
    "D1": (400, 0, 30, "", 630, None, "B"),
    "D2": (200, 150, 30, "", 400, None, "B"),
    "R2": (-200, 0, 20, "", None, None, "B"),
    "D3": (-400, 0, 30, "", 630, None, "B"),
    "P1": (800, 800, 30, "", 250, None, "P"),  # planned: the mapping's where clause leaves it out
}
# switch id -> (x, y, SW_TYP code, OFFEN, FERN, KZM)
SWITCHES = {
    "CB1": (1, 0, 1, "N", "Y", 1),
    "CB2": (-1, 0, 1, "N", "Y", 1),
    "LS1": (300, 0, 2, "N", "Y", 0),
    "F1": (200, 149.5, 4, "N", "N", 0),
    "T1": (0, 300, 2, "J", "Y", 0),  # the normally-open tie between the two feeders
}
# line id -> (geometry points, ART code, I_MAX_KA)
LINES = {
    "K1": ([(1, 0), (200, 0)], "K", 0.3),
    "K2": ([(200, 0), (300, 0)], "K", 0.3),
    "K3": ([(300, 0), (399.6, 0)], "K", 0.3),  # ends 0.4 m short of D1: a snap the report shows
    "K4": ([(200, 0), (200, 149.5)], "F", 0.2),
    "K5": ([(-1, 0), (-200, 0)], "K", 0.3),
    "K6": ([(-200, 0), (-400, 0)], "K", 0.3),
    "K7": ([(400, 0), (400, 300), (0, 300)], "K", 0.3),
    "K8": ([(0, 300), (-400, 300), (-400, 0)], "K", 0.3),
}
# customer id -> (x, y, KAT code, P_MW)
CUSTOMERS = {
    "C1": (410, 10, "HH", 0.004),
    "C2": (210, 160, "GW", 0.05),
    "C3": (-410, 10, "HH", 0.006),
    "C4": (-390, -10, "HH", 0.003),
}
#: The intended topology: line -> its two places; switch -> the station it sits on (or None).
INTENDED_LINES = {"K1": ("CB1", "R1"), "K2": ("R1", "LS1"), "K3": ("LS1", "D1"), "K4": ("R1", "F1"),
                  "K5": ("CB2", "R2"), "K6": ("R2", "D3"), "K7": ("D1", "T1"), "K8": ("T1", "D3")}
INTENDED_SWITCH_STATION = {"CB1": "B1", "CB2": "B1", "LS1": None, "F1": "D2", "T1": None}
INTENDED_SUPPLY = {"C1": "D1", "C2": "D2", "C3": "D3", "C4": "D3"}

#: One defect of each kind, planted by ``defects=True``: what the report must list, exactly.
PLANTED = sorted([
    ("customer_without_transformer", "customers", "C9"),
    ("dangling_line_end", "lines", "K9"),
    ("device_not_on_line", "nodes", "D9"),
    ("duplicate_id", "customers", "C2"),
    ("duplicate_id", "customers", "C2"),
    ("feeder_without_breaker", "lines", "K14"),
    ("lines_crossing", "lines", "K12"),
    ("missing_rating", "lines", "K3"),
    ("multipart_geometry", "lines", "K6"),
])


def intended_graph(*, with_open: bool) -> nx.Graph:
    """Places (stations and switches) joined by the intended lines and switch placements."""
    g = nx.Graph()
    g.add_nodes_from(s for s in STATIONS if STATIONS[s][6] == "B")
    for line, (a, b) in INTENDED_LINES.items():
        g.add_edge(a, b, line=line)
    for sw, station in INTENDED_SWITCH_STATION.items():
        g.add_node(sw)
        if station:
            g.add_edge(sw, station)
    if not with_open:
        g.remove_nodes_from([s for s in SWITCHES if SWITCHES[s][3] == "J"])
    return g


def layers(*, defects: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """The source layers (EPSG:32632), with foreign names."""
    stations = dict(STATIONS)
    lines = {k: v for k, v in LINES.items()}
    customers = list(CUSTOMERS.items())
    line_geoms = {k: _l(*pts) for k, (pts, _, _) in lines.items()}
    ratings = {k: r for k, (_, _, r) in lines.items()}
    kinds = {k: a for k, (_, a, _) in lines.items()}
    if defects:
        stations |= {"D5": (-300, -150, 30, "", 250, None, "B"), "D6": (-200, -150, 30, "", 250, None, "B"),
                     "R3": (0, -200, 20, "", None, None, "B"), "D9": (600, -300, 30, "", 250, None, "B")}
        extra = {"K9": [(-200, 0), (-200, -100)],  # dangling end
                 "K12": [(-200, 0), (-300, -150)], "K13": [(-400, 0), (-200, -150)],  # cross with no node
                 "K14": [(0, -1), (0, -200)]}  # from the busbar without a breaker
        for k, pts in extra.items():
            line_geoms[k], ratings[k], kinds[k] = _l(*pts), 0.3, "K"
        line_geoms["K6"] = MultiLineString([_l((-200, 0), (-300, 0)).coords, _l((-300, 0), (-400, 0)).coords])
        ratings["K3"] = None
        customers += [("C2", (-390, 10, "HH", 0.002)), ("C9", (0, -500, "HH", 0.002))]
    uw = gpd.GeoDataFrame({"OBJ_ID": ["UW1"], "BEZ": ["Riverside 110/20 kV"], "KAP_MVA": [40.0]},
                          geometry=[_p(0, 5)], crs=UTM)
    st = gpd.GeoDataFrame({
        "OBJ_ID": list(stations), "BEZ": [f"Station {s}" for s in stations],
        "TYP": [v[2] for v in stations.values()], "UW_REF": [v[3] for v in stations.values()],
        "TR_KVA": [v[4] for v in stations.values()], "I_MAX_KA": [v[5] for v in stations.values()],
        "STATUS": [v[6] for v in stations.values()],
    }, geometry=[_p(v[0], v[1]) for v in stations.values()], crs=UTM)
    sw = gpd.GeoDataFrame({
        "OBJ_ID": list(SWITCHES), "SW_TYP": [v[2] for v in SWITCHES.values()], "OFFEN": [v[3] for v in SWITCHES.values()],
        "FERN": [v[4] for v in SWITCHES.values()], "KZM": [v[5] for v in SWITCHES.values()], "I_MAX_KA": [0.63] * len(SWITCHES),
    }, geometry=[_p(v[0], v[1]) for v in SWITCHES.values()], crs=UTM)
    kb = gpd.GeoDataFrame({
        "OBJ_ID": list(line_geoms), "ART": [kinds[k] for k in line_geoms], "I_MAX_KA": [ratings[k] for k in line_geoms],
        "LAENGE_KM": [g.length / 1000 for g in line_geoms.values()],
    }, geometry=list(line_geoms.values()), crs=UTM)
    kd = gpd.GeoDataFrame({
        "KD_NR": [c for c, _ in customers], "NAME": [f"Customer {c}" for c, _ in customers],
        "KAT": [v[2] for _, v in customers], "P_MW": [v[3] for _, v in customers],
    }, geometry=[_p(v[0], v[1]) for _, v in customers], crs=UTM)
    return {"UW": uw, "STATIONEN": st, "SCHALTER": sw, "KABEL": kb, "KUNDEN": kd}


def write_gdb(path: Path, *, defects: bool = False) -> Path:
    """The export as an Esri file geodatabase (GDAL's OpenFileGDB driver), lines as MultiLineString."""
    for name, df in layers(defects=defects).items():
        kind = "MultiLineString" if name == "KABEL" else "Point"
        df = df.astype({c: "int32" for c in ("TYP", "SW_TYP", "KZM") if c in df.columns})
        pyogrio.write_dataframe(df, path, layer=name, driver="OpenFileGDB", geometry_type=kind)
    return path


def write_shapefiles(folder: Path, *, defects: bool = False, crs: str = "EPSG:3857") -> Path:
    """The export as a folder of shapefiles (one per layer), reprojected to ``crs``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in layers(defects=defects).items():
        pyogrio.write_dataframe(df.to_crs(crs), folder / f"{name}.shp", driver="ESRI Shapefile")
    return folder
