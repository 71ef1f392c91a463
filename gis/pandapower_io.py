"""Conversion between pandapower nets and :class:`gis.Grid`.

The module that converts pandapower nets (the CGMES and OpenDSS imports, :mod:`gis.cim_io` and
:mod:`gis.dss_io`, only run pandapower's converters and come here), and the only one that imports
simbench (for ``simbench:<code>`` sources). Ids keep the pandapower element and index so results can be compared
element by element:

* ``bus:3`` — a node per in-service bus: a ``busbar`` inside a substation (an
  external grid's bus with its ``vm_pu``; the LV bus of a transformer whose HV
  bus is inside; a busbar section joined to an inside bus by a bus-bus switch),
  a ``distribution_room`` at the LV bus of a transformer outside the
  substations (``kva`` = its rating), else a ``junction``; ``vn_kv`` always;
* ``line:17`` — a line per in-service line with r/x/c per km, length, ampacity
  (``max_i_ka x df x parallel``) and ``type`` = ``std_type`` (geometry from the
  line's ``geo`` column, else straight between its buses);
* ``switch:12`` — a switch per switch (``rating_a`` from ``in_ka``). A bus-bus
  switch joins its two buses; a line or transformer switch sits between the bus
  and a new junction ``switch:12:junction`` to which the line (or transformer
  side) is moved, so the topology is preserved;
* ``trafo:4`` — a transformer per in-service two-winding transformer;
* ``ext_grid:0`` — a substation per external grid;
* ``load:7`` — a customer per load at its bus, ``demand_kw = p_mw x scaling x 1000``;
* ``sgen:5`` / ``storage:2`` — a DG unit per static generator / storage unit.

A switch between a node inside a substation and one outside becomes a
``breaker`` running from the inside node, so that feeders exist. See
docs/grid-format.md for the whole mapping.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, shape

from gis.errors import InputError
from gis.format import WGS84
from gis.grid import Grid

_SWITCH_KIND = {"CB": "breaker", "LBS": "load_break", "LS": "load_break", "DS": "disconnector", "FUSE": "fuse"}


def _pp() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower as pp

    return pp


def load_pandapower_net(source: str | Path) -> Any:
    """A pandapower net from a JSON file, a ``pandapower.networks`` function name, or
    ``simbench:<code>`` (a SimBench grid from the installed ``simbench`` package's own data, e.g.
    ``simbench:1-MV-comm--0-sw``; no network access)."""
    if str(source).startswith("simbench:"):
        return _simbench_net(str(source).split(":", 1)[1])
    pp = _pp()
    p = Path(source)
    if p.suffix.lower() == ".json" or p.exists():
        if not p.exists():
            raise InputError(f"no such file: {p}", code="not_found")
        try:
            return pp.from_json(str(p))
        except Exception as exc:
            raise InputError(f"cannot read pandapower JSON {p}: {exc}", code="bad_pandapower") from exc
    import pandapower.networks as pn

    factory = getattr(pn, str(source), None)
    if factory is None or not callable(factory):
        raise InputError(f"{source!r} is neither a JSON file nor a pandapower.networks function", code="bad_pandapower")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory()


def _simbench_net(code: str) -> Any:
    """The SimBench net of a code such as ``1-MV-rural--0-sw`` (``InputError`` when simbench is not
    installed or the code is not one of its grids)."""
    _pp()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import simbench
    except ImportError as exc:
        raise InputError("simbench:<code> needs the simbench package (pip install simbench)", code="missing_dependency") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return simbench.get_simbench_net(code)
    except Exception as exc:  # simbench raises ValueError/KeyError/... on codes it does not know
        raise InputError(f"not a SimBench grid code: {code!r} ({exc})", code="bad_pandapower") from exc


def _point(geo: Any) -> Point | None:
    if geo is None or (isinstance(geo, float) and math.isnan(geo)):
        return None
    g = shape(json.loads(geo)) if isinstance(geo, str) else shape(geo)
    return g if isinstance(g, Point) else g.centroid


def _utm_epsg(lon: float, lat: float) -> str:
    zone = int((lon + 180) // 6) + 1
    return str((32600 if lat >= 0 else 32700) + zone)


def from_pandapower(net: Any, *, name: str = "pandapower net", timezone: str = "Europe/Berlin", join_distance_m: float = 500.0) -> Grid:
    """Convert a pandapower net (buses need geodata) into a validated :class:`Grid`.

    Carries the electrical data: external grids become substations whose bus
    holds the voltage set-point (``vm_pu``); the buses joined to an external
    grid through bus-bus switches and transformers are inside that substation
    (busbars); every in-service two-winding transformer goes to the
    ``transformers`` layer (the LV bus of one outside a substation is a
    ``distribution_room`` with its ``kva``); lines keep r/x/c per km, length,
    ampacity and ``std_type``; switches keep ``in_ka``; static generators and
    storage units go to the ``dg`` layer; ``meta.power_factor`` is that of the
    loads' total P and Q. See docs/grid-format.md for the mapping.

    Raises :class:`~gis.errors.InputError` when the net has no bus geodata, and
    :class:`~gis.errors.GridValidationError` when the result does not validate
    (e.g. a closed loop below the feeder breakers in the switching state the net holds).
    """
    points = _bus_points(net)
    ext = _in_service(net.ext_grid)
    sources = {int(b): f"ext_grid:{i}" for i, b in ext["bus"].items() if int(b) in points}
    trafo = _in_service(net.trafo)
    trafo = trafo[trafo["hv_bus"].astype(int).isin(points) & trafo["lv_bus"].astype(int).isin(points)]
    inside = _substation_buses(net, sources, trafo)
    switch_rows, junction_rows, ends = _switch_rows(net, points, inside, trafo)
    node_rows = _bus_rows(net, points, inside, trafo, ext) + junction_rows
    _orient_switches(switch_rows, {r["id"] for r in node_rows if r["substation_id"] is not None})
    ext_names = {int(b): n for b, n in zip(ext["bus"], ext["name"], strict=True)}
    layers: dict[str, pd.DataFrame] = {
        "substations": _frame([
            {"id": sid, "name": ext_names[b] if isinstance(ext_names[b], str) and ext_names[b] else sid, "geometry": points[b]}
            for b, sid in sources.items()
        ], ("id", "name")),
        "nodes": _frame(node_rows, ("id", "kind", "substation_id")),
        "lines": _frame(_line_rows(net, points, ends), ("id", "from_node", "to_node", "kind")),
        "switches": _frame(switch_rows, ("id", "from_node", "to_node", "kind", "normally_open")),
        "transformers": _frame(_transformer_rows(trafo, points, inside, ends), ("id", "hv_node", "lv_node", "sn_kva")),
        "customers": _frame(_load_rows(net, points), ("id", "node_id", "category", "demand_kw", "power_factor")),
        "dg": _frame(_dg_rows(net, points), ("id", "node_id", "kind", "p_kw")),
    }
    layers["meta"] = _meta(net, points, sources, inside, name=name, timezone=timezone, nodes=layers["nodes"])
    return Grid.from_layers(layers, join_distance_m=join_distance_m, source=f"pandapower:{name}")


def add_feeder_breakers(net: Any) -> list[int]:
    """Give every line that leaves a substation without a switch a closed breaker at its substation
    end (a pandapower line switch, type ``CB``, named ``feeder breaker <line name>``), so that it
    starts a feeder; returns the new switch indices. For sources that model the feeder head without
    its breaker (OpenDSS test feeders, bus-branch CGMES); "inside a substation" is decided as by
    :func:`from_pandapower`. Changes ``net`` in place."""
    pp = _pp()
    ext = _in_service(net.ext_grid)
    trafo = _in_service(net.trafo)
    inside = _substation_buses(net, {int(b): f"ext_grid:{i}" for i, b in ext["bus"].items()}, trafo)
    sw = net.switch[net.switch["et"] == "l"]
    switched = set(zip(sw["element"].astype(int), sw["bus"].astype(int), strict=True))
    lines = _in_service(net.line)
    added = []
    for i, fb, tb, label in zip(lines.index, lines["from_bus"].astype(int), lines["to_bus"].astype(int), lines["name"], strict=True):
        if (fb in inside) == (tb in inside):
            continue
        end = fb if fb in inside else tb
        if (int(i), end) not in switched:
            added.append(int(pp.create_switch(net, bus=end, element=int(i), et="l", closed=True, type="CB",
                                              name=f"feeder breaker {label if isinstance(label, str) else i}")))
    return added


def _in_service(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["in_service"].astype(bool)] if len(df) else df


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=WGS84)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def _num(v: Any) -> float | None:
    """A finite float, or None for a missing value."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _factor(v: Any) -> float:
    """A multiplier column's value (``scaling``, ``parallel``, ``df``): 1 when missing, else as given (0 included)."""
    x = _num(v)
    return 1.0 if x is None else x


