"""gis.records: the one boolean parser, the one JSON cleaner, the CSV table reader, record errors."""

from __future__ import annotations

import io
import json
import math
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, ClassVar

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict, Field

from gis.errors import InputError
from gis.records import (
    RecordError,
    field_parser,
    json_safe,
    parse_aware_datetime,
    parse_bool,
    read_csv_table,
    split_list,
    validate_record,
    validate_row,
)


@pytest.mark.parametrize("word", ["true", "TRUE", " t ", "Yes", "y", "1", "on", "ON"])
def test_true_words(word: str) -> None:
    assert parse_bool(word) is True


@pytest.mark.parametrize("word", ["false", "False", "f", "NO", " n", "0", "off"])
def test_false_words(word: str) -> None:
    assert parse_bool(word) is False


def test_bool_values_numbers_and_missing() -> None:
    assert parse_bool(True) is True and parse_bool(np.bool_(False)) is False
    assert parse_bool(1) is True and parse_bool(0.0) is False and parse_bool(np.int64(1)) is True
    for missing in (None, "", "  ", math.nan, np.float32("nan"), pd.NA):
        assert parse_bool(missing, default=True) is True
        with pytest.raises(InputError, match="required"):
            parse_bool(missing)


@pytest.mark.parametrize("value", ["maybe", "2", "yess", "tru", 2, -1, 0.5, [], "oui"])
def test_anything_else_is_a_clear_error(value: object) -> None:
    with pytest.raises(InputError) as exc:
        parse_bool(value, default=False)
    assert exc.value.code == "bad_bool" and repr(value) in exc.value.message and "true" in exc.value.message


def test_json_safe_scalars() -> None:
    assert json_safe(np.int32(7)) == 7 and type(json_safe(np.int32(7))) is int
    assert json_safe(np.float32(1.5)) == 1.5 and type(json_safe(np.float32(1.5))) is float
    assert json_safe(np.bool_(True)) is True
    for missing in (None, math.nan, np.nan, math.inf, -np.inf, pd.NA, pd.NaT, np.datetime64("NaT")):
        assert json_safe(missing) is None, missing
    assert json_safe(1.23456, digits=3) == 1.235 and json_safe(2, digits=3) == 2
    assert json_safe(pd.Timestamp("2026-12-01T08:00", tz="UTC")) == "2026-12-01T08:00:00+00:00"
    assert json_safe(datetime(2026, 12, 1, 8, tzinfo=UTC)) == "2026-12-01T08:00:00+00:00"
    assert json_safe(date(2026, 12, 1)) == "2026-12-01" and json_safe(time(7, 30)) == "07:30:00"
    assert json_safe(np.datetime64("2026-12-01T08:00")) == "2026-12-01T08:00:00"
    assert json_safe("NaN") == "NaN"


def test_json_safe_containers_dump_strictly() -> None:
    doc = {"a": [np.int64(1), np.nan, {"b": np.float64("inf")}], 3: (np.bool_(False), pd.NaT), "arr": np.array([1.0, np.nan])}
    clean = json_safe(doc)
    assert clean == {"a": [1, None, {"b": None}], "3": [False, None], "arr": [1.0, None]}
    json.dumps(clean, allow_nan=False)


def test_split_list_and_aware_datetimes() -> None:
    assert split_list(" R2; L3 ;;") == ("R2", "L3") and split_list(["a", " b "]) == ("a", "b") and split_list(None) == ()
    with pytest.raises(InputError):
        split_list([1, 2])
    assert parse_aware_datetime("2026-12-01T08:00Z").utcoffset() is not None
    with pytest.raises(InputError) as exc:
        parse_aware_datetime("2026-12-01T08:00")
    assert exc.value.code == "naive_datetime"
    with pytest.raises(InputError) as exc:
        parse_aware_datetime("tomorrow")
    assert exc.value.code == "bad_datetime"


CSV = "\ufeff Id , NAME,Kw\r\nA,one,1\r\n\r\n,,\r\nB,\"two, quoted\",2,\r\nC,three,3,surplus\r\n"


