"""Records from files and requests: one boolean parser, one JSON cleaner, one CSV reader.

Every record the project reads (jobs, crews, generator trucks) is declared once
as a pydantic model next to its domain code; this module holds what those
schemas and their readers share:

* :func:`parse_bool` — the only true/false word list (:data:`TRUE_WORDS`,
  :data:`FALSE_WORDS`, case-insensitive, stripped).
* :func:`json_safe` — NaN/NaT/None to ``null``, numpy scalars to Python,
  datetimes to ISO 8601, containers recursively.
* :func:`read_csv_table` — a CSV file (path, bytes or text; UTF-8 with or without
  BOM) with normalised headers (stripped, lower-case) and its data rows with
  their line numbers.
* :func:`validate_record` / :func:`validate_row` — a mapping checked against a
  record model; every finding becomes a :class:`FieldProblem` of one
  :class:`RecordError` (an :class:`~gis.errors.InputError`, HTTP 422).
* :func:`field_parser` — turns a plain parser that raises ``InputError`` into a
  pydantic validator that keeps the parser's error code (with a stricter parser
  for typed JSON input when given).
* The input policy every reader shares: :func:`text_problem` / :func:`clean_text`
  (no NUL, no control characters but tab and line breaks, no unpaired
  surrogates), :func:`find_bad_text` (the same for every string of a decoded
  JSON document, with its path), dates within :data:`MIN_YEAR`..:data:`MAX_YEAR`
  (:func:`parse_aware_datetime`), :func:`strict_int` for JSON integers.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from gis.errors import InputError

__all__ = [
    "FALSE_WORDS",
    "ID_PATTERN",
    "TRUE_WORDS",
    "MAX_YEAR",
    "MIN_YEAR",
    "FieldProblem",
    "RecordError",
    "Row",
    "Table",
    "clean_text",
    "field_parser",
    "find_bad_text",
    "json_safe",
    "model_problem",
    "optional_text",
    "parse_aware_datetime",
    "parse_bool",
    "parse_id",
    "read_csv_table",
    "split_list",
    "strict_int",
    "text_problem",
    "validate_record",
    "validate_row",
]

#: Words read as true / false (compared stripped and lower-cased).
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})

#: Ids of records the service stores: 1-64 letters, digits or ``_.:-``.
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN)

#: Dates a record may name lie in these years (a year-1 or year-9999 date is a typo,
#: and overflows when moved to another time zone).
MIN_YEAR, MAX_YEAR = 1900, 2200

#: Characters no text may hold: NUL and the other control characters but tab, line
#: feed and carriage return; DEL; surrogates (only ever half of a broken character).
_BAD_CHAR_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


# ---------------------------------------------------------------- scalars


def _blank(value: Any) -> bool:
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return value is None or value is pd.NA or (isinstance(value, str) and not value.strip())


def parse_bool(value: Any, *, default: bool | None = None) -> bool:
    """``value`` as a boolean: a bool, 0/1, or one of :data:`TRUE_WORDS` / :data:`FALSE_WORDS`.

    A missing value (None, NaN, blank text) gives ``default``, or an error when
    there is none. Anything else raises :class:`~gis.errors.InputError`
    (code ``bad_bool``).
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if _blank(value):
        if default is None:
            raise InputError("a true/false value is required", code="bad_bool")
        return default
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    words = "/".join(sorted(TRUE_WORDS)) + " or " + "/".join(sorted(FALSE_WORDS))
    raise InputError(f"expected true or false ({words}), got {value!r}", code="bad_bool")


def parse_id(value: Any) -> str:
    """A stored record's id (:data:`ID_PATTERN`), stripped."""
    if not isinstance(value, str) or not _ID_RE.match(value.strip()):
        raise InputError(f"must be 1-64 letters, digits or _.:- , got {value!r}", code="bad_id")
    return value.strip()


