"""The one GeoJSON writer: hand-written expected output, JSON safety, round trips."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from gis.geojson import to_geojson
from gis.records import json_safe


def test_frame_written_by_hand() -> None:
    frame = gpd.GeoDataFrame(
        {
            "id": ["A", "B"],
            "demand_kw": [12.5, np.nan],
            "count": np.array([3, 4], dtype=np.int64),
            "remote": [True, False],
            "seen": pd.to_datetime(["2026-12-01T10:00:00+01:00", None]),
        },
        geometry=[Point(7.42, 43.73), LineString([(7.42, 43.73), (7.43, 43.74)])],
        crs="EPSG:4326",
    )
    assert to_geojson(frame) == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": "A",
                    "demand_kw": 12.5,
                    "count": 3,
                    "remote": True,
                    "seen": "2026-12-01T10:00:00+01:00",
                },
                "geometry": {"type": "Point", "coordinates": [7.42, 43.73]},
            },
            {
                "type": "Feature",
                "properties": {
                    "id": "B",
                    "demand_kw": None,
                    "count": 4,
                    "remote": False,
                    "seen": None,
                },
                "geometry": {"type": "LineString", "coordinates": [[7.42, 43.73], [7.43, 43.74]]},
            },
        ],
    }


def test_nan_and_infinity_are_null_and_the_text_is_strict_json() -> None:
    frame = gpd.GeoDataFrame(
        {"x": [np.nan, np.inf, -np.inf, 1.0], "name": [None, "a", pd.NA, "b"]},
        geometry=[Point(0, 0)] * 4,
        crs="EPSG:4326",
    )
    doc = to_geojson(frame)
    assert [f["properties"] for f in doc["features"]] == [
        {"x": None, "name": None},
        {"x": None, "name": "a"},
        {"x": None, "name": None},
        {"x": 1.0, "name": "b"},
    ]
    text = json.dumps(doc, allow_nan=False)  # raises on NaN / Infinity
    assert json.loads(text) == doc
    assert "NaN" not in text and "Infinity" not in text


def test_projected_frame_is_written_in_lon_lat() -> None:
    # Monaco's palace in UTM 32N (EPSG:32632) -> about (7.4203 E, 43.7314 N)
    frame = gpd.GeoDataFrame(
        {"id": ["P"]}, geometry=[Point(7.4203, 43.7314)], crs="EPSG:4326"
    ).to_crs("EPSG:32632")
    (feature,) = to_geojson(frame, coord_decimals=6)["features"]
    assert feature["geometry"]["coordinates"] == [7.4203, 43.7314]


def test_features_with_rounding_bbox_members_and_selected_keys() -> None:
    pairs = [
        (Point(7.123456789, 43.987654321), {"id": "P", "kw": 1.23456, "extra": "x"}),
        ({"type": "LineString", "coordinates": ((1, 2), (3.5, -4))}, {"id": "L", "kw": 2}),
        (None, {"id": "N"}),
        (Point(), {"id": "E"}),  # empty: no geometry
    ]
    doc = to_geojson(
        pairs,
        properties=["id", "kw"],
        coord_decimals=6,
        float_decimals=3,
        bbox=True,
        members={"dropped": [{"task_id": "T", "weight": np.float64(2.5)}], "n": np.int32(4)},
    )
    assert doc == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "P", "kw": 1.235},
                "geometry": {"type": "Point", "coordinates": [7.123457, 43.987654]},
            },
            {
                "type": "Feature",
                "properties": {"id": "L", "kw": 2},
                "geometry": {"type": "LineString", "coordinates": [[1.0, 2.0], [3.5, -4.0]]},
            },
            {"type": "Feature", "properties": {"id": "N"}, "geometry": None},
            {"type": "Feature", "properties": {"id": "E"}, "geometry": None},
        ],
        "bbox": [1.0, -4.0, 7.123457, 43.987654],
        "dropped": [{"task_id": "T", "weight": 2.5}],
        "n": 4,
    }


def test_runs_of_lines_and_3d_points_keep_their_own_coordinates() -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "z"]},
        geometry=[
            LineString([(0, 0), (1, 1)]),
            LineString([(2, 2), (3, 3), (4, 4)]),
            LineString([(5, 5), (6, 6)]),
            Point(1, 2, 3),
        ],
        crs="EPSG:4326",
    )
    assert [f["geometry"] for f in to_geojson(frame)["features"]] == [
        {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]},
        {"type": "LineString", "coordinates": [[2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]},
        {"type": "LineString", "coordinates": [[5.0, 5.0], [6.0, 6.0]]},
        {"type": "Point", "coordinates": [1.0, 2.0, 3.0]},
    ]


def test_multi_and_polygon_geometries_nest_lists() -> None:
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 0)])
    two = MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3), (4, 4)]])
    doc = to_geojson([(square, {}), (two, {})])
    assert doc["features"][0]["geometry"] == {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
    }
    assert doc["features"][1]["geometry"]["coordinates"] == [
        [[0.0, 0.0], [1.0, 1.0]],
        [[2.0, 2.0], [3.0, 3.0], [4.0, 4.0]],
    ]


def test_round_trip_through_geopandas(tmp_path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["R1", "R2", "R3"], "rating_a": [400.0, np.nan, 250.5], "name": ["海景", None, "x"]},
        geometry=[
            Point(7.4212345678901, 43.7312345678901),
            LineString([(7.41, 43.72), (7.415, 43.725), (7.42, 43.73)]),
            Point(7.43, 43.74),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "layer.geojson"
    path.write_text(json.dumps(to_geojson(frame), ensure_ascii=False), encoding="utf-8")
    back = gpd.read_file(path)
    assert back.crs.equals("EPSG:4326")
    assert list(back["id"]) == ["R1", "R2", "R3"]
    assert back["rating_a"].tolist()[0] == 400.0 and np.isnan(back["rating_a"][1])
    assert back["name"].tolist() == ["海景", None, "x"]
    # full float precision: the geometries come back exactly
    assert back.geometry.geom_equals_exact(frame.geometry, tolerance=0).all()


def test_bad_input_is_refused_clearly() -> None:
    frame = gpd.GeoDataFrame({"id": ["A"]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(KeyError, match="nope"):
        to_geojson(frame, properties=["id", "nope"])
    with pytest.raises(ValueError, match="reserved"):
        to_geojson(frame, members={"features": []})
    with pytest.raises(ValueError, match="non-finite"):
        to_geojson([({"type": "Point", "coordinates": [float("nan"), 0.0]}, {})])
    # a decimal is a number: written as one
    assert to_geojson([(Point(0, 0), {"price": Decimal("1.5")})])["features"][0]["properties"] == {"price": 1.5}


def test_json_safe_scalars_as_the_writer_uses_them() -> None:
    assert json_safe(np.float32(0.5)) == 0.5 and type(json_safe(np.float32(0.5))) is float
    assert json_safe(np.int64(7)) == 7 and type(json_safe(np.int64(7))) is int
    assert json_safe(np.bool_(True)) is True
    assert json_safe(pd.NaT) is None
    assert json_safe(np.datetime64("NaT")) is None
    assert json_safe(np.datetime64("2026-01-02T03:04:05")) == "2026-01-02T03:04:05"
    assert json_safe(date(2026, 1, 2)) == "2026-01-02"
    assert json_safe(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02T03:04:00+00:00"
    assert json_safe((1, np.float64(2.0), [np.nan])) == [1, 2.0, [None]]
    assert json_safe(2.0004, digits=3) == 2.0


def test_empty_input_is_an_empty_collection_without_bbox() -> None:
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs="EPSG:4326")
    assert to_geojson(empty, bbox=True) == {"type": "FeatureCollection", "features": []}
    assert to_geojson([], bbox=True, members={"n": 0}) == {
        "type": "FeatureCollection",
        "features": [],
        "n": 0,
    }
