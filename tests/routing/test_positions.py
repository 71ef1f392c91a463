"""routing.positions: a crew's GPS fix against the service area and the road network."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from routing import RoutingInputError, check_position, compass_bearing, load_roads

BOUNDS = (7.40, 43.72, 7.44, 43.75)  # a Monaco-sized area (lon, lat)


@pytest.fixture(scope="module")
def street():
    """One two-way street along lat 43.733 from lon 7.420 to 7.432, named."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for i, lon in enumerate((7.420, 7.426, 7.432)):
        g.add_node(i, x=lon, y=43.733)
    for u, v in ((0, 1), (1, 2)):
        for a, b in ((u, v), (v, u)):
            g.add_edge(a, b, length=480.0, travel_time=40.0, highway="residential", name=["Rue A", "Rue B"] if u else "Rue A")
    return load_roads(g)


def test_a_fix_on_the_street_passes_with_its_distance_and_name(street) -> None:
    got = check_position(7.423, 43.7332, bounds=BOUNDS, roads=street)
    # 0.0002 deg of latitude = 22.3 m north of the street
    assert got.road_distance_m == pytest.approx(0.0002 * 111_320, abs=1.0)
    assert got.street == "Rue A"
    assert check_position(7.429, 43.733, bounds=BOUNDS, roads=street).street == "Rue A"  # first of an OSM name list


def test_swapped_outside_and_off_road_are_told_apart(street) -> None:
    with pytest.raises(RoutingInputError) as e:
        check_position(43.733, 7.423, bounds=BOUNDS, roads=street)
    assert e.value.code == "position_swapped"
    with pytest.raises(RoutingInputError) as e:
        check_position(2.35, 48.85, bounds=BOUNDS, roads=street)
    assert e.value.code == "position_outside_area"
    with pytest.raises(RoutingInputError) as e:  # 0.004 deg north = 445 m from the street
        check_position(7.423, 43.737, bounds=BOUNDS, roads=street, max_road_m=300)
    assert e.value.code == "position_off_road" and e.value.details["road_distance_m"] == pytest.approx(445.3, abs=1.5)
    assert check_position(7.423, 43.737, bounds=BOUNDS, roads=street, max_road_m=500).road_distance_m == pytest.approx(445.3, abs=1.5)
    for bad in ((math.nan, 43.73), (7.42, math.inf), (200.0, 43.7)):
        with pytest.raises(RoutingInputError):
            check_position(*bad, bounds=BOUNDS, roads=street)


def test_the_margin_admits_a_depot_just_outside_the_grid() -> None:
    # 0.03 deg east of the box at lat 43.73 is 2.41 km: inside a 5 km margin, outside a 1 km one
    assert check_position(7.47, 43.73, bounds=BOUNDS, margin_m=5000).road_distance_m is None
    with pytest.raises(RoutingInputError):
        check_position(7.47, 43.73, bounds=BOUNDS, margin_m=1000)


@pytest.mark.parametrize(("dlon", "dlat", "direction"), [(0, 1, "N"), (1, 1, "NE"), (1, 0, "E"), (0, -1, "S"), (-1, -1, "SW"), (-1, 0, "W")])
def test_compass_bearing(dlon: int, dlat: int, direction: str) -> None:
    lat0 = 43.73
    k = 0.0001
    dist, d = compass_bearing((7.42, lat0), (7.42 + dlon * k / math.cos(math.radians(lat0)), lat0 + dlat * k))
    assert d == direction
    assert dist == pytest.approx(math.hypot(dlon, dlat) * k * 111_320, rel=1e-3)
