"""``python -m gis validate`` against the hostile catalogue (tests/hostile.py): grid CSV
tables in a bad encoding or with NUL bytes, and numbers no distribution grid has, are
exit 1 with a message naming the table or the elements, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gis.__main__ import main
from gis.validate import PLAUSIBLE_MAX
from tests.hostile import HUGE_NUMBERS, csv_files

RING = Path(__file__).resolve().parents[1] / "data" / "small_ring"


def validate(capsys: Any, grid: Path) -> tuple[int, dict[str, Any]]:
    code = main(["validate", str(grid), "--json"])
    return code, json.loads(capsys.readouterr().out)


def ring_copy(tmp_path: Path) -> Path:
    grid = tmp_path / "grid"
    shutil.copytree(RING, grid)
    return grid


def set_property(grid: Path, layer: str, index: int, key: str, value: Any) -> str:
    """Set one feature's property in ``<layer>.geojson``; returns the feature's id."""
    doc = json.loads((grid / f"{layer}.geojson").read_text())
    props = doc["features"][index]["properties"]
    props[key] = value
    (grid / f"{layer}.geojson").write_text(json.dumps(doc))
    return str(props["id"])


@pytest.mark.parametrize("name", list(csv_files("key,value", "name,Small ring")))
def test_broken_meta_table_is_exit_1_naming_it(tmp_path: Path, capsys: Any, name: str) -> None:
    grid = ring_copy(tmp_path)
    good = (RING / "meta.csv").read_text()
    header, first = good.splitlines()[:2]
    rest = "\n".join(good.splitlines()[2:])
    broken = csv_files(header, first)[name]
    if broken:  # keep the other meta keys, so only the encoding or the bad byte is wrong
        broken += ("\n" + rest + "\n").encode("utf-16-le" if "UTF-16" in name else "latin-1")
    (grid / "meta.csv").write_bytes(broken)
    code = main(["validate", str(grid), "--json"])
    out = capsys.readouterr().out
    assert code == 1, out
    doc = json.loads(out)
    assert "meta" in json.dumps(doc), doc


CASES = [
    ("customers", "demand_kw"),
    ("lines", "length_m"),
    ("lines", "rating_a"),
    ("nodes", "rating_a"),
    ("switches", "rating_a"),
    ("substations", "capacity_kva"),
]


@pytest.mark.parametrize("number", list(HUGE_NUMBERS))
@pytest.mark.parametrize(("layer", "column"), CASES)
def test_implausible_numbers_are_named(tmp_path: Path, capsys: Any, layer: str, column: str, number: str) -> None:
    grid = ring_copy(tmp_path)
    eid = set_property(grid, layer, 0, column, HUGE_NUMBERS[number])
    code, doc = validate(capsys, grid)
    assert code == 1 and not doc["valid"]
    named = [p for p in doc["problems"] if p["severity"] == "error" and f"{layer}.{column}" in p["message"]]
    assert named and eid in named[0]["ids"], doc["problems"]


@pytest.mark.parametrize(("layer", "column"), CASES)
def test_the_largest_plausible_value_is_valid(tmp_path: Path, capsys: Any, layer: str, column: str) -> None:
    grid = ring_copy(tmp_path)
    set_property(grid, layer, 0, column, PLAUSIBLE_MAX[layer][column][0])
    code, doc = validate(capsys, grid)
    assert not [p for p in doc["problems"] if p["code"] == "implausible_number"], doc["problems"]


def test_nan_and_text_numbers_are_named(tmp_path: Path, capsys: Any) -> None:
    grid = ring_copy(tmp_path)
    text = (grid / "customers.geojson").read_text()
    doc = json.loads(text)
    first = doc["features"][0]["properties"]["id"]
    doc["features"][0]["properties"]["demand_kw"] = float("nan")
    doc["features"][1]["properties"]["demand_kw"] = "lots"
    (grid / "customers.geojson").write_text(json.dumps(doc))  # NaN as the bare word, as Python writes it
    code, out = validate(capsys, grid)
    assert code == 1
    ids = {i for p in out["problems"] if "demand_kw" in p["message"] for i in p["ids"]}
    assert {first, doc["features"][1]["properties"]["id"]} <= ids, out["problems"]
