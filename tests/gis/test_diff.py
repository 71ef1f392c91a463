"""gis.diff: what changed between two grid versions, checked on hand-made edits of the small ring."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from gis import Grid
from gis.diff import diff_grids


def edited(grid: Grid, edit) -> Grid:
    layers = grid.layers()
    edit(layers)
    return Grid.from_layers(layers, source="edited")


def test_a_grid_has_no_difference_with_itself(ring: Grid) -> None:
    d = diff_grids(ring, ring)
    assert d.empty and d.counts() == {} and d.to_json()["changed"] == []


def test_every_kind_of_change_is_named_once(ring: Grid) -> None:
    def edit(layers: dict) -> None:
        sw = layers["switches"].set_index("id", drop=False)
        sw.loc["S3", "normally_open"] = True          # D5 now fed only through an open switch
        sw.loc["S2", "rating_a"] = 200.0              # was missing
        layers["switches"] = sw.reset_index(drop=True)
        nodes = layers["nodes"].set_index("id", drop=False)
        p = nodes.loc["D1", "geometry"]
        nodes.loc["D1", "geometry"] = Point(p.x, p.y + 0.001)  # ~111 m north
        layers["nodes"] = gpd.GeoDataFrame(nodes.reset_index(drop=True), crs=layers["nodes"].crs)
        cust = layers["customers"]
        new = cust[cust["id"] == "C6"].copy()
        new["id"] = "C8"
        layers["customers"] = pd.concat([cust[cust["id"] != "C6"], new], ignore_index=True)

    d = diff_grids(ring, edited(ring, edit))
    assert d.added == {**{k: [] for k in d.added}, "customers": ["C8"]}
    assert d.removed == {**{k: [] for k in d.removed}, "customers": ["C6"]}
    got = {(c.layer, c.id, c.column): (c.kind, c.old, c.new) for c in d.changed}
    moved = got.pop(("nodes", "D1", "geometry"))
    assert moved[0] == "position" and moved[2] == pytest.approx(111.2, abs=0.5)  # 0.001 deg of latitude
    assert got == {
        ("switches", "S2", "rating_a"): ("rating", None, 200),
        ("switches", "S3", "normally_open"): ("normal_state", False, True),
    }
    assert d.counts() == {"nodes": {"added": 0, "removed": 0, "changed": 1},
                          "switches": {"added": 0, "removed": 0, "changed": 2},
                          "customers": {"added": 1, "removed": 1, "changed": 0}}
    assert d.touched("switches") == {"S2", "S3"}


def test_a_move_under_a_metre_is_no_move(ring: Grid) -> None:
    def edit(layers: dict) -> None:
        nodes = layers["nodes"].set_index("id", drop=False)
        p = nodes.loc["R1", "geometry"]
        nodes.loc["R1", "geometry"] = Point(p.x + 0.000005, p.y)  # ~0.4 m east
        layers["nodes"] = gpd.GeoDataFrame(nodes.reset_index(drop=True), crs=layers["nodes"].crs)

    assert diff_grids(ring, edited(ring, edit)).empty


def test_a_reconnected_customer_is_a_connection_change(ring: Grid) -> None:
    def edit(layers: dict) -> None:
        layers["customers"].loc[layers["customers"]["id"] == "C1", "node_id"] = "D2"

    d = diff_grids(ring, edited(ring, edit))
    assert [(c.layer, c.id, c.column, c.kind, c.old, c.new) for c in d.changed] == [
        ("customers", "C1", "node_id", "connection", "D1", "D2")]
