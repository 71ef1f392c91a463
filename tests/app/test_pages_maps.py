"""app.maps: GeoJSON layers from the small ring (hand-checkable), vendored assets, escaping."""

from __future__ import annotations

import html
import json
import re

import folium
import pytest

from app import maps
from app.maps import geojson as gj
from app.maps.folium_map import VENDOR_CSS, VENDOR_JS
from gis import Grid


def by_id(fc: dict) -> dict[str, dict]:
    return {f["properties"]["id"]: f for f in fc["features"]}


def test_lines_and_equipment_carry_their_normal_feeder(small_ring: Grid) -> None:
    layers = maps.grid_layers(small_ring)
    lines = by_id(layers["lines"])
    # drawing in tests/data/make_small_ring.py: top row and its branches on F1, bottom row on F2
    assert {i for i, f in lines.items() if f["properties"]["feeder"] == "F1"} == {"L1", "L2", "L3", "L7", "L8", "L11"}
    assert {i for i, f in lines.items() if f["properties"]["feeder"] == "F2"} == {"L4", "L5", "L6", "L9", "L10"}
    colors = maps.feeder_colors(small_ring)
    assert colors["F1"] != colors["F2"]
    assert lines["L1"]["properties"]["color"] == colors["F1"]
    equipment = by_id(layers["equipment"])
    assert set(equipment) == {"R1", "R2", "R3", "R4", "R5", "R6", "D1", "D2", "D3", "D4", "D5"}  # no junctions, no busbars
    assert equipment["D4"]["properties"]["feeder"] == "F2"


def test_only_the_tie_is_normally_open_and_knows_both_feeders(small_ring: Grid) -> None:
    switches = by_id(maps.grid_layers(small_ring)["switches"])
    ties = {i for i, f in switches.items() if f["properties"].get("normally_open")}
    assert ties == {"T1"}
    assert switches["T1"]["properties"]["feeders"] == ["F1", "F2"]
    assert switches["T1"]["properties"]["remote"] is True


def test_coordinates_are_lon_lat(small_ring: Grid) -> None:
    # the ring lies near (7.42 E, 43.73 N): GeoJSON order is [lon, lat], Leaflet's centre is (lat, lon)
    c3 = by_id(maps.customers_geojson(small_ring))["C3"]
    lon, lat = c3["geometry"]["coordinates"]
    assert 7.4 < lon < 7.5 and 43.7 < lat < 43.8
    lat_c, lon_c = maps.grid_center(small_ring)
    assert 43.7 < lat_c < 43.8 and 7.4 < lon_c < 7.5


def test_customers_never_carry_phone_numbers(small_ring: Grid) -> None:
    fc = maps.customers_geojson(small_ring)
    assert len(fc["features"]) == 7
    assert all("phone" not in f["properties"] for f in fc["features"])
    cols = maps.customers_columns(small_ring)
    assert "phone" not in cols and cols["count"] == 7
    i = cols["id"].index("C3")
    assert cols["importance"][i] == "first" and cols["feeder"][i] == "F1"
    assert (cols["lon"][i], cols["lat"][i]) == tuple(by_id(fc)["C3"]["geometry"]["coordinates"])


def test_important_filter(small_ring: Grid) -> None:
    fc = maps.customers_geojson(small_ring, importance=maps.IMPORTANT)
    grades = {f["properties"]["importance"] for f in fc["features"]}
    assert grades and "normal" not in grades
    assert "C3" in by_id(fc)  # the hospital, first grade


def test_isolation_overlay_of_r2_matches_the_hand_answer(small_ring: Grid) -> None:
    # make_small_ring.py: isolate R2 -> open S1, S2; s2 = {x1, R2, D1} is the work zone;
    # s3 = {x2, R3, D2} is re-fed from F2 through T1; C1, C2 (on D1) stay dead.
    fc = maps.isolation_overlay(small_ring, "R2")
    assert fc["isolation"]["open"] == ["S1", "S2"]
    assert fc["isolation"]["close"] == ["T1"]
    roles = {f["properties"]["id"]: f["properties"]["role"] for f in fc["features"]}
    assert roles["R2"] == roles["D1"] == roles["L2"] == roles["L7"] == "work"
    assert roles["R3"] == roles["D2"] == roles["L3"] == roles["L8"] == "transferred"
    feeders = {f["properties"]["id"]: f["properties"]["feeder"] for f in fc["features"] if f["properties"]["role"] == "transferred"}
    assert set(feeders.values()) == {"F2"}
    dead = {f["properties"]["id"] for f in fc["features"] if f["properties"].get("layer") == "customer"}
    assert dead == {"C1", "C2"}
    assert fc["summary"] == {"dead_customers": 2, "transferred_customers": 2, "dead_nodes": 3}
    assert "R1" not in roles and "R4" not in roles  # untouched equipment is not in the overlay


def test_state_overlay_open_s1(small_ring: Grid) -> None:
    fc = maps.state_overlay(small_ring, open_switches=["S1"])
    dead = {f["properties"]["id"] for f in fc["features"] if f["properties"].get("layer") == "customer"}
    assert dead == {"C1", "C2", "C3", "C7"}
    assert fc["summary"]["transferred_customers"] == 0


def test_fit_zoom() -> None:
    # the whole mercator world is 256 px wide at zoom 0: it fits 1024x768 at zoom 1 (height-bound)
    assert gj.fit_zoom(((-85.0, -180.0), (85.0, 180.0))) == 1
    # 0.04 deg of longitude (~3 km at 43.7 N): 1024 px / (256 px x 0.04/360) = 36000 -> 2^15
    assert gj.fit_zoom(((43.73, 7.40), (43.731, 7.44))) == 15