def _bus_points(net: Any) -> dict[int, Point]:
    """(lon, lat) point of every in-service bus, from its ``geo`` column (or old ``bus_geodata``)."""
    bus = _in_service(net.bus)
    if "geo" in bus.columns:
        raw = {int(i): _point(g) for i, g in bus["geo"].items()}
    elif hasattr(net, "bus_geodata") and len(net.bus_geodata):
        raw = {int(i): Point(r.x, r.y) for i, r in net.bus_geodata.iterrows() if i in bus.index}
    else:
        raw = {}
    missing = [int(i) for i in bus.index if raw.get(int(i)) is None]
    if missing:
        raise InputError(f"pandapower buses without geodata: {missing[:10]}", code="no_geodata", details={"buses": missing})
    return {i: p for i, p in raw.items() if p is not None}


def _substation_buses(net: Any, sources: Mapping[int, str], trafo: pd.DataFrame) -> dict[int, str]:
    """Substation id of every bus inside a substation: an external grid's bus, the LV bus of a
    transformer whose HV bus is inside, and a bus joined to an inside bus by a bus-bus switch (in
    any state) when every line at it leaves through a line switch (a busbar section, not a feeder node)."""
    lines = _in_service(net.line)
    sw = net.switch
    switched = set(zip(sw.loc[sw["et"] == "l", "element"].astype(int), sw.loc[sw["et"] == "l", "bus"].astype(int), strict=True))
    unswitched_line_at: set[int] = set()
    for i, fb, tb in zip(lines.index, lines["from_bus"].astype(int), lines["to_bus"].astype(int), strict=True):
        unswitched_line_at.update(b for b in (fb, tb) if (int(i), b) not in switched)
    bb = sw[sw["et"] == "b"]
    pairs = list(zip(bb["bus"].astype(int), bb["element"].astype(int), strict=True))
    pairs += [(b, a) for a, b in pairs]
    steps = list(zip(trafo["hv_bus"].astype(int), trafo["lv_bus"].astype(int), strict=True))
    inside: dict[int, str] = dict(sources)
    grew = True
    while grew:
        grew = False
        for a, b in steps + [(a, b) for a, b in pairs if b not in unswitched_line_at]:
            if a in inside and b not in inside:
                inside[b] = inside[a]
                grew = True
    return inside


