"""Validation of grid layers: every problem is collected and reported, nothing is half-loaded.

:func:`check_layers` takes raw layers (as read by :mod:`gis.format`) and returns
the cleaned layers (types coerced, CRS made EPSG:4326, lengths filled, customers
joined to supply nodes) together with the list of :class:`~gis.errors.Problem`.
Topological checks (reachability, loops) need the section index and are done
by :mod:`gis.grid` with the helpers here.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gis.catalogue import BUSBAR_RATING_A
from gis.errors import Problem
from gis.format import ENUMS, LAYERS, REQUIRED_META, SUPPLY_NODE_KINDS, WGS84, Layers, normalise

MAX_IDS = 50  # ids listed per problem; the message says how many in all


def _ids(values: object) -> tuple[str, ...]:
    return tuple(str(v) for v in list(values)[:MAX_IDS])  # type: ignore[call-overload]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


class Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, code: str, message: str, ids: object = (), layer: str | None = None) -> None:
        self.problems.append(Problem(code, "error", message, _ids(ids), layer))

    def warn(self, code: str, message: str, ids: object = (), layer: str | None = None) -> None:
        self.problems.append(Problem(code, "warning", message, _ids(ids), layer))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def check_layers(raw: Mapping[str, pd.DataFrame], *, join_distance_m: float = 500.0) -> tuple[Layers, dict[str, str], Checker]:
    """Validate and clean raw layers.

    Returns ``(layers, meta, checker)``. When ``checker.has_errors`` the layers
    must not be used to build a grid.
    """
    ck = Checker()
    raw = dict(raw)
    for name, schema in LAYERS.items():
        if name not in raw:
            if schema.required:
                ck.error("missing_layer", f"layer {name!r} is missing", layer=name)
            continue
        missing = [c.name for c in schema.columns if c.required and c.name not in raw[name].columns]
        if missing:
            ck.error("missing_column", f"layer {name!r} lacks column(s) {', '.join(missing)}", layer=name)
    if ck.has_errors:
        return {}, {}, ck

    meta = _check_meta(raw["meta"], ck)
    layers = _check_crs(raw, ck)
    layers, type_issues = normalise(layers)
    for ti in type_issues:
        ck.error(
            "bad_value",
            f"{ti.layer}.{ti.column}: {_count(len(ti.ids), 'value')} not {ti.expected}",
            ti.ids,
            ti.layer,
        )
    _check_geometry(layers, ck)
    _check_ids(layers, ck)
    _check_accounts(layers, ck)
    _check_enums(layers, ck)
    _check_numbers(layers, ck)
    _check_references(layers, ck)
    _check_profiles(layers, ck)
    _check_ratings(layers, ck)
    if not ck.has_errors and "metric_crs" in meta:
        _fill_lengths(layers, meta["metric_crs"])
        _join_customers(layers, meta["metric_crs"], join_distance_m, ck)
    return layers, meta, ck


def _check_meta(df: pd.DataFrame, ck: Checker) -> dict[str, str]:
    meta = {str(k): "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for k, v in zip(df["key"], df["value"], strict=True)}
    for key in REQUIRED_META:
        if not meta.get(key):
            ck.error("missing_meta", f"meta lacks {key!r}", (key,), "meta")
    tz = meta.get("timezone")
    if tz:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            ck.error("bad_meta", f"meta timezone {tz!r} is not an IANA time zone", ("timezone",), "meta")
    crs = meta.get("metric_crs")
    if crs:
        try:
            c = pyproj.CRS.from_user_input(int(crs) if crs.isdigit() else crs)
            if not c.is_projected:
                ck.error("bad_meta", f"meta metric_crs {crs!r} is not a projected (metric) CRS", ("metric_crs",), "meta")
            else:
                meta["metric_crs"] = c.to_string()
        except (pyproj.exceptions.CRSError, ValueError):
            ck.error("bad_meta", f"meta metric_crs {crs!r} is not a known CRS", ("metric_crs",), "meta")
    for key in ("nominal_kv", "power_factor"):
        if meta.get(key):
            try:
                v = float(meta[key])
                if not (v > 0 and math.isfinite(v)):
                    raise ValueError
            except ValueError:
                ck.error("bad_meta", f"meta {key} {meta[key]!r} is not a positive number", (key,), "meta")
    return meta


def _check_crs(raw: Mapping[str, pd.DataFrame], ck: Checker) -> Layers:
    out: Layers = {}
    for name, df in raw.items():
        schema = LAYERS.get(name)
        if schema is None or not schema.geometry:
            out[name] = df
            continue
        if not isinstance(df, gpd.GeoDataFrame):
            ck.error("missing_geometry", f"layer {name!r} has no geometry column", layer=name)
            out[name] = df
            continue
        if df.crs is None and df.empty:
            df = df.set_crs(WGS84)  # an empty layer (e.g. read back from PostGIS) has nothing to place
        elif df.crs is None:
            ck.error("missing_crs", f"layer {name!r} has no CRS (expected EPSG:4326)", layer=name)
        elif not df.crs.equals(WGS84):
            ck.warn("reprojected", f"layer {name!r} was in {df.crs.to_string()}; reprojected to EPSG:4326", layer=name)
            df = df.to_crs(WGS84)
        out[name] = df
    return out


def _check_geometry(layers: Layers, ck: Checker) -> None:
    for name, schema in LAYERS.items():
        df = layers.get(name)
        if schema.geometry is None or df is None or not isinstance(df, gpd.GeoDataFrame) or "id" not in df:
            continue
        geom = df.geometry
        missing = geom.isna() | geom.is_empty
        if missing.any():
            ck.error("missing_geometry", f"{name}: {_count(int(missing.sum()), 'feature')} without geometry", df["id"][missing], name)
        present = ~missing
        wrong = present & (geom.geom_type != schema.geometry)
        if wrong.any():
            ck.error("bad_geometry", f"{name}: geometry must be {schema.geometry}", df["id"][wrong], name)
        invalid = present & ~wrong & ~geom.is_valid
        if schema.geometry == "LineString":
            invalid |= present & ~wrong & (shapely.get_num_points(geom.values) < 2)
        if invalid.any():
            ck.error("bad_geometry", f"{name}: invalid geometry", df["id"][invalid], name)
        ok = present & ~wrong
        if not ok.any() or df.crs is None:
            continue
        coords = shapely.get_coordinates(geom[ok].values)
        x, y = coords[:, 0], coords[:, 1]
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            ck.error("bad_geometry", f"{name}: non-finite coordinates", df["id"][ok], name)
            continue
        bounds = geom[ok].bounds
        out_lat = (bounds["miny"] < -90) | (bounds["maxy"] > 90)
        out_lon = (bounds["minx"] < -180) | (bounds["maxx"] > 180)
        swapped = out_lat & (bounds["maxx"].abs() <= 90)
        if swapped.any():
            ids = df["id"][ok][swapped]
            ck.error("swapped_coordinates", f"{name}: latitude out of range but longitude would fit: coordinates look swapped (lat, lon); write lon, lat", ids, name)
        bad = (out_lat | out_lon) & ~swapped
        if bad.any():
            ck.error("coordinates_out_of_range", f"{name}: coordinates outside lon [-180, 180] / lat [-90, 90]", df["id"][ok][bad], name)


def check_swapped_against_crs(layers: Layers, metric_crs: str, ck: Checker) -> None:
    """Flag a grid whose points lie outside the metric CRS's area but would fit if swapped."""
    try:
        area = pyproj.CRS(metric_crs).area_of_use
    except pyproj.exceptions.CRSError:
        return
    if area is None:
        return
    w, s, e, n = area.bounds
    for name in ("nodes", "substations", "customers"):
        df = layers.get(name)
        if not isinstance(df, gpd.GeoDataFrame) or df.empty:
            continue
        has = (df.geometry.notna() & ~df.geometry.is_empty & (df.geometry.geom_type == "Point")).to_numpy()
        if not has.any():
            continue
        x = np.full(len(df), np.nan)
        y = np.full(len(df), np.nan)
        x[has], y[has] = df.geometry[has].x.to_numpy(), df.geometry[has].y.to_numpy()
        inside = (x >= w) & (x <= e) & (y >= s) & (y <= n)
        swapped_inside = (y >= w) & (y <= e) & (x >= s) & (x <= n)
        if inside[has].mean() < 0.5 and swapped_inside[has].mean() > 0.9:
            ck.error(
                "swapped_coordinates",
                f"{name}: points lie outside the area of {metric_crs} but would fit with lon and lat swapped",
                df["id"][has & ~inside],
                name,
            )


