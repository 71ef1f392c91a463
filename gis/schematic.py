"""Where imported buses go on the map when the source has no geographic coordinates.

Used by the CGMES and OpenDSS imports (:mod:`gis.cim_io`, :mod:`gis.dss_io`). Two steps, both pure:

* :func:`tree_layout` — a layered schematic of a network's topology in metres: each source at
  the top, every bus one row (``spacing_m``) below the bus it is first reached from
  (breadth-first), leaves side by side ``spacing_m`` apart and a parent centred over its
  children. Components without a source are laid out to the right.
* :func:`place` — local planar coordinates in metres (x east, y north) around a stated origin
  to (lon, lat) in EPSG:4326, through an azimuthal equidistant projection centred on the
  origin (distances from the origin are exact).

:func:`bus_geo` writes the result into a pandapower ``bus`` table's ``geo`` column.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

import networkx as nx
import pandas as pd
import pyproj

from gis.errors import InputError

K = TypeVar("K", bound=Hashable)

#: Where a schematic is placed unless the caller says otherwise: (lon, lat) of Helsinki's
#: Senate Square, the shipped demo city.
DEFAULT_ORIGIN: tuple[float, float] = (24.9525, 60.1695)


def tree_layout(nodes: Iterable[K], edges: Iterable[tuple[K, K]], roots: Iterable[K], *,
                spacing_m: float = 100.0) -> dict[K, tuple[float, float]]:
    """(x, y) in metres of every node: a layered tree drawn downwards from ``roots``.

    The tree is the breadth-first tree of the undirected graph from the roots (edges
    outside it are drawn straight by the caller). Rows are ``spacing_m`` apart (y = -depth x
    spacing); leaves are ``spacing_m`` apart left to right in depth-first order; a parent
    sits above the middle of its children. Nodes not reached from a root are laid out the
    same way from the first of them, to the right of everything drawn before. The first root
    is at (0, 0).
    """
    g: nx.Graph = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from((a, b) for a, b in edges if a != b)
    pos: dict[K, tuple[float, float]] = {}
    next_x = 0.0
    starts = [r for r in roots if r in g] + list(g.nodes)
    for root in starts:
        if root in pos:
            continue
        tree = nx.bfs_tree(g, root)
        depth = nx.shortest_path_length(tree, root)
        x: dict[K, float] = {}
        for n in nx.dfs_postorder_nodes(tree, root):
            kids = list(tree.successors(n))
            if kids:
                x[n] = (x[kids[0]] + x[kids[-1]]) / 2.0
            else:
                x[n] = next_x
                next_x += spacing_m
        pos.update({n: (x[n], -depth[n] * spacing_m) for n in tree.nodes})
        next_x += spacing_m
    if not pos:
        return pos
    x0, y0 = pos[starts[0]]
    return {n: (x - x0, y - y0) for n, (x, y) in pos.items()}


def place(xy_m: Mapping[K, tuple[float, float]], *, origin: tuple[float, float] = DEFAULT_ORIGIN) -> dict[K, tuple[float, float]]:
    """(lon, lat) of local coordinates in metres (x east, y north) around ``origin`` (lon, lat).

    The local frame's (0, 0) is the origin; an azimuthal equidistant projection centred on it
    keeps every distance from the origin exact (and short distances close to exact).
    """
    lon0, lat0 = origin
    if not (-180.0 <= lon0 <= 180.0 and -85.0 <= lat0 <= 85.0):
        raise InputError(f"origin must be (lon, lat) within [-180, 180] x [-85, 85], got {origin}", code="bad_origin")
    to_wgs = pyproj.Transformer.from_crs(
        pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"), "EPSG:4326", always_xy=True
    )
    keys = list(xy_m)
    lon, lat = to_wgs.transform([xy_m[k][0] for k in keys], [xy_m[k][1] for k in keys])
    return {k: (float(a), float(b)) for k, a, b in zip(keys, lon, lat, strict=True)}


def to_local(lonlat: Mapping[K, tuple[float, float]], *, origin: tuple[float, float]) -> dict[K, tuple[float, float]]:
    """The inverse of :func:`place`: (x, y) in metres around ``origin`` of (lon, lat) points."""
    lon0, lat0 = origin
    to_m = pyproj.Transformer.from_crs(
        "EPSG:4326", pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"), always_xy=True
    )
    keys = list(lonlat)
    x, y = to_m.transform([lonlat[k][0] for k in keys], [lonlat[k][1] for k in keys])
    return {k: (float(a), float(b)) for k, a, b in zip(keys, x, y, strict=True)}


def place_near_neighbours(xy: dict[K, tuple[float, float]], edges: Iterable[tuple[K, K]], nodes: Iterable[K], *,
                          step_m: float) -> list[K]:
    """Give every node of ``nodes`` without a position in ``xy`` one ``step_m`` east and south of
    the placed neighbour it is first reached from (breadth-first from the placed nodes); nodes
    connected to none go in a row below (0, 0). Fills ``xy`` in place; returns the nodes placed."""
    adj: dict[K, list[K]] = {}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    order = list(nodes)
    missing = [n for n in order if n not in xy]
    queue = deque(n for n in order if n in xy)
    while queue:
        a = queue.popleft()
        for b in adj.get(a, []):
            if b not in xy:
                xy[b] = (xy[a][0] + step_m, xy[a][1] - step_m)
                queue.append(b)
    for k, n in enumerate(n for n in order if n not in xy):
        xy[n] = (k * step_m, -step_m)
    return missing


def network_edges(net: Any) -> list[tuple[int, int]]:
    """(bus, bus) of every line, two-winding transformer and bus-bus switch of a pandapower net."""
    out = [(int(a), int(b)) for a, b in zip(net.line["from_bus"], net.line["to_bus"], strict=True)]
    out += [(int(a), int(b)) for a, b in zip(net.trafo["hv_bus"], net.trafo["lv_bus"], strict=True)]
    bb = net.switch[net.switch["et"] == "b"]
    return out + [(int(a), int(b)) for a, b in zip(bb["bus"], bb["element"], strict=True)]


def bus_geo(index: pd.Index, lonlat: Mapping[int, tuple[float, float]]) -> pd.Series:
    """A pandapower ``bus.geo`` column (GeoJSON points) for the buses of ``index``; None where unplaced."""
    return pd.Series(
        [json.dumps({"type": "Point", "coordinates": list(lonlat[int(b)])}) if int(b) in lonlat else None for b in index],
        index=index, dtype=object,
    )