def split_list(value: Any) -> tuple[str, ...]:
    """Items of a list, or of a text separated by ``;`` (or ``,``), stripped, blanks dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = value.replace(",", ";").split(";")
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        raise InputError(f"expected a list or a ';'-separated text, got {value!r}", code="bad_list")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise InputError(f"list items must be text, got {item!r}", code="bad_list")
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def optional_text(value: Any) -> str | None:
    """Text stripped, or None when missing or blank."""
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InputError(f"expected text, got {value!r}", code="bad_text")
    return value.strip()


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None: a NUL byte, another control
    character (tab, line feed and carriage return are fine) or an unpaired surrogate."""
    found = _BAD_CHAR_RE.search(value)
    if found is None:
        return None
    char, at = found.group(), found.start() + 1
    if char == "\x00":
        return f"contains a NUL character (position {at})"
    if "\ud800" <= char <= "\udfff":
        return f"contains an unpaired surrogate U+{ord(char):04X} (position {at}); send UTF-8 text"
    return f"contains the control character U+{ord(char):04X} (position {at})"


def clean_text(value: Any) -> str:
    """Text that passes :func:`text_problem`; raises :class:`~gis.errors.InputError` (``bad_text``) otherwise."""
    if not isinstance(value, str):
        raise InputError(f"expected text, got {value!r}", code="bad_text")
    problem = text_problem(value)
    if problem is not None:
        raise InputError(problem, code="bad_text")
    return value


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string (object keys included) of a decoded JSON document that fails
    :func:`text_problem`: ``(path, problem)`` with a path like ``items[2].name``, or None."""
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else (path or "(body)", problem)
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = find_bad_text(str(key), where) or find_bad_text(item, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = find_bad_text(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def strict_int(value: Any) -> int:
    """A JSON integer: ``60`` only (not ``"60"``, ``60.0``, ``60.5`` or ``true``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"expected a JSON integer, got {value!r}", code="bad_integer")
    return int(value)


def parse_aware_datetime(value: Any) -> datetime:
    """An aware datetime, or ISO 8601 text with a UTC offset (``2026-12-01T08:00+01:00``, ``...Z``),
    in the years :data:`MIN_YEAR`..:data:`MAX_YEAR` (``bad_datetime`` outside)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"not an ISO 8601 datetime: {value!r}", code="bad_datetime") from None
    else:
        raise InputError(f"expected an ISO 8601 datetime, got {value!r}", code="bad_datetime")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InputError(f"datetime {value!s} has no UTC offset (write e.g. 2026-12-01T08:00:00+01:00)", code="naive_datetime")
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise InputError(f"datetime {value!s} is outside the years {MIN_YEAR}-{MAX_YEAR}", code="bad_datetime")
    return dt


def json_safe(value: Any, *, digits: int | None = None) -> Any:
    """``value`` ready for ``json.dumps(allow_nan=False)``.

    None, NaN, ±inf, ``pd.NA`` and NaT become None; numpy scalars and decimals become
    Python scalars (floats rounded to ``digits`` decimals when given); dates,
    times and timestamps become ISO 8601 text; mappings, lists, tuples, sets
    and arrays are cleaned item by item. Other values are returned unchanged.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        f = float(value)
        if not math.isfinite(f):
            return None
        return round(f, digits) if digits is not None else f
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, digits=digits) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(v, digits=digits) for v in value]
    return value


# ---------------------------------------------------------------- problems


@dataclass(frozen=True)
class FieldProblem:
    """One finding about one record: ``row`` is the file line (header = 1; None
    for a request body), ``record`` the record's id when it has one."""

    field: str | None
    code: str
    message: str
    row: int | None = None
    record: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.record, "field": self.field, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.row}: {self.message}" if self.row is not None else self.message


class RecordError(InputError):
    """Records failed validation; ``problems`` lists every finding (``details`` as dicts)."""

    code = "bad_record"

    def __init__(self, problems: list[FieldProblem], *, what: str = "record", code: str | None = None) -> None:
        head = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{what}: {head}{more}", code=code, details=[p.to_dict() for p in problems])
        self.problems = problems


# ---------------------------------------------------------------- validation


