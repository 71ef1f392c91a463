"""One broken grid per validation rule: a clear problem comes out and no grid is built."""

import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from gis import Grid, GridValidationError
from gis.format import write_grid


def problems(layers, **kw):
    with pytest.raises(GridValidationError) as exc:
        Grid.from_layers(layers, **kw)
    return exc.value


def codes(err):
    return {p.code for p in err.errors}


def find(err, code):
    return next(p for p in err.problems if p.code == code)


def test_the_unbroken_ring_is_valid(ring_layers):
    grid = Grid.from_layers(ring_layers)
    assert not [p for p in grid.problems if p.severity == "error"]


def test_duplicate_ids_across_layers(ring_layers):
    ring_layers["customers"].loc[0, "id"] = "R2"  # a customer with a node's id
    err = problems(ring_layers)
    assert "duplicate_id" in codes(err)
    assert "R2" in find(err, "duplicate_id").ids


def test_reference_to_missing_node(ring_layers):
    ring_layers["lines"].loc[ring_layers["lines"]["id"] == "L3", "to_node"] = "NOPE"
    p = find(problems(ring_layers), "missing_reference")
    assert p.ids == ("L3",) and p.layer == "lines"


def test_missing_and_invalid_geometry(ring_layers):
    nodes = ring_layers["nodes"]
    nodes.loc[nodes["id"] == "R2", "geometry"] = None
    lines = ring_layers["lines"]
    lines.loc[lines["id"] == "L1", "geometry"] = Point(7.42, 43.73)  # a point where a line belongs
    err = problems(ring_layers)
    assert find(err, "missing_geometry").ids == ("R2",)
    assert find(err, "bad_geometry").ids == ("L1",)


def test_coordinates_out_of_range(ring_layers):
    nodes = ring_layers["nodes"]
    nodes.loc[nodes["id"] == "R2", "geometry"] = Point(200.0, 43.73)
    assert find(problems(ring_layers), "coordinates_out_of_range").ids == ("R2",)


def test_coordinates_swapped_beyond_range(ring_layers):
    nodes = ring_layers["nodes"]
    nodes.loc[nodes["id"] == "R2", "geometry"] = Point(43.73, 117.42)  # lat > 90, lon would fit
    assert find(problems(ring_layers), "swapped_coordinates").ids == ("R2",)


def test_coordinates_swapped_within_range(ring_layers):
    """Monaco written (lat, lon) is a valid position in Yemen: caught through the metric CRS's area."""
    for name in ("nodes", "substations", "customers", "switches", "depots"):
        df = ring_layers[name]
        df["geometry"] = [Point(g.y, g.x) for g in df.geometry]
    lines = ring_layers["lines"]
    lines["geometry"] = [LineString([(y, x) for x, y in g.coords]) for g in lines.geometry]
    assert "swapped_coordinates" in codes(problems(ring_layers))


def test_missing_crs(ring_layers):
    ring_layers["nodes"] = ring_layers["nodes"].set_crs(None, allow_override=True)
    assert find(problems(ring_layers), "missing_crs").layer == "nodes"


def test_empty_layer_without_crs_is_accepted(ring_layers):
    """PostGIS gives an empty table's geometry no SRID; an empty layer has nothing to misplace."""
    ring_layers["dg"] = gpd.GeoDataFrame({"id": [], "node_id": [], "kind": [], "p_kw": []}, geometry=[])
    grid = Grid.from_layers(ring_layers)
    assert "missing_crs" not in {p.code for p in grid.problems} and grid.dg.crs.to_epsg() == 4326


def test_other_crs_is_reprojected_with_a_warning(ring_layers):
    before = ring_layers["nodes"].set_index("id").geometry["R2"]
    ring_layers["nodes"] = ring_layers["nodes"].to_crs("EPSG:32632")
    grid = Grid.from_layers(ring_layers)
    warn = [p for p in grid.problems if p.code == "reprojected"]
    assert warn and warn[0].severity == "warning"
    after = grid.nodes.set_index("id").geometry["R2"]
    assert after.distance(before) < 1e-9
    assert grid.nodes.crs.to_epsg() == 4326


def test_bad_enum_values(ring_layers):
    ring_layers["nodes"].loc[ring_layers["nodes"]["id"] == "R2", "kind"] = "castle"
    ring_layers["customers"].loc[ring_layers["customers"]["id"] == "C1", "importance"] = "vip"
    err = problems(ring_layers)
    bad = {p.layer: p for p in err.problems if p.code == "bad_enum"}
    assert bad["nodes"].ids == ("R2",)
    assert bad["customers"].ids == ("C1",)


