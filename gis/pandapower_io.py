"""Conversion between pandapower nets and :class:`gis.Grid`.

The only module that imports pandapower. Ids keep the pandapower element and
index so results can be compared element by element:

* ``bus:3`` — a node per in-service bus (busbar for buses with an external grid
  and for the low-voltage side of in-service HV/MV transformers, else junction);
* ``line:17`` — a line per in-service line (geometry from the line's ``geo``
  column, else straight between its buses);
* ``switch:12`` — a switch per switch. A bus-bus switch joins its two buses; a
  line or transformer switch sits between the bus and a new junction
  ``switch:12:junction`` to which the line (or transformer side) is moved, so the
  topology is preserved;
* ``ext_grid:0`` — a substation per external grid; transformers hang their MV
  busbar under the substation of the external grid feeding their HV side;
* ``load:7`` — a customer per load at its bus, ``demand_kw = p_mw x scaling x 1000``.

Switches whose upstream side is a busbar become ``breaker`` so that feeders exist
(a feeder starts at a breaker leaving a busbar).
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
    """A pandapower net from a JSON file or a ``pandapower.networks`` function name."""
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

    Raises :class:`~gis.errors.InputError` when the net has no bus geodata, and
    :class:`~gis.errors.GridValidationError` when the result does not validate
    (e.g. a closed loop in the switching state the net holds).
    """
    bus = net.bus[net.bus["in_service"].astype(bool)]
    raw_points: dict[int, Point | None]
    if "geo" in bus.columns:
        raw_points = {int(i): _point(g) for i, g in bus["geo"].items()}
    elif hasattr(net, "bus_geodata") and len(net.bus_geodata):
        raw_points = {int(i): Point(r.x, r.y) for i, r in net.bus_geodata.iterrows()}
    else:
        raw_points = {}
    missing = [i for i in bus.index if raw_points.get(int(i)) is None]
    if missing:
        raise InputError(f"pandapower buses without geodata: {missing[:10]}", code="no_geodata", details={"buses": missing})
    points: dict[int, Point] = {i: p for i, p in raw_points.items() if p is not None}

    ext = net.ext_grid[net.ext_grid["in_service"].astype(bool)]
    sources: dict[int, str] = {int(b): f"ext_grid:{i}" for i, b in ext["bus"].items()}
    trafo = net.trafo[net.trafo["in_service"].astype(bool)] if len(net.trafo) else net.trafo
    sw = net.switch
    trafo_switched = set(sw.loc[sw["et"] == "t", "element"].astype(int)) if len(sw) else set()
    # HV/MV transformers: their LV bus is a busbar of the substation feeding the HV bus.
    hv_sub = _hv_substations(net, sources)
    busbar_sub: dict[int, str] = dict(sources)
    extra_nodes: list[dict[str, Any]] = []
    extra_switches: list[dict[str, Any]] = []
    for t, row in trafo.iterrows():
        sub = hv_sub.get(int(row["hv_bus"]))
        if sub is None:
            continue
        lv = int(row["lv_bus"])
        if int(t) in trafo_switched:
            continue  # handled with the switch below: a busbar behind the switch
        busbar_sub.setdefault(lv, sub)

    def nid(b: int) -> str:
        return f"bus:{b}"

    node_rows = [
        {
            "id": nid(int(b)),
            "kind": "busbar" if int(b) in busbar_sub else "junction",
            "name": str(r["name"]) if r["name"] is not None else nid(int(b)),
            "substation_id": busbar_sub.get(int(b)),
            "geometry": points[int(b)],
        }
        for b, r in bus.iterrows()
    ]
    line_end: dict[tuple[int, int], str] = {}  # (line index, bus) -> node id the line attaches to
    switch_rows: list[dict[str, Any]] = []
    for s, r in sw.iterrows():
        b = int(r["bus"])
        if b not in points:
            continue
        kind = _SWITCH_KIND.get(str(r.get("type") or "").upper(), "load_break")
        base = {"id": f"switch:{s}", "normally_open": not bool(r["closed"]), "remote": False, "fault_indicator": False, "name": str(r.get("name") or "")}
        if r["et"] == "b":
            other = int(r["element"])
            if other not in points:
                continue
            switch_rows.append({**base, "from_node": nid(b), "to_node": nid(other), "kind": kind, "geometry": points[b]})
        elif r["et"] == "l":
            j = f"switch:{s}:junction"
            extra_nodes.append({"id": j, "kind": "junction", "name": j, "substation_id": None, "geometry": points[b]})
            switch_rows.append({**base, "from_node": nid(b), "to_node": j, "kind": kind, "geometry": points[b]})
            line_end[(int(r["element"]), b)] = j
        elif r["et"] == "t":
            t = int(r["element"])
            if t not in trafo.index:
                continue
            sub = hv_sub.get(int(trafo.at[t, "hv_bus"]))
            if sub is None:
                continue
            lv = int(trafo.at[t, "lv_bus"])
            bb = f"switch:{s}:junction"
            extra_nodes.append({"id": bb, "kind": "busbar", "name": f"trafo {t}", "substation_id": sub, "geometry": points[lv]})
            # whichever side the switch is on, it decides whether the LV bus is fed
            switch_rows.append({**base, "from_node": bb, "to_node": nid(lv), "kind": kind, "geometry": points[lv]})
    extra_switches.extend(switch_rows)

    lines = net.line[net.line["in_service"].astype(bool)]
    line_rows = []
    for i, r in lines.iterrows():
        fb, tb = int(r["from_bus"]), int(r["to_bus"])
        if fb not in points or tb not in points:
            continue
        end_a = line_end.get((int(i), fb), nid(fb))
        end_b = line_end.get((int(i), tb), nid(tb))
        geom = None
        if "geo" in lines.columns and isinstance(r["geo"], str):
            g = shape(json.loads(r["geo"]))
            geom = g if isinstance(g, LineString) and len(g.coords) >= 2 else None
        if geom is None:
            pa, pb = points[fb], points[tb]
            geom = LineString([pa, pb]) if not pa.equals(pb) else LineString([pa, Point(pa.x + 1e-6, pa.y)])
        line_rows.append(
            {
                "id": f"line:{i}",
                "from_node": end_a,
                "to_node": end_b,
                "kind": "cable" if str(r.get("type", "cs")) == "cs" else "overhead",
                "rating_a": float(r["max_i_ka"]) * 1000.0 * float(r.get("parallel", 1) or 1),
                "length_m": float(r["length_km"]) * 1000.0,
                "geometry": geom,
            }
        )

    nodes_df = gpd.GeoDataFrame(node_rows + extra_nodes, geometry="geometry", crs=WGS84)
    kinds = dict(zip(nodes_df["id"], nodes_df["kind"], strict=True))
    for row in extra_switches:
        if kinds.get(row["from_node"]) == "busbar" or kinds.get(row["to_node"]) == "busbar":
            if kinds.get(row["to_node"]) == "busbar" and kinds.get(row["from_node"]) != "busbar":
                row["from_node"], row["to_node"] = row["to_node"], row["from_node"]
            row["kind"] = "breaker"
    switches_df = gpd.GeoDataFrame(
        extra_switches or {"id": [], "from_node": [], "to_node": [], "kind": [], "normally_open": [], "geometry": []},
        geometry="geometry",
        crs=WGS84,
    )
    lines_df = gpd.GeoDataFrame(line_rows, geometry="geometry", crs=WGS84)
    load = net.load
    cust_rows = []
    for i, r in load.iterrows():
        b = int(r["bus"])
        if b not in points:
            continue
        scaling = float(r.get("scaling", 1.0) or 1.0)
        cust_rows.append(
            {
                "id": f"load:{i}",
                "name": str(r["name"]) if r["name"] is not None else f"load {i}",
                "node_id": nid(b),
                "category": "commercial",
                "importance": "normal",
                "demand_kw": max(0.0, float(r["p_mw"]) * scaling * 1000.0),
                "geometry": points[b],
            }
        )
    customers_df = gpd.GeoDataFrame(cust_rows, geometry="geometry", crs=WGS84)
    sub_rows = [
        {"id": sid, "name": str(net.ext_grid.at[int(sid.split(":")[1]), "name"] or sid), "geometry": points[int(b)]}
        for b, sid in sources.items()
        if int(b) in points
    ]
    substations_df = gpd.GeoDataFrame(sub_rows, geometry="geometry", crs=WGS84)
    centre = nodes_df.geometry.union_all().centroid
    mv = bus["vn_kv"][~bus.index.isin(list(sources))]
    nominal = float(mv.mode().iloc[0]) if len(mv) else float(bus["vn_kv"].iloc[0])
    meta = pd.DataFrame(
        {
            "key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor", "source"],
            "value": [name, timezone, f"{nominal:g}", _utm_epsg(centre.x, centre.y), "0.9", "pandapower"],
        }
    )
    layers = {
        "substations": substations_df,
        "nodes": nodes_df,
        "lines": lines_df,
        "switches": switches_df,
        "customers": customers_df,
        "meta": meta,
    }
    return Grid.from_layers(layers, join_distance_m=join_distance_m, source=f"pandapower:{name}")