def _check_ids(layers: Layers, ck: Checker) -> None:
    parts = []
    for name in LAYERS:
        df = layers.get(name)
        if df is None or "id" not in df.columns:
            continue
        missing = df["id"].isna() | (df["id"] == "")
        if missing.any():
            ck.error("missing_id", f"{name}: {_count(int(missing.sum()), 'feature')} without id", (), name)
        parts.append(pd.DataFrame({"id": df["id"][~missing], "layer": name}))
    if not parts:
        return
    all_ids = pd.concat(parts, ignore_index=True)
    dup = all_ids[all_ids["id"].duplicated(keep=False)]
    if not dup.empty:
        ids = sorted(set(dup["id"]))
        ck.error("duplicate_id", f"{_count(len(ids), 'id')} used more than once (ids are unique across all layers)", ids)


def _check_accounts(layers: Layers, ck: Checker) -> None:
    """Customers' account numbers (optional) are unique: the public lookup answers by them."""
    df = layers.get("customers")
    if df is None or "account" not in df.columns:
        return
    given = df.loc[df["account"].notna() & (df["account"].astype(str) != ""), ["id", "account"]]
    dup = given[given["account"].duplicated(keep=False)]
    if not dup.empty:
        ck.error("duplicate_account", f"{_count(int(dup['account'].nunique()), 'account number')} given to more than one customer",
                 sorted(map(str, dup["id"])), "customers")


