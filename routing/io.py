"""Reading crews, tasks and access points from files (for the CLI and scripts).

* Access points: CSV ``id,lon,lat[,name]`` or a GeoPackage whose ``nodes``
  layer has ``id, name, access_lon, access_lat`` (RMUs, distribution rooms)
  and whose ``depots`` layer has ``id, name`` and a point geometry (or
  ``access_lon``/``access_lat``). WGS84.
* Crews: CSV ``id,name,depot_id,skills,shift_start,shift_end,active`` or JSON
  (a list of objects with those fields), checked by
  :class:`~routing.crews.CrewRecord` (skills ``;``-separated, shifts ``HH:MM``),
  plus optional dispatch columns ``start``/``end`` (an id or ``[lon, lat]``;
  ``lon``, ``lat`` in CSV), ``available_from`` (aware ISO datetime) and
  ``committed`` (task ids).
* Tasks: JSON (a list of objects with the :class:`~routing.model.Task`
  fields; ``location`` an id or ``[lon, lat]``) or CSV ``id,location`` (or
  ``lon,lat``) ``,service_min,skills,weight,window_start,window_end,after,name``.

Every problem raises :class:`~routing.errors.RoutingInputError` naming the
file and the row.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Any

from gis.errors import InputError
from gis.records import (
    MAX_YEAR,
    MIN_YEAR,
    find_bad_text,
    parse_aware_datetime,
    read_csv_table,
    split_list,
    validate_record,
)
from routing.crews import CrewRecord, load_crew_records, split_fields
from routing.errors import RoutingInputError
from routing.model import Crew, Task

__all__ = ["DISPATCH_COLUMNS", "read_access_points", "read_crews", "read_rows", "read_tasks"]

#: Columns of a crews file besides the roster (:class:`~routing.crews.CrewRecord`):
#: the state of one dispatch (a GPS start, another end, a later start, promised tasks).
DISPATCH_COLUMNS = ("start", "end", "lon", "lat", "available_from", "committed")


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace(",", ";").split(";") if v.strip()]


def _when(value: Any, what: str) -> datetime | time | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if len(text) <= 5 and ":" in text:
            return time.fromisoformat(text)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise RoutingInputError(f"{what}: not a time (HH:MM) or ISO datetime: {text!r}") from None
    return in_years(when, what)


def in_years(when: datetime, what: str) -> datetime:
    """``when`` when it lies in the years ``MIN_YEAR``..``MAX_YEAR`` of :mod:`gis.records`, else RoutingInputError."""
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise RoutingInputError(f"{what}: {when.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return when


def _location(row: dict[str, Any], key: str, what: str) -> Any:
    value = row.get(key)
    if isinstance(value, list | tuple):
        return tuple(value)
    if value not in (None, ""):
        return str(value)
    if row.get("lon") not in (None, "") and row.get("lat") not in (None, ""):
        try:
            return (float(row["lon"]), float(row["lat"]))
        except ValueError:
            raise RoutingInputError(f"{what}: lon/lat are not numbers") from None
    raise RoutingInputError(f"{what}: no {key} (an id or [lon, lat])")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV file or a JSON list of objects."""
    if not path.exists():
        raise RoutingInputError(f"file not found: {path}", details={"path": str(path)})
    if path.suffix.lower() != ".json":
        try:
            table = read_csv_table(path, what=str(path), code=RoutingInputError.code)
        except InputError as exc:
            raise RoutingInputError(exc.message, details=exc.details) from None
        return [dict(row.cells) for row in table.rows]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # also UnicodeDecodeError
        raise RoutingInputError(f"cannot read {path}: {exc}") from None
    if isinstance(data, dict):
        data = data.get("items") or data.get("tasks") or data.get("crews") or []
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise RoutingInputError(f"{path}: expected a JSON list of objects")
    bad = find_bad_text(data)
    if bad is not None:
        raise RoutingInputError(f"{path}: {bad[0]}: {bad[1]}", details={"field": bad[0]})
    return data