def _switch_rows(
    net: Any, points: Mapping[int, Point], inside: Mapping[int, str], trafo: pd.DataFrame
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[tuple[str, int, int], str]]:
    """Switch rows, the junction nodes of line and transformer switches, and the node each
    switched line or transformer end moves to (``("l" | "t", element, bus) -> junction id``)."""
    lines = net.line
    rows: list[dict[str, Any]] = []
    junctions: list[dict[str, Any]] = []
    ends: dict[tuple[str, int, int], str] = {}
    vn = net.bus["vn_kv"]
    in_ka = net.switch["in_ka"] if "in_ka" in net.switch.columns else pd.Series(np.nan, index=net.switch.index)
    for s, b, e, et, typ, closed, label, ka in zip(
        net.switch.index, net.switch["bus"], net.switch["element"], net.switch["et"], net.switch["type"],
        net.switch["closed"], net.switch["name"], in_ka, strict=True,
    ):
        b, e = int(b), int(e)
        if b not in points:
            continue
        rating = _num(ka)
        row = {"id": f"switch:{s}", "from_node": f"bus:{b}", "kind": _SWITCH_KIND.get(str(typ or "").upper(), "load_break"),
               "normally_open": not bool(closed), "remote": False, "fault_indicator": False, "name": label if isinstance(label, str) else "",
               "rating_a": None if rating is None else rating * 1000.0, "geometry": points[b]}
        if et == "b":
            if e not in points:
                continue
            rows.append({**row, "to_node": f"bus:{e}"})
            continue
        known, sub = _junction_substation(str(et), b, e, lines, trafo, inside)
        if not known:
            continue  # switches of out-of-service or three-winding transformers
        j = f"switch:{s}:junction"
        ends[(str(et), e, b)] = j
        junctions.append({"id": j, "kind": "junction", "name": j, "substation_id": sub, "vn_kv": float(vn[b]), "geometry": points[b]})
        rows.append({**row, "to_node": j})
    return rows, junctions, ends


