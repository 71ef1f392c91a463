"""The ring design on a small built piece: a straight street, one substation, hand-computed cables;
and the id keeping between the first layout and the designed one."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from gis.city import network as nw
from gis.city.layout import _Ids
from gis.city.roads import StreetGraph

T = 4  # time steps


def street(n_nodes: int) -> StreetGraph:
    """Nodes every 1000 m along x, joined in a line."""
    xy = np.column_stack([np.arange(n_nodes) * 1000.0, np.zeros(n_nodes)])
    i = np.arange(n_nodes - 1)
    m = sp.coo_matrix((np.full(n_nodes - 1, 1000.0), (i, i + 1)), shape=(n_nodes, n_nodes))
    return StreetGraph(xy, (m + m.T).tocsr(), cKDTree(xy))


def piece(n_points: int, kw: float):
    streets = street(n_points + 1)
    subs = [nw.Substation(0, streets.xy[0], 0, 0, id="SUB1")]
    points = [
        nw.Transformer(k, np.array([k]), streets.xy[k + 1], k + 1, kw, "distribution_room", 1000, f"DR{k + 1:04d}")
        for k in range(n_points)
    ]
    load = {k: np.full(T, kw) for k in range(n_points)}
    sub_dist = np.arange(1, n_points + 1)[None, :] * 1000.0
    return streets, subs, points, load, sub_dist


def test_light_ring_gets_the_smallest_cable_meeting_n_minus_1():
    # 2 x 2 MW at 1 and 2 km, back to the substation along the same street (2 km).
    # Whole ring 4 MW = 256.6 A; 0.95 x ampacity: 3x95 247 A (no), 3x120 280 A (yes).
    # Its drops: from the end 2 km x 4 MW + 1 km x 2 MW on 3x120 = 2.0 % (< 8 %).
    streets, subs, points, load, sub_dist = piece(2, 2000.0)
    rings = nw.design_rings([nw.Ring(0, 0, [0, 1])], points, subs, streets, sub_dist, load)
    assert len(rings) == 1
    ring = rings[0]
    assert (ring.cable, ring.rating_a, ring.cut) == ("YJV22-8.7/15 3x120", 295, 1)
    assert nw.ring_gaps(ring, points, subs, streets).tolist() == [1000.0, 1000.0, 2000.0]


def test_heavy_ring_is_split_in_two():
    # 4 x 2 MW: 8 MW = 513 A > 0.95 x 485 A, no YJV22 carries the whole ring -> two rings of 2 x 2 MW,
    # each on 3x120 as above (the far one: 4 km x 4 MW + 1 km x 2 MW = 3.6 % from its end)
    streets, subs, points, load, sub_dist = piece(4, 2000.0)
    rings = nw.design_rings([nw.Ring(0, 0, [0, 1, 2, 3])], points, subs, streets, sub_dist, load)
    assert [sorted(r.transformers) for r in rings] == [[0, 1], [2, 3]]
    assert [r.cable for r in rings] == ["YJV22-8.7/15 3x120"] * 2
    assert all(r.loading == (2000.0 / nw.p_max_kw(295), 2000.0 / nw.p_max_kw(295)) for r in rings)


def test_ids_of_the_first_layout_are_kept_and_new_ones_follow():
    ids = _Ids(
        rmu={(("DR0001",),): "RMU0001", (("DR0002",),): "RMU0002"},
        line={frozenset(("A", "B")): "CB00001"},
        feeder={("SUB1", "RMU0001"): "SUB1-F01", ("SUB1", "RMU0009"): "SUB1-F02", ("SUB2", "RMU0005"): "SUB2-F01"},
        rmu_no=9,
        line_no={"cable": 3, "overhead": 0},
        feeder_no={"SUB1": 2, "SUB2": 1},
    )
    assert ids.rmu_id((("DR0002",),)) == "RMU0002"
    assert ids.rmu_id((("DR0003",),)) == "RMU0010"  # new equipment: after the largest
    assert ids.line_id("B", "A", "cable") == "CB00001"  # either direction
    assert ids.line_id("A", "C", "cable") == "CB00004"
    assert ids.line_id("P", "Q", "overhead") == "OH00001"
    halves = [
        ("SUB1", ["RMU0003", "RMU0001"]),  # supplies SUB1-F01's first RMU, but another starts at it
        ("SUB1", ["RMU0001"]),  # starts at it: keeps SUB1-F01 even though listed second
        ("SUB1", ["RMU0004", "RMU0009"]),  # supplies SUB1-F02's first RMU: keeps that bay
        ("SUB1", ["RMU0007"]),  # no bay left: new
        ("SUB2", ["RMU0005"]),
    ]
    assert ids.feeder_ids(halves) == ["SUB1-F03", "SUB1-F01", "SUB1-F02", "SUB1-F04", "SUB2-F01"]
    # a feeder matching nothing takes a free bay of its substation before a new number
    fresh = _Ids(feeder={("SUB1", "RMU0001"): "SUB1-F01"}, feeder_no={"SUB1": 1})
    assert fresh.feeder_ids([("SUB1", ["RMU0002"]), ("SUB1", ["RMU0003"])]) == ["SUB1-F01", "SUB1-F02"]