def _check_enums(layers: Layers, ck: Checker) -> None:
    for (name, col), allowed in ENUMS.items():
        df = layers.get(name)
        if df is None or col not in df.columns:
            continue
        bad = ~df[col].isin(allowed)
        if bad.any():
            ids = df["id"][bad] if "id" in df.columns else df[bad].index.astype(str)
            values = sorted({str(v) for v in df[col][bad]})[:5]
            ck.error("bad_enum", f"{name}.{col}: {values} not in {list(allowed)}", ids, name)


_NON_NEGATIVE = {
    "substations": ("capacity_kva",),
    "nodes": ("kva", "rating_a"),
    "lines": ("rating_a", "length_m", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km"),
    "switches": ("rating_a",),
    "customers": ("demand_kw",),
    "profiles": ("factor",),
    "transformers": ("vk_percent", "vkr_percent", "pfe_kw", "i0_percent", "tap_step_percent"),
    "dg": ("p_kw",),
    "line_types": ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "rating_a"),
}


def _power_factor_rule(cust: pd.DataFrame, ck: Checker) -> None:
    """A customer's ``power_factor``, where given: 0.1 <= |pf| <= 1 (negative: leading, capacitive)."""
    if "power_factor" not in cust.columns:
        return
    pf = cust["power_factor"].to_numpy(dtype=float)
    bad = ~np.isnan(pf) & ~((np.abs(pf) >= 0.1) & (np.abs(pf) <= 1.0))
    if bad.any():
        ck.error("bad_number", "customers.power_factor: must lie in 0.1..1 (or -1..-0.1 for a leading load)", cust["id"][bad], "customers")


