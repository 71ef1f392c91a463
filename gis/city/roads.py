"""The drivable road graph crews navigate on, and the street graph cables follow.

Two graphs come out of one pyrosm read:

* the **crew graph** — osmnx conventions (``MultiDiGraph``, graph attribute
  ``crs``, node ``x``/``y`` in lon/lat, edge ``length`` in metres,
  ``speed_kph`` and ``travel_time`` in seconds), one-way streets kept one-way,
  only the largest strongly connected component, saved as GraphML;
* the **street graph** — every drivable OSM segment, undirected, in the metric
  CRS, used to lay cables along street centrelines (cables ignore one-way
  rules).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

#: Typical urban speeds (km/h) by OSM ``highway`` class, used where an edge has
#: no usable ``maxspeed`` tag.  Deliberately conservative: crews drive in town.
HIGHWAY_SPEEDS_KPH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 45.0,
    "primary_link": 35.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 35.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 15.0,
    "road": 25.0,
    "service": 15.0,
    "escape": 15.0,
    "track": 15.0,
}
FALLBACK_SPEED_KPH = 25.0

_EDGE_KEEP = (
    "osmid",
    "highway",
    "name",
    "ref",
    "oneway",
    "reversed",
    "length",
    "maxspeed",
    "lanes",
    "junction",
    "tunnel",
    "bridge",
    "geometry",
)


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def crew_graph(osm_nodes: gpd.GeoDataFrame, osm_edges: gpd.GeoDataFrame) -> nx.MultiDiGraph:
    """Build the crews' drivable graph (osmnx conventions).

    Parameters
    ----------
    osm_nodes, osm_edges
        pyrosm's ``get_network("driving", nodes=True)`` output.

    Returns
    -------
    networkx.MultiDiGraph
        Largest strongly connected component, simplified (one edge per street
        stretch between intersections), with ``length`` (m), ``speed_kph``
        and ``travel_time`` (s) on every edge.  Node and edge insertion order
        is sorted, so GraphML output is reproducible.
    """
    import osmnx as ox
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pyrosm.OSM.to_graph(
            osm_nodes, osm_edges, graph_type="networkx", osmnx_compatible=True
        )
    scc = max(
        (sorted(c) for c in nx.strongly_connected_components(raw)), key=lambda c: (len(c), -c[0])
    )
    keep = set(scc)

    graph = nx.MultiDiGraph(crs="epsg:4326", name="drivable streets", simplified=True)
    for node in sorted(keep):
        data = raw.nodes[node]
        graph.add_node(
            int(node),
            x=float(data["x"]),
            y=float(data["y"]),
            street_count=int(data.get("street_count", 0)),
        )
    edges = []
    for u, v, key, data in raw.edges(keys=True, data=True):
        if u in keep and v in keep:
            edges.append((int(u), int(v), int(key), data))
    edges.sort(key=lambda e: (e[0], e[1], e[2]))
    for u, v, _key, data in edges:
        attrs = {k: data[k] for k in _EDGE_KEEP if k in data and data[k] is not None}
        attrs["length"] = round(float(attrs["length"]), 3)
        attrs["oneway"] = bool(attrs.get("oneway", False))
        attrs["reversed"] = bool(_first(attrs.get("reversed", False)))
        graph.add_edge(u, v, **attrs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ox.add_edge_speeds(
            graph, hwy_speeds=HIGHWAY_SPEEDS_KPH, fallback=FALLBACK_SPEED_KPH
        )
        graph = ox.add_edge_travel_times(graph)
    for _u, _v, data in graph.edges(data=True):
        data["speed_kph"] = round(float(data["speed_kph"]), 1)
        data["travel_time"] = round(float(data["travel_time"]), 1)
    log.info("crew graph: %d nodes, %d edges", graph.number_of_nodes(), graph.number_of_edges())
    return graph


def save_graph(graph: nx.MultiDiGraph, path: str | Path) -> None:
    """Write the crew graph as GraphML (``osmnx.load_graphml`` reads it back).

    Values are written as strings, as osmnx does; the writer is networkx's plain
    ``xml`` one, so the bytes do not depend on whether lxml happens to be installed.
    """
    g = graph.copy()
    g.graph.update({k: str(v) for k, v in g.graph.items()})
    for _, data in g.nodes(data=True):
        data.update({k: str(v) for k, v in data.items()})
    for _, _, data in g.edges(keys=False, data=True):
        data.update({k: str(v) for k, v in data.items()})
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml_xml(g, p, encoding="utf-8")


@dataclass
class StreetGraph:
    """Undirected street centreline graph in a metric CRS, for laying cables.

    Attributes
    ----------
    xy
        ``(n, 2)`` metric coordinates of the OSM nodes along drivable streets
        (largest connected component only).
    matrix
        Symmetric sparse adjacency, weights = segment length in metres.
    """

    xy: np.ndarray
    matrix: sp.csr_matrix
    _tree: cKDTree

    def nearest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest street node for each ``(x, y)`` and its distance (m)."""
        dist, idx = self._tree.query(np.asarray(points, dtype=float).reshape(-1, 2))
        return idx.astype(np.int64), dist

    def distances(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shortest street distances (m) and predecessors from each source node."""
        dist, pred = dijkstra(
            self.matrix, directed=False, indices=np.asarray(sources), return_predecessors=True
        )
        return dist, pred

    def path(self, pred_row: np.ndarray, source: int, target: int) -> list[int]:
        """Node path source -> target from one predecessor row of :meth:`distances`."""
        out = [int(target)]
        node = int(target)
        while node != source:
            node = int(pred_row[node])
            if node < 0:
                raise ValueError("target not reachable from source")
            out.append(node)
        out.reverse()
        return out


def street_graph(
    osm_nodes: gpd.GeoDataFrame, osm_edges: gpd.GeoDataFrame, transformer: pyproj.Transformer
) -> StreetGraph:
    """Build the undirected street graph from raw OSM segments.

    Parameters
    ----------
    osm_nodes, osm_edges
        pyrosm driving network (every OSM node along a street, one row per
        segment between consecutive nodes).
    transformer
        lon/lat -> metric CRS transformer (``always_xy=True``).
    """
    ids = osm_nodes["id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids, kind="mergesort")
    ids = ids[order]
    lon = osm_nodes["lon"].to_numpy(dtype=float)[order]
    lat = osm_nodes["lat"].to_numpy(dtype=float)[order]
    x, y = transformer.transform(lon, lat)
    u = np.searchsorted(ids, osm_edges["u"].to_numpy(dtype=np.int64))
    v = np.searchsorted(ids, osm_edges["v"].to_numpy(dtype=np.int64))
    ok = (u < len(ids)) & (v < len(ids))
    ok &= ids[np.minimum(u, len(ids) - 1)] == osm_edges["u"].to_numpy(dtype=np.int64)
    ok &= ids[np.minimum(v, len(ids) - 1)] == osm_edges["v"].to_numpy(dtype=np.int64)
    u, v = u[ok], v[ok]
    w = np.hypot(x[u] - x[v], y[u] - y[v])
    keep_edge = u != v
    u, v, w = u[keep_edge], v[keep_edge], np.maximum(w[keep_edge], 0.01)
    n = len(ids)
    # parallel segments: coo->csr would sum duplicates; keep the shortest instead
    mat = sp.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)
    )
    mat = _min_duplicates(mat)
    ncomp, labels = connected_components(mat, directed=False)
    sizes = np.bincount(labels)
    main = int(np.argmax(sizes))
    keep = np.flatnonzero(labels == main)
    remap = -np.ones(n, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    mat = mat[keep][:, keep].tocsr()
    xy = np.column_stack([np.asarray(x)[keep], np.asarray(y)[keep]])
    log.info("street graph: %d nodes (%d components dropped)", len(keep), ncomp - 1)
    return StreetGraph(xy=xy, matrix=mat, _tree=cKDTree(xy))


def _min_duplicates(coo: sp.coo_matrix) -> sp.csr_matrix:
    rows, cols, vals = coo.row, coo.col, coo.data
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_matrix((vals[first], (rows[first], cols[first])), shape=coo.shape)
