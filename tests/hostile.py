"""A catalogue of hostile inputs, shared by the tests of the API (tests/app) and of the
command lines (tests/planning, tests/gis, tests/routing).

Every entry here must end in a 4xx answer or exit status 1 with a message naming the
field or the row, never a 500 or a traceback, and must leave nothing half-written.
Kept as plain data so each test suite feeds the same entries to its own entry point.
"""

from __future__ import annotations

import json
from typing import Any

#: Text the input policy refuses wherever text goes (``name: text``).
BAD_TEXT: dict[str, str] = {
    "NUL": "a\x00b",
    "unpaired high surrogate": "\ud800x",
    "unpaired low surrogate": "x\udc00",
    "escape sequence": "red \x1b[31m",
    "bell": "ring\x07",
    "DEL": "a\x7fb",
    "vertical tab": "a\x0bb",
}

#: Text the policy accepts and every store and export keeps as written.
GOOD_TEXT: dict[str, str] = {
    "tab": "a\tb",
    "line breaks": "first\nsecond\r\nthird",
    "accents": "Crème brûlée à Monaco",
    "astral plane": "outage \U0001F50C",
    "right-to-left": "\u05e9\u05dc\u05d5\u05dd",
}

#: Text that looks like a spreadsheet formula: accepted as input, neutralised in exports.
FORMULA_TEXT: dict[str, str] = {
    "equals": '=HYPERLINK("http://evil.example","click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
}

#: Phone numbers an export writes exactly as they are.
PHONES: dict[str, str] = {
    "international": "+377 9300 0000",
    "dashed": "+1-555-0100",
    "local": "93 00 00 00",
    "brackets": "(0)20 7946 0000",
}

#: Dates (ISO 8601 with offset) outside the accepted years 1900-2200.
BAD_DATES: dict[str, str] = {
    "year 1": "0001-01-01T00:00:00+01:00",
    "year 9999": "9999-12-31T23:59:59-01:00",
    "1899": "1899-12-31T12:00:00+00:00",
    "2201": "2201-01-01T00:00:00Z",
}

#: Values a JSON integer field refuses (a CSV cell may still say ``60`` or ``60.0``).
BAD_JSON_INTEGERS: dict[str, Any] = {
    "text": "60",
    "fraction": 60.5,
    "whole float": 60.0,
    "boolean": True,
    "1e300": 1e300,
    "huge": 10**30,
    "list": [60],
}

#: Numbers no plausible quantity has (kW, kV, metres...).
HUGE_NUMBERS: dict[str, float] = {"1e300": 1e300, "-1e300": -1e300, "1e20": 1e20}

#: Request bodies that are not acceptable JSON documents (HTTP 400 with a reason).
BAD_JSON_BODIES: dict[str, bytes] = {
    "NaN": b'{"a": NaN}',
    "Infinity": b'{"a": -Infinity}',
    "duplicate key": b'{"id": "J1", "id": "J2"}',
    "latin-1": '{"description": "caf\u00e9"}'.encode("latin-1"),
    "UTF-16": '{"a": 1}'.encode("utf-16"),
    "truncated": b'{"a": ',
    "deep": b"[" * 100_000,
}


def json_body(value: Any) -> bytes:
    """``value`` as a JSON body, with unpaired surrogates written as ``\\uXXXX`` escapes."""
    return json.dumps(value, ensure_ascii=True).encode()


def csv_files(header: str, row: str) -> dict[str, bytes]:
    """A one-row CSV (``header`` and ``row`` lines without line ends) broken in each way a
    reader must refuse as a whole file: bad encodings, NUL bytes, control characters, nothing."""
    text = f"{header}\n{row}\n"
    return {
        "latin-1": f"{header}\n{row}\u00e9\n".encode("latin-1"),
        "UTF-16 with BOM": text.encode("utf-16"),
        "UTF-16 without BOM": text.encode("utf-16-le"),
        "NUL in a cell": (f"{header}\n" + row.replace(",", ",\x00", 1) + "\n").encode(),
        "NUL after the rows": text.encode() + b"\x00\x00",
        "escape in a cell": (f"{header}\n" + row.replace(",", ",\x1b", 1) + "\n").encode(),
        "empty": b"",
    }
