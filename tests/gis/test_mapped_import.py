"""Field-mapping import of a utility's GIS export made here with pyogrio (a FileGDB and a folder of
shapefiles with foreign names, codes, kA/km/MVA/MW units, a projected CRS and no node ids), run
through the worked mapping of docs/grid-format.md. The topology is checked against the intended
one (``utility_source``, networkx) and the quality report against the planted defects."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString

from gis import load_grid
from gis.__main__ import main as cli
from gis.errors import InputError
from gis.mapped_import import import_mapped, load_mapping, suggest_mapping, to_toml
from gis.records import RecordError

from . import utility_source as src

DOCS = Path(__file__).resolve().parents[2] / "docs" / "grid-format.md"
pytestmark = pytest.mark.filterwarnings("ignore:Field .* will be written as:RuntimeWarning")


def worked_mapping() -> str:
    """The TOML example of the "Importing your GIS" chapter, as the docs show it."""
    chapter = DOCS.read_text(encoding="utf-8").split("## Importing your GIS", 1)[1]
    return re.findall(r"```toml\n(.*?)```", chapter, re.S)[0]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "gis", *args], capture_output=True, text=True)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def make(tmp_path: Path, *, shapefiles: bool = False, defects: bool = False, mapping: str | None = None) -> Path:
    text = worked_mapping() if mapping is None else mapping
    if shapefiles:
        src.write_shapefiles(tmp_path / "shp", defects=defects)
        text = text.replace('path = "riverside.gdb"', 'path = "shp"')
    else:
        src.write_gdb(tmp_path / "riverside.gdb", defects=defects)
    (tmp_path / "riverside.toml").write_text(text, encoding="utf-8")
    return tmp_path / "riverside.toml"


def place(grid, node_id: str) -> str:
    """What a grid node stands for in the source: a station, or the switch a junction belongs to."""
    nodes = grid.nodes.set_index("id")
    if nodes.loc[node_id, "kind"] != "junction":
        return node_id
    sw = grid.switches
    at = sw[(sw["from_node"] == node_id) | (sw["to_node"] == node_id)]
    return str(at["id"].iloc[0]) if len(at) == 1 else node_id


def assert_intended_topology(grid) -> None:
    lines = {r.id: frozenset((place(grid, r.from_node), place(grid, r.to_node))) for r in grid.lines.itertuples()}
    assert lines == {k: frozenset(v) for k, v in src.INTENDED_LINES.items()}
    kinds = grid.nodes.set_index("id")["kind"]
    on_station = {r.id: ({r.from_node, r.to_node} - set(kinds[kinds == "junction"].index) or {None}).pop()
                  for r in grid.switches.itertuples()}
    assert on_station == src.INTENDED_SWITCH_STATION
    # feeders: the intended graph without the busbar and the open tie, split at the breakers
    g = src.intended_graph(with_open=False)
    g.remove_node("B1")
    expected = {n: b for b in ("CB1", "CB2") for n in nx.node_connected_component(g, b) if n in src.STATIONS}
    feeders = grid.node_feeders()
    assert {n: feeders[n] for n in expected} == expected
    cust = grid.customer_feeders()
    assert {c: cust[c] for c in src.INTENDED_SUPPLY} == {c: expected[s] for c, s in src.INTENDED_SUPPLY.items()}
    # one island with the tie closed, as intended
    assert nx.number_connected_components(src.intended_graph(with_open=True)) == 1
    assert grid.dead_nodes(close_switches=["T1"]) == set()
    # the upstream side of the mid-line switch is the one towards the substation
    ls1 = grid.switches.set_index("id").loc["LS1"]
    assert grid.lines.set_index("id").loc["K2", "to_node"] == ls1["from_node"]


@pytest.mark.parametrize("shapefiles", [False, True], ids=["filegdb", "shapefile-3857"])
def test_worked_mapping_imports_the_intended_topology(tmp_path, shapefiles):
    mapping = make(tmp_path, shapefiles=shapefiles)
    result = import_mapped(mapping, tmp_path / "riverside.gpkg")
    assert result.report.items == []
    assert result.written == tmp_path / "riverside.gpkg"
    grid = load_grid(result.written)
    assert_intended_topology(grid)
    # units: kA -> A, km -> m, MVA -> kVA, MW -> kW; codes and J/N, Y/N, 0/1 translated
    lines = grid.lines.set_index("id")
    assert lines.loc["K4", "rating_a"] == pytest.approx(200.0) and lines.loc["K4", "kind"] == "overhead"
    assert lines.loc["K7", "length_m"] == pytest.approx(700.0, abs=0.01)
    assert grid.substations.set_index("id").loc["UW1", "capacity_kva"] == pytest.approx(40_000)
    assert grid.customers.set_index("id").loc["C2", "demand_kw"] == pytest.approx(50.0)
    sw = grid.switches.set_index("id")
    assert sw["normally_open"].to_dict() == {"CB1": False, "CB2": False, "LS1": False, "F1": False, "T1": True}
    assert sw.loc["CB1", "remote"] and not sw.loc["F1", "remote"] and sw.loc["CB1", "fault_indicator"]
    assert "P1" not in set(grid.nodes["id"])  # the where clause left the planned station out
    lon, lat = grid.nodes.set_index("id").loc["B1"].geometry.coords[0]
    assert lon == pytest.approx(9.0, abs=0.01) and lat == pytest.approx(48.75, abs=0.01)
    # every line end is a reported guess; K3 stops 0.4 m short of D1
    snaps = {(s.id, s.end): s for s in result.report.snaps if s.layer == "lines"}
    assert len(snaps) == 2 * len(src.LINES)
    assert (snaps["K3", "to"].target, snaps["K3", "to"].via) == ("D1", "node")
    assert snaps["K3", "to"].distance_m == pytest.approx(0.4, abs=1e-6)
    doc = json.loads(result.report_files["json"].read_text(encoding="utf-8"))
    assert doc["valid"] and doc["written"] == str(result.written) and len(doc["snaps"]) == len(result.report.snaps)


@pytest.mark.parametrize("shapefiles", [False, True], ids=["filegdb", "shapefile-3857"])
def test_the_report_lists_exactly_the_planted_defects_and_no_grid_is_written(tmp_path, shapefiles):
    mapping = make(tmp_path, shapefiles=shapefiles, defects=True)
    out = run("import-mapped", str(mapping), str(tmp_path / "riverside.gpkg"), "--json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["written"] is None and not (tmp_path / "riverside.gpkg").exists()
    assert not list(tmp_path.glob(".*.tmp.gpkg"))
    assert sorted((i["code"], i["layer"], i["id"]) for i in doc["items"]) == src.PLANTED
    items = {(i["code"], i["id"]): i for i in doc["items"]}
    crossing = items["lines_crossing", "K12"]
    assert crossing["related"] == ["K13"]
    # the crossing lies where K12 and K13 cross: (-266.7, -100) m from the origin
    x, y = pyogrio.read_dataframe(tmp_path / ("riverside.quality.geojson")).to_crs(src.UTM).query(
        "code == 'lines_crossing'").geometry.iloc[0].coords[0]
    assert (x - src.ORIGIN[0], y - src.ORIGIN[1]) == pytest.approx((-200 - 200 / 3, -100), abs=0.01)
    assert "K9" in items["dangling_line_end", "K9"]["message"] and items["dangling_line_end", "K9"]["lat"] is not None
    with open(tmp_path / "riverside.quality.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["code"], r["layer"], r["id"]) for r in rows) == src.PLANTED
    features = json.loads((tmp_path / "riverside.quality.geojson").read_text(encoding="utf-8"))["features"]
    assert len(features) == len(src.PLANTED) and all(f["geometry"] for f in features)
    multipart = next(f for f in features if f["properties"]["code"] == "multipart_geometry")
    assert multipart["geometry"]["type"] == "MultiLineString"


def test_suggest_names_the_source_fields_and_after_filling_the_gaps_imports(tmp_path):
    src.write_gdb(tmp_path / "riverside.gdb")
    out = run("import-mapped", "--suggest", str(tmp_path / "riverside.gdb"), str(tmp_path / "suggested.toml"))
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "suggested.toml").read_text(encoding="utf-8")
    assert text == suggest_mapping(tmp_path / "riverside.gdb")
    with pytest.raises(RecordError, match="replace the suggested"):
        load_mapping(tmp_path / "suggested.toml")
    doc = tomllib.loads(text)
    layers = {name: maps[0] for name, maps in doc["layers"].items()}
    assert {n: m["layer"] for n, m in layers.items()} == {
        "substations": "UW", "nodes": "STATIONEN", "switches": "SCHALTER", "lines": "KABEL", "customers": "KUNDEN"}
    nodes, lines, switches = layers["nodes"]["fields"], layers["lines"]["fields"], layers["switches"]["fields"]
    assert nodes["kind"] == {"field": "TYP", "values": {"10": "?", "20": "?", "30": "?"}}
    assert nodes["rating_a"] == {"field": "I_MAX_KA", "unit": "kA"}
    assert lines["length_m"] == {"field": "LAENGE_KM", "unit": "km"} and lines["kind"]["field"] == "ART"
    assert switches["normally_open"] == {"field": "OFFEN", "values": {"J": "?", "N": "?"}}
    assert switches["remote"] == "FERN"
    assert layers["substations"]["fields"]["capacity_kva"] == {"field": "KAP_MVA", "unit": "MVA"}
    assert doc["grid"]["metric_crs"] == "EPSG:32632" and doc["grid"]["timezone"] == "?"
    # what a human fills in
    doc["grid"] |= {"timezone": "Europe/Berlin", "nominal_kv": 20, "snap_tolerance_m": 1.5, "join_distance_m": 100}
    nodes["kind"]["values"] = {"10": "busbar", "20": "rmu", "30": "distribution_room"}
    layers["nodes"]["where"] = "STATUS = 'B'"
    lines["kind"]["values"] = {"K": "cable", "F": "overhead"}
    switches["kind"]["values"] = {"1": "breaker", "2": "load_break", "4": "fuse"}
    switches["normally_open"]["values"] = {"J": True, "N": False}
    customers = layers["customers"]["fields"]
    customers["id"] = "KD_NR"
    customers["category"]["values"] = {"HH": "residential", "GW": "commercial"}
    assert customers["demand_kw"] == {"field": "P_MW", "unit": "MW"}
    (tmp_path / "filled.toml").write_text(to_toml(doc), encoding="utf-8")
    result = import_mapped(tmp_path / "filled.toml", tmp_path / "grid.gpkg")
    assert result.report.items == [] and result.written is not None
    assert_intended_topology(load_grid(result.written))


@pytest.mark.parametrize(("change", "message"), [
    (('path = "riverside.gdb"', 'path = "nowhere.gdb"'), "cannot open source"),
    (('id = "OBJ_ID"\nkind = { field = "ART"', 'id = "OBJ_ID"\nkind = { field = "ARTX"'), "has no field 'ARTX' (did you mean 'ART'?)"),
    (('K = "cable", F = "overhead"', 'K = "cable"'), "code 'F' (1 feature(s), e.g. K4) with no translation"),
    (('[layers.lines]', '[layers.lines'), "is not valid TOML"),
    (('unit = "MW"', 'unit = "kA"'), "unknown active power unit 'kA'"),
    (('nominal_kv = 20', 'nominal_kv = 20\nfavourite = 1'), "grid.favourite"),
], ids=["unreadable-source", "missing-field", "unknown-code", "bad-toml", "wrong-unit", "unknown-key"])
def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path, capsys, change, message):
    mapping = make(tmp_path, mapping=worked_mapping().replace(*change))
    assert change[1] in mapping.read_text(encoding="utf-8")
    assert cli(["import-mapped", str(mapping), str(tmp_path / "riverside.gpkg")]) == 1  # in process: the same main()
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert not (tmp_path / "riverside.gpkg").exists() and not list(tmp_path.glob("riverside.quality.*"))


def test_an_unreadable_file_and_a_missing_crs_are_clear_errors(tmp_path):
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage")
    text = worked_mapping().replace('path = "riverside.gdb"', 'path = "junk.gpkg"')
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="cannot open source .*junk.gpkg"):
        import_mapped(tmp_path / "m.toml", tmp_path / "out.gpkg")
    with pytest.raises(InputError, match=r"\.gpkg"):
        import_mapped(tmp_path / "m.toml", tmp_path / "out.geojson")
    assert not (tmp_path / "out.gpkg").exists()


def test_a_geographic_source_in_several_layers_keeps_metre_tolerances(tmp_path):
    """Lon/lat source (GeoPackage, EPSG:4326), stations split over two source layers: the tolerance
    is still metres (in grid.metric_crs), and without a metric CRS the import says what to add."""
    path = tmp_path / "lonlat.gpkg"
    for name, df in src.layers().items():
        df = df.to_crs("EPSG:4326")
        if name == "STATIONEN":
            busbars = df["TYP"] == 10
            pyogrio.write_dataframe(df[busbars], path, layer="BUSBARS")
            df = df[~busbars]
        pyogrio.write_dataframe(df, path, layer=name)
    text = worked_mapping().replace('path = "riverside.gdb"', 'path = "lonlat.gpkg"')
    text = text.replace("[layers.nodes]\n", '[[layers.nodes]]\nlayer = "BUSBARS"\nkeep = ["STATUS"]\n'
                        "[layers.nodes.fields]\nid = \"OBJ_ID\"\nname = \"BEZ\"\nkind = { value = \"busbar\" }\n"
                        "substation_id = \"UW_REF\"\nrating_a = { field = \"I_MAX_KA\", unit = \"kA\" }\n\n[[layers.nodes]]\n")
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    result = import_mapped(tmp_path / "m.toml", tmp_path / "grid.gpkg")
    assert result.report.items == [], [i.message for i in result.report.items]
    grid = load_grid(result.written)
    assert_intended_topology(grid)
    assert grid.nodes.set_index("id").loc["B1", "STATUS"] == "B"
    (tmp_path / "m.toml").write_text(text.replace('metric_crs = "EPSG:32632"\n', ""), encoding="utf-8")
    with pytest.raises(InputError, match="state grid.metric_crs"):
        import_mapped(tmp_path / "m.toml", tmp_path / "other.gpkg")
    assert not (tmp_path / "other.gpkg").exists()


def test_a_failed_import_leaves_the_previous_grid_untouched(tmp_path):
    mapping = make(tmp_path)
    first = import_mapped(mapping, tmp_path / "riverside.gpkg")
    before = first.written.read_bytes()
    src.write_gdb(tmp_path / "broken.gdb", defects=True)
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("riverside.gdb", "broken.gdb"), encoding="utf-8")
    again = import_mapped(mapping, tmp_path / "riverside.gpkg")
    assert again.written is None and not again.report.valid
    assert (tmp_path / "riverside.gpkg").read_bytes() == before


def test_a_postgis_source(tmp_path):
    """The same export in PostGIS tables, read through a database URL (skipped without a server)."""
    import os
    import uuid

    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set: the PostGIS source needs a PostgreSQL server")
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as con:
            con.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostGIS here"
        engine.dispose()
        pytest.skip(f"PostGIS not available: {type(exc).__name__}")
    schema = f"gis_{uuid.uuid4().hex[:8]}"
    with engine.begin() as con:
        con.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        for name, df in src.layers().items():
            df.to_postgis(name, engine, schema=schema, index=False)
        text = worked_mapping().replace('path = "riverside.gdb"', f'path = "{url}"')
        text = re.sub(r'layer = "([A-Z]+)"', rf'layer = "{schema}.\1"', text).replace("STATUS = 'B'", "\\\"STATUS\\\" = 'B'")
        (tmp_path / "pg.toml").write_text(text, encoding="utf-8")
        result = import_mapped(tmp_path / "pg.toml", tmp_path / "grid.gpkg")
        assert result.report.items == []
        assert_intended_topology(load_grid(result.written))
        (tmp_path / "pg.toml").write_text(text.replace(f"{schema}.KABEL", f"{schema}.NOPE"), encoding="utf-8")
        with pytest.raises(InputError, match=f"no PostGIS table {schema}.NOPE"):
            import_mapped(tmp_path / "pg.toml", tmp_path / "other.gpkg")
    finally:
        with engine.begin() as con:
            con.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_node_ids_from_the_source_skip_the_inference(tmp_path):
    """A source that has from/to node ids (3D lines, lon/lat): they are used as given."""
    first = import_mapped(make(tmp_path), tmp_path / "first.gpkg")
    grid = load_grid(first.written)
    path = tmp_path / "with_ids.gpkg"
    lines = grid.lines[["id", "from_node", "to_node", "kind", "geometry"]].rename(columns={"from_node": "VON", "to_node": "NACH"})
    lines["geometry"] = [LineString([(x, y, 5.0) for x, y in g.coords]) for g in lines.geometry]
    lines.to_file(path, layer="lines")
    grid.switches[["id", "from_node", "to_node", "kind", "normally_open", "geometry"]].rename(
        columns={"from_node": "VON", "to_node": "NACH"}).to_file(path, layer="switches")
    for name in ("substations", "nodes", "customers"):
        getattr(grid, name).drop(columns=["node_joined"], errors="ignore").to_file(path, layer=name)
    doc = {
        "grid": {"name": "given", "timezone": "Europe/Berlin", "nominal_kv": 20, "metric_crs": "EPSG:32632"},
        "source": {"path": "with_ids.gpkg"},
        "layers": {
            "substations": {"layer": "substations", "fields": {"id": "id", "name": "name", "capacity_kva": "capacity_kva"}},
            "nodes": {"layer": "nodes", "fields": {c: c for c in ("id", "kind", "substation_id", "kva", "rating_a")}},
            "lines": {"layer": "lines", "fields": {"id": "id", "from_node": "VON", "to_node": "NACH", "kind": "kind",
                                                   "rating_a": {"value": 300}}},
            "switches": {"layer": "switches", "fields": {"id": "id", "from_node": "VON", "to_node": "NACH", "kind": "kind",
                                                         "normally_open": "normally_open"}},
            "customers": {"layer": "customers", "fields": {c: c for c in ("id", "category", "demand_kw", "node_id")}},
        },
    }
    (tmp_path / "given.toml").write_text(to_toml(doc), encoding="utf-8")
    result = import_mapped(tmp_path / "given.toml", tmp_path / "given.gpkg")
    assert result.report.items == [] and result.report.snaps == []
    again = load_grid(result.written)
    assert_intended_topology(again)
    assert set(again.nodes["id"]) == set(grid.nodes["id"])


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["layers"]["lines"]["fields"].update(colour="FARBE"), "layers.lines.fields.colour: not a column of lines"),
    (lambda d: d["layers"]["nodes"]["fields"].pop("kind"), "no field for the required column 'kind'"),
    (lambda d: d["layers"].pop("switches"), "layers.switches: the grid needs this layer"),
    (lambda d: d["layers"]["switches"]["fields"].update(from_node="VON"), "from_node/to_node are inferred from geometry"),
    (lambda d: d["layers"]["lines"]["fields"].update(from_node="VON"), "layers.switches.fields: no field for the required column 'to_node'"),
    (lambda d: d["layers"]["lines"]["fields"]["kind"]["values"].update(K="cabel"), "['cabel'] not in ['cable', 'overhead']"),
    (lambda d: d["layers"]["nodes"]["fields"].update(kva={"field": "TR_KVA", "value": 3}), "give either field"),
    (lambda d: d["grid"].update(snap_tolerance_m=-1), "grid.snap_tolerance_m"),
    (lambda d: d["layers"]["lines"]["fields"]["length_m"].update(unit="furlong"), "unknown length unit 'furlong'"),
], ids=["unknown-column", "missing-required", "missing-layer", "ids-and-geometry", "half-given-ids", "bad-kind", "field-and-value",
        "negative-tolerance", "unknown-unit"])
def test_a_mapping_that_does_not_fit_names_where(tmp_path, edit, message):
    doc = tomllib.loads(worked_mapping())
    edit(doc)
    (tmp_path / "m.toml").write_text(to_toml(doc), encoding="utf-8")
    with pytest.raises(RecordError, match=re.escape(message)):
        load_mapping(tmp_path / "m.toml")


def test_an_ambiguous_switch_and_a_bad_boolean_are_located_in_the_report(tmp_path):
    layers = src.layers()
    kb = layers["KABEL"]
    layers["KABEL"] = pd.concat([kb, gpd.GeoDataFrame(
        {"OBJ_ID": ["K15"], "ART": ["K"], "I_MAX_KA": [0.3], "LAENGE_KM": [0.1]},
        geometry=[LineString([(src.ORIGIN[0], src.ORIGIN[1] + 400), (src.ORIGIN[0], src.ORIGIN[1] + 300)])], crs=src.UTM)],
        ignore_index=True)
    layers["SCHALTER"].loc[layers["SCHALTER"]["OBJ_ID"] == "LS1", "FERN"] = "vielleicht"
    for name, df in layers.items():
        pyogrio.write_dataframe(df, tmp_path / "riverside.gpkg", layer=name)
    mapping = tmp_path / "m.toml"
    mapping.write_text(worked_mapping().replace("riverside.gdb", "riverside.gpkg"), encoding="utf-8")
    result = import_mapped(mapping, tmp_path / "out.gpkg")
    assert result.written is None
    got = {(i.code, i.layer, i.id): i for i in result.report.items}
    assert sorted(got) == [("ambiguous_switch", "switches", "T1"), ("bad_value", "switches", "LS1"),
                           ("dangling_line_end", "lines", "K15")]
    t1 = got["ambiguous_switch", "switches", "T1"]
    assert set(t1.related) == {"K7", "K8", "K15"} and "3 line ends" in t1.message
    for item in got.values():
        assert item.lon == pytest.approx(9.0, abs=0.02) and item.lat == pytest.approx(48.75, abs=0.02)
    assert "remote" in got["bad_value", "switches", "LS1"].message
