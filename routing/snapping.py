"""Snapping points to the nearest drivable edge (not node).

The directed edges that share one street geometry (the two directions of a
two-way street) form one *segment*; a shapely STRtree over the segments in
the network's local metric frame finds the nearest one. A snapped point lies
at a fraction of each directed edge of its segment, measured from that edge's
tail (one edge on a one-way street, two on a two-way street).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from routing.errors import RoutingInputError
from routing.geometry import EdgeShapes

__all__ = ["Location", "SegmentIndex", "SnappedPoint", "check_lonlats"]


@dataclass(frozen=True)
class SnappedPoint:
    """A point snapped to the nearest drivable edge.

    ``lon``/``lat`` is the input point and ``road_lon``/``road_lat`` its
    projection on the road (WGS84 degrees); ``snap_distance_m`` the distance
    between them (metres). ``edges`` lists ``(edge index, fraction)`` for every
    directed edge running along the snapped street segment (one for a one-way
    street, two for a two-way one), the fraction measured from the edge's tail.
    """

    lon: float
    lat: float
    road_lon: float
    road_lat: float
    snap_distance_m: float
    segment: int
    offset_m: float
    edges: tuple[tuple[int, float], ...]
    id: str | None = None
    name: str | None = None

    _key: tuple[int, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", (self.segment, round(self.offset_m, 3)))

    @property
    def key(self) -> tuple[int, float]:
        """Identity of the position on the road, to the millimetre (ids at one spot share it)."""
        return self._key

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "road_lon": self.road_lon,
            "road_lat": self.road_lat,
            "snap_distance_m": round(self.snap_distance_m, 2),
        }


#: Where a crew goes: an access-point id, ``(lon, lat)`` in WGS84, or a snapped point.
Location = str | tuple[float, float] | SnappedPoint


def check_lonlats(
    lonlats: Sequence[tuple[float, float]] | np.ndarray, ids: Sequence[str | None] | None
) -> np.ndarray:
    """``(lon, lat)`` pairs as an (N x 2) array; RoutingInputError for one not finite or out of range."""
    arr = np.asarray(lonlats, dtype=float).reshape(-1, 2) if len(lonlats) else np.empty((0, 2))
    bad = ~np.isfinite(arr).all(axis=1) | (np.abs(arr[:, 0]) > 180) | (np.abs(arr[:, 1]) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        label = ids[i] if ids is not None else i
        raise RoutingInputError(
            f"invalid coordinates for {label!r}: {tuple(arr[i])} "
            "(expected (lon, lat) in WGS84 degrees)",
            details={"index": i, "lonlat": [float(x) for x in arr[i]]},
        )
    return arr


class SegmentIndex:
    """The street segments of a network's edges, in an STRtree for nearest-edge queries."""

    def __init__(self, shapes: EdgeShapes) -> None:
        seg_of: dict[tuple[Any, ...], int] = {}
        seg_edges: list[list[tuple[int, bool]]] = []
        seg_xy: list[np.ndarray] = []
        for e, lonlat in enumerate(shapes.lonlat):
            fwd = tuple(map(tuple, np.round(lonlat, 7)))
            rev = fwd[::-1]
            forward = fwd <= rev
            canon = fwd if forward else rev
            s = seg_of.get(canon)
            if s is None:
                s = len(seg_edges)
                seg_of[canon] = s
                seg_edges.append([])
                xy = shapes.xy[e]
                seg_xy.append(xy if forward else xy[::-1].copy())
            seg_edges[s].append((e, forward))
        self.frame = shapes.frame
        self.edges = seg_edges  # per segment: (edge, runs along the segment's direction)
        self.lines = np.array([shapely.LineString(xy) for xy in seg_xy], dtype=object)
        self.length_m = shapely.length(self.lines)
        self.tree = shapely.STRtree(self.lines)

    def snap(
        self,
        arr: np.ndarray,
        *,
        ids: Sequence[str | None] | None = None,
        names: Sequence[str | None] | None = None,
    ) -> list[SnappedPoint]:
        """Snap checked ``(lon, lat)`` rows (see :func:`check_lonlats`) to their nearest segments."""
        if len(arr) == 0:
            return []
        pts = shapely.points(self.frame.to_xy(arr))
        found = self.tree.query_nearest(pts, all_matches=False)
        seg = np.empty(len(arr), dtype=np.int64)
        seg[found[0]] = found[1]
        lines = self.lines[seg]
        offset = shapely.line_locate_point(lines, pts)
        road = shapely.get_coordinates(shapely.line_interpolate_point(lines, offset))
        dist = shapely.distance(pts, lines)
        road_ll = self.frame.to_lonlat(road)
        out: list[SnappedPoint] = []
        for i in range(len(arr)):
            s = int(seg[i])
            seg_len = float(self.length_m[s])
            frac = float(offset[i]) / seg_len if seg_len > 0 else 0.0
            frac = min(max(frac, 0.0), 1.0)
            edges = tuple((e, frac if fwd else 1.0 - frac) for e, fwd in self.edges[s])
            out.append(
                SnappedPoint(
                    lon=float(arr[i, 0]),
                    lat=float(arr[i, 1]),
                    road_lon=float(road_ll[i, 0]),
                    road_lat=float(road_ll[i, 1]),
                    snap_distance_m=float(dist[i]),
                    segment=s,
                    offset_m=frac * seg_len,
                    edges=edges,
                    id=None if ids is None else ids[i],
                    name=None if names is None else names[i],
                )
            )
        return out