def _number_rule(layers: Layers, ck: Checker, rules: Mapping[str, tuple[str, ...]], *, positive: bool) -> None:
    """Columns that must be >= 0 (or > 0), finite, and present where the schema requires them."""
    for name, cols in rules.items():
        df = layers.get(name)
        if df is None:
            continue
        for col in cols:
            if col not in df.columns:
                continue
            v = df[col].to_numpy(dtype=float)
            bad = ((v <= 0) if positive else (v < 0)) | np.isinf(v)
            if any(c.name == col and c.required for c in LAYERS[name].columns):
                bad |= np.isnan(v)
            if bad.any():
                key = "id" if "id" in df.columns else "type"
                what = "must be a positive number" if positive else "negative, infinite or missing values"
                ck.error("bad_number", f"{name}.{col}: {what}", df[key][bad], name)


#: The largest plausible value of each quantity on a distribution grid, with its unit
#: (docs/grid-format.md, "Plausible ranges"). A larger one is a typo or a unit slip
#: (W for kW, mm for m) and would overflow the planner's integer model.
PLAUSIBLE_MAX: dict[str, dict[str, tuple[float, str]]] = {
    "substations": {"capacity_kva": (5e6, "kVA")},
    "nodes": {"kva": (5e6, "kVA"), "rating_a": (1e5, "A"), "vn_kv": (1000, "kV")},
    "lines": {"rating_a": (1e5, "A"), "length_m": (1e6, "m"), "r_ohm_per_km": (1e3, "ohm/km"),
              "x_ohm_per_km": (1e3, "ohm/km"), "c_nf_per_km": (1e6, "nF/km")},
    "switches": {"rating_a": (1e5, "A")},
    "customers": {"demand_kw": (1e6, "kW")},
    "profiles": {"factor": (100, "")},
    "transformers": {"sn_kva": (5e6, "kVA"), "vn_hv_kv": (1000, "kV"), "vn_lv_kv": (1000, "kV"), "vk_percent": (100, "%"),
                     "vkr_percent": (100, "%"), "pfe_kw": (1e4, "kW"), "i0_percent": (100, "%"), "tap_step_percent": (100, "%")},
    "dg": {"p_kw": (1e6, "kW")},
    "line_types": {"r_ohm_per_km": (1e3, "ohm/km"), "x_ohm_per_km": (1e3, "ohm/km"), "c_nf_per_km": (1e6, "nF/km"),
                   "rating_a": (1e5, "A")},
}


def _plausible_rule(layers: Layers, ck: Checker) -> None:
    """Every finite value of :data:`PLAUSIBLE_MAX`'s columns at most its bound (errors name the elements)."""
    for name, cols in PLAUSIBLE_MAX.items():
        df = layers.get(name)
        if df is None:
            continue
        key = "id" if "id" in df.columns else "type"
        for col, (top, unit) in cols.items():
            if col not in df.columns:
                continue
            v = df[col].to_numpy(dtype=float)
            bad = np.isfinite(v) & (np.abs(v) > top)
            if bad.any():
                ck.error("implausible_number", f"{name}.{col}: {_count(int(bad.sum()), 'value')} above the plausible "
                         f"{top:g} {unit}".rstrip() + " (a unit slip?)", df[key][bad], name)


# numbers that must be > 0 when given (a zero would divide or short-circuit)
_POSITIVE = {
    "nodes": ("vn_kv", "vm_pu"),
    "transformers": ("sn_kva", "vn_hv_kv", "vn_lv_kv"),
    "line_types": ("rating_a",),
}


def _check_numbers(layers: Layers, ck: Checker) -> None:
    _number_rule(layers, ck, _NON_NEGATIVE, positive=False)
    _power_factor_rule(layers["customers"], ck)
    _number_rule(layers, ck, _POSITIVE, positive=True)
    _plausible_rule(layers, ck)
    nodes = layers.get("nodes")
    if nodes is not None and "vm_pu" in nodes:
        odd = (nodes["vm_pu"] < 0.8) | (nodes["vm_pu"] > 1.2)
        if odd.any():
            ck.error("bad_number", "nodes.vm_pu (a voltage set-point) must lie within 0.8..1.2 pu", nodes["id"][odd], "nodes")
    types = layers.get("line_types")
    if types is not None and "type" in types:
        dup = types["type"].duplicated(keep=False) | types["type"].isna()
        if dup.any():
            ck.error("bad_line_type", "line_types: every type needs a name, given once", types["type"][dup].fillna(""), "line_types")
    if nodes is not None and "access_lon" in nodes:
        half = nodes["access_lon"].isna() != nodes["access_lat"].isna()
        out = (nodes["access_lon"].abs() > 180) | (nodes["access_lat"].abs() > 90)
        if (half | out).any():
            ck.error("bad_access_point", "nodes: access_lon/access_lat must both be given and be lon/lat", nodes["id"][half | out], "nodes")