def field_parser(parse: Callable[[Any], T], *, code: str | None = None,
                 typed: Callable[[Any], T] | None = None) -> BeforeValidator:
    """A pydantic before-validator running ``parse``; its ``InputError`` keeps its code
    (or ``code`` when given) and gets the field's name in front of its message.

    ``typed`` replaces ``parse`` for typed input (a JSON body or file, see
    :func:`validate_record`): e.g. :func:`strict_int` where a CSV cell may say ``60.0``.
    """

    def run(value: Any, info: ValidationInfo) -> T:
        use = typed if typed is not None and (info.context or {}).get("typed") else parse
        try:
            return use(value)
        except InputError as exc:
            message = f"{info.field_name}: {exc.message}"
            raise PydanticCustomError(code or exc.code, "{message}", {"message": message}) from None

    return BeforeValidator(run)


def model_problem(code: str, message: str, *, field: str | None = None) -> PydanticCustomError:
    """An error for a model-level rule (raise it from a ``model_validator``), filed under ``field``."""
    return PydanticCustomError(code, "{message}", {"message": message, "field": field})


def _problems(model: type[BaseModel], exc: ValidationError, *, row: int | None, record: str | None) -> list[FieldProblem]:
    """Field codes: a parser's or rule's own code; otherwise the model's ``field_codes``
    ``{field: (code when missing, code when bad)}``; otherwise ``missing_<field>`` / ``bad_<field>``."""
    codes: Mapping[str, tuple[str, str]] = getattr(model, "field_codes", {})
    out = []
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        name = str(err["loc"][0]) if err["loc"] else ctx.get("field")
        kind = err["type"]
        if kind == "extra_forbidden":
            out.append(FieldProblem(name, "unknown_field", f"unknown field {name!r}", row, record))
        elif "message" in ctx:
            out.append(FieldProblem(name, kind, str(ctx["message"]), row, record))
        else:
            missing, bad = codes.get(str(name), (f"missing_{name}", f"bad_{name}"))
            text = "a value is required" if kind == "missing" else err["msg"]
            out.append(FieldProblem(name, missing if kind == "missing" else bad, f"{name}: {text}", row, record))
    return out


def validate_record(model: type[M], data: Any, *, row: int | None = None, what: str = "record",
                    typed: bool = False) -> M:
    """``data`` checked and converted by ``model``; every problem in one :class:`RecordError`.

    ``typed``: the values come from JSON, where a number is a number: fields with a
    ``typed`` parser (see :func:`field_parser`) use it (``"60"`` is no integer there).
    """
    if not isinstance(data, Mapping):
        raise RecordError([FieldProblem(None, "bad_record", f"expected an object, got {type(data).__name__}", row)], what=what)
    try:
        return model.model_validate(dict(data), context={"typed": typed})
    except ValidationError as exc:
        rid = data.get("id")
        raise RecordError(_problems(model, exc, row=row, record=rid if isinstance(rid, str) and rid else None), what=what) from None


# ---------------------------------------------------------------- CSV tables


@dataclass(frozen=True)
class Row:
    """One data row: its first ``line`` in the file (header = 1), its non-blank cells
    by normalised column name (stripped), and any non-blank cells past the header."""

    line: int
    cells: dict[str, str]
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A CSV file: normalised column names and its non-blank data rows."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...] = field(default=())


def validate_row(model: type[M], row: Row, *, what: str = "row") -> M:
    """A table row checked by ``model`` (see :func:`validate_record`); surplus cells are a problem too."""
    if row.extra:
        rid = row.cells.get("id")
        raise RecordError([FieldProblem(None, "extra_values", f"more values than columns ({len(row.extra)} extra)", row.line, rid)], what=what)
    return validate_record(model, row.cells, row=row.line, what=what)


