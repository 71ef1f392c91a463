"""Edge speeds and travel times (osmnx): travel_time = length / speed on a hand-made graph."""

from __future__ import annotations

import networkx as nx
import pytest

from routing import load_roads
from routing.speeds import DEFAULT_SPEEDS_KPH, FALLBACK_SPEED_KPH, add_travel_times

#: edge name -> (metres, tags, expected km/h worked out by hand)
EDGES = {
    "tagged": (100.0, {"highway": "primary", "maxspeed": "50"}, 50.0),
    "mph": (200.0, {"highway": "residential", "maxspeed": "30 mph"}, 30 * 1.60934),
    "per_lane": (300.0, {"highway": "secondary", "maxspeed": "50|70"}, 60.0),
    "simplified": (120.0, {"highway": "tertiary", "maxspeed": ["30", "50"]}, 40.0),
    "by_class": (250.0, {"highway": "primary"}, 50.0),
    "class_list": (90.0, {"highway": ["secondary", "primary"]}, 45.0),
    "no_class": (60.0, {}, FALLBACK_SPEED_KPH),
    "zero_tag": (80.0, {"highway": "primary", "maxspeed": "0"}, FALLBACK_SPEED_KPH),
    # a class missing from the table: the mean tagged speed of that class (osmnx)
    "odd_tagged": (100.0, {"highway": "odd", "maxspeed": "20"}, 20.0),
    "odd": (150.0, {"highway": "odd"}, 20.0),
}


def hand_graph() -> nx.MultiDiGraph:
    """One edge per case of ``EDGES``, each between its own two nodes (0.001 degree apart)."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for i, (name, (metres, tags, _)) in enumerate(EDGES.items()):
        g.add_node(f"{name}-a", x=0.0, y=i * 0.001)
        g.add_node(f"{name}-b", x=0.001, y=i * 0.001)
        g.add_edge(f"{name}-a", f"{name}-b", length=metres, name=name, **tags)
    return g


def by_name(g: nx.MultiDiGraph) -> dict[str, dict]:
    return {d["name"]: d for _, _, d in g.edges(data=True)}


def test_travel_time_is_length_over_speed() -> None:
    edges = by_name(add_travel_times(hand_graph()))
    for name, (metres, _, kph) in EDGES.items():
        assert edges[name]["speed_kph"] == pytest.approx(kph), name
        # seconds = metres / (km/h / 3.6)
        assert edges[name]["travel_time"] == pytest.approx(metres / (kph / 3.6)), name


def test_only_speed_and_time_are_added_to_the_edges() -> None:
    g = hand_graph()
    before = {name: dict(d) for name, d in by_name(g).items()}
    edges = by_name(add_travel_times(g))
    for name, d in edges.items():
        assert {k: v for k, v in d.items() if k not in ("speed_kph", "travel_time")} == before[name]


def test_hwy_speeds_override_the_table_and_recompute_given_times() -> None:
    g = hand_graph()
    for _, _, d in g.edges(data=True):
        d["travel_time"] = 1.0
    edges = by_name(add_travel_times(g, hwy_speeds={"primary": 36.0}))
    assert edges["by_class"]["travel_time"] == pytest.approx(250.0 / 10.0)  # 36 km/h = 10 m/s
    assert edges["class_list"]["speed_kph"] == DEFAULT_SPEEDS_KPH["secondary"]
    assert edges["tagged"]["speed_kph"] == 50.0  # a maxspeed tag still wins


def test_given_times_and_speeds_are_kept() -> None:
    g = hand_graph()
    for _, _, d in g.edges(data=True):
        d["travel_time"] = "7"  # GraphML text
    assert {d["travel_time"] for d in by_name(add_travel_times(g)).values()} == {7.0}
    g = hand_graph()
    for _, _, d in g.edges(data=True):
        d["speed_kph"] = 18.0
    for name, d in by_name(add_travel_times(g)).items():
        assert d["speed_kph"] == 18.0
        assert d["travel_time"] == pytest.approx(EDGES[name][0] / 5.0)  # 18 km/h = 5 m/s


def test_load_roads_uses_these_speeds() -> None:
    g = nx.MultiDiGraph(crs="EPSG:4326")
    g.add_node("A", x=0.0, y=0.0)
    g.add_node("B", x=0.001, y=0.0)
    g.add_edge("A", "B", length=100.0, highway="living_street")
    g.add_edge("B", "A", length=100.0, highway="living_street", maxspeed="20")
    roads = load_roads(g)
    by_tail = {roads.edge_keys[e][0]: roads.edge_time_s[e] for e in range(roads.num_edges)}
    assert by_tail == pytest.approx({"A": 100 / (10 / 3.6), "B": 100 / (20 / 3.6)})
