"""Free-flow speeds (km/h) and travel times (seconds) of road edges, by osmnx.

:func:`add_travel_times` gives every edge ``speed_kph`` and ``travel_time``
with :func:`osmnx.routing.add_edge_speeds` and
:func:`osmnx.routing.add_edge_travel_times`. An edge's speed is, in order:

1. its own ``maxspeed`` tag (km/h; "30 mph" converted, "50|70" per lane
   averaged, lists on simplified edges averaged; osmnx also knows implicit
   values such as "DE:urban");
2. the speed of its OSM ``highway`` class in the table (:data:`DEFAULT_SPEEDS_KPH`
   updated with the caller's ``hwy_speeds``; a list of classes counts as its
   first class);
3. for a class missing from the table, the mean tagged speed of that class in
   the graph (osmnx's imputation);
4. :data:`FALLBACK_SPEED_KPH`, also for edges without a class and for
   speeds that are not a positive number (a "0" tag).

``travel_time = length / speed``: seconds from metres and km/h.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import networkx as nx

__all__ = ["DEFAULT_SPEEDS_KPH", "FALLBACK_SPEED_KPH", "add_travel_times"]

#: Free-flow speeds (km/h) by OSM ``highway`` class, used where an edge has no
#: ``maxspeed``. Urban European defaults; pass ``hwy_speeds`` to override.
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 45.0,
    "secondary_link": 35.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "busway": 30.0,
    "escape": 20.0,
    "track": 15.0,
}
#: Speed (km/h) for edges without a usable ``maxspeed`` or class speed.
FALLBACK_SPEED_KPH = 30.0
#: The class osmnx sees for an edge without ``highway`` (mapped to the fallback speed).
_NO_CLASS = "(no highway class)"


def add_travel_times(
    graph: nx.MultiDiGraph, *, hwy_speeds: Mapping[str, float] | None = None
) -> nx.MultiDiGraph:
    """Set ``speed_kph`` (km/h) and ``travel_time`` (s) on every edge, in place; return the graph.

    A graph whose edges all carry ``travel_time`` keeps those times, and one
    whose edges all carry ``speed_kph`` keeps those speeds, unless
    ``hwy_speeds`` (km/h by highway class) is given: then every speed is worked
    out again from the tags with the table updated by ``hwy_speeds``. Every
    edge needs ``length`` (metres) and the nodes ``x``/``y`` (WGS84).
    """
    edges = [d for _, _, d in graph.edges(data=True)]
    if hwy_speeds is None and all("travel_time" in d for d in edges):
        for d in edges:
            d["travel_time"] = float(d["travel_time"])
        return graph
    work = _speed_graph(graph)
    if hwy_speeds is not None or not all("speed_kph" in d for d in edges):
        table = {**DEFAULT_SPEEDS_KPH, **(hwy_speeds or {}), _NO_CLASS: FALLBACK_SPEED_KPH}
        _osmnx_speeds(work, table)
    for _, _, d in work.edges(data=True):
        speed = float(d["speed_kph"])
        d["speed_kph"] = speed if math.isfinite(speed) and speed > 0 else FALLBACK_SPEED_KPH
    import osmnx as ox

    ox.routing.add_edge_travel_times(work)
    for u, v, k, d in work.edges(keys=True, data=True):
        mine = graph.edges[u, v, k]
        mine["speed_kph"] = float(d["speed_kph"])
        mine["travel_time"] = float(d["travel_time"])
    return graph


def _speed_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy with only what osmnx reads: node x/y, edge length, highway, maxspeed, speed_kph.

    osmnx works on this copy so that the caller's edges gain only
    ``speed_kph`` and ``travel_time``; an edge without a class gets
    :data:`_NO_CLASS` here.
    """
    work = nx.MultiDiGraph(crs=graph.graph.get("crs", "EPSG:4326"))
    work.add_nodes_from((n, {"x": d["x"], "y": d["y"]}) for n, d in graph.nodes(data=True))
    for u, v, k, d in graph.edges(keys=True, data=True):
        attrs = {"length": float(d["length"]), "highway": d.get("highway") or _NO_CLASS}
        for name in ("maxspeed", "speed_kph"):
            if d.get(name) is not None:
                attrs[name] = d[name]
        work.add_edge(u, v, key=k, **attrs)
    return work


def _osmnx_speeds(work: nx.MultiDiGraph, table: Mapping[str, float]) -> None:
    import osmnx as ox

    with warnings.catch_warnings():
        # osmnx 2.1 fills an all-missing maxspeed column with pandas' deprecated
        # object downcast; the numbers are right, the warning is not ours to fix.
        warnings.filterwarnings("ignore", message="Downcasting object dtype", category=FutureWarning)
        ox.routing.add_edge_speeds(work, hwy_speeds=dict(table), fallback=FALLBACK_SPEED_KPH)