def validate_rows(model: type[M], table: Table, *, what: str = "row") -> tuple[list[tuple[int, M]], list[FieldProblem]]:
    """Every row of ``table`` through ``model``: the good records with their lines, and every
    problem of the bad rows (the caller goes on with the good ones)."""
    good: list[tuple[int, M]] = []
    problems: list[FieldProblem] = []
    for row in table.rows:
        try:
            good.append((row.line, validate_row(model, row, what=what)))
        except RecordError as exc:
            problems.extend(exc.problems)
    return good, problems


def _text(source: str | Path | bytes | io.TextIOBase, what: str, unreadable_code: str, code: str) -> str:
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            source = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}", code=unreadable_code) from None
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{what} is not UTF-8 text (byte {exc.start}); save it as UTF-8", code=code) from None
    text = source.read()
    return text[1:] if text.startswith("\ufeff") else text


def _header(raw: list[str], what: str, code: str) -> tuple[str, ...]:
    columns = tuple(c.strip().lower() for c in raw)
    unnamed = [i + 1 for i, c in enumerate(columns) if not c]
    if unnamed:
        raise InputError(f"{what}: column(s) {unnamed} have no name in the header", code=code, details={"header": list(raw)})
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise InputError(f"{what}: column(s) {', '.join(twice)} appear twice in the header", code=code, details={"header": list(raw)})
    return columns


def _check_columns(columns: tuple[str, ...], what: str, code: str, required: Iterable[str], allowed: Iterable[str] | None) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {', '.join(missing)} (header: {','.join(columns)})", code=code,
                         details={"missing": missing, "header": list(columns), "required": list(required)})
    if allowed is not None:
        allowed = list(allowed)
        unknown = [c for c in columns if c not in allowed]
        if unknown:
            raise InputError(f"{what} has unknown column(s) {', '.join(unknown)} (allowed: {','.join(allowed)})", code=code,
                             details={"unknown": unknown, "allowed": allowed})


def read_csv_table(
    source: str | Path | bytes | io.TextIOBase,
    *,
    what: str,
    required: Iterable[str] = (),
    allowed: Iterable[str] | None = None,
    code: str = "bad_file",
    unreadable_code: str = "unreadable_file",
    max_rows: int | None = None,
    allow_empty: bool = True,
) -> Table:
    """A CSV file as a :class:`Table`.

    ``source`` is a path, the file's bytes, or an open text file; UTF-8 with or
    without BOM. Header names are stripped and lower-cased; rows whose cells are
    all blank are skipped. Raises :class:`~gis.errors.InputError` with ``code``
    for a file that cannot be used at all (not UTF-8, a NUL or control character
    (see :func:`text_problem`), no header, a column
    missing from ``required`` or not in ``allowed``, more than ``max_rows`` rows,
    no rows unless ``allow_empty``, broken quoting) and ``unreadable_code`` when
    the path cannot be read. Bad rows are left to the record schema.
    """
    text = _text(source, what, unreadable_code, code)
    bad = _BAD_CHAR_RE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        begin = text.rfind("\n", 0, bad.start()) + 1
        problem = text_problem(text[begin:bad.end()])
        raise InputError(f"{what} line {line}: {problem}", code=code, details={"line": line})
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    columns: tuple[str, ...] | None = None
    last = 0
    try:
        for raw in reader:
            first, last = last + 1, reader.line_num
            if not any(c.strip() for c in raw):
                continue
            if columns is None:
                columns = _header(raw, what, code)
                _check_columns(columns, what, code, required, allowed)
                continue
            if max_rows is not None and len(rows) >= max_rows:
                raise InputError(f"{what} has more than {max_rows} rows", code=code, details={"max_rows": max_rows})
            cells = {c: v.strip() for c, v in zip(columns, raw, strict=False) if v.strip()}
            rows.append(Row(first, cells, tuple(v for v in raw[len(columns):] if v.strip())))
    except csv.Error as exc:
        raise InputError(f"{what} is not readable CSV (line {reader.line_num}): {exc}", code=code) from None
    if columns is None:
        raise InputError(f"{what} is empty (no header line)", code=code)
    if not rows and not allow_empty:
        raise InputError(f"{what} has a header but no rows", code=code)
    return Table(columns, tuple(rows))