def _hv_substations(net: Any, sources: dict[int, str]) -> dict[int, str]:
    """Substation id of every bus reachable from an external grid without crossing a transformer."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(int(b) for b in net.bus.index)
    lines = net.line[net.line["in_service"].astype(bool)]
    g.add_edges_from(zip(lines["from_bus"].astype(int), lines["to_bus"].astype(int), strict=True))
    sw = net.switch
    bb = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
    g.add_edges_from(zip(bb["bus"].astype(int), bb["element"].astype(int), strict=True))
    hv_kv = net.bus["vn_kv"]
    out: dict[int, str] = {}
    for b, sid in sources.items():
        level = float(hv_kv.get(b, 0.0))
        for x in nx.node_connected_component(g, b):
            if abs(float(hv_kv.get(x, 0.0)) - level) < 1e-6:
                out.setdefault(int(x), sid)
    return out


def to_pandapower(grid: Grid, *, at: datetime | None = None) -> Any:
    """A pandapower net of the grid in its normal state, for studies and as an oracle.

    One bus per node (``vn_kv``; named by node id), an external grid on every
    infeed busbar at its set-point (:func:`gis.powerflow.infeeds`), lines with
    the grid's impedances and ampacities (``grid.line_params``), bus-bus
    switches (closed unless normally open), transformers, one load per customer
    (``demand_kw``, or its load at ``at``; reactive power from
    ``meta.power_factor``) and one static generator per in-service DG unit
    (``p_kw``, or its output at ``at``). Element names carry the grid ids.
    """
    from gis.powerflow import infeeds

    pp = _pp()
    net = pp.create_empty_network(name=grid.name, f_hz=50.0)
    nodes = grid.nodes
    vn = nodes["vn_kv"].fillna(grid.nominal_kv).to_numpy(dtype=float)
    bus_idx = pp.create_buses(
        net,
        len(nodes),
        vn_kv=vn,
        name=nodes["id"].to_numpy(dtype=object),
        geodata=list(zip(nodes.geometry.x, nodes.geometry.y, strict=True)),
    )
    ix = pd.Series(bus_idx, index=nodes["id"].to_numpy(dtype=object))
    slack, vm = infeeds(grid)
    for b, v in zip(np.asarray(bus_idx)[slack], vm[slack], strict=True):
        pp.create_ext_grid(net, int(b), vm_pu=float(v))
    lines = grid.lines
    if len(lines):
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
    sw = grid.switches
    if len(sw):
        pp.create_switches(
            net,
            buses=ix[sw["from_node"]].to_numpy(),
            elements=ix[sw["to_node"]].to_numpy(),
            et="b",
            closed=~sw["normally_open"].to_numpy(dtype=bool),
            type=[{"breaker": "CB", "disconnector": "DS"}.get(k, "LBS") for k in sw["kind"]],
            name=sw["id"].to_numpy(dtype=object),
        )
    _export_transformers(pp, net, grid, ix, vn)
    cust = grid.customers
    tan_phi = math.tan(math.acos(min(max(grid.power_factor, 0.1), 1.0)))
    if len(cust):
        p_kw = grid.customer_load_kw(at).to_numpy() if at is not None else cust["demand_kw"].to_numpy(dtype=float)
        pp.create_loads(net, buses=ix[cust["node_id"]].to_numpy(), p_mw=p_kw / 1000.0, q_mvar=p_kw / 1000.0 * tan_phi,
                        name=cust["id"].to_numpy(dtype=object))
    dg = grid.dg
    if len(dg):
        dg = dg[dg["in_service"].astype(bool)]
        p_kw = dg["p_kw"].to_numpy(dtype=float)
        if at is not None:
            p_kw = p_kw * grid.profile_factors([at])[grid.profile_index(dg["profile"]), 0]
        for i, (b, p, kind) in enumerate(zip(ix[dg["node_id"]].to_numpy(), p_kw, dg["kind"], strict=True)):
            pp.create_sgen(net, int(b), p_mw=float(p) / 1000.0, name=str(dg["id"].iloc[i]), type=str(kind).upper())
    return net


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
    tan_phi = math.tan(math.acos(min(max(grid.power_factor, 0.1), 1.0)))
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
                p_kw = grid.customer_load_kw(at).to_numpy()
                net.load["p_mw"] = p_kw / 1000.0
                net.load["q_mvar"] = p_kw / 1000.0 * tan_phi
                if len(net.sgen):
                    dg = grid.dg[grid.dg["in_service"].astype(bool)]
                    factor = grid.profile_factors([at])[grid.profile_index(dg["profile"]), 0]
                    net.sgen["p_mw"] = dg["p_kw"].to_numpy(dtype=float) * factor / 1000.0
            rows.append(_pandapower_result(pp, net, at, ext_buses))
        out.append(rows)
    net.switch["closed"] = normal
    return out


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
