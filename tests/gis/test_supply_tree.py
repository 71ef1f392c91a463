"""The normal-state supply tree (``Grid.supply_tree()``) against a breadth-first search in networkx.

The oracle: a node graph of lines, transformers and normally-closed switches,
searched breadth-first from a virtual root joined to every node inside a
substation. In a radial grid the switches on the path from the root to a node
are unique, so they must be the tree's ``path_switches`` of the node's section;
parents, supply switches, children, feeders and what hangs below each switch
all follow from those paths.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from shapely.geometry import Point

from gis import Grid, NotFoundError, load_grid
from gis.synthetic import make_grid

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = "__root__"


def expected_tree(grid: Grid) -> dict[str, dict]:
    """Per section id: ``path`` (switches from the root), ``parent``, ``feeder``, ``source``."""
    nodes = grid.nodes
    inside = set(nodes.loc[(nodes["kind"] == "busbar") | nodes["substation_id"].notna(), "id"])
    g = nx.MultiGraph()
    g.add_nodes_from(nodes["id"])
    g.add_edges_from(zip(grid.lines["from_node"], grid.lines["to_node"], strict=True), switch=None)
    g.add_edges_from(zip(grid.transformers["hv_node"], grid.transformers["lv_node"], strict=True), switch=None)
    sw = grid.switches
    closed = sw[~sw["normally_open"].astype(bool)]
    for sid, a, b in zip(closed["id"], closed["from_node"], closed["to_node"], strict=True):
        g.add_edge(a, b, switch=sid)
    g.add_edges_from(((ROOT, n) for n in inside), switch=None)
    pred = dict(nx.bfs_predecessors(g, ROOT))

    def crossing(a: str, b: str) -> str | None:
        edges = list(g.get_edge_data(a, b).values())
        return None if any(e["switch"] is None for e in edges) else edges[0]["switch"]

    section = {n: s.id for s in grid.sections() for n in s.nodes}
    ends = {str(r.id): (r.from_node, r.to_node) for r in sw.itertuples()}
    feeder_breaker = {s for s, (a, b) in ends.items() if a in inside and b not in inside} & set(sw.loc[sw["kind"] == "breaker", "id"])
    out: dict[str, dict] = {}
    for n in nodes["id"]:
        path: list[str] = []
        parent = None
        x = n
        while x in pred and pred[x] != ROOT:
            s = crossing(pred[x], x)
            if s is not None:
                path.append(s)
                parent = section[pred[x]] if parent is None else parent
            x = pred[x]
        path.reverse()
        want = {"path": path, "parent": parent, "source": n in inside,
                "feeder": next((s for s in path if s in feeder_breaker), None)}
        assert out.setdefault(section[n], want) == want, f"nodes of {section[n]} disagree"
    return out


def check_against_networkx(grid: Grid) -> None:
    tree = grid.supply_tree()
    want = expected_tree(grid)
    assert list(tree.sections) == sorted(want)
    kids: dict[str, list[tuple[str, str]]] = {s: [] for s in want}
    for s, w in want.items():
        assert tree.is_source(s) == w["source"], s
        assert tree.path_switches(s) == w["path"], s
        assert tree.parent(s) == w["parent"], s
        assert tree.supply_switch(s) == (w["path"][-1] if w["path"] else None), s
        assert tree.feeder(s) == w["feeder"], s
        if w["parent"] is not None:
            kids[w["parent"]].append((w["path"][-1], s))
    for s in want:
        assert tree.children(s) == sorted(kids[s]), s
        sub = tree.subtree(s)
        assert sub[0] == s
        assert set(sub) == {x for x in want if _below_section(want, s, x)}, s
        depth = [len(want[x]["path"]) for x in sub]
        assert depth == sorted(depth), f"{s}: subtree not breadth-first"
    for sid in grid.switches["id"]:
        below = tree.below(sid)
        assert set(below) == {x for x, w in want.items() if sid in w["path"]}, sid
        if below:
            assert want[below[0]]["path"][-1] == sid


def _below_section(want: dict[str, dict], top: str, x: str) -> bool:
    """Is section ``x`` fed through section ``top`` (its path runs through ``top``)?"""
    while x is not None:
        if x == top:
            return True
        x = want[x]["parent"]
    return False


@pytest.fixture()
def ring_with_island_and_dead_busbar(ring_layers):
    """The small ring with busbar BA fed only through two normally-open transformer breakers
    (Q1, Q2 from a 110 kV infeed HA: F1's feeder hangs from a busbar without supply) and S5 normally
    open, so that y2-R4 and a new section w1 behind the closed switch W1 are an island reached
    only through normally-open switches (S5, T1)."""
    layers = {k: v.copy() for k, v in ring_layers.items()}
    nodes = layers["nodes"]
    ba = nodes.loc[nodes["id"] == "BA"].geometry.iloc[0]
    r4 = nodes.loc[nodes["id"] == "R4"].geometry.iloc[0]
    extra = gpd.GeoDataFrame(
        {"id": ["HA", "TA1", "TA2", "w1"], "kind": ["busbar", "junction", "junction", "junction"],
         "substation_id": ["SA", "SA", "SA", None], "vn_kv": [110.0, 10.0, 10.0, None], "vm_pu": [1.02, None, None, None]},
        geometry=[Point(ba.x - 0.001, ba.y), Point(ba.x - 0.0005, ba.y + 0.0002), Point(ba.x - 0.0005, ba.y - 0.0002),
                  Point(r4.x + 0.001, r4.y)],
        crs=nodes.crs)
    layers["nodes"] = pd.concat([nodes, extra], ignore_index=True)
    layers["transformers"] = gpd.GeoDataFrame(
        {"id": ["TR1", "TR2"], "hv_node": ["HA", "HA"], "lv_node": ["TA1", "TA2"], "sn_kva": [25000.0] * 2,
         "substation_id": ["SA"] * 2},
        geometry=[ba, ba], crs=nodes.crs)
    sw = layers["switches"]
    sw.loc[sw["id"] == "S5", "normally_open"] = True
    added = gpd.GeoDataFrame(
        {"id": ["Q1", "Q2", "W1"], "kind": ["breaker", "breaker", "load_break"], "from_node": ["TA1", "TA2", "R4"],
         "to_node": ["BA", "BA", "w1"], "normally_open": [True, True, False]},
        geometry=[ba, ba, r4], crs=sw.crs)
    layers["switches"] = pd.concat([sw, added], ignore_index=True)
    return Grid.from_layers(layers)


def test_small_ring_tree(ring):
    tree = ring.supply_tree()
    assert tree.path_switches("section:D2") == ["F1", "S1", "S2"]
    assert tree.children("section:R1") == [("S1", "section:D1"), ("S3", "section:D5")]
    assert tree.below("S1") == ["section:D1", "section:D2"]
    assert tree.below("T1") == []  # normally open: feeds nothing
    assert tree.feeder("section:D4") == "F2" and tree.parent("section:BA") is None
    check_against_networkx(ring)


def test_island_and_busbar_without_supply(ring_with_island_and_dead_busbar):
    g = ring_with_island_and_dead_busbar
    tree = g.supply_tree()
    island = g.section_of("w1")
    assert tree.parent(island) is None and tree.supply_switch(island) is None and tree.path_switches(island) == []
    assert tree.below("W1") == [] and tree.children(g.section_of("R4")) == []
    # F1 still hangs from busbar BA, which has no supply in the normal state
    assert tree.path_switches(g.section_of("D2")) == ["F1", "S1", "S2"] and tree.feeder(g.section_of("D2")) == "F1"
    assert {s.id: s.supply_switch for s in g.sections()}[island] is None
    check_against_networkx(g)


def test_helsinki_city_tree():
    check_against_networkx(load_grid(DATA / "helsinki" / "helsinki.gpkg"))


def test_synthetic_grid_tree():
    check_against_networkx(make_grid(2500, seed=4))


def test_unknown_ids_are_not_found(ring):
    tree = ring.supply_tree()
    with pytest.raises(NotFoundError):
        tree.parent("section:nowhere")
    with pytest.raises(NotFoundError):
        tree.below("no-such-switch")
    assert ring.supply_tree() is tree  # built once per grid
