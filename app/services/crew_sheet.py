"""What a crew needs at each stop of its route, from the grid, the road network and the fault.

For every stop: the equipment (id, name, kind), its address and access notes when the
grid records them (optional ``address`` / ``access_notes`` columns of the nodes layer), the
access point where the crew parks (``gis.Grid.access_point``) with the street it is on
(the road graph's name) and the distance and compass direction from there to the
equipment; the switching operations at the stop in order (a fault's manual steps, with
reason and remote/manual); the customers the stop is about (a step: those it gives supply
back to; the repair: those out until it is done) as a count and the first few by importance.
Nothing here is stored: it is read from the grid each time (the grid is immutable).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from flask import Flask

from app.models import Dispatch, Fault, Route
from gis import Grid
from gis.format import IMPORTANCE
from routing import RoadNetwork
from routing.positions import Bounds, PositionCheck, check_position, compass_bearing, street_name

#: How many affected customers a stop lists by name (the count is always complete).
CUSTOMER_SAMPLE = 5

#: The task ids :func:`app.services.routing.tasks_from_fault` gives a fault's manual steps and repair.
_STEP_TASK = re.compile(r"^F(?P<fault>\d+)-S(?P<stage>\d+)-(?P<step>\d+)$")
_REPAIR_TASK = re.compile(r"^F(?P<fault>\d+)-repair$")


def fault_task_ref(task_id: str) -> tuple[int, int | None, int | None] | None:
    """``(fault id, stage seq, step index)`` of a fault step's task, ``(fault id, None, None)`` of a
    fault's repair task, None for any other task id."""
    m = _STEP_TASK.match(task_id)
    if m:
        return int(m["fault"]), int(m["stage"]), int(m["step"])
    m = _REPAIR_TASK.match(task_id)
    if m:
        return int(m["fault"]), None, None
    return None


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    s = str(v).strip()
    return s or None


def equipment_json(grid: Grid, node_id: str, roads: RoadNetwork | None) -> dict[str, Any] | None:
    """A node's id, name, kind, address, access notes and access point (with its street, and
    the metres and compass direction from the access point to the equipment)."""
    nodes = grid.derived("app.crew_sheet.nodes", lambda g: g.nodes.set_index("id", drop=False))
    if node_id not in nodes.index:
        return None
    row = nodes.loc[node_id]
    lon, lat = float(row.geometry.x), float(row.geometry.y)
    access = grid.access_point(node_id)
    dist, direction = compass_bearing(access, (lon, lat))
    snapped = roads.access.get(node_id) if roads is not None else None
    return {"id": node_id, "name": _text(row.get("name")) or node_id, "kind": str(row["kind"]),
            "lon": lon, "lat": lat,
            "address": _text(row.get("address")), "access_notes": _text(row.get("access_notes")),
            "access_point": {"lon": access[0], "lat": access[1],
                             "street": street_name(roads, snapped) if roads is not None and snapped is not None else None,
                             "to_equipment_m": round(dist, 1), "direction": direction}}


def customers_json(grid: Grid, ids: list[str]) -> dict[str, Any]:
    """The count of ``ids`` and the first :data:`CUSTOMER_SAMPLE` by importance (id, name,
    importance, no phone)."""
    cust = grid.derived("app.crew_sheet.customers", lambda g: g.customers.set_index("id", drop=False))
    known = [c for c in dict.fromkeys(ids) if c in cust.index]
    rank = {k: i for i, k in enumerate(IMPORTANCE)}
    known.sort(key=lambda c: (rank.get(str(cust.at[c, "importance"]), len(rank)), c))
    return {"count": len(dict.fromkeys(ids)),
            "sample": [{"id": c, "name": _text(cust.at[c, "name"]) or c, "importance": str(cust.at[c, "importance"])}
                       for c in known[:CUSTOMER_SAMPLE]]}


def _switch_kind(grid: Grid, switch_id: str) -> str | None:
    sw = grid.derived("app.crew_sheet.switches", lambda g: g.switches.set_index("id", drop=False))
    return str(sw.at[switch_id, "kind"]) if switch_id in sw.index else None