def _check_references(layers: Layers, ck: Checker) -> None:
    nodes = layers["nodes"]
    node_ids = pd.Index(nodes["id"].dropna())
    if not node_ids.is_unique:  # reported as duplicate_id; look up the first of each
        node_ids = node_ids.drop_duplicates()
    subs = pd.Index(layers["substations"]["id"].dropna())
    busbar = nodes["kind"] == "busbar"
    no_sub = busbar & (nodes["substation_id"].isna() | ~nodes["substation_id"].isin(subs))
    if no_sub.any():
        ck.error("busbar_without_substation", "busbar without an existing substation_id (busbars are the sources)", nodes["id"][no_sub], "nodes")
    if not busbar.any():
        ck.error("no_source", "the grid has no busbar, so nothing is energised", (), "nodes")
    for name in ("lines", "switches"):
        df = layers[name]
        for col in ("from_node", "to_node"):
            bad = node_ids.get_indexer(df[col]) < 0  # one hash table for all lookups
            if bad.any():
                ck.error("missing_reference", f"{name}.{col} names nodes that do not exist", df["id"][bad], name)
        same = df["from_node"] == df["to_node"]
        if same.any():
            ck.error("self_loop", f"{name}: from_node equals to_node", df["id"][same], name)
    cust = layers["customers"]
    bad = cust["node_id"].notna().to_numpy() & (node_ids.get_indexer(cust["node_id"]) < 0)
    if bad.any():
        ck.error("missing_reference", "customers.node_id names nodes that do not exist", cust["id"][bad], "customers")
    other = nodes["substation_id"].notna() & ~busbar & ~nodes["substation_id"].isin(subs)
    if other.any():
        ck.error("missing_reference", "nodes.substation_id names substations that do not exist", nodes["id"][other], "nodes")
    for name, cols in (("transformers", ("hv_node", "lv_node")), ("dg", ("node_id",))):
        df = layers.get(name)
        if df is None:
            continue
        for col in cols:
            bad = node_ids.get_indexer(df[col]) < 0
            if bad.any():
                ck.error("missing_reference", f"{name}.{col} names nodes that do not exist", df["id"][bad], name)
        if name == "transformers":
            same = df["hv_node"] == df["lv_node"]
            if same.any():
                ck.error("self_loop", "transformers: hv_node equals lv_node", df["id"][same], name)
            bad_sub = df["substation_id"].notna() & ~df["substation_id"].isin(subs)
            if bad_sub.any():
                ck.error("missing_reference", "transformers.substation_id names substations that do not exist", df["id"][bad_sub], name)


def _check_ratings(layers: Layers, ck: Checker) -> None:
    """Warn about every rated element without a rating, naming the default used (lines: gis.catalogue)."""
    nodes = layers["nodes"]
    bus = (nodes["kind"] == "busbar") & nodes["rating_a"].isna()
    if bus.any():
        ck.warn("missing_rating", f"{_count(int(bus.sum()), 'busbar')} without rating_a: {BUSBAR_RATING_A:g} A is assumed", nodes["id"][bus], "nodes")
    trafo_nodes = nodes["kind"].isin(SUPPLY_NODE_KINDS) & nodes["kva"].isna()
    if trafo_nodes.any():
        ck.warn("missing_rating", f"{_count(int(trafo_nodes.sum()), 'distribution transformer')} without kva: their loading is not checked", nodes["id"][trafo_nodes], "nodes")
    trafos = layers.get("transformers")
    if trafos is not None and len(trafos):
        no_vk = trafos["vk_percent"].isna() | trafos["vkr_percent"].isna()
        if no_vk.any():
            ck.warn("missing_impedance", "transformers without vk_percent/vkr_percent: 12 %/0.4 % (from 2.5 MVA) or 6 %/1.2 % are assumed", trafos["id"][no_vk], "transformers")
    else:
        subs = layers["substations"]
        no_cap = subs["capacity_kva"].isna()
        if no_cap.any():
            ck.warn("missing_rating", "substations without capacity_kva and no transformers layer: their transformer loading is not checked", subs["id"][no_cap], "substations")