def _junction_substation(et: str, b: int, e: int, lines: pd.DataFrame, trafo: pd.DataFrame,
                         inside: Mapping[int, str]) -> tuple[bool, str | None]:
    """(is the switched element known, the substation of the junction between the switch at bus ``b``
    and line or transformer ``e``): for a line, bus ``b``'s when the line's far end is inside a
    substation too (else none); for a transformer, its HV bus's."""
    if et == "l" and e in lines.index:
        far = int(lines.at[e, "to_bus"]) if int(lines.at[e, "from_bus"]) == b else int(lines.at[e, "from_bus"])
        return True, inside.get(b) if far in inside else None
    if et == "t" and e in trafo.index:
        return True, inside.get(int(trafo.at[e, "hv_bus"]))
    return False, None


def _orient_switches(rows: list[dict[str, Any]], inside_nodes: set[str]) -> None:
    """A switch between a node inside a substation and one outside runs from the inside one and is a
    breaker (it starts a feeder)."""
    for row in rows:
        a_in, b_in = row["from_node"] in inside_nodes, row["to_node"] in inside_nodes
        if b_in and not a_in:
            row["from_node"], row["to_node"] = row["to_node"], row["from_node"]
        if a_in != b_in:
            row["kind"] = "breaker"


def _bus_rows(net: Any, points: Mapping[int, Point], inside: Mapping[int, str], trafo: pd.DataFrame, ext: pd.DataFrame) -> list[dict[str, Any]]:
    """A node per in-service bus: busbar inside a substation (``vm_pu`` of its external grid),
    distribution room at the LV bus of a transformer outside one (``kva`` = its rating), else junction."""
    vm = {int(b): float(v) for b, v in zip(ext["bus"], ext["vm_pu"], strict=True)}
    kva: dict[int, float] = {}
    for hv, lv, sn, par in zip(trafo["hv_bus"].astype(int), trafo["lv_bus"].astype(int), trafo["sn_mva"], _col(trafo, "parallel", 1), strict=True):
        if hv not in inside:
            kva[lv] = kva.get(lv, 0.0) + float(sn) * _factor(par) * 1000.0
    bus = net.bus
    rows = []
    for b in points:
        kind = "busbar" if b in inside else "distribution_room" if b in kva else "junction"
        label = bus.at[b, "name"]
        rows.append({"id": f"bus:{b}", "kind": kind, "name": str(label) if label is not None else f"bus:{b}",
                     "substation_id": inside.get(b), "vn_kv": float(bus.at[b, "vn_kv"]), "vm_pu": vm.get(b),
                     "kva": kva.get(b) if b not in inside else None, "geometry": points[b]})
    return rows


def _col(df: pd.DataFrame, col: str, default: Any) -> pd.Series:
    return df[col] if col in df.columns else pd.Series(default, index=df.index)


def _line_rows(net: Any, points: Mapping[int, Point], ends: Mapping[tuple[str, int, int], str]) -> list[dict[str, Any]]:
    """A line per in-service line: r/x per km divided and c and ampacity multiplied by ``parallel``,
    ampacity also by ``df``; ``type`` = ``std_type``; geometry from ``geo``, else straight."""
    lines = _in_service(net.line)
    rows = []
    geo = _col(lines, "geo", None)
    for i, r, g in zip(lines.index, lines.itertuples(index=False), geo, strict=True):
        fb, tb = int(r.from_bus), int(r.to_bus)
        if fb not in points or tb not in points:
            continue
        par = _factor(getattr(r, "parallel", 1))
        std = getattr(r, "std_type", None)
        rows.append({
            "id": f"line:{i}",
            "from_node": ends.get(("l", int(i), fb), f"bus:{fb}"),
            "to_node": ends.get(("l", int(i), tb), f"bus:{tb}"),
            "kind": "cable" if str(getattr(r, "type", "cs")) == "cs" else "overhead",
            "type": std if isinstance(std, str) and std else None,
            "rating_a": float(r.max_i_ka) * _factor(getattr(r, "df", 1.0)) * par * 1000.0,
            "length_m": float(r.length_km) * 1000.0,
            "r_ohm_per_km": float(r.r_ohm_per_km) / par,
            "x_ohm_per_km": float(r.x_ohm_per_km) / par,
            "c_nf_per_km": float(r.c_nf_per_km) * par,
            "geometry": _line_geometry(g, points[fb], points[tb]),
        })
    return rows


