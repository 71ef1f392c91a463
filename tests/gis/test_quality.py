"""The data-quality report of grid files: clean on the hand-checked ring, one finding per planted
defect otherwise, and the grid's own validation errors located on the map."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from gis.format import write_grid
from gis.quality import quality_of_layers

RING = Path(__file__).resolve().parents[1] / "data" / "small_ring"


def codes(report) -> list[tuple[str, str | None, str | None]]:
    return sorted((i.code, i.layer, i.id) for i in report.items)


def test_the_small_ring_is_clean():
    from gis.format import read_layers

    report = quality_of_layers(read_layers(RING))
    assert report.valid and report.items == [] and report.grid is not None


def _point_near(layers, node_id: str, dx_m: float, dy_m: float) -> Point:
    p = layers["nodes"].set_index("id").loc[node_id].geometry
    return Point(p.x + dx_m / 73_000, p.y + dy_m / 111_000)  # metres to degrees near 44 N


@pytest.mark.filterwarnings("ignore:The behavior of DataFrame concatenation:FutureWarning")
def test_each_planted_defect_is_one_item(ring_layers):
    layers = ring_layers
    nodes, lines, cust = layers["nodes"], layers["lines"], layers["customers"]
    far = _point_near(layers, "D5", 3000, 3000)
    layers["nodes"] = pd.concat([nodes, gpd.GeoDataFrame(
        {"id": ["D9", "q1"], "kind": ["distribution_room", "junction"], "kva": [250.0, None]},
        geometry=[far, _point_near(layers, "R1", 0, -400)], crs=nodes.crs)], ignore_index=True)
    ba = nodes.set_index("id").loc["BA"].geometry
    spur = LineString([(ba.x, ba.y), (_point_near(layers, "R1", 0, -400).x, _point_near(layers, "R1", 0, -400).y)])
    layers["lines"] = pd.concat([lines, gpd.GeoDataFrame(
        {"id": ["L99"], "from_node": ["BA"], "to_node": ["q1"], "kind": ["cable"], "rating_a": [None]},
        geometry=[spur], crs=lines.crs)], ignore_index=True)
    layers["customers"] = pd.concat([cust, gpd.GeoDataFrame(
        {"id": ["C99"], "category": ["residential"], "demand_kw": [3.0], "node_id": ["NOPE"]},
        geometry=[far], crs=cust.crs)], ignore_index=True)
    report = quality_of_layers(layers)
    assert codes(report) == [
        ("customer_without_transformer", "customers", "C99"),
        ("dangling_line_end", "lines", "L99"),
        ("device_not_on_line", "nodes", "D9"),
        ("feeder_without_breaker", "lines", "L99"),
        ("missing_rating", "lines", "L99"),
    ]
    assert not report.valid and report.grid is None
    d9 = next(i for i in report.items if i.id == "D9")
    assert (d9.lon, d9.lat) == (far.x, far.y) and "no line within 100 m" in d9.message


def test_the_grids_own_errors_join_the_report_with_a_location(ring_layers, tmp_path):
    ring_layers["switches"].loc[ring_layers["switches"]["id"] == "T1", "normally_open"] = False  # a closed loop
    write_grid(ring_layers, tmp_path / "loop.gpkg")
    out = subprocess.run([sys.executable, "-m", "gis", "quality", str(tmp_path / "loop.gpkg"), "--json",
                          "--report", str(tmp_path / "loop.quality")], capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    loop = [i for i in doc["items"] if i["code"] == "closed_loop"]
    assert loop and {i["layer"] for i in loop} == {"switches"} and "T1" in {i["id"] for i in loop}
    assert all(i["lon"] is not None for i in loop)
    assert sorted(Path(p).suffix for p in doc["report"].values()) == [".csv", ".geojson", ".json"]
    ok = subprocess.run([sys.executable, "-m", "gis", "quality", str(RING)], capture_output=True, text=True)
    assert ok.returncode == 0 and "0 finding(s)" in ok.stdout