def test_maps_use_only_vendored_assets_and_leave_folium_defaults_alone(small_ring: Grid) -> None:
    cdn_js = list(folium.Map.default_js)
    cdn_css = list(folium.Map.default_css)
    parts = maps.render_parts(maps.planner_map(small_ring, customers_url="/pages/data/c.json", settings=maps.MapSettings(static_prefix="/static")))
    urls = re.findall(r'(?:src|href)="([^"]+)"', parts.header)
    assert urls, parts.header
    assert all(u.startswith("/static/") for u in urls)
    expected = {f"/static/{p}" for _, p in (*VENDOR_JS, *VENDOR_CSS)}
    assert set(urls) == expected
    assert "http://" not in parts.script and "https://cdn" not in parts.script
    # folium's module-level (CDN) defaults are untouched: configuration is per map
    assert folium.Map.default_js == cdn_js and folium.Map.default_css == cdn_css
    assert any("cdn" in u for _, u in folium.Map.default_js)


def test_no_tiles_without_a_tile_url_and_osm_attribution_always(small_ring: Grid) -> None:
    plain = maps.render_parts(maps.planner_map(small_ring, customers_url="/c"))
    assert "L.tileLayer" not in plain.script
    assert "OpenStreetMap" in plain.script
    tiled = maps.render_parts(maps.planner_map(small_ring, customers_url="/c", settings=maps.MapSettings(tile_url="https://tiles.intranet/{z}/{x}/{y}.png")))
    assert "L.tileLayer" in tiled.script
    assert "https://tiles.intranet/{z}/{x}/{y}.png" in tiled.script


def test_layer_urls_keep_the_page_small(small_ring: Grid) -> None:
    embedded = maps.render_parts(maps.planner_map(small_ring, customers_url="/c"))
    by_url = maps.render_parts(maps.planner_map(small_ring, customers_url="/c", settings=maps.MapSettings(layer_url=lambda k: f"/g/{k}.geojson")))
    assert '"Feature"' in embedded.script and '"Feature"' not in by_url.script
    assert set(by_url.prefetch) == {"/g/lines.geojson", "/g/equipment.geojson", "/g/switches.geojson", "/g/substations.geojson", "/g/important.geojson", "/c"}


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "${alert(1)}", "a`b", "back\\slash", "</script>"])
def test_js_template_text_shows_text_literally(name: str) -> None:
    out = maps.js_template_text(name)
    assert not set(out) & set("<>`$\\")
    assert html.unescape(out) == name


def test_json_for_script_cannot_close_the_script(xss_grid: Grid) -> None:
    fc = maps.customers_geojson(xss_grid)
    out = maps.json_for_script(fc)
    assert "</script" not in out.lower() and "<img" not in out
    assert json.loads(out) == fc


def test_embedded_hostile_names_stay_inside_json(xss_grid: Grid) -> None:
    parts = maps.render_parts(maps.planner_map(xss_grid, customers_url="/c"))
    assert "<img" not in parts.script and "</script" not in parts.script.lower()
    # the names are there, JSON-escaped, for outage-map.js to set with textContent
    assert "\\u003cb onmouseover=alert(3)\\u003eR2\\u003c/b\\u003e" in parts.script  # equipment R2
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(2)" in parts.script  # C3, first grade


def test_folium_text_helpers_escape(xss_grid: Grid) -> None:
    m = folium.Map(tiles=None)
    folium.Marker([43.7, 7.4], tooltip=maps.text_tooltip("${alert(1)}`<img src=x>"), popup=maps.text_popup("<img src=x onerror=alert(1)>")).add_to(m)
    script = m.get_root().render()
    assert "<img src=x" not in script and "${alert" not in script


def test_roads_once_per_street_with_their_geometry() -> None:
    import networkx as nx
    from shapely.geometry import LineString

    g = nx.MultiDiGraph()
    g.add_node(1, x=7.40, y=43.70)
    g.add_node(2, x=7.41, y=43.70)
    g.add_node(3, x=7.41, y=43.71)
    g.add_edge(1, 2)
    g.add_edge(2, 1)  # the same street, other direction
    g.add_edge(2, 3, geometry=LineString([(7.41, 43.70), (7.415, 43.705), (7.41, 43.71)]))
    (feature,) = maps.roads_geojson(g)["features"]
    parts = feature["geometry"]["coordinates"]
    assert feature["geometry"]["type"] == "MultiLineString" and len(parts) == 2
    assert [[7.4, 43.7], [7.41, 43.7]] in parts
    assert [[7.41, 43.7], [7.415, 43.705], [7.41, 43.71]] in parts
    assert maps.roads_geojson(nx.MultiDiGraph())["features"] == []


def test_vendored_assets_match_their_manifest_and_keep_licences() -> None:
    import hashlib
    from pathlib import Path

    vendor = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor"
    rows = [ln.split() for ln in (vendor / "MANIFEST.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(rows) >= 10
    for digest, rel in rows:
        assert hashlib.sha256((vendor / rel).read_bytes()).hexdigest() == digest, rel
    packages = {rel.split("/")[0] for _, rel in rows}
    assert packages == {"leaflet-1.9.4", "leaflet.markercluster-1.5.3", "chart.js-4.5.1"}
    for pkg in packages:
        assert any(re.search(r"LICEN[CS]E", rel) for _, rel in rows if rel.startswith(pkg + "/")), pkg
    # every asset a map links to is vendored
    for _, path in (*VENDOR_JS, *VENDOR_CSS):
        assert (vendor.parent / path).is_file(), path


def test_our_front_end_code_fetches_nothing_from_outside() -> None:
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "app" / "static"
    ours = [*static.glob("js/**/*.js"), *static.glob("css/*.css")]
    assert ours
    for f in ours:
        assert not re.search(r"https?://", f.read_text()), f
