"""Crew routing on real roads: road network, travel-time matrices, OR-Tools dispatch, exports.

Public API::

    roads = load_roads("outage_demo/monaco_roads.graphml", access_points={...}, names={...})
    seconds = roads.matrix(origins, destinations)          # exact, one-way streets respected
    plan = plan_routes(roads, crews, tasks, now=now,
                       objective="weighted_restoration", time_limit_s=10)
    gpx_text = plan_gpx(plan, crew_id)                      # GPX 1.1 for the crew's phone
    fc = plan_geojson(plan)                                 # RFC 7946 FeatureCollection
    result = solve_vrplib("C101.vrp", time_limit_s=10)     # VRPTW benchmark
    check_position(lon, lat, bounds=..., roads=roads)       # a crew's GPS fix: in the area, near a road

Coordinates are WGS84 ``(lon, lat)``; times in seconds, lengths in metres,
datetimes timezone-aware. See ``docs/routing.md``.
"""

from routing.dispatch import greedy_routes, plan_routes
from routing.errors import RoadNetworkError, RoutingError, RoutingInputError, UnknownLocationError
from routing.export import plan_geojson, plan_gpx, write_gpx
from routing.model import (
    OBJECTIVES,
    Crew,
    CrewRoute,
    DroppedTask,
    RoutePlan,
    Stop,
    Task,
    geo_uri,
)
from routing.positions import PositionCheck, check_position, compass_bearing, street_name
from routing.roads import LoadReport, RoadNetwork, RoadPath, SnappedPoint, load_roads
from routing.vrptw import read_vrptw, solve_vrplib

__all__ = [
    "OBJECTIVES",
    "PositionCheck",
    "Crew",
    "CrewRoute",
    "DroppedTask",
    "LoadReport",
    "RoadNetwork",
    "RoadNetworkError",
    "RoadPath",
    "RoutePlan",
    "RoutingError",
    "RoutingInputError",
    "SnappedPoint",
    "Stop",
    "Task",
    "UnknownLocationError",
    "check_position",
    "compass_bearing",
    "geo_uri",
    "greedy_routes",
    "load_roads",
    "plan_geojson",
    "plan_gpx",
    "plan_routes",
    "read_vrptw",
    "solve_vrplib",
    "street_name",
    "write_gpx",
]
