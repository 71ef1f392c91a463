"""Road network: loading, snapping to edges, exact matrices, paths."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from routing import RoadNetworkError, RoutingInputError, UnknownLocationError, load_roads
from tests.routing.conftest import STEP, helsinki_pbf, line_graph, square_graph


# ------------------------------------------------------------------ loading
def test_load_keeps_largest_strongly_connected_component(square_roads):
    rep = square_roads.report
    assert (rep.nodes_in, rep.edges_in) == (6, 9)
    assert (rep.nodes_kept, rep.edges_kept) == (4, 7)
    assert rep.components_dropped == 1
    assert rep.nodes_dropped == 2 and rep.edges_dropped == 2
    assert rep.to_dict() == {
        "source": "graph",
        "nodes_in": 6,
        "edges_in": 9,
        "nodes_kept": 4,
        "edges_kept": 7,
        "nodes_dropped": 2,
        "edges_dropped": 2,
        "components_dropped": 1,
        "access_points_snapped": 0,
        "access_points_off_network": [],
    }
    assert set(square_roads.graph.nodes) == {"A", "B", "C", "D"}


def test_load_helsinki_pbf_has_osmnx_attributes(helsinki_roads):
    g = helsinki_roads.graph
    assert g.graph["crs"] == "EPSG:4326"
    assert helsinki_roads.num_nodes > 100
    for _, _, d in g.edges(data=True):
        assert d["length"] > 0 and d["speed_kph"] > 0
        assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6), rel=1e-3)
    # one-way streets stay one-way: some edges have no reverse twin
    one_way = [(u, v) for u, v in g.edges() if not g.has_edge(v, u)]
    assert one_way
    assert nx.is_strongly_connected(g)


def test_load_graphml_round_trip(tmp_path, helsinki_roads):
    import osmnx as ox

    path = tmp_path / "roads.graphml"
    ox.save_graphml(helsinki_roads.graph, path)
    again = load_roads(path)
    assert again.num_nodes == helsinki_roads.num_nodes
    assert again.num_edges == helsinki_roads.num_edges
    assert np.allclose(np.sort(again.edge_time_s), np.sort(helsinki_roads.edge_time_s))


def test_speeds_default_by_highway_class_without_maxspeed():
    g = line_graph(3)
    for _, _, d in g.edges(data=True):
        del d["travel_time"]
        d["highway"] = "primary"
    roads = load_roads(g)
    # 100 m at the primary default 50 km/h
    assert roads.edge_time_s[0] == pytest.approx(100 / (50 / 3.6))
    faster = load_roads(g, hwy_speeds={"primary": 36.0})
    assert faster.edge_time_s[0] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("name", "content"),
    [("missing.graphml", None), ("roads.txt", "hello"), ("broken.graphml", "<graphml")],
)
def test_load_bad_files_raise_clear_errors(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(RoadNetworkError) as err:
        load_roads(path)
    assert name in str(err.value)


def test_load_rejects_empty_graph():
    with pytest.raises(RoadNetworkError):
        load_roads(nx.MultiDiGraph(crs="EPSG:4326"))


# ----------------------------------------------------------------- snapping
def test_snap_picks_the_nearest_edge_not_the_nearest_node(square_roads):
    # 22 m south of the middle of A->B; nodes A and B are ~60 m away
    p = square_roads.snap(0.5 * STEP, -0.0002)
    keys = {square_roads.edge_keys[e][:2] for e, _ in p.edges}
    assert keys == {("A", "B")}  # one-way: a single directed edge
    ((_, frac),) = p.edges
    assert frac == pytest.approx(0.5, abs=1e-6)
    assert p.snap_distance_m == pytest.approx(22.2, abs=0.2)
    assert (p.road_lon, p.road_lat) == pytest.approx((0.5 * STEP, 0.0), abs=1e-9)


def test_snap_two_way_street_gives_both_directions(square_roads):
    p = square_roads.snap(STEP + 0.0001, 0.25 * STEP)  # east of B-C, a quarter up
    by_key = {square_roads.edge_keys[e][:2]: f for e, f in p.edges}
    assert by_key == pytest.approx({("B", "C"): 0.25, ("C", "B"): 0.75}, abs=1e-6)


def test_access_points_snapped_once_at_load_time():
    roads = load_roads(
        square_graph(),
        access_points={"RMU1": (0.5 * STEP, 0.0001), "FAR": (0.2, 0.2)},
        names={"RMU1": "Ring main unit 1"},
    )
    assert roads.access["RMU1"].name == "Ring main unit 1"
    assert roads.on_network(roads.access["RMU1"])
    assert not roads.on_network(roads.access["FAR"])
    assert roads.report.access_points_snapped == 1
    assert roads.report.access_points_off_network == ("FAR",)


def test_locate_errors(square_roads):
    with pytest.raises(UnknownLocationError):
        square_roads.locate("nope")
    with pytest.raises(RoutingInputError):
        square_roads.locate((float("nan"), 0.0))
    with pytest.raises(RoutingInputError):
        square_roads.locate((200.0, 0.0))
    with pytest.raises(RoutingInputError):
        square_roads.locate(42)


# ----------------------------------------------------------------- matrices
def test_one_way_street_respected(square_roads):
    mid = square_roads.snap(0.5 * STEP, 0.0)  # middle of one-way A->B
    quarter = square_roads.snap(0.25 * STEP, 0.0)
    m = square_roads.matrix([quarter, mid], [quarter, mid])
    assert m[0, 1] == pytest.approx(2.5)  # forward along the edge
    # backwards: on to B, round C, D, A, then a quarter of A->B
    assert m[1, 0] == pytest.approx(5 + 10 + 10 + 10 + 2.5)
    assert m[0, 0] == 0 and m[1, 1] == 0


def test_matrix_two_way_partial_edges(square_roads):
    p = square_roads.snap(STEP, 0.25 * STEP)  # on B-C, 2.5 s from B
    q = square_roads.snap(0.0, 0.5 * STEP)  # on D-A, 5 s from either end
    m, metres = square_roads.matrix([p, q], [p, q], with_length=True)
    # p -> B (2.5) ... B cannot go to A directly (one-way A->B): p -> C -> D -> q = 7.5+10+5
    assert m[0, 1] == pytest.approx(22.5)
    assert metres[0, 1] == pytest.approx(225.0)
    # q -> A -> B -> p = 5 + 10 + 2.5
    assert m[1, 0] == pytest.approx(17.5)
    assert metres[1, 0] == pytest.approx(175.0)


def _nx_reference(roads, points):
    """Travel times by networkx with explicit virtual nodes (slow, obviously right).

    Documented rule: a point within 1 cm of an edge end is that node.
    """
    g = nx.MultiDiGraph()
    for e in range(roads.num_edges):
        g.add_edge(int(roads.edge_u[e]), int(roads.edge_v[e]), w=float(roads.edge_time_s[e]))
    for i, p in enumerate(points):
        for e, f in p.edges:
            u, v, t = int(roads.edge_u[e]), int(roads.edge_v[e]), roads.edge_time_s[e]
            g.add_edge(("o", i), v, w=(1 - f) * t)
            g.add_edge(u, ("d", i), w=f * t)
            if f * roads.edge_length_m[e] <= 0.01:
                g.add_edge(("o", i), u, w=0.0)
            if (1 - f) * roads.edge_length_m[e] <= 0.01:
                g.add_edge(v, ("d", i), w=0.0)
    out = np.full((len(points), len(points)), np.inf)
    for i, p in enumerate(points):
        dist = nx.single_source_dijkstra_path_length(g, ("o", i), weight="w")
        for j, q in enumerate(points):
            best = dist.get(("d", j), math.inf)
            for e, fo in p.edges:
                for e2, fd in q.edges:
                    if e == e2 and fd >= fo:
                        best = min(best, (fd - fo) * roads.edge_time_s[e])
            out[i, j] = best
    return out


def test_matrix_equals_networkx_on_helsinki(helsinki_roads):
    rng = np.random.default_rng(7)
    lon = rng.uniform(helsinki_roads.node_lon.min(), helsinki_roads.node_lon.max(), 25)
    lat = rng.uniform(helsinki_roads.node_lat.min(), helsinki_roads.node_lat.max(), 25)
    pts = helsinki_roads.snap_many(list(zip(lon, lat, strict=True)))
    ours = helsinki_roads.matrix(pts, pts)
    assert np.allclose(ours, _nx_reference(helsinki_roads, pts), atol=1e-6)
    # fewer destinations than origins: the reversed-graph search gives the same numbers
    assert np.allclose(helsinki_roads.matrix(pts, pts[:3]), ours[:, :3], atol=1e-6)
    assert np.allclose(helsinki_roads.matrix(pts[:3], pts), ours[:3], atol=1e-6)


def test_matrix_at_nodes_equals_scipy(helsinki_roads):
    rng = np.random.default_rng(3)
    nodes = rng.choice(helsinki_roads.num_nodes, 30, replace=False)
    pts = [(helsinki_roads.node_lon[n], helsinki_roads.node_lat[n]) for n in nodes]
    ref = dijkstra(helsinki_roads.csr, indices=nodes)[:, nodes]
    assert np.allclose(helsinki_roads.matrix(pts, pts), ref, atol=1e-6)


def test_matrix_lengths_follow_the_fastest_path(helsinki_roads):
    rng = np.random.default_rng(11)
    idx = rng.choice(helsinki_roads.num_nodes, 12, replace=False)
    pts = [(helsinki_roads.node_lon[n] + 1e-5, helsinki_roads.node_lat[n]) for n in idx]
    secs, metres = helsinki_roads.matrix(pts, pts, with_length=True)
    paths = helsinki_roads.paths([(a, b) for a in pts for b in pts])
    got_s = np.array([p.travel_time_s for p in paths]).reshape(12, 12)
    got_m = np.array([p.length_m for p in paths]).reshape(12, 12)
    assert np.allclose(secs, got_s, atol=1e-6)
    assert np.allclose(metres, got_m, atol=1e-3)


def test_matrix_accepts_ids_and_repeats(line_roads):
    m = line_roads.matrix(["N0", "N3", "N3"], ["N10", "N0"])
    assert m == pytest.approx(np.array([[600, 0], [420, 180], [420, 180]]))


def test_matrix_empty(line_roads):
    assert line_roads.matrix([], ["N1"]).shape == (0, 1)


# -------------------------------------------------------------------- paths
def test_path_geometry_starts_and_ends_on_the_road(square_roads):
    p = square_roads.snap(STEP, 0.25 * STEP)
    q = square_roads.snap(0.0, 0.5 * STEP)
    path = square_roads.path(p, q)
    assert path.travel_time_s == pytest.approx(22.5)
    assert path.coords[0] == pytest.approx((STEP, 0.25 * STEP))
    assert path.coords[-1] == pytest.approx((0.0, 0.5 * STEP))
    # via C and D
    assert (STEP, STEP) in [tuple(round(c, 9) for c in xy) for xy in path.coords]
    line = path.linestring()
    assert line is not None and line.is_valid


def test_path_same_edge(square_roads):
    a = square_roads.snap(0.25 * STEP, 0.0)
    b = square_roads.snap(0.75 * STEP, 0.0)
    path = square_roads.path(a, b)
    assert path.travel_time_s == pytest.approx(5.0)
    assert path.length_m == pytest.approx(50.0)
    assert len(path.coords) == 2


def test_helsinki_pbf_is_local():
    assert helsinki_pbf().exists()


def test_matrix_in_chunks_matches_one_block(helsinki_roads, monkeypatch):
    import routing.matrix as rm

    rng = np.random.default_rng(5)
    idx = rng.choice(helsinki_roads.num_edges, 20, replace=False)
    pts = helsinki_roads.snap_many(
        [tuple(helsinki_roads.edge_lonlat[e].mean(axis=0)) for e in idx]
    )
    whole_s, whole_m = helsinki_roads.matrix(pts, pts, with_length=True)
    monkeypatch.setattr(rm, "_MATRIX_BLOCK_BYTES", 8 * 3 * 200 * 3)  # ~3 sources per block
    part_s, part_m = helsinki_roads.matrix(pts, pts, with_length=True)
    assert np.allclose(part_s, whole_s) and np.allclose(part_m, whole_m)
    assert np.allclose(helsinki_roads.matrix(pts, pts), whole_s)


# -------------------------------------------------------------- matrix cache
def _random_points(roads, n, seed):
    rng = np.random.default_rng(seed)
    idx = rng.choice(roads.num_edges, n, replace=False)
    return roads.snap_many([tuple(roads.edge_lonlat[e].mean(axis=0)) for e in idx])


def test_matrix_cache_serves_same_points_and_not_others(helsinki_roads, monkeypatch):
    import routing.matrix as rm

    roads = helsinki_roads
    roads._matrix_cache.clear()
    a, b = _random_points(roads, 15, 11), _random_points(roads, 15, 12)
    first = roads.matrix(a, a)
    assert len(roads._matrix_cache) == 1
    first[0, 1] = -1.0  # the caller owns the result: the cache must not see this
    again = roads.matrix(list(a), list(a))  # equal points, new list objects: a hit
    assert len(roads._matrix_cache) == 1
    assert again[0, 1] != -1.0
    roads._matrix_cache.clear()
    assert np.array_equal(again, roads.matrix(a, a))  # hit == freshly built
    # other points (or the same points as destinations only) are not served from it
    other = roads.matrix(b, b)
    assert len(roads._matrix_cache) == 2
    built = []
    real = rm._build_plan
    monkeypatch.setattr(rm, "_build_plan", lambda *args, **kw: built.append(1) or real(*args, **kw))
    assert np.array_equal(roads.matrix(b, b), other)
    assert not built  # hit
    mixed = roads.matrix(a, b)
    assert built == [1]  # miss: a new (origins, destinations) pair
    ref = _nx_reference(roads, list(a) + list(b))
    assert np.allclose(mixed, ref[:15, 15:], atol=1e-6)
    assert np.allclose(other, ref[15:, 15:], atol=1e-6)
    # one point moved by more than a millimetre along its street: a miss, different answer
    moved = list(b)
    moved[0] = roads.snap(*(np.array([b[0].road_lon, b[0].road_lat]) + [2e-5, 0.0]))
    assert moved[0].key != b[0].key
    m2 = roads.matrix(moved, moved)
    assert built == [1, 1]
    assert np.allclose(m2, _nx_reference(roads, moved), atol=1e-6)


def test_matrix_cache_is_bounded_lru(line_roads, monkeypatch):
    import routing.matrix as rm

    monkeypatch.setattr(rm, "_MATRIX_CACHE_SIZE", 2)
    line_roads._matrix_cache.clear()
    line_roads.matrix(["N0"], ["N1"])
    line_roads.matrix(["N0"], ["N2"])
    line_roads.matrix(["N0"], ["N1"])  # refreshes the first
    line_roads.matrix(["N0"], ["N3"])  # evicts (N0, N2)
    keys = list(line_roads._matrix_cache)
    assert len(keys) == 2
    assert line_roads.locate("N1").key in keys[0][1] and line_roads.locate("N3").key in keys[1][1]
    assert line_roads.matrix(["N0", "N3"], ["N10", "N0"]) == pytest.approx(
        np.array([[600, 0], [420, 180]])
    )
