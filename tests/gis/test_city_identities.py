"""Demo customers' readable names, account numbers and fictitious phones (gis.city.identities)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from gis.city.identities import demo_identities, luhn_check_digit, main
from gis.format import read_layers

DEMO = Path(__file__).resolve().parents[2] / "outage_demo" / "monaco.gpkg"


def _luhn_valid(number: str) -> bool:
    """Independent Luhn check: double every second digit from the right, sum digits."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


def _customers() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["C3", "C1", "C2", "C4", "C5", "C6"],
        "name": ["Housing (way/30)", "Housing (way/10)", "Hôpital Princesse Grace", "Housing (way/40)", "Shop (node/7)", ""],
        "address": ["Rue A", "Rue A", "1 Avenue Pasteur", "4 Rue B", "4 Rue B", "Rue A"],
        "use": ["housing", "housing", "hospital", "housing", "shop", "housing"],
        "osm_id": ["way/30", "way/10", "way/20", "way/40", "node/7", "way/60"],
    })


def test_luhn_check_digit_known_answers() -> None:
    # the textbook example 7992739871 -> 3; "4": doubled 8, 10 - 8 = 2
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("4") == "2"
    assert luhn_check_digit("0") == "0"


def test_names_from_address_else_street_label_numbered_in_id_order() -> None:
    out = demo_identities(_customers()).set_index("id")
    assert out.at["C2", "name"] == "Hôpital Princesse Grace"  # a real OSM name is kept
    # no house number: "<Use> k, <street>", k counts along the street in id order (C1, C3, C6)
    assert out.at["C1", "name"] == "Housing 1, Rue A"
    assert out.at["C3", "name"] == "Housing 2, Rue A"
    assert out.at["C6", "name"] == "Housing 3, Rue A"  # an empty name is named too
    # an OSM address with a house number is the name; a repeat gets " (2)"
    assert out.at["C4", "name"] == "4 Rue B"
    assert out.at["C5", "name"] == "4 Rue B (2)"
    assert not any(re.search(r"\((way|node|relation)/", n) for n in out["name"])


def test_accounts_and_phones_unique_valid_fictitious_and_deterministic() -> None:
    a = demo_identities(_customers())
    b = demo_identities(_customers().iloc[::-1])  # row order does not matter
    assert a.set_index("id")[["name", "account", "phone"]].equals(b.set_index("id")[["name", "account", "phone"]].loc[a["id"]])
    assert a["account"].is_unique and a["phone"].is_unique
    for acc in a["account"]:
        assert re.fullmatch(r"[1-9]\d{9}", acc) and _luhn_valid(acc)
    for phone in a["phone"]:
        assert re.fullmatch(r"\+999 \d\d \d\d \d\d \d\d", phone)
    assert set(a.columns) == {*_customers().columns, "account", "phone"}


@pytest.mark.skipif(not DEMO.exists(), reason="demo city not shipped")
def test_shipped_demo_city_is_already_processed(tmp_path: Path) -> None:
    """The shipped GeoPackage went through the step: re-running it changes no byte."""
    customers = read_layers(DEMO)["customers"]
    assert customers["account"].is_unique and customers["phone"].is_unique
    assert customers["phone"].str.startswith("+999 ").all()
    assert not customers["name"].str.contains(r"\((?:way|node|relation)/\d+\)").any()
    copy = tmp_path / "city.gpkg"
    copy.write_bytes(DEMO.read_bytes())
    assert main([str(copy)]) == 0
    assert copy.read_bytes() == DEMO.read_bytes()


def test_validation_refuses_a_shared_account_number(tmp_path: Path) -> None:
    from gis import validate_grid, write_grid

    layers = dict(read_layers(Path(__file__).resolve().parents[1] / "data" / "small_ring"))
    c = layers["customers"].copy()
    c["account"] = [f"A{i}" for i in range(len(c))]
    layers["customers"] = c
    assert "duplicate_account" not in {p.code for p in validate_grid(write_grid(layers, tmp_path / "ok"))}
    c.loc[c.index[[1, 3]], "account"] = "A0"
    (p,) = [p for p in validate_grid(write_grid(layers, tmp_path / "dup")) if p.code == "duplicate_account"]
    assert p.severity == "error" and sorted(p.ids) == sorted(c["id"].iloc[[0, 1, 3]])