@pytest.mark.parametrize("value", [-5.0, np.nan, np.inf, "lots"])
def test_negative_nan_or_non_numeric_demand(ring_layers, value):
    cust = ring_layers["customers"].astype({"demand_kw": object})
    cust.loc[cust["id"] == "C2", "demand_kw"] = value
    ring_layers["customers"] = cust
    err = problems(ring_layers)
    assert {"bad_number", "bad_value"} & codes(err)
    assert any("C2" in p.ids for p in err.errors)


def test_negative_rating(ring_layers):
    ring_layers["lines"].loc[ring_layers["lines"]["id"] == "L2", "rating_a"] = -1.0
    assert find(problems(ring_layers), "bad_number").ids == ("L2",)


def test_busbar_without_substation(ring_layers):
    ring_layers["nodes"].loc[ring_layers["nodes"]["id"] == "BB", "substation_id"] = None
    assert find(problems(ring_layers), "busbar_without_substation").ids == ("BB",)


def test_unreachable_nodes(ring_layers):
    lines = ring_layers["lines"]
    ring_layers["lines"] = lines[lines["id"] != "L11"]  # D5 now hangs in the air
    p = find(problems(ring_layers), "unreachable_node")
    assert p.ids == ("D5",)


def test_closed_loop_reports_its_switches(ring_layers):
    sw = ring_layers["switches"]
    sw.loc[sw["id"] == "T1", "normally_open"] = False
    # T1 closed joins SA and SB: paralleled sources through a loop
    err = problems(ring_layers)
    loop = find(err, "closed_loop")
    assert set(loop.ids) == {"T1", "F1", "F2", "S1", "S2", "S4", "S5"}


def test_closed_loop_within_one_feeder(ring_layers):
    import geopandas as gpd

    sw = ring_layers["switches"]
    extra = gpd.GeoDataFrame(
        {"id": ["S9"], "from_node": ["D1"], "to_node": ["D2"], "kind": ["load_break"], "normally_open": [False]},
        geometry=[Point(7.43, 43.736)],
        crs=sw.crs,
    )
    import pandas as pd

    ring_layers["switches"] = pd.concat([sw, extra], ignore_index=True)
    assert set(find(problems(ring_layers), "closed_loop").ids) == {"S9", "S2"}


def test_customer_that_cannot_be_joined(ring_layers):
    cust = ring_layers["customers"]
    cust.loc[cust["id"] == "C7", "geometry"] = Point(7.60, 43.80)  # far from every room
    p = find(problems(ring_layers), "unjoined_customer")
    assert p.ids == ("C7",)
    # a generous join distance finds a room
    Grid.from_layers(ring_layers, join_distance_m=50_000)


def test_missing_layer_column_and_meta(ring_layers):
    broken = dict(ring_layers)
    del broken["switches"]
    assert "missing_layer" in codes(problems(broken))
    broken = dict(ring_layers)
    broken["lines"] = broken["lines"].drop(columns="to_node")
    assert "missing_column" in codes(problems(broken))
    meta = ring_layers["meta"]
    ring_layers["meta"] = meta[meta["key"] != "timezone"]
    assert "missing_meta" in codes(problems(ring_layers))


def test_bad_meta_values(ring_layers):
    meta = ring_layers["meta"].copy()
    meta.loc[meta["key"] == "timezone", "value"] = "Mars/Olympus"
    meta.loc[meta["key"] == "metric_crs", "value"] = "4326"  # geographic, not metric
    ring_layers["meta"] = meta
    p = [x for x in problems(ring_layers).errors if x.code == "bad_meta"]
    assert {x.ids[0] for x in p} == {"timezone", "metric_crs"}


def test_profiles_checked(ring_layers):
    prof = ring_layers["profiles"]
    ring_layers["profiles"] = prof.iloc[1:]  # one quarter-hour missing
    assert "bad_profile" in codes(problems(ring_layers))
    ring_layers["profiles"] = prof
    ring_layers["customers"].loc[0, "profile"] = "no-such-profile"
    assert "missing_profile" in codes(problems(ring_layers))


def test_bad_boolean(ring_layers):
    sw = ring_layers["switches"].astype({"remote": object})
    sw.loc[sw["id"] == "S1", "remote"] = "maybe"
    ring_layers["switches"] = sw
    assert find(problems(ring_layers), "bad_value").ids == ("S1",)


def test_every_problem_is_reported_at_once(ring_layers):
    ring_layers["nodes"].loc[ring_layers["nodes"]["id"] == "R2", "kind"] = "castle"
    ring_layers["lines"].loc[ring_layers["lines"]["id"] == "L3", "to_node"] = "NOPE"
    ring_layers["customers"].loc[0, "id"] = "R1"
    assert {"bad_enum", "missing_reference", "duplicate_id"} <= codes(problems(ring_layers))