def _step_json(grid: Grid, stage_seq: int, stage_kind: str, step: dict[str, Any]) -> dict[str, Any]:
    switch = str(step.get("switch") or "")
    return {"stage": stage_seq, "stage_kind": stage_kind, "seq": step.get("seq"), "action": step.get("action"),
            "switch": switch, "switch_kind": _switch_kind(grid, switch), "remote": bool(step.get("remote")),
            "reason": step.get("reason") or "", "why": step.get("why")}


def stop_details(grid: Grid, roads: RoadNetwork | None, task: dict[str, Any] | None, task_id: str,
                 fault: Fault | None) -> dict[str, Any]:
    """Equipment, switching and customers of one stop (see the module docstring)."""
    node: str | None = None
    switching: list[dict[str, Any]] = []
    customers: list[str] = []
    repair: dict[str, Any] | None = None
    ref = fault_task_ref(task_id)
    if ref is not None and fault is not None and ref[0] == fault.id:
        _, stage_seq, step_i = ref
        if stage_seq is None:
            rep = (fault.result or {}).get("repair") or {}
            node = rep.get("node")
            customers = list(rep.get("customers_out") or [])
            repair = {"equipment": rep.get("equipment"), "equipment_kind": rep.get("equipment_kind"),
                      "duration_min": rep.get("duration_min"), "isolation_switches": list(rep.get("isolation_switches") or []),
                      "return_to_normal": list(rep.get("return_to_normal") or [])}
        else:
            stage = next((st for st in fault.stages if st.seq == stage_seq), None)
            steps = stage.steps if stage is not None else []
            if stage is not None and step_i is not None and 0 <= step_i < len(steps) and isinstance(steps[step_i], dict):
                step = steps[step_i]
                node = step.get("node")
                switching = [_step_json(grid, stage.seq, stage.kind, step)]
                customers = list(step.get("restores") or stage.restored_customers or [])
    elif task is not None and isinstance(task.get("location"), str):
        node = task["location"]
    return {"equipment": equipment_json(grid, str(node), roads) if node else None, "switching": switching,
            "customers": customers_json(grid, customers), "repair": repair}


def sheet(grid: Grid, roads: RoadNetwork | None, route: Route, dispatch: Dispatch, fault: Fault | None) -> dict[str, dict[str, Any]]:
    """``{task_id: details}`` for every stop of ``route``."""
    tasks = {str(t.get("id")): t for t in (dispatch.tasks or []) if isinstance(t, dict)}
    return {str(s.get("task_id")): stop_details(grid, roads, tasks.get(str(s.get("task_id"))), str(s.get("task_id")), fault)
            for s in route.stops or []}


def service_bounds(app: Flask) -> Bounds:
    """The extent of the served grid and road network ``(min_lon, min_lat, max_lon, max_lat)``
    (cached until another grid version or road network is served)."""
    grid: Grid = app.extensions["grid"]
    roads: RoadNetwork | None = app.extensions.get("roads")
    cached = app.extensions.get("crew_sheet.bounds")
    if cached is None or cached[0] is not grid or cached[1] is not roads:
        b = [float(x) for x in grid.nodes.total_bounds]
        if roads is not None and roads.num_nodes:
            b = [min(b[0], float(roads.node_lon.min())), min(b[1], float(roads.node_lat.min())),
                 max(b[2], float(roads.node_lon.max())), max(b[3], float(roads.node_lat.max()))]
        cached = app.extensions["crew_sheet.bounds"] = (grid, roads, (b[0], b[1], b[2], b[3]))
    return cached[2]  # type: ignore[no-any-return]


def check_crew_position(app: Flask, lon: float, lat: float) -> PositionCheck:
    """:func:`routing.positions.check_position` with the service's area, roads and limits."""
    return check_position(lon, lat, bounds=service_bounds(app), roads=app.extensions.get("roads"),
                          margin_m=float(app.config["POSITION_AREA_MARGIN_M"]),
                          max_road_m=float(app.config["POSITION_MAX_ROAD_M"]))
