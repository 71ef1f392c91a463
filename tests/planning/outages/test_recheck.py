"""planning.outages.recheck: an outage planned on one grid version, re-checked on the next.

The small ring (tests/data/make_small_ring.py): work on line L3 (x2-R3) opens S2; the tie T1
stays open, so R3 and D2 are dark: customers C3 and C7.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis import Grid, load_grid
from gis.diff import diff_grids
from planning.outages.recheck import recheck_outage, work_state

RING = Path(__file__).resolve().parents[2] / "data" / "small_ring"
STEPS = [{"phase": "isolate", "action": "open", "device": "S2"}, {"phase": "earth", "action": "earth", "device": "S2"},
         {"phase": "restore", "action": "close", "device": "S2"}]


@pytest.fixture(scope="module")
def ring() -> Grid:
    return load_grid(RING)


def edited(grid: Grid, edit) -> Grid:
    layers = grid.layers()
    edit(layers)
    return Grid.from_layers(layers, source="edited")


def check(old: Grid, new: Grid, equipment=("L3",)) -> list[dict]:
    return [f.to_json() for f in recheck_outage(old, new, equipment=equipment, steps=STEPS, diff=diff_grids(old, new))]


def test_work_state_keeps_the_last_action_of_the_transfer_and_isolate_steps() -> None:
    steps = [{"phase": "transfer", "action": "close", "device": "T1"}, {"phase": "transfer", "action": "open", "device": "S2"},
             {"phase": "isolate", "action": "open", "device": "S1"}, {"phase": "restore", "action": "close", "device": "S1"}]
    assert work_state(steps) == (["S2", "S1"], ["T1"])


def test_the_same_grid_changes_nothing(ring: Grid) -> None:
    assert check(ring, ring) == []


def test_a_customer_moved_into_the_work_zone_is_named(ring: Grid) -> None:
    def edit(layers: dict) -> None:
        layers["customers"].loc[layers["customers"]["id"] == "C1", "node_id"] = "D2"

    [finding] = check(ring, edited(ring, edit))
    assert finding["code"] == "customers_changed"
    assert finding["details"] == {"added": 1, "removed": 0, "added_ids": ["C1"], "removed_ids": []}


def test_a_re_rated_switching_device_and_removed_equipment_are_named(ring: Grid) -> None:
    def edit(layers: dict) -> None:
        layers["switches"].loc[layers["switches"]["id"] == "S2", "rating_a"] = 250.0

    [finding] = check(ring, edited(ring, edit))
    assert (finding["code"], finding["details"]["column"], finding["details"]["new"]) == ("device_changed", "rating_a", 250)

    def drop_l8(layers: dict) -> None:  # D2 and its customers leave with the line that fed them
        layers["lines"] = layers["lines"][layers["lines"]["id"] != "L8"]
        layers["nodes"] = layers["nodes"][layers["nodes"]["id"] != "D2"]
        layers["customers"] = layers["customers"][~layers["customers"]["id"].isin(["C3", "C7"])]

    codes = {f["code"]: f["details"] for f in check(ring, edited(ring, drop_l8), equipment=("L8",))}
    assert codes["equipment_removed"] == {"id": "L8"}
    assert codes["customers_changed"]["removed_ids"] == ["C3", "C7"]


def test_a_removed_switching_device_is_named_and_left_out_of_the_state(ring: Grid) -> None:
    def edit(layers: dict) -> None:  # S2 replaced by a plain joint: x2 fed straight from R2
        sw = layers["switches"]
        layers["switches"] = sw[sw["id"] != "S2"]
        lines = layers["lines"]
        joint = lines[lines["id"] == "L2"].copy()
        joint["id"], joint["from_node"], joint["to_node"] = "L2b", "R2", "x2"
        layers["lines"] = pd.concat([lines, joint], ignore_index=True)

    codes = {f["code"]: f["details"] for f in check(ring, edited(ring, edit))}
    assert codes["device_removed"] == {"id": "S2"}
    # without S2 nothing isolates L3: none of the customers planned dark is dark any more
    assert codes["customers_changed"]["removed_ids"] == ["C3", "C7"]