def read_crews(path: str | Path) -> list[Crew]:
    """Crews from a roster CSV (the demo city's ``crews.csv``) or a JSON list of objects.

    Each entry is a :class:`~routing.crews.CrewRecord` plus, optionally, the
    dispatch columns :data:`DISPATCH_COLUMNS`; inactive crews are left out. A crew
    starts at ``start`` (an id or ``[lon, lat]``), else at its ``depot_id``, else
    at ``lon``/``lat``.
    """
    path = Path(path)
    entries: list[tuple[CrewRecord, dict[str, Any], str]] = []
    try:
        if path.suffix.lower() == ".json":
            for n, row in enumerate(read_rows(path), start=1):
                fields, extras = split_fields(row, DISPATCH_COLUMNS)
                entries.append((validate_record(CrewRecord, fields, what=f"{path.name} item {n}"), extras, f"{path.name} item {n}"))
        else:
            for record, extras in load_crew_records(path, extra_columns=DISPATCH_COLUMNS):
                entries.append((record, extras, f"{path.name} crew {record.id}"))
    except RoutingInputError:
        raise
    except InputError as exc:
        raise RoutingInputError(exc.message, details=exc.details) from None
    return [_crew(record, extras, what) for record, extras, what in entries if record.active]


def _crew(record: CrewRecord, extras: dict[str, Any], what: str) -> Crew:
    try:
        shift_start, shift_end = record.shift()
        available = extras.get("available_from")
        return Crew(
            id=record.id,
            name=record.name,
            start=_location({**extras, "start": extras.get("start") or record.depot_id}, "start", what),
            end=_location(extras, "end", what) if extras.get("end") else None,
            shift_start=shift_start,
            shift_end=shift_end,
            skills=frozenset(record.skills),
            available_from=parse_aware_datetime(available) if available not in (None, "") else None,
            committed=split_list(extras.get("committed")),
        )
    except RoutingInputError:
        raise
    except InputError as exc:
        raise RoutingInputError(f"{what}: {exc.message}") from exc


def read_tasks(path: str | Path) -> list[Task]:
    """Tasks from JSON or CSV."""
    path = Path(path)
    tasks = []
    for n, row in enumerate(read_rows(path), start=1):
        what = f"{path.name} row {n}"
        try:
            kw: dict[str, Any] = {}
            for key in ("service_min", "weight"):
                if row.get(key) not in (None, ""):
                    try:
                        kw[key] = float(row[key])
                    except (TypeError, ValueError):
                        raise RoutingInputError(f"{key} is not a number: {row[key]!r}") from None
            tasks.append(
                Task(
                    id=str(row.get("id") or ""),
                    location=_location(row, "location", what),
                    skills=frozenset(_split(row.get("skills"))),
                    window_start=_when(row.get("window_start"), what),  # type: ignore[arg-type]
                    window_end=_when(row.get("window_end"), what),  # type: ignore[arg-type]
                    after=tuple(_split(row.get("after"))),
                    name=str(row.get("name") or ""),
                    **kw,
                )
            )
        except RoutingInputError as exc:
            message = exc.message if exc.message.startswith(what) else f"{what}: {exc.message}"
            raise RoutingInputError(message) from exc
    return tasks


def read_access_points(path: str | Path) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """``({id: (lon, lat)}, {id: name})`` from CSV or the grid GeoPackage (nodes + depots)."""
    path = Path(path)
    points: dict[str, tuple[float, float]] = {}
    names: dict[str, str] = {}
    if path.suffix.lower() == ".gpkg":
        if not path.exists():
            raise RoutingInputError(f"file not found: {path}")
        import geopandas as gpd
        import pyogrio

        layers = {name for name, _ in pyogrio.list_layers(path)}
        for layer in ("nodes", "depots"):
            if layer not in layers:
                continue
            gdf = gpd.read_file(path, layer=layer)
            if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
                gdf = gdf.to_crs(4326)
            for _, r in gdf.iterrows():
                lon, lat = r.get("access_lon"), r.get("access_lat")
                if lon is None or lat is None or lon != lon or lat != lat:
                    if r.geometry is None or r.geometry.is_empty:
                        continue
                    c = r.geometry.representative_point()
                    lon, lat = c.x, c.y
                points[str(r["id"])] = (float(lon), float(lat))
                if isinstance(r.get("name"), str):
                    names[str(r["id"])] = r["name"]
        return points, names
    for n, row in enumerate(read_rows(path), start=1):
        try:
            pid = str(row["id"])
            points[pid] = (float(row["lon"]), float(row["lat"]))
        except (KeyError, TypeError, ValueError):
            raise RoutingInputError(f"{path.name} row {n}: expected id, lon, lat") from None
        if row.get("name"):
            names[pid] = str(row["name"])
    return points, names
