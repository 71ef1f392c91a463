"""Bulk study states (gis/components.py) against the pre-order ranges (gis/topology.State) and
against scipy's connected components over the plain node graph (an independent oracle)."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from gis import topology
from gis.components import ComponentState
from gis.synthetic import make_grid
from gis.topology import State, slice_sorted

GRID = make_grid(3000, seed=5)
SW_IDS = GRID.switches["id"].to_numpy(dtype=object)
TIES = np.flatnonzero(GRID.switches["normally_open"].to_numpy(dtype=bool))
CLOSED = np.flatnonzero(~GRID.switches["normally_open"].to_numpy(dtype=bool))


def scipy_dead_nodes(grid, opened, closed):
    """Nodes in no component with a busbar, on the node graph of lines and closed switches."""
    nodes = grid.nodes["id"].to_numpy(dtype=object)
    ix = {n: i for i, n in enumerate(nodes)}
    sw = grid.switches
    on = ~sw["normally_open"].to_numpy(dtype=bool)
    on[opened] = False
    on[closed] = True
    a = np.concatenate([grid.lines["from_node"].map(ix).to_numpy(), sw["from_node"].map(ix).to_numpy()[on]])
    b = np.concatenate([grid.lines["to_node"].map(ix).to_numpy(), sw["to_node"].map(ix).to_numpy()[on]])
    g = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(len(nodes), len(nodes)))
    _, comp = connected_components(g, directed=False)
    live = np.isin(comp, comp[(grid.nodes["kind"] == "busbar").to_numpy()])
    return set(nodes[~live])


def both(grid, opened, closed):
    t = grid._topo
    return State(t, opened, closed), ComponentState(t, opened, closed)


@settings(max_examples=40, deadline=None)
@given(
    opened=st.lists(st.sampled_from(CLOSED.tolist()), min_size=0, max_size=400, unique=True),
    closed=st.lists(st.sampled_from(TIES.tolist()), max_size=len(TIES), unique=True),
)
def test_bulk_states_match_the_tree_and_scipy(opened, closed):
    opened, closed = np.array(opened, dtype=np.int64), np.array(closed, dtype=np.int64)
    tree, bulk = both(GRID, opened, closed)
    assert bulk.dead_intervals().tolist() == [list(x) for x in tree.dead_intervals()]
    t = GRID._topo
    dead = {str(x) for x in GRID.nodes["id"].to_numpy(dtype=object)[t.node_order[slice_sorted(t.node_pos, bulk.dead_intervals())]]}
    assert dead == scipy_dead_nodes(GRID, opened, closed)
    assert sorted(bulk.dead_node_idx().tolist()) == sorted(tree.dead_node_idx().tolist())
    assert bulk.meshes() == tree.meshes()
    secs = np.arange(t.n_sections)
    assert (bulk.section_feeder(secs) == tree.section_feeder(secs)).all()


def test_a_substation_out_is_fed_across_every_tie():
    """Open every breaker of one substation and close every tie: what comes back is fed by the other
    substations' breakers, and the tree and the components pass agree on what is live."""
    feeders = GRID.feeders
    sub = feeders["substation_id"].iloc[0]
    index = dict(zip(SW_IDS, range(len(SW_IDS)), strict=True))
    opened = feeders["id"][feeders["substation_id"] == sub].map(index).to_numpy(dtype=np.int64)
    tree, bulk = both(GRID, opened, TIES)
    secs = np.arange(GRID._topo.n_sections)
    assert bulk.dead_intervals().tolist() == [list(x) for x in tree.dead_intervals()]
    assert bulk.meshes() == tree.meshes()
    fed = bulk.section_feeder(secs)
    own = set(opened.tolist())
    assert (fed >= 0).sum() > 0 and not own & set(fed[fed >= 0].tolist())
    assert (fed == tree.section_feeder(secs)).all()


def test_study_picks_the_bulk_path_above_the_threshold():
    few = GRID._topo.study(CLOSED[:3], TIES[:1])
    many = GRID._topo.study(CLOSED[: topology.BULK_CHANGES + 1], TIES[:0])
    assert isinstance(few, State) and isinstance(many, ComponentState)
    # the grid's answers do not depend on the path
    ids = list(SW_IDS[CLOSED[: topology.BULK_CHANGES + 1]])
    assert set(GRID.dead_nodes(open_switches=ids)) == scipy_dead_nodes(GRID, CLOSED[: topology.BULK_CHANGES + 1], [])


@pytest.mark.parametrize("intervals", [[], [(0, 0)], [(0, 5)], [(2, 4), (4, 9)], [(0, 1), (3, 3), (5, 7), (20, 30)]])
def test_slice_sorted_takes_each_interval(intervals):
    pos = np.array([0, 1, 1, 2, 3, 5, 6, 6, 8, 9, 25])
    expected = [i for i, p in enumerate(pos) if any(a <= p < b for a, b in intervals)]
    assert slice_sorted(pos, intervals).tolist() == expected
