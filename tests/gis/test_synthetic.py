"""Synthetic grids: valid, radial, ringed, deterministic; and the topology engine against a
plain networkx search on random switching states (an independent oracle)."""

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.synthetic import make_grid, make_layers


def oracle_dead(grid, opened, closed):
    g = nx.Graph()
    g.add_nodes_from(grid.nodes["id"])
    g.add_edges_from(zip(grid.lines["from_node"], grid.lines["to_node"], strict=True))
    for sid, a, b, o in zip(grid.switches["id"], grid.switches["from_node"], grid.switches["to_node"], grid.switches["normally_open"], strict=True):
        if (not o and sid not in opened) or sid in closed:
            g.add_edge(a, b)
    sources = grid.nodes["id"][grid.nodes["kind"] == "busbar"]
    live = set()
    for s in sources:
        if s not in live:
            live |= nx.node_connected_component(g, s)
    return set(grid.nodes["id"]) - live


GRID = make_grid(1500, seed=3)
SWITCHES = sorted(GRID.switches["id"])
TIES = sorted(GRID.switches["id"][GRID.switches["normally_open"]])


def test_synthetic_grid_is_valid_radial_and_ringed():
    g = GRID
    assert not [p for p in g.problems if p.severity == "error"]
    assert g.energized() == set(g.nodes["id"])
    feeders = g.feeders
    assert len(feeders) >= 8
    assert all(len(t) >= 1 for t in feeders["tie_switches"])  # every feeder in a ring with a tie
    assert set(g.customers["importance"]) >= {"normal"}


def test_synthetic_is_deterministic():
    a, b = make_layers(800, seed=7), make_layers(800, seed=7)
    for name in a:
        assert a[name].equals(b[name]), name
    c = make_layers(800, seed=8)
    assert not a["customers"].equals(c["customers"])


@settings(max_examples=60, deadline=None)
@given(
    opened=st.lists(st.sampled_from(SWITCHES), max_size=6, unique=True),
    closed=st.lists(st.sampled_from(TIES), max_size=3, unique=True),
)
def test_dead_nodes_match_networkx(opened, closed):
    closed = [c for c in closed if c not in opened]
    dead = oracle_dead(GRID, set(opened), set(closed))
    assert GRID.dead_nodes(open_switches=opened, close_switches=closed) == dead
    dead_customers = set(GRID.affected_customers(open_switches=opened, close_switches=closed)["id"])
    node_of = dict(zip(GRID.customers["id"], GRID.customers["node_id"], strict=True))
    expected = {c for c, n in node_of.items() if n in dead}
    assert dead_customers == expected


@settings(max_examples=40, deadline=None)
@given(others=st.lists(st.sampled_from(SWITCHES), max_size=3, unique=True), tie=st.sampled_from(TIES))
def test_feeder_of_follows_the_supply_path(others, tie):
    """A live customer's feeder is the breaker on its (unique) path to a busbar, checked with
    networkx, in states where one feeder is off and a tie re-feeds it from its neighbour."""
    end = GRID.switches.set_index("id").loc[tie, "from_node"]
    opened = sorted({GRID.feeder_of(end), *others} - {tie})
    feeders = GRID.customer_feeders(open_switches=opened, close_switches=[tie])
    g = nx.Graph()
    g.add_edges_from(zip(GRID.lines["from_node"], GRID.lines["to_node"], strict=True))
    breakers = set(GRID.feeders["id"])
    for sid, a, b, o in zip(GRID.switches["id"], GRID.switches["from_node"], GRID.switches["to_node"], GRID.switches["normally_open"], strict=True):
        if ((not o and sid not in opened) or sid == tie):
            g.add_edge(a, b, switch=sid)
    busbars = list(GRID.nodes["id"][GRID.nodes["kind"] == "busbar"])
    rng = np.random.default_rng(len(opened))
    sample = GRID.customers.iloc[rng.choice(len(GRID.customers), 30, replace=False)]
    for cid, node in zip(sample["id"], sample["node_id"], strict=True):
        paths = [nx.shortest_path(g, node, b) for b in busbars if node in g and nx.has_path(g, node, b)]
        if not paths:
            assert feeders[cid] is None
            continue
        path = paths[0]
        on_path = [g.edges[u, v].get("switch") for u, v in zip(path, path[1:], strict=False)]
        assert feeders[cid] == next(s for s in reversed(on_path) if s in breakers)
