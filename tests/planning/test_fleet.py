"""planning.fleet: one Generator type and one generators CSV loader for outages and faults."""

from __future__ import annotations

from pathlib import Path

import pytest

import planning.faults as faults
import planning.outages as outages
from gis.errors import InputError
from gis.records import RecordError
from planning.faults import FaultOptions
from planning.fleet import Generator, load_generators_csv
from planning.outages import PlanOptions


def test_both_halves_share_the_type_and_the_loader() -> None:
    assert outages.Generator is faults.Generator is Generator
    assert outages.load_generators_csv is faults.load_generators_csv is load_generators_csv


def test_file_with_bom_spaced_headers_and_blanks(tmp_path: Path) -> None:
    p = tmp_path / "gen.csv"
    p.write_bytes("\ufeff ID , Name ,KW,depot_id\nG1,Truck one,250,D1\n\nG2,,800.5,\n".encode())
    assert load_generators_csv(p) == (Generator("G1", "Truck one", 250.0, "D1"), Generator("G2", "", 800.5, None))
    p.write_text("id,name,kw,depot_id\n", encoding="utf-8")
    assert load_generators_csv(p) == ()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("id,name,kw\nG1,a,0\nG2,b,lots\n,c,5\n", ["line 2", "line 3", "line 4", "positive kw"]),
        ("id,name,kw\nG1,a,inf\n", ["line 2", "positive kw"]),
        ("id,name,kw,colour\nG1,a,5,red\n", ["unknown column(s) colour"]),
        ("id,name\nG1,a\n", ["lacks column(s) kw"]),
        ("", ["empty"]),
        ("id,name,kw\nG 1,a,5\n", ["line 2", "id"]),
    ],
)
def test_bad_files_list_every_problem(tmp_path: Path, text: str, words: list[str]) -> None:
    p = tmp_path / "gen.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_generators_csv(p)
    assert exc.value.code == "bad_generators"
    for w in words:
        assert w in exc.value.message, (w, exc.value.message)
    if isinstance(exc.value, RecordError):
        assert {d["row"] for d in exc.value.details} == {int(w.split()[1]) for w in words if w.startswith("line")}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as exc:
        load_generators_csv(tmp_path / "none.csv")
    assert exc.value.code == "unreadable_file"


def test_options_documents_use_the_same_record_rules(tmp_path: Path) -> None:
    o = PlanOptions.from_dict({"generator_fleet": [{"id": "G1", "kw": 500, "depot_id": "D1"}, {"id": "G2", "name": "x", "kw": "250"}]})
    assert o.generator_fleet == (Generator("G1", "", 500.0, "D1"), Generator("G2", "x", 250.0, None))
    for bad, words in (({"id": "G1", "kw": -5}, "positive kw"), ({"kw": 5}, "id"), ({"id": "G1", "kw": 5, "colour": "red"}, "colour")):
        with pytest.raises(InputError, match=words) as exc:
            PlanOptions.from_dict({"generator_fleet": [bad]})
        assert exc.value.code == "bad_options"


def test_json_of_a_truck_is_the_same_in_both_halves() -> None:
    g = Generator("G1", "Truck", 500.0, "D1")
    assert PlanOptions(generator_fleet=(g,)).to_dict()["generator_fleet"] == FaultOptions(generators=(g,)).to_json()["generators"] == [
        {"id": "G1", "name": "Truck", "kw": 500.0, "depot_id": "D1"}]