def _line_geometry(geo: Any, a: Point, b: Point) -> LineString:
    if isinstance(geo, str):
        g = shape(json.loads(geo))
        if isinstance(g, LineString) and len(g.coords) >= 2:
            return g
    return LineString([a, b]) if not a.equals(b) else LineString([a, Point(a.x + 1e-6, a.y)])


def _transformer_rows(trafo: pd.DataFrame, points: Mapping[int, Point], inside: Mapping[int, str],
                      ends: Mapping[tuple[str, int, int], str]) -> list[dict[str, Any]]:
    """A transformer per in-service two-winding transformer (``parallel`` units as one of their
    summed rating). The tap is kept when pandapower applies it (a ``Ratio`` or ``Symmetrical``
    changer without phase-shift step); the phase shift (vector group) is not modelled."""
    rows = []
    changer = _col(trafo, "tap_changer_type", "Ratio")
    for (t, r), ch in zip(trafo.iterrows(), changer, strict=True):
        hv, lv = int(r["hv_bus"]), int(r["lv_bus"])
        par = _factor(r.get("parallel", 1))
        tapped = str(ch) in ("Ratio", "Symmetrical") and not _num(r.get("tap_step_degree")) and _num(r.get("tap_pos")) is not None
        rows.append({
            "id": f"trafo:{t}", "hv_node": ends.get(("t", int(t), hv), f"bus:{hv}"), "lv_node": ends.get(("t", int(t), lv), f"bus:{lv}"),
            "sn_kva": float(r["sn_mva"]) * par * 1000.0, "substation_id": inside.get(hv),
            "name": str(r["name"]) if r["name"] is not None else f"trafo:{t}",
            "vn_hv_kv": float(r["vn_hv_kv"]), "vn_lv_kv": float(r["vn_lv_kv"]),
            "vk_percent": float(r["vk_percent"]), "vkr_percent": float(r["vkr_percent"]),
            "pfe_kw": (_num(r.get("pfe_kw")) or 0.0) * par, "i0_percent": _num(r.get("i0_percent")) or 0.0,
            "tap_side": str(r["tap_side"]) if r.get("tap_side") in ("hv", "lv") else "hv",
            "tap_pos": _num(r["tap_pos"]) if tapped else None,
            "tap_neutral": (_num(r.get("tap_neutral")) or 0.0) if tapped else None,
            "tap_step_percent": (_num(r.get("tap_step_percent")) or 0.0) if tapped else None,
            "geometry": points[lv],
        })
    return rows


def _load_rows(net: Any, points: Mapping[int, Point]) -> list[dict[str, Any]]:
    """A customer per load at its bus, ``demand_kw = p_mw x scaling x 1000`` (0 when out of service)."""
    load = net.load
    rows = []
    for i, r in zip(load.index, load.itertuples(index=False), strict=True):
        b = int(r.bus)
        if b not in points:
            continue
        on = bool(getattr(r, "in_service", True))
        rows.append({
            "id": f"load:{i}", "name": str(r.name) if r.name is not None else f"load {i}", "node_id": f"bus:{b}",
            "category": "commercial", "importance": "normal",
            "demand_kw": max(0.0, float(r.p_mw) * _factor(getattr(r, "scaling", 1.0)) * 1000.0) if on else 0.0,
            "power_factor": _power_factor(float(r.p_mw), float(r.q_mvar)),
            "geometry": points[b],
        })
    return rows


def _power_factor(p: float, q: float) -> float:
    """P / |S| of a load, negative when it is leading (q < 0); NaN (the grid's default) without P."""
    if not (p > 0 and math.isfinite(q)):
        return math.nan
    pf = p / math.hypot(p, q)
    return -pf if q < 0 else pf


def _dg_kind(pp_type: Any) -> str:
    t = str(pp_type or "").lower()
    for prefix, kind in (("pv", "pv"), ("wind", "wind"), ("wp", "wind"), ("hydro", "hydro"), ("chp", "chp"),
                         ("storage", "storage"), ("battery", "storage")):
        if t.startswith(prefix):
            return kind
    return "other"


