"""Connectivity from geometry, on hand-drawn cases in a metric CRS (metres)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from gis.connectivity import infer_connectivity

CRS = "EPSG:32632"


def frame(rows, **extra):
    ids = [r[0] for r in rows]
    return gpd.GeoDataFrame({"id": ids, **extra}, geometry=[r[1] for r in rows], crs=CRS)


def test_line_ends_chain_into_one_junction_and_every_guess_is_reported():
    nodes = frame([("B", Point(0, 0))], kind=["busbar"], substation_id=["S"])
    lines = frame([("a", LineString([(0, 0), (100, 0)])), ("b", LineString([(100.4, 0), (200, 0)])),
                   ("c", LineString([(100.8, 0), (100, 50)])), ("d", LineString([(300, 0), (400, 0)]))])
    conn = infer_connectivity(nodes, lines, frame([]), tolerance_m=0.5)
    # a-to, b-from (0.4 m) and c-from (0.4 m from b) chain together, though a and c are 0.8 m apart
    assert conn.line_ends[0][1] == conn.line_ends[1][0] == conn.line_ends[2][0] == "a:to"
    assert conn.line_ends[0][0] == "B" and conn.line_ends[3] == ("d:from", "d:to")
    snaps = {(s.id, s.end): s for s in conn.snaps}
    assert len(snaps) == 8 and snaps["d", "to"].via == "none" and snaps["b", "from"].via == "line_end"
    assert snaps["a", "to"].distance_m == pytest.approx(0.4)  # to the junction at the ends' mean (100.4, 0)
    assert sorted(conn.junctions["id"]) == ["a:to", "b:to", "c:to", "d:from", "d:to"]


def test_switch_sides_orientation_and_ambiguity():
    nodes = frame([("B", Point(0, 0)), ("R", Point(200, 0))], kind=["busbar", "rmu"], substation_id=["S", None])
    switches = frame([("CB", Point(1, 0)), ("LS", Point(100, 0)), ("X", Point(200, 100))])
    lines = frame([("a", LineString([(100, 0), (1, 0)])),  # drawn towards the breaker
                   ("b", LineString([(200, 0), (100, 0)])),
                   ("t1", LineString([(200, 0), (200, 100)])), ("t2", LineString([(200, 100), (300, 100)])),
                   ("t3", LineString([(200, 100), (100, 100)]))])
    conn = infer_connectivity(nodes, lines, switches, tolerance_m=1.5)
    cb, ls, x = conn.switch_ends
    assert cb == ("B", "CB:b")  # the busbar within the tolerance is one side, the line end the other
    assert conn.line_ends[0] == ("LS:a", "CB:b") or conn.line_ends[0] == ("LS:b", "CB:b")
    assert ls[0] == conn.line_ends[0][0]  # from the side nearer the substation
    assert [p.code for p in conn.problems] == ["ambiguous_switch"] and conn.problems[0].id == "X"
    assert set(conn.problems[0].related) == {"t1", "t2", "t3"}


def test_a_switch_wins_a_tie_with_a_node_and_new_ids_avoid_taken_ones():
    nodes = frame([("N", Point(0, 0))], kind=["rmu"])
    switches = frame([("F", Point(2, 0))])
    lines = frame([("a", LineString([(1, 0), (50, 0)]))])
    conn = infer_connectivity(nodes, lines, switches, tolerance_m=1.5, taken_ids=["a:to", "N", "F", "a"])
    assert conn.switch_ends == [("F:a", "F:b")]  # the node is 2 m from the switch: not its side
    assert conn.line_ends == [("F:a", "a:to:2")]
