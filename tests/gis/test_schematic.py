"""Schematic layout and placement (gis/schematic.py), checked on hand-drawn cases."""

import pytest
from pyproj import Geod

from gis import InputError
from gis.schematic import place, place_near_neighbours, to_local, tree_layout


def test_tree_layout_by_hand():
    #      r
    #    /   \
    #   a     b
    #  / \
    # c   d          plus an island e - f
    pos = tree_layout("rabcdef", [("r", "a"), ("r", "b"), ("a", "c"), ("a", "d"), ("e", "f")], ["r"], spacing_m=10.0)
    # leaves c, d, b at x = 0, 10, 20; a over c and d (5); r over a and b (12.5); rows 10 m apart; r at (0, 0)
    assert pos["r"] == (0.0, 0.0)
    assert pos["a"] == (5.0 - 12.5, -10.0) and pos["b"] == (20.0 - 12.5, -10.0)
    assert pos["c"] == (-12.5, -20.0) and pos["d"] == (10.0 - 12.5, -20.0)
    # the island is drawn to the right of the tree, from its first node
    assert pos["e"][0] > pos["b"][0] and pos["e"][1] == 0.0 and pos["f"] == (pos["e"][0], -10.0)


def test_a_meshed_graph_still_gets_one_spot_per_node():
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (1, 3)]
    pos = tree_layout(range(4), edges, [0], spacing_m=50.0)
    assert len(set(pos.values())) == 4


def test_place_keeps_distances_from_the_origin():
    origin = (24.95, 60.17)
    lonlat = place({"east": (1000.0, 0.0), "north": (0.0, 2000.0), "o": (0.0, 0.0)}, origin=origin)
    g = Geod(ellps="WGS84")
    assert lonlat["o"] == pytest.approx(origin)
    assert g.inv(*origin, *lonlat["east"])[2] == pytest.approx(1000.0, abs=1e-6)
    assert g.inv(*origin, *lonlat["north"])[2] == pytest.approx(2000.0, abs=1e-6)
    assert lonlat["north"][0] == pytest.approx(origin[0]) and lonlat["north"][1] > origin[1]
    back = to_local(lonlat, origin=origin)
    assert back["east"] == pytest.approx((1000.0, 0.0), abs=1e-6)


def test_bad_origin():
    with pytest.raises(InputError):
        place({"a": (0.0, 0.0)}, origin=(60.17, 124.95))


def test_place_near_neighbours():
    xy = {"a": (0.0, 0.0)}
    placed = place_near_neighbours(xy, [("a", "b"), ("b", "c")], ["a", "b", "c", "z"], step_m=5.0)
    assert placed == ["b", "c", "z"]
    assert xy["b"] == (5.0, -5.0) and xy["c"] == (10.0, -10.0) and xy["z"] == (0.0, -5.0)