def _dg_rows(net: Any, points: Mapping[int, Point]) -> list[dict[str, Any]]:
    """A DG unit per static generator (``sgen:N``; kind from its ``type``, ``p_kw = p_mw x scaling x
    1000``) and per storage unit (``storage:N``, kind storage, its discharge ``-p_mw`` x 1000, 0
    when charging)."""
    rows = []
    for table, sign in (("sgen", 1.0), ("storage", -1.0)):
        df = getattr(net, table, None)
        if df is None or not len(df):
            continue
        for i, r in zip(df.index, df.itertuples(index=False), strict=True):
            b = int(r.bus)
            if b not in points:
                continue
            p = sign * float(r.p_mw) * _factor(getattr(r, "scaling", 1.0)) * 1000.0
            rows.append({
                "id": f"{table}:{i}", "node_id": f"bus:{b}", "kind": "storage" if table == "storage" else _dg_kind(getattr(r, "type", None)),
                "p_kw": max(0.0, p), "name": str(r.name) if r.name is not None else f"{table}:{i}",
                "in_service": bool(getattr(r, "in_service", True)), "geometry": points[b],
            })
    return rows


def _meta(net: Any, points: Mapping[int, Point], sources: Mapping[int, str], inside: Mapping[int, str], *,
          name: str, timezone: str, nodes: gpd.GeoDataFrame) -> pd.DataFrame:
    """``nominal_kv``: the most common voltage inside the substations below the external grids'
    (else of all buses); ``power_factor``: P / |S| of the loads' totals (0.9 without loads)."""
    vn = net.bus["vn_kv"]
    ext_levels = {float(vn[b]) for b in sources}
    mv = pd.Series([float(vn[b]) for b in inside if float(vn[b]) not in ext_levels], dtype=float)
    if not len(mv):
        mv = pd.Series([float(vn[b]) for b in points], dtype=float)
    load = _in_service(net.load)
    scaling = _col(load, "scaling", 1.0).fillna(1.0).astype(float)
    p = float((load["p_mw"].astype(float) * scaling).sum()) if len(load) else 0.0
    q = float((load["q_mvar"].astype(float) * scaling).sum()) if len(load) else 0.0
    pf = p / math.hypot(p, q) if p > 0 else 0.9
    centre = nodes.geometry.union_all().centroid
    return pd.DataFrame({
        "key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor", "source"],
        "value": [name, timezone, f"{float(mv.mode().iloc[0]):g}", _utm_epsg(centre.x, centre.y), f"{pf:.12g}", "pandapower"],
    })


def to_pandapower(grid: Grid, *, at: datetime | None = None) -> Any:
    """A pandapower net of the grid in its normal state, for studies and as an oracle.

    One bus per node (``vn_kv``; named by node id), an external grid on every
    infeed busbar at its set-point (:attr:`gis.grid.Grid.infeeds`), lines with
    the grid's impedances and ampacities (``grid.line_params``), bus-bus
    switches (closed unless normally open; ``in_ka`` from ``rating_a``), transformers, one load per customer
    (``demand_kw``, or its load at ``at``; reactive power from its
    ``power_factor``, else ``meta.power_factor``) and one static generator per in-service DG unit
    (``p_kw``, or its output at ``at``). Element names carry the grid ids.
    """

    pp = _pp()
    net = pp.create_empty_network(name=grid.name, f_hz=50.0)
    ix, vn = _export_buses(pp, net, grid)
    _export_lines(pp, net, grid, ix)
    _export_switches(pp, net, grid, ix)
    _export_transformers(pp, net, grid, ix, vn)
    _export_loads(pp, net, grid, ix, at)
    _export_dg(pp, net, grid, ix, at)
    return net


def _export_buses(pp: Any, net: Any, grid: Grid) -> tuple[pd.Series, np.ndarray]:
    """A bus per node and an external grid per infeed; returns the bus of each node id and the
    buses' nominal voltages (kV)."""
    nodes = grid.nodes
    vn = nodes["vn_kv"].fillna(grid.nominal_kv).to_numpy(dtype=float)
    bus_idx = pp.create_buses(
        net,
        len(nodes),
        vn_kv=vn,
        name=nodes["id"].to_numpy(dtype=object),
        geodata=list(zip(nodes.geometry.x, nodes.geometry.y, strict=True)),
    )
    slack, vm = grid.infeeds
    for b, v in zip(np.asarray(bus_idx)[slack], vm[slack], strict=True):
        pp.create_ext_grid(net, int(b), vm_pu=float(v))
    return pd.Series(bus_idx, index=nodes["id"].to_numpy(dtype=object)), vn


