"""Reading a road graph from a file and preparing it for :class:`~routing.roads.RoadNetwork`.

Graph in, graph out (``networkx.MultiDiGraph`` in osmnx conventions): the
network object itself is built in :mod:`routing.roads`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import networkx as nx

from routing.errors import RoadNetworkError
from routing.speeds import add_travel_times

__all__ = ["largest_strong_component", "prepare_graph", "read_graph"]

_WGS84_NAMES = ("epsg:4326", "wgs84")


def read_graph(source: str | Path) -> nx.MultiDiGraph:
    """Read a GraphML file (osmnx), an ``.osm.pbf`` (pyrosm's driving network) or ``.osm`` XML.

    Raises :class:`RoadNetworkError` naming the file when it is missing, of an
    unknown kind or unreadable.
    """
    path = Path(source)
    if not path.exists():
        raise RoadNetworkError(f"road network file not found: {path}", details={"path": str(path)})
    name = path.name.lower()
    if not name.endswith((".graphml", ".pbf", ".osm", ".xml")):
        raise RoadNetworkError(
            f"unsupported road network format: {path.name} (expected .graphml, .osm.pbf or .osm)",
            details={"path": str(path)},
        )
    try:
        if name.endswith(".graphml"):
            import osmnx as ox

            return ox.load_graphml(path)
        if name.endswith(".pbf"):
            return _read_pbf(path)
        import osmnx as ox

        return ox.graph_from_xml(path, retain_all=True)
    except RoadNetworkError:
        raise
    except Exception as exc:  # third-party readers raise anything; say which file
        raise RoadNetworkError(
            f"cannot read road network {path}: {type(exc).__name__}: {exc}",
            details={"path": str(path)},
        ) from exc


def _read_pbf(path: Path) -> nx.MultiDiGraph:
    import pyrosm

    with warnings.catch_warnings():
        # pyrosm 0.25 is noisy about pandas/shapely deprecations; not ours to fix.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        osm = pyrosm.OSM(str(path))
        got = osm.get_network(network_type="driving", nodes=True)
        if got is None or got[1] is None or len(got[1]) == 0:
            raise RoadNetworkError(f"no drivable roads in {path}")
        nodes, edges = got
        return osm.to_graph(nodes, edges, graph_type="networkx")


def prepare_graph(
    graph: nx.MultiDiGraph, *, hwy_speeds: Mapping[str, float] | None = None
) -> nx.MultiDiGraph:
    """Ensure WGS84 float ``x``/``y``, ``length`` (m), ``speed_kph`` and ``travel_time`` (s).

    A graph in another CRS is reprojected (osmnx). Speeds and times come from
    :func:`routing.speeds.add_travel_times`. Raises :class:`RoadNetworkError`
    for something that is not a MultiDiGraph, an empty graph, nodes without
    coordinates or edges without ``length``.
    """
    if not isinstance(graph, nx.MultiDiGraph):
        raise RoadNetworkError(f"expected a networkx MultiDiGraph, got {type(graph).__name__}")
    if graph.number_of_edges() == 0:
        raise RoadNetworkError("the road network has no edges")
    if str(graph.graph.get("crs", "EPSG:4326")).lower() not in _WGS84_NAMES:
        import osmnx as ox

        graph = ox.project_graph(graph, to_latlong=True)
    for n, d in graph.nodes(data=True):
        if "x" not in d or "y" not in d:
            raise RoadNetworkError(f"node {n!r} has no x/y coordinates")
        d["x"], d["y"] = float(d["x"]), float(d["y"])
    graph.graph["crs"] = "EPSG:4326"
    missing = [(u, v) for u, v, d in graph.edges(data=True) if "length" not in d]
    if missing:
        raise RoadNetworkError(
            f"{len(missing)} edges have no 'length' (metres), e.g. {missing[0]}"
        )
    for _, _, d in graph.edges(data=True):
        d["length"] = float(d["length"])
    return add_travel_times(graph, hwy_speeds=hwy_speeds)


def largest_strong_component(graph: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, int]:
    """The largest strongly connected component and how many other components were dropped."""
    comps = list(nx.strongly_connected_components(graph))
    if len(comps) == 1:
        return graph, 0
    largest = max(comps, key=len)
    return graph.subgraph(largest).copy(), len(comps) - 1
