"""Exports a crew's phone can use: GPX 1.1, GeoJSON (RFC 7946), ``geo:`` links.

Every function takes a :class:`~routing.model.RoutePlan` or its JSON form
(``plan.to_dict()``, the ``python -m routing dispatch --json`` output), so a
saved plan can be exported later without the road network.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import gpxpy
import gpxpy.gpx

from gis.geojson import to_geojson
from routing.errors import RoutingInputError
from routing.model import RoutePlan

__all__ = ["plan_geojson", "plan_gpx", "write_gpx"]


def _as_dict(plan: RoutePlan | dict[str, Any]) -> dict[str, Any]:
    if isinstance(plan, RoutePlan):
        return plan.to_dict()
    if isinstance(plan, dict) and "routes" in plan:
        return plan
    raise RoutingInputError("expected a RoutePlan or its to_dict() JSON form")


def _routes(plan: dict[str, Any], crew_id: str | None) -> list[dict[str, Any]]:
    routes = plan["routes"]
    if crew_id is None:
        return routes
    chosen = [r for r in routes if r["crew_id"] == crew_id]
    if not chosen:
        raise RoutingInputError(
            f"no route for crew {crew_id!r} in the plan",
            details={"crews": [r["crew_id"] for r in routes]},
        )
    return chosen


def plan_gpx(plan: RoutePlan | dict[str, Any], crew_id: str | None = None) -> str:
    """GPX 1.1 text: one waypoint per stop (named after the equipment), one track per crew.

    Waypoints sit at the access points (WGS84), carry the ETA as ``time`` and
    the task id, service window and ``geo:`` link in the description; the
    track follows the road path. ``crew_id`` limits the file to one crew.
    """
    data = _as_dict(plan)
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "outage-planner routing"
    for r in _routes(data, crew_id):
        for seq, s in enumerate(r["stops"], start=1):
            wpt = gpxpy.gpx.GPXWaypoint(
                latitude=s["lat"],
                longitude=s["lon"],
                name=s["name"],
                time=datetime.fromisoformat(s["arrival"]),
                description=(
                    f"{r['crew_id']} stop {seq}: task {s['task_id']}; "
                    f"arrive {s['arrival']}, work {s['start']} - {s['departure']}; {s['geo_uri']}"
                ),
                symbol="Flag, Blue",
                type="stop",
            )
            wpt.comment = s["task_id"]
            gpx.waypoints.append(wpt)
        track = gpxpy.gpx.GPXTrack(name=f"{r['crew_name']} ({r['crew_id']})")
        segment = gpxpy.gpx.GPXTrackSegment()
        for lon, lat in r["path"]["coordinates"]:
            segment.points.append(gpxpy.gpx.GPXTrackPoint(latitude=lat, longitude=lon))
        track.segments.append(segment)
        gpx.tracks.append(track)
    return gpx.to_xml(version="1.1")


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "crew"


def write_gpx(plan: RoutePlan | dict[str, Any], directory: str | Path) -> list[Path]:
    """Write ``<crew_id>.gpx`` per crew with at least one stop into ``directory``."""
    data = _as_dict(plan)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for r in data["routes"]:
        if not r["stops"]:
            continue
        path = out / f"{_safe_name(r['crew_id'])}.gpx"
        path.write_text(plan_gpx(data, r["crew_id"]), encoding="utf-8")
        written.append(path)
    return written


def plan_geojson(plan: RoutePlan | dict[str, Any]) -> dict[str, Any]:
    """RFC 7946 FeatureCollection: a LineString per crew route and a Point per stop.

    Coordinates are ``[lon, lat]`` (WGS84). Dropped tasks are listed in the
    foreign member ``dropped``.
    """
    data = _as_dict(plan)
    features: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for r in data["routes"]:
        coords = r["path"]["coordinates"]
        if len(coords) >= 2:
            route = {
                "kind": "route",
                "crew_id": r["crew_id"],
                "crew_name": r["crew_name"],
                "distance_m": r["distance_m"],
                "travel_time_s": r["travel_time_s"],
                "start_time": r["start_time"],
                "end_time": r["end_time"],
                "stops": len(r["stops"]),
            }
            features.append(({"type": "LineString", "coordinates": coords}, route))
        for seq, s in enumerate(r["stops"], start=1):
            stop = {"kind": "stop", "crew_id": r["crew_id"], "sequence": seq}
            stop.update((k, v) for k, v in s.items() if k not in ("lon", "lat"))
            features.append(({"type": "Point", "coordinates": [s["lon"], s["lat"]]}, stop))
    return to_geojson(features, members={"dropped": data["dropped"]})