@pytest.mark.parametrize("as_", ["text", "bytes", "path"])
def test_table_headers_lines_and_cells(tmp_path: Path, as_: str) -> None:
    source: object = io.StringIO(CSV)
    if as_ == "bytes":
        source = CSV.encode("utf-8")
    elif as_ == "path":
        source = tmp_path / "t.csv"
        source.write_text(CSV, encoding="utf-8")
    t = read_csv_table(source, what="test file", required=("id",), allowed=("id", "name", "kw"))  # type: ignore[arg-type]
    assert t.columns == ("id", "name", "kw")
    assert [(r.line, r.cells, r.extra) for r in t.rows] == [
        (2, {"id": "A", "name": "one", "kw": "1"}, ()),
        (5, {"id": "B", "name": "two, quoted", "kw": "2"}, ()),  # blank line 3 and empty row 4 skipped
        (6, {"id": "C", "name": "three", "kw": "3"}, ("surplus",)),
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"name,kw\nA,1\n", "lacks column(s) id"),
        (b"id,kw,colour\nA,1,red\n", "unknown column(s) colour"),
        (b"id,ID\nA,B\n", "twice"),
        (b"id,,kw\nA,,1\n", "no name"),
        (b"id,kw\n\xff\xfe,1\n", "not UTF-8"),
        (b'id,kw\n"A,1\n', "not readable CSV"),
    ],
)
def test_unusable_files_are_one_clear_error(data: bytes, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)) as exc:
        read_csv_table(data, what="test file", required=("id",), allowed=("id", "kw"), code="bad_test")
    assert exc.value.code == "bad_test"


def test_missing_path_rows_limit_and_empty_tables(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as exc:
        read_csv_table(tmp_path / "none.csv", what="x", unreadable_code="gone")
    assert exc.value.code == "gone"
    with pytest.raises(InputError, match="more than 2 rows"):
        read_csv_table(b"id\n1\n2\n3\n", what="x", max_rows=2)
    assert read_csv_table(b"id\n", what="x").rows == ()
    with pytest.raises(InputError, match="no rows"):
        read_csv_table(b"id\n", what="x", allow_empty=False)


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field_codes: ClassVar[dict[str, tuple[str, str]]] = {"size": ("no_size", "bad_size")}

    id: str
    size: int = Field(ge=1)
    flag: Annotated[bool, field_parser(lambda v: parse_bool(v, default=False), code="bad_flag")] = False
    when: Annotated[datetime, field_parser(parse_aware_datetime)] | None = None


def test_record_problems_carry_field_code_row_and_id() -> None:
    with pytest.raises(RecordError) as exc:
        validate_record(Thing, {"id": "T1", "size": 0, "flag": "maybe", "when": "2026-12-01T08:00", "colour": "red"}, row=7)
    got = {(p.field, p.code, p.row, p.record) for p in exc.value.problems}
    assert got == {("size", "bad_size", 7, "T1"), ("flag", "bad_flag", 7, "T1"), ("when", "naive_datetime", 7, "T1"),
                   ("colour", "unknown_field", 7, "T1")}
    assert isinstance(exc.value, InputError) and exc.value.code == "bad_record"
    assert {d["field"] for d in exc.value.details} == {"size", "flag", "when", "colour"}
    assert "line 7: flag: expected true or false" in exc.value.message
    with pytest.raises(RecordError) as exc:
        validate_record(Thing, {"id": "T2"})
    assert [(p.field, p.code) for p in exc.value.problems] == [("size", "no_size")]
    with pytest.raises(RecordError, match="expected an object"):
        validate_record(Thing, [1, 2])
    assert validate_record(Thing, {"id": "T3", "size": "4", "flag": "Y"}) == Thing(id="T3", size=4, flag=True)


def test_surplus_cells_are_a_row_problem() -> None:
    t = read_csv_table(b"id,size\nA,1,x\n", what="x")
    with pytest.raises(RecordError) as exc:
        validate_row(Thing, t.rows[0])
    assert [(p.code, p.row, p.record) for p in exc.value.problems] == [("extra_values", 2, "A")]
