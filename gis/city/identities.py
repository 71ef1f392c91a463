"""Readable names, account numbers and fictitious phone numbers for the demo customers.

The builder names a building after its OSM ``name`` tag; most buildings have none and
were called ``"Housing (way/62656208)"``, which nobody can say on the phone. This step
(:func:`demo_identities`) gives every customer of a demo city

* a **readable name** when it has no OSM name: its OSM address (``addr:housenumber``
  ``addr:street``, e.g. ``"4 Avenue des Papalins"``) where OSM has one, else a label
  from its street (the nearest named street, which the builder put in ``address``) and
  its use, numbered along that street: ``"Housing 12, Avenue des Guelfes"``. A name
  that would repeat gets `` (2)``, `` (3)``… in customer-id order;
* an **account number**: 10 digits, the last a Luhn check digit (so a mistyped number
  is seldom another customer's), derived from the OSM id;
* a **fictitious phone number** ``+999 NN NN NN NN``: ``+999`` is a spare ITU-T E.164
  country code, assigned to no country, so no real subscriber has these numbers and
  no SMS sent by a demo reaches anyone. Real phone numbers from OSM tags are dropped.

Everything is a function of the customer id, OSM id, name, address and use, so a
rebuild (or re-running it on the shipped GeoPackage: ``python -m gis.city.identities
outage_demo/monaco.gpkg``) gives the same values. No network, no randomness.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

import pandas as pd

__all__ = ["FICTITIOUS_PHONE_PREFIX", "demo_identities", "luhn_check_digit", "main"]

#: Country code of the demo phone numbers: a spare E.164 code (no country has it).
FICTITIOUS_PHONE_PREFIX = "+999"
ACCOUNT_DIGITS = 10

_GENERATED_NAME = re.compile(r"^(?P<use>.+) \((?:way|relation|node)/\d+\)$")
_HOUSE_NUMBER = re.compile(r"^\d")


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit of a string of digits (the digit to append)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these become the odd positions once the check digit is appended
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _digits(kind: str, key: str, n: int) -> int:
    h = hashlib.sha256(f"{kind}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") % 10**n


def _unique_numbers(kind: str, keys: list[str], n: int, *, low: int = 0) -> list[int]:
    """One number in ``[low, 10**n)`` per key from its hash, collisions moved to the next
    free number (keys in the given order)."""
    taken: set[int] = set()
    out: list[int] = []
    span = 10**n - low
    for k in keys:
        v = low + _digits(kind, k, n) % span
        while v in taken:
            v = low + (v - low + 1) % span
        taken.add(v)
        out.append(v)
    return out


def _readable_names(frame: pd.DataFrame) -> list[str]:
    names = frame["name"].fillna("").astype(str).tolist()
    addresses = frame["address"].fillna("").astype(str).tolist()
    uses = frame["use"].fillna("").astype(str).tolist() if "use" in frame.columns else [""] * len(frame)
    base: list[str | None] = []
    per_street: dict[tuple[str, str], int] = {}
    for name, address, use in zip(names, addresses, uses, strict=True):
        m = _GENERATED_NAME.match(name)
        if name and m is None:
            base.append(None)  # a real OSM name: kept
            continue
        label = (use or (m.group("use") if m else "") or "customer").split(",")[0].strip().capitalize()
        if address and _HOUSE_NUMBER.match(address):
            base.append(address)
        elif address:
            k = per_street[(address, label)] = per_street.get((address, label), 0) + 1
            base.append(f"{label} {k}, {address}")
        else:
            base.append(label)
    seen: dict[str, int] = {}
    out: list[str] = []
    for name, b in zip(names, base, strict=True):
        if b is None:
            out.append(name)
            continue
        seen[b] = seen.get(b, 0) + 1
        out.append(b if seen[b] == 1 else f"{b} ({seen[b]})")
    return out


def demo_identities(customers: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``customers`` with readable ``name``, a new ``account`` and fictitious ``phone``.

    Parameters
    ----------
    customers
        The demo city's customers: ``id``, ``name``, ``address`` and, when present,
        ``osm_id`` (the key of account and phone; else ``id``) and ``use``. Rows are
        taken in ``id`` order for numbering, whatever order they come in.

    Returns
    -------
    pandas.DataFrame
        The same rows and columns in the same order, ``name`` replaced where it was
        generated (``"<Use> (way/<id>)"``) or empty, ``phone`` = ``+999 NN NN NN NN``
        (unique), ``account`` = 10 digits with a Luhn check digit (unique).
    """
    out = customers.copy()
    order = out["id"].astype(str).sort_values(kind="stable").index
    ranked = out.loc[order]
    keys = (ranked["osm_id"] if "osm_id" in ranked.columns else ranked["id"]).astype(str).tolist()
    names = pd.Series(_readable_names(ranked), index=order)
    accounts = _unique_numbers("account", keys, ACCOUNT_DIGITS - 1, low=10 ** (ACCOUNT_DIGITS - 2))
    phones = _unique_numbers("phone", keys, 8)
    out["name"] = names.reindex(out.index)
    out["account"] = pd.Series([f"{a}{luhn_check_digit(str(a))}" for a in accounts], index=order).reindex(out.index)
    p = [f"{v:08d}" for v in phones]
    out["phone"] = pd.Series([f"{FICTITIOUS_PHONE_PREFIX} {s[:2]} {s[2:4]} {s[4:6]} {s[6:]}" for s in p], index=order).reindex(out.index)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m gis.city.identities GRID.gpkg``: rewrite the customers layer in place."""
    from gis.format import read_layers, write_grid

    parser = argparse.ArgumentParser(prog="python -m gis.city.identities", description=__doc__.splitlines()[0])
    parser.add_argument("grid", help="the demo city's GeoPackage (rewritten in place)")
    args = parser.parse_args(argv)
    path = Path(args.grid)
    layers = dict(read_layers(path))
    layers["customers"] = demo_identities(layers["customers"])
    write_grid(layers, path)
    print(f"{path}: {len(layers['customers'])} customers named, with account and fictitious phone", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