def _export_lines(pp: Any, net: Any, grid: Grid, ix: pd.Series) -> None:
    lines = grid.lines
    if not len(lines):
        return
    lp = grid.line_params
    pp.create_lines_from_parameters(
        net,
        from_buses=ix[lines["from_node"]].to_numpy(),
        to_buses=ix[lines["to_node"]].to_numpy(),
        length_km=np.maximum(lines["length_m"].to_numpy(dtype=float) / 1000.0, 1e-6),
        r_ohm_per_km=lp["r_ohm_per_km"].to_numpy(dtype=float),
        x_ohm_per_km=lp["x_ohm_per_km"].to_numpy(dtype=float),
        c_nf_per_km=lp["c_nf_per_km"].to_numpy(dtype=float),
        max_i_ka=lp["rating_a"].to_numpy(dtype=float) / 1000.0,
        name=lines["id"].to_numpy(dtype=object),
    )


def _export_switches(pp: Any, net: Any, grid: Grid, ix: pd.Series) -> None:
    sw = grid.switches
    if not len(sw):
        return
    pp.create_switches(
        net,
        buses=ix[sw["from_node"]].to_numpy(),
        elements=ix[sw["to_node"]].to_numpy(),
        et="b",
        closed=~sw["normally_open"].to_numpy(dtype=bool),
        type=[{"breaker": "CB", "disconnector": "DS"}.get(k, "LBS") for k in sw["kind"]],
        name=sw["id"].to_numpy(dtype=object),
        in_ka=sw["rating_a"].to_numpy(dtype=float) / 1000.0,
    )


def _export_loads(pp: Any, net: Any, grid: Grid, ix: pd.Series, at: datetime | None) -> None:
    cust = grid.customers
    if not len(cust):
        return
    p_kw = grid.customer_load_kw(at).to_numpy() if at is not None else cust["demand_kw"].to_numpy(dtype=float)
    pp.create_loads(net, buses=ix[cust["node_id"]].to_numpy(), p_mw=p_kw / 1000.0, q_mvar=p_kw / 1000.0 * grid.customer_tan_phi,
                    name=cust["id"].to_numpy(dtype=object))


def _export_dg(pp: Any, net: Any, grid: Grid, ix: pd.Series, at: datetime | None) -> None:
    dg = grid.dg
    if not len(dg):
        return
    dg = dg[dg["in_service"].astype(bool)]
    p_kw = dg["p_kw"].to_numpy(dtype=float)
    if at is not None:
        p_kw = p_kw * grid.profile_factors([at])[grid.profile_index(dg["profile"]), 0]
    for i, (b, p, kind) in enumerate(zip(ix[dg["node_id"]].to_numpy(), p_kw, dg["kind"], strict=True)):
        pp.create_sgen(net, int(b), p_mw=float(p) / 1000.0, name=str(dg["id"].iloc[i]), type=str(kind).upper())


def _export_transformers(pp: Any, net: Any, grid: Grid, ix: pd.Series, vn: np.ndarray) -> None:
    from gis.catalogue import transformer_impedance

    tr = grid.transformers
    vn_of = pd.Series(vn, index=ix.index)

    def value(r: pd.Series, col: str, default: float) -> float:
        v = r.get(col)
        return default if v is None or pd.isna(v) else float(v)

    for _, r in tr.iterrows():
        sn = float(r["sn_kva"]) / 1000.0
        vk_d, vkr_d = transformer_impedance(float(r["sn_kva"]))
        pp.create_transformer_from_parameters(
            net, hv_bus=int(ix[r["hv_node"]]), lv_bus=int(ix[r["lv_node"]]), sn_mva=sn,
            vn_hv_kv=value(r, "vn_hv_kv", float(vn_of[r["hv_node"]])), vn_lv_kv=value(r, "vn_lv_kv", float(vn_of[r["lv_node"]])),
            vk_percent=value(r, "vk_percent", vk_d), vkr_percent=value(r, "vkr_percent", vkr_d), pfe_kw=value(r, "pfe_kw", 0.0),
            i0_percent=value(r, "i0_percent", 0.0), shift_degree=0.0, tap_side=str(r.get("tap_side") or "hv"),
            tap_pos=value(r, "tap_pos", 0.0), tap_neutral=value(r, "tap_neutral", 0.0), tap_step_percent=value(r, "tap_step_percent", 0.0),
            tap_min=-100, tap_max=100, tap_changer_type="Ratio", name=str(r["id"]),
        )


