"""Exports: GPX opens in gpxpy with the right waypoints, GeoJSON, geo: links."""

from __future__ import annotations

import json

import gpxpy
import pytest

from routing import Crew, RoutingInputError, Task, plan_geojson, plan_gpx, plan_routes, write_gpx
from tests.routing.conftest import NOW, at


@pytest.fixture(scope="module")
def plan(line_roads):
    crews = [
        Crew("A", "N0", shift_start=at(0), shift_end=at(480), name="Crew Alpha"),
        Crew("B/2", "N10", shift_start=at(0), shift_end=at(480)),
    ]
    tasks = [
        Task("T1", "N2", service_min=10, weight=5),
        Task("T2", "N3", service_min=10, weight=5),
        Task("T9", "N9", service_min=10, weight=5),
        Task("lost", "N99"),
    ]
    return plan_routes(line_roads, crews, tasks, now=NOW, time_limit_s=0.5)


def test_gpx_waypoints_and_track(plan):
    route = plan.route("A")
    gpx = gpxpy.parse(plan_gpx(plan, "A"))
    names = [w.name for w in gpx.waypoints]
    assert names == [s.name for s in route.stops] == ["RMU N2", "RMU N3"]
    w = gpx.waypoints[0]
    assert (w.longitude, w.latitude) == pytest.approx((0.002, 0.0))
    assert w.time == route.stops[0].arrival
    assert "geo:0.000000,0.002000" in w.description
    (track,) = gpx.tracks
    pts = track.segments[0].points
    assert (pts[0].longitude, pts[-1].longitude) == pytest.approx((0.0, 0.003))
    assert "Crew Alpha" in track.name


def test_gpx_all_crews_and_files(plan, tmp_path):
    gpx = gpxpy.parse(plan_gpx(plan))
    assert len(gpx.tracks) == 2 and len(gpx.waypoints) == 3
    files = write_gpx(plan, tmp_path)
    assert sorted(f.name for f in files) == ["A.gpx", "B_2.gpx"]
    assert gpxpy.parse(files[0].read_text()).waypoints


def test_gpx_from_saved_json(plan):
    saved = json.loads(json.dumps(plan.to_dict()))
    assert plan_gpx(saved, "A") == plan_gpx(plan, "A")
    with pytest.raises(RoutingInputError):
        plan_gpx(saved, "nobody")
    with pytest.raises(RoutingInputError):
        plan_gpx({"not": "a plan"})


def test_geojson(plan):
    fc = json.loads(json.dumps(plan_geojson(plan)))
    assert fc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("route") == 2 and kinds.count("stop") == 3
    stop = next(f for f in fc["features"] if f["properties"].get("task_id") == "T9")
    assert stop["geometry"]["type"] == "Point"
    assert stop["geometry"]["coordinates"] == pytest.approx([0.009, 0.0])
    assert stop["properties"]["geo_uri"] == "geo:0.000000,0.009000"
    assert fc["dropped"] == [
        {"task_id": "lost", "code": "unknown_location", "reason": "unknown location id 'N99'"}
    ]
