"""Crew GPS positions against the service area and the road network.

A phone reports ``(lon, lat)`` in WGS84 degrees. :func:`check_position` tells a usable
fix from three common mistakes, each a :class:`~routing.errors.RoutingInputError`
(HTTP 422) with its own ``code``:

* ``position_swapped``: the point is outside the area but ``(lat, lon)`` would be inside
  (a client that sent latitude first);
* ``position_outside_area``: outside the area's bounding box (plus a margin);
* ``position_off_road``: inside the area but farther than ``max_road_m`` metres from
  every drivable road (a wrong fix, or a device indoors far from any street).

:func:`street_name` names the street a snapped point lies on (the road graph's ``name``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from routing.errors import RoutingInputError
from routing.roads import RoadNetwork
from routing.snapping import SnappedPoint

__all__ = ["Bounds", "PositionCheck", "check_position", "compass_bearing", "street_name"]

#: ``(min_lon, min_lat, max_lon, max_lat)`` in WGS84 degrees.
Bounds = tuple[float, float, float, float]

_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class PositionCheck:
    """A position that passed: the road it is nearest to and how far (metres)."""

    lon: float
    lat: float
    road_distance_m: float | None
    street: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"lon": self.lon, "lat": self.lat, "road_distance_m": self.road_distance_m, "street": self.street}


def _inside(lon: float, lat: float, bounds: Bounds, margin_m: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = bounds
    dlat = margin_m / _M_PER_DEG_LAT
    dlon = margin_m / (_M_PER_DEG_LAT * max(math.cos(math.radians((min_lat + max_lat) / 2)), 0.01))
    return min_lon - dlon <= lon <= max_lon + dlon and min_lat - dlat <= lat <= max_lat + dlat


def check_position(lon: float, lat: float, *, bounds: Bounds, roads: RoadNetwork | None = None,
                   margin_m: float = 5000.0, max_road_m: float = 300.0) -> PositionCheck:
    """Check a reported crew position.

    Parameters
    ----------
    lon, lat
        WGS84 degrees.
    bounds
        The service area ``(min_lon, min_lat, max_lon, max_lat)`` (the grid's and road
        network's extent), degrees.
    roads
        The road network; without one only the area is checked.
    margin_m
        How far outside ``bounds`` a crew may still be (metres): depots and roads
        beyond the grid's edge.
    max_road_m
        The farthest a position may lie from a drivable road (metres).

    Raises
    ------
    RoutingInputError
        ``position_swapped``, ``position_outside_area`` or ``position_off_road``
        (see the module docstring), with the numbers in ``details``.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        raise RoutingInputError(f"({lon}, {lat}) is not a WGS84 (lon, lat) position", code="bad_position",
                                details={"lon": lon, "lat": lat})
    if not _inside(lon, lat, bounds, margin_m):
        if abs(lon) <= 90 and _inside(lat, lon, bounds, margin_m):
            raise RoutingInputError(
                f"lon={lon}, lat={lat} lies outside the service area, but swapped it lies inside: "
                "send longitude as lon and latitude as lat", code="position_swapped",
                details={"lon": lon, "lat": lat, "bounds": list(bounds)})
        raise RoutingInputError(
            f"lon={lon}, lat={lat} lies more than {margin_m:.0f} m outside the service area",
            code="position_outside_area", details={"lon": lon, "lat": lat, "bounds": list(bounds), "margin_m": margin_m})
    if roads is None:
        return PositionCheck(lon=lon, lat=lat, road_distance_m=None, street=None)
    snapped = roads.snap(lon, lat)
    if snapped.snap_distance_m > max_road_m:
        raise RoutingInputError(
            f"lon={lon}, lat={lat} is {snapped.snap_distance_m:.0f} m from the nearest drivable road "
            f"(at most {max_road_m:.0f} m accepted)", code="position_off_road",
            details={"lon": lon, "lat": lat, "road_distance_m": round(snapped.snap_distance_m, 1), "max_road_m": max_road_m})
    return PositionCheck(lon=lon, lat=lat, road_distance_m=round(snapped.snap_distance_m, 1), street=street_name(roads, snapped))


def street_name(roads: RoadNetwork, point: SnappedPoint) -> str | None:
    """The ``name`` of the road edge a snapped point lies on (the first of an OSM name list), or None."""
    for edge, _fraction in point.edges:
        u, v, k = roads.edge_keys[edge]
        name = roads.graph.edges[u, v, k].get("name")
        if isinstance(name, list | tuple):
            name = next((n for n in name if n), None)
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def compass_bearing(from_lonlat: tuple[float, float], to_lonlat: tuple[float, float]) -> tuple[float, str]:
    """Distance (metres, equirectangular, fine below a few km) and 8-point compass direction
    from one WGS84 point to another, e.g. ``(24.0, "NE")``."""
    lon1, lat1 = from_lonlat
    lon2, lat2 = to_lonlat
    dy = (lat2 - lat1) * _M_PER_DEG_LAT
    dx = (lon2 - lon1) * _M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
    dist = math.hypot(dx, dy)
    angle = (math.degrees(math.atan2(dx, dy)) + 360.0) % 360.0
    return dist, _COMPASS[int((angle + 22.5) // 45) % 8]