def _check_profiles(layers: Layers, ck: Checker) -> None:
    prof = layers.get("profiles")
    names = set(prof["profile"].dropna()) if prof is not None else set()
    for layer in ("customers", "dg"):
        df = layers.get(layer)
        if df is None:
            continue
        bad = df["profile"].notna() & ~df["profile"].isin(names)
        if bad.any():
            ck.error("missing_profile", f"{layer} name profiles that the profiles table lacks", df["id"][bad], layer)
    if prof is None or prof.empty:
        return
    minute = prof["minute_of_day"]
    bad_min = minute.isna() | (minute < 0) | (minute >= 1440) | (minute % 15 != 0)
    if bad_min.any():
        ck.error("bad_profile", "profiles.minute_of_day must be 0, 15, ..., 1425", prof.loc[bad_min, "profile"].unique(), "profiles")
        return
    counts = prof.groupby(["profile", "day_type"]).size()
    short = counts[counts != 96]
    if not short.empty:
        ck.error("bad_profile", "each profile and day type needs 96 quarter-hour factors", sorted({p for p, _ in short.index}), "profiles")
    have = prof.groupby("profile")["day_type"].nunique()
    partial = have[have < 3]
    if not partial.empty:
        ck.error("bad_profile", "each profile needs weekday, saturday and sunday factors", partial.index, "profiles")
    dup = prof.duplicated(["profile", "day_type", "minute_of_day"])
    if dup.any():
        ck.error("bad_profile", "profiles repeat a (profile, day_type, minute_of_day)", prof.loc[dup, "profile"].unique(), "profiles")


def _fill_lengths(layers: Layers, metric_crs: str) -> None:
    lines = layers["lines"]
    missing = lines["length_m"].isna()
    if missing.any():
        lengths = lines.geometry[missing].to_crs(metric_crs).length
        lines.loc[missing, "length_m"] = lengths.to_numpy()


def _join_customers(layers: Layers, metric_crs: str, max_distance_m: float, ck: Checker) -> None:
    cust = layers["customers"]
    todo = cust["node_id"].isna()
    cust["node_joined"] = todo
    if not todo.any():
        return
    nodes = layers["nodes"]
    supply = nodes[nodes["kind"].isin(SUPPLY_NODE_KINDS)]
    if supply.empty:
        ck.error("unjoined_customer", "customers without node_id and no distribution room / pole transformer to join them to", cust["id"][todo], "customers")
        return
    left = cust.loc[todo, ["id", "geometry"]].to_crs(metric_crs)
    right = supply[["id", "geometry"]].rename(columns={"id": "supply_id"}).to_crs(metric_crs)
    joined = gpd.sjoin_nearest(left, right, how="left", max_distance=max_distance_m, distance_col="d")
    joined = joined[~joined.index.duplicated(keep="first")]
    cust.loc[joined.index, "node_id"] = joined["supply_id"].to_numpy(dtype=object)
    still = todo & cust["node_id"].isna()
    if still.any():
        ck.error(
            "unjoined_customer",
            f"customers without node_id and no distribution room / pole transformer within {max_distance_m:g} m",
            cust["id"][still],
            "customers",
        )
    cust["node_id"] = cust["node_id"].astype(object).where(cust["node_id"].notna(), None)