def test_cli_validate_reports_and_exits_1(ring_layers, tmp_path):
    ring_layers["lines"].loc[ring_layers["lines"]["id"] == "L3", "to_node"] = "NOPE"
    path = tmp_path / "broken.gpkg"
    write_grid(ring_layers, path)
    out = subprocess.run([sys.executable, "-m", "gis", "validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "missing_reference" in out.stdout and "L3" in out.stdout
    assert "Traceback" not in out.stderr


# -- electrical data ---------------------------------------------------------------------------


def test_lines_without_type_or_impedance_get_the_default_with_a_warning(ring_layers):
    lines = ring_layers["lines"]
    lines["type"] = None
    lines.loc[lines["id"] == "L1", "rating_a"] = None
    grid = Grid.from_layers(ring_layers)
    warn = {p.code: p for p in grid.problems}
    assert warn["missing_impedance"].severity == "warning" and len(warn["missing_impedance"].ids) == len(lines)
    assert warn["missing_rating"].ids == ("L1",)
    row = grid.line_params.iloc[int(np.flatnonzero(grid.lines["id"] == "L1")[0])]
    assert row["source"] == "default" and row["rating_a"] == 358.0  # NA2XS2Y 1x185 RM/25 6/10 kV
    assert row["r_ohm_per_km"] == pytest.approx(0.161)


def test_unknown_line_type_is_named(ring_layers):
    ring_layers["lines"].loc[ring_layers["lines"]["id"] == "L2", "type"] = "NO-SUCH-CABLE 3x999"
    grid = Grid.from_layers(ring_layers)
    p = next(p for p in grid.problems if p.code == "unknown_line_type")
    assert p.ids == ("L2",) and "NO-SUCH-CABLE 3x999" in p.message


def test_unknown_line_type_with_all_its_own_data_is_fine(ring_layers):
    lines = ring_layers["lines"]
    mine = lines["id"] == "L2"
    lines.loc[mine, "type"] = "NO-SUCH-CABLE 3x999"
    for col, value in (("r_ohm_per_km", 0.2), ("x_ohm_per_km", 0.1), ("c_nf_per_km", 300.0), ("rating_a", 250.0)):
        lines[col] = pd.to_numeric(lines[col]) if col in lines else np.nan
        lines.loc[mine, col] = value
    grid = Grid.from_layers(ring_layers)
    assert not [p for p in grid.problems if p.code == "unknown_line_type"]
    row = grid.line_params.iloc[int(np.flatnonzero(grid.lines["id"] == "L2")[0])]
    assert (row["r_ohm_per_km"], row["rating_a"], row["source"]) == (0.2, 250.0, "line")
    lines.loc[mine, "c_nf_per_km"] = np.nan  # now the default type fills the capacitance: named
    grid = Grid.from_layers(ring_layers)
    assert next(p for p in grid.problems if p.code == "unknown_line_type").ids == ("L2",)


def test_busbars_without_rating_are_one_grouped_warning(ring_layers):
    nodes = ring_layers["nodes"]
    nodes["rating_a"] = np.nan
    grid = Grid.from_layers(ring_layers)
    (p,) = [p for p in grid.problems if p.code == "missing_rating" and p.layer == "nodes"]
    assert set(p.ids) == set(nodes["id"][nodes["kind"] == "busbar"]) and "2500 A" in p.message


def test_the_grid_catalogue_overrides_the_built_in_one(ring_layers):
    import pandas as pd

    ring_layers["line_types"] = pd.DataFrame(
        {"type": ["NA2XS2Y 1x240 RM/25 6/10 kV"], "r_ohm_per_km": [0.5], "x_ohm_per_km": [0.2], "c_nf_per_km": [100.0], "rating_a": [123.0]})
    ring_layers["lines"]["rating_a"] = None
    grid = Grid.from_layers(ring_layers)
    assert set(grid.line_params["r_ohm_per_km"]) == {0.5} and set(grid.line_params["rating_a"]) == {123.0}
    assert not [p for p in grid.problems if p.code in ("unknown_line_type", "missing_rating")]


def test_bad_catalogue_and_electrical_numbers(ring_layers):
    import pandas as pd

    ring_layers["line_types"] = pd.DataFrame(
        {"type": ["X", "X"], "r_ohm_per_km": [0.1, 0.1], "x_ohm_per_km": [0.1, -1.0], "rating_a": [100.0, 0.0]})
    nodes = ring_layers["nodes"]
    nodes.loc[nodes["id"] == "BA", "vm_pu"] = 1.5
    nodes.loc[nodes["id"] == "R1", "vn_kv"] = 0.0
    err = problems(ring_layers)
    assert "bad_line_type" in codes(err) and "bad_number" in codes(err)
    msgs = " ".join(p.message for p in err.problems if p.code == "bad_number")
    assert "vm_pu" in msgs and "vn_kv" in msgs and "x_ohm_per_km" in msgs and "line_types.rating_a" in msgs


def test_dg_and_transformers_must_name_existing_nodes(ring_layers):
    import geopandas as gpd

    crs = ring_layers["nodes"].crs
    ring_layers["dg"] = gpd.GeoDataFrame({"id": ["PV1"], "node_id": ["NOPE"], "kind": ["pv"], "p_kw": [100.0], "profile": ["moon"]},
                                         geometry=[Point(7.42, 43.73)], crs=crs)
    ring_layers["transformers"] = gpd.GeoDataFrame({"id": ["T9"], "hv_node": ["BA"], "lv_node": ["BA"], "sn_kva": [0.0]},
                                                   geometry=[Point(7.42, 43.73)], crs=crs)
    err = problems(ring_layers)
    by = {(p.code, p.layer): p for p in err.problems}
    assert by[("missing_reference", "dg")].ids == ("PV1",)
    assert by[("missing_profile", "dg")].ids == ("PV1",)
    assert by[("self_loop", "transformers")].ids == ("T9",)
    assert by[("bad_number", "transformers")].ids == ("T9",)


def test_a_loop_below_the_breakers_names_its_switches(ring_layers):
    sw = ring_layers["switches"]
    sw.loc[sw["id"] == "T1", "normally_open"] = False
    p = find(problems(ring_layers), "closed_loop")
    assert "T1" in p.ids and "T1" in p.message and "radially" in p.message


def test_meshes_inside_a_substation_are_legal(ring_layers):
    """Two parallel transformers from a 110 kV busbar and a closed bus coupler: a real substation."""
    import geopandas as gpd
    import pandas as pd

    crs = ring_layers["nodes"].crs
    nodes = ring_layers["nodes"]
    extra = gpd.GeoDataFrame(
        {"id": ["HV", "BA2"], "kind": ["busbar", "busbar"], "substation_id": ["SA", "SA"], "vn_kv": [110.0, 10.0], "vm_pu": [1.02, None]},
        geometry=[Point(7.41, 43.734), Point(7.4105, 43.734)], crs=crs)
    ring_layers["nodes"] = pd.concat([nodes, extra], ignore_index=True)
    ring_layers["transformers"] = gpd.GeoDataFrame(
        {"id": ["TR1", "TR2"], "hv_node": ["HV", "HV"], "lv_node": ["BA", "BA2"], "sn_kva": [25000.0, 25000.0],
         "vk_percent": [12.0, 12.0], "vkr_percent": [0.4, 0.4]},
        geometry=[Point(7.41, 43.734)] * 2, crs=crs)
    coupler = gpd.GeoDataFrame({"id": ["CPL"], "from_node": ["BA"], "to_node": ["BA2"], "kind": ["breaker"], "normally_open": [False]},
                               geometry=[Point(7.41, 43.734)], crs=crs)
    ring_layers["switches"] = pd.concat([ring_layers["switches"], coupler], ignore_index=True)
    grid = Grid.from_layers(ring_layers)
    assert not [p for p in grid.problems if p.severity == "error"]
    assert set(grid.feeders["id"]) == {"F1", "F2"}  # the coupler joins two busbars: not a feeder


def test_zero_impedance_line_is_a_warning_naming_it(ring_layers):
    lines = ring_layers["lines"]
    for c in ("r_ohm_per_km", "x_ohm_per_km"):
        lines[c] = lines[c].astype(object) if c in lines else None
    lines.loc[lines["id"] == "L3", ["r_ohm_per_km", "x_ohm_per_km"]] = [0.0, 0.0]
    grid = Grid.from_layers(ring_layers)
    [p] = [p for p in grid.problems if p.code == "zero_impedance"]
    assert p.severity == "warning" and p.ids == ("L3",)


@pytest.mark.parametrize("value", [0.05, 1.2, -1.5])
def test_a_customer_power_factor_outside_its_range_is_named(ring_layers, value):
    ring_layers["customers"]["power_factor"] = np.nan
    ring_layers["customers"].loc[0, "power_factor"] = value
    p = find(problems(ring_layers), "bad_number")
    assert p.ids == (ring_layers["customers"].loc[0, "id"],) and "power_factor" in p.message


def test_a_customer_power_factor_sets_its_reactive_power(ring_layers):
    ring_layers["customers"]["power_factor"] = np.nan
    ring_layers["customers"].loc[0, "power_factor"] = 0.8
    ring_layers["customers"].loc[1, "power_factor"] = -0.8
    grid = Grid.from_layers(ring_layers)
    tan = grid.customer_tan_phi
    assert tan[0] == pytest.approx(0.75) and tan[1] == pytest.approx(-0.75)
    default = np.tan(np.arccos(grid.power_factor))
    assert np.allclose(tan[2:], default)