def replay_in_pandapower(
    grid: Grid,
    states: Sequence[tuple[Iterable[str], Iterable[str], Sequence[datetime]]],
    *,
    net: Any = None,
    switch_index: Mapping[str, int] | None = None,
) -> list[list[dict[str, Any]]]:
    """Replay switching states in pandapower, the independent check of the product's own power flow.

    ``states``: ``(open_switches, close_switches, times)`` relative to the normal state.
    ``net``: by default :func:`to_pandapower` of the grid, with every customer's load (and DG
    output) set to its value at each time; a given net (e.g. the original net a grid was
    imported from) keeps its own loads, and ``switch_index`` maps grid switch ids to its
    switch indices (default: ``switch:N`` -> ``N``). Returns, per state and time,
    ``{"at", "converged", "max_line_loading_pct", "line", "max_trafo_loading_pct",
    "min_vm_pu", "min_vm_bus", "max_vm_pu", "max_vm_bus"}`` (voltages over the buses that are
    supplied and not an external grid's; bus and line names as in the net).
    """
    pp = _pp()
    own = net is None
    net = to_pandapower(grid) if own else net
    if switch_index is None:
        if own:
            switch_index = {str(n): int(i) for i, n in net.switch["name"].items()}
        else:
            switch_index = {f"switch:{i}": int(i) for i in net.switch.index}
    normal = net.switch["closed"].copy()
    ext_buses = set(net.ext_grid["bus"])
    out: list[list[dict[str, Any]]] = []
    for opened, closed, times in states:
        net.switch["closed"] = normal
        for s in opened:
            net.switch.at[switch_index[s], "closed"] = False
        for s in closed:
            net.switch.at[switch_index[s], "closed"] = True
        rows = []
        for at in times:
            if own:
                _set_loads_at(net, grid, at)
            rows.append(_pandapower_result(pp, net, at, ext_buses))
        out.append(rows)
    net.switch["closed"] = normal
    return out


def _set_loads_at(net: Any, grid: Grid, at: datetime) -> None:
    """Every load (and static generator) of a net made by :func:`to_pandapower` at its value at ``at``."""
    p_kw = grid.customer_load_kw(at).to_numpy()
    net.load["p_mw"] = p_kw / 1000.0
    net.load["q_mvar"] = p_kw / 1000.0 * grid.customer_tan_phi
    if len(net.sgen):
        dg = grid.dg[grid.dg["in_service"].astype(bool)]
        factor = grid.profile_factors([at])[grid.profile_index(dg["profile"]), 0]
        net.sgen["p_mw"] = dg["p_kw"].to_numpy(dtype=float) * factor / 1000.0


def _pandapower_result(pp: Any, net: Any, at: datetime, ext_buses: set[int]) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, max_iteration=50)
    except Exception:  # pandapower raises its own LoadflowNotConverged
        return {"at": at.isoformat(), "converged": False}
    vm = net.res_bus["vm_pu"]
    vm = vm[vm.notna() & ~vm.index.isin(list(ext_buses))]
    ld = net.res_line["loading_percent"].dropna()
    tr = net.res_trafo["loading_percent"].dropna() if len(net.trafo) else pd.Series(dtype=float)
    return {
        "at": at.isoformat(),
        "converged": True,
        "max_line_loading_pct": float(ld.max()) if len(ld) else 0.0,
        "line": str(net.line.at[ld.idxmax(), "name"]) if len(ld) else None,
        "max_trafo_loading_pct": float(tr.max()) if len(tr) else 0.0,
        "min_vm_pu": float(vm.min()) if len(vm) else 1.0,
        "min_vm_bus": str(net.bus.at[vm.idxmin(), "name"]) if len(vm) else None,
        "max_vm_pu": float(vm.max()) if len(vm) else 1.0,
        "max_vm_bus": str(net.bus.at[vm.idxmax(), "name"]) if len(vm) else None,
    }
