"""Synthetic open-ring distribution grids for tests and benchmarks (up to millions of nodes).

:func:`make_grid` lays out substations on a lattice (6 km apart, in a UTM zone
around a configurable centre), each with 8 feeders leaving its busbar through
breakers. A feeder is a trunk of RMUs 250 m apart; each RMU has a load-break
switch to the next trunk cable and, through fused branch switches, 1-3
distribution rooms, each supplying a few customers. Every feeder ends at a
normally-open tie to a partner feeder, mostly of the same substation, and for
a share of substations to a neighbouring one. About a third of the trunk
switches are remote-controlled and most carry fault indicators.

Everything is vectorised with NumPy so a 1,000,000-node grid builds in seconds;
the same ``n_nodes`` and ``seed`` give the same grid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gis.format import WGS84, Layers
from gis.grid import Grid

FEEDERS_PER_SUBSTATION = 8
SUBSTATION_SPACING_M = 6000.0
RMU_SPACING_M = 250.0
NODES_PER_RMU_APPROX = 2 + 2 * 2  # rmu + junction + 2 rooms x (junction + room)


def _ids(prefix: str, *parts: np.ndarray) -> np.ndarray:
    s = pd.Series(parts[0]).astype(str)
    for p in parts[1:]:
        s = s + "_" + pd.Series(p).astype(str)
    return (prefix + s).to_numpy(dtype=object)


def make_layers(
    n_nodes: int,
    *,
    seed: int = 0,
    centre_lonlat: tuple[float, float] = (7.42, 43.73),
    customers_per_room: tuple[int, int] = (2, 6),
) -> Layers:
    """The layers of a synthetic grid of about ``n_nodes`` nodes (see module doc).

    Coordinates are computed in metres in the UTM zone of ``centre_lonlat`` and
    stored as EPSG:4326 lon/lat.
    """
    if n_nodes < 20:
        raise ValueError("n_nodes must be at least 20")
    rng = np.random.default_rng(seed)
    n_rmus_target = max(2, n_nodes // NODES_PER_RMU_APPROX)
    mean_rmus = 10
    n_feeders = max(2, int(round(n_rmus_target / mean_rmus)))
    if n_feeders >= FEEDERS_PER_SUBSTATION:  # whole substations; feeders come in rings of two
        n_feeders = -(-n_feeders // FEEDERS_PER_SUBSTATION) * FEEDERS_PER_SUBSTATION
    n_feeders += n_feeders % 2
    rmus_per_feeder = rng.integers(6, 15, size=n_feeders)
    n_subs = max(1, -(-n_feeders // FEEDERS_PER_SUBSTATION))
    side = int(np.ceil(np.sqrt(n_subs)))
    zone = int((centre_lonlat[0] + 180) // 6) + 1
    utm = f"EPSG:{(32600 if centre_lonlat[1] >= 0 else 32700) + zone}"
    to_utm = pyproj.Transformer.from_crs(WGS84, utm, always_xy=True)
    to_wgs = pyproj.Transformer.from_crs(utm, WGS84, always_xy=True)
    cx, cy = to_utm.transform(*centre_lonlat)

    sub_idx = np.arange(n_subs)
    sub_x = cx + (sub_idx % side - side / 2) * SUBSTATION_SPACING_M
    sub_y = cy + (sub_idx // side - side / 2) * SUBSTATION_SPACING_M
    feeder_idx = np.arange(n_feeders)
    f_sub = feeder_idx // FEEDERS_PER_SUBSTATION
    f_k = feeder_idx % FEEDERS_PER_SUBSTATION
    angle = 2 * np.pi * (f_k + rng.uniform(-0.2, 0.2, n_feeders)) / FEEDERS_PER_SUBSTATION

    # trunk RMUs
    r_feeder = np.repeat(feeder_idx, rmus_per_feeder)
    starts = np.concatenate([[0], np.cumsum(rmus_per_feeder)[:-1]])
    r_j = np.arange(len(r_feeder)) - np.repeat(starts, rmus_per_feeder)
    dist = (r_j + 1) * RMU_SPACING_M
    wobble = rng.normal(0, 20, (len(r_feeder), 2))
    r_x = sub_x[f_sub[r_feeder]] + dist * np.cos(angle[r_feeder]) + wobble[:, 0]
    r_y = sub_y[f_sub[r_feeder]] + dist * np.sin(angle[r_feeder]) + wobble[:, 1]
    n_r = len(r_feeder)

    # branches: 1..3 rooms per RMU (mean 2)
    rooms_per_rmu = rng.integers(1, 4, size=n_r)
    d_rmu = np.repeat(np.arange(n_r), rooms_per_rmu)
    d_starts = np.concatenate([[0], np.cumsum(rooms_per_rmu)[:-1]])
    d_k = np.arange(len(d_rmu)) - np.repeat(d_starts, rooms_per_rmu)
    side_angle = angle[r_feeder[d_rmu]] + np.pi / 2 * np.where(d_k % 2 == 0, 1, -1)
    d_dist = 60.0 + 40.0 * (d_k // 2)
    d_x = r_x[d_rmu] + d_dist * np.cos(side_angle)
    d_y = r_y[d_rmu] + d_dist * np.sin(side_angle)
    n_d = len(d_rmu)

    # node index blocks: busbars | heads | rmus | trunk junctions | branch junctions | rooms
    o_bb = 0
    o_head = o_bb + n_subs
    o_rmu = o_head + n_feeders
    o_tj = o_rmu + n_r
    o_bj = o_tj + n_r
    o_room = o_bj + n_d
    n_total = o_room + n_d

    node_id = np.concatenate(
        [
            _ids("BB", sub_idx),
            _ids("H", feeder_idx),
            _ids("R", r_feeder, r_j),
            _ids("J", r_feeder, r_j),
            _ids("BJ", r_feeder[d_rmu], r_j[d_rmu], d_k),
            _ids("D", r_feeder[d_rmu], r_j[d_rmu], d_k),
        ]
    )
    kind = np.concatenate(
        [
            np.full(n_subs, "busbar", dtype=object),
            np.full(n_feeders, "junction", dtype=object),
            np.full(n_r, "rmu", dtype=object),
            np.full(n_r, "junction", dtype=object),
            np.full(n_d, "junction", dtype=object),
            np.full(n_d, "distribution_room", dtype=object),
        ]
    )
    head_x = sub_x[f_sub] + 40 * np.cos(angle)
    head_y = sub_y[f_sub] + 40 * np.sin(angle)
    tj_x = r_x + 15 * np.cos(angle[r_feeder])
    tj_y = r_y + 15 * np.sin(angle[r_feeder])
    bj_x = r_x[d_rmu] + 10 * np.cos(side_angle)
    bj_y = r_y[d_rmu] + 10 * np.sin(side_angle)
    nx_ = np.concatenate([sub_x, head_x, r_x, tj_x, bj_x, d_x])
    ny_ = np.concatenate([sub_y, head_y, r_y, tj_y, bj_y, d_y])
    lon, lat = to_wgs.transform(nx_, ny_)
    sub_ids = _ids("SUB", sub_idx)
    substation_id = np.full(n_total, None, dtype=object)
    substation_id[:n_subs] = sub_ids
    kva = np.full(n_total, np.nan)
    kva[o_room:] = rng.choice([400.0, 630.0, 800.0, 1000.0], size=n_d)
    nodes = gpd.GeoDataFrame(
        {"id": node_id, "kind": kind, "name": node_id, "substation_id": substation_id, "kva": kva},
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )

    # lines: head -> first rmu; trunk junction j -> rmu j+1; branch junction -> room
    first = starts
    not_last = np.ones(n_r, dtype=bool)
    not_last[np.cumsum(rmus_per_feeder) - 1] = False
    l_from = np.concatenate([o_head + feeder_idx, o_tj + np.flatnonzero(not_last), o_bj + np.arange(n_d)])
    l_to = np.concatenate([o_rmu + first, o_rmu + np.flatnonzero(not_last) + 1, o_room + np.arange(n_d)])
    l_kind = np.where(rng.random(len(l_from)) < 0.85, "cable", "overhead").astype(object)
    n_trunk_lines = n_feeders + int(not_last.sum())
    l_rating = np.concatenate([np.full(n_trunk_lines, 400.0), np.full(n_d, 200.0)])
    coords = np.stack(
        [np.stack([nx_[l_from], ny_[l_from]], axis=1), np.stack([nx_[l_to], ny_[l_to]], axis=1)], axis=1
    )
    length = np.hypot(coords[:, 1, 0] - coords[:, 0, 0], coords[:, 1, 1] - coords[:, 0, 1])
    llon, llat = to_wgs.transform(coords[..., 0].ravel(), coords[..., 1].ravel())
    line_geom = shapely.linestrings(np.stack([llon, llat], axis=1).reshape(-1, 2, 2))
    lines = gpd.GeoDataFrame(
        {
            "id": _ids("L", np.arange(len(l_from))),
            "from_node": node_id[l_from],
            "to_node": node_id[l_to],
            "kind": l_kind,
            "rating_a": l_rating,
            "length_m": length,
        },
        geometry=line_geom,
        crs=WGS84,
    )

    # switches: feeder breakers, trunk switches rmu -> trunk junction, branch switches, ties
    last = np.cumsum(rmus_per_feeder) - 1
    # rings: feeders (2i, 2i+1) of a substation, except that for each pair of
    # substations (s, s+1), s even, feeders 0 and 1 tie across: (s,0)-(s+1,1), (s,1)-(s+1,0)
    partner = feeder_idx ^ 1
    fps = FEEDERS_PER_SUBSTATION
    whole = n_feeders % fps == 0
    cross_even = whole & (f_sub % 2 == 0) & (f_k < 2) & (f_sub + 1 < n_subs)
    cross_odd = whole & (f_sub % 2 == 1) & (f_k < 2)
    partner = np.where(cross_even, (f_sub + 1) * fps + (1 - f_k), partner)
    partner = np.where(cross_odd, (f_sub - 1) * fps + (1 - f_k), partner)
    assert (partner[partner] == feeder_idx).all()
    tie_a = feeder_idx[feeder_idx < partner]
    tie_b = partner[feeder_idx < partner]
    s_from = np.concatenate([o_bb + f_sub, o_rmu + np.arange(n_r), o_rmu + d_rmu, o_rmu + last[tie_a]])
    s_to = np.concatenate([o_head + feeder_idx, o_tj + np.arange(n_r), o_bj + np.arange(n_d), o_rmu + last[tie_b]])
    # the trunk switch after the last RMU leads to a junction that ends the feeder
    s_kind = np.concatenate(
        [
            np.full(n_feeders, "breaker", dtype=object),
            np.full(n_r, "load_break", dtype=object),
            np.where(rng.random(n_d) < 0.7, "fuse", "load_break").astype(object),
            np.full(len(tie_a), "load_break", dtype=object),
        ]
    )
    n_sw = len(s_from)
    s_open = np.zeros(n_sw, dtype=bool)
    s_open[-len(tie_a) :] = True
    s_remote = np.zeros(n_sw, dtype=bool)
    s_remote[:n_feeders] = True
    s_remote[n_feeders : n_feeders + n_r] = rng.random(n_r) < 0.33
    s_remote[-len(tie_a) :] = rng.random(len(tie_a)) < 0.5
    s_fi = np.zeros(n_sw, dtype=bool)
    s_fi[: n_feeders + n_r] = rng.random(n_feeders + n_r) < 0.85
    s_rating = np.full(n_sw, np.nan)
    s_rating[:n_feeders] = rng.choice([400.0, 500.0, 600.0], size=n_feeders)
    slon, slat = lon[s_from], lat[s_from]
    switches = gpd.GeoDataFrame(
        {
            "id": _ids("S", np.arange(n_sw)),
            "from_node": node_id[s_from],
            "to_node": node_id[s_to],
            "kind": s_kind,
            "normally_open": s_open,
            "remote": s_remote,
            "fault_indicator": s_fi,
            "rating_a": s_rating,
        },
        geometry=shapely.points(slon, slat),
        crs=WGS84,
    )

    # customers
    per_room = rng.integers(customers_per_room[0], customers_per_room[1] + 1, size=n_d)
    c_room = np.repeat(np.arange(n_d), per_room)
    n_c = len(c_room)
    c_x = d_x[c_room] + rng.normal(0, 25, n_c)
    c_y = d_y[c_room] + rng.normal(0, 25, n_c)
    clon, clat = to_wgs.transform(c_x, c_y)
    importance = rng.choice(
        np.array(["special", "first", "second", "temporary", "normal"], dtype=object),
        size=n_c,
        p=[0.001, 0.004, 0.01, 0.003, 0.982],
    )
    category = rng.choice(
        np.array(["residential", "commercial", "industrial", "public"], dtype=object), size=n_c, p=[0.7, 0.2, 0.05, 0.05]
    )
    profile = np.where(category == "residential", "H0", np.where(category == "industrial", "flat", "G0")).astype(object)
    # size demand so feeders peak around 40-85 % of a 400-600 A rating
    demand = np.round(rng.gamma(2.0, 25.0, n_c) * np.where(category == "industrial", 4.0, 1.0), 1)
    important = np.isin(importance, ["special", "first", "second"])
    customers = gpd.GeoDataFrame(
        {
            "id": _ids("C", np.arange(n_c)),
            "name": _ids("Customer ", np.arange(n_c)),
            "node_id": node_id[o_room + c_room],
            "category": category,
            "importance": importance,
            "demand_kw": demand,
            "profile": profile,
            "backup_power": important & (rng.random(n_c) < 0.4),
            "dual_supply": important & (rng.random(n_c) < 0.3),
        },
        geometry=shapely.points(clon, clat),
        crs=WGS84,
    )
    substations = gpd.GeoDataFrame(
        {"id": sub_ids, "name": _ids("Substation ", sub_idx), "capacity_kva": np.full(n_subs, 40000.0)},
        geometry=shapely.points(*to_wgs.transform(sub_x, sub_y)),
        crs=WGS84,
    )
    depots = gpd.GeoDataFrame({"id": ["DEPOT0"], "name": ["Depot"]}, geometry=shapely.points([lon[0]], [lat[0]]), crs=WGS84)
    meta = pd.DataFrame(
        {
            "key": ["name", "timezone", "nominal_kv", "metric_crs", "power_factor", "synthetic"],
            "value": [f"synthetic-{n_nodes}-{seed}", "Europe/Monaco", "10", utm.split(":")[1], "0.9", "true"],
        }
    )
    return {
        "substations": substations,
        "nodes": nodes,
        "lines": lines,
        "switches": switches,
        "customers": customers,
        "depots": depots,
        "meta": meta,
        "profiles": synthetic_profiles(),
    }


def synthetic_profiles() -> pd.DataFrame:
    """Three simple shapes: ``H0``-like household (evening peak), ``G0``-like business
    (office hours), ``flat`` (24 h). Factors are shares of ``demand_kw``."""
    minutes = np.arange(0, 1440, 15)
    h = minutes / 60.0
    house = 0.35 + 0.25 * np.exp(-((h - 8) ** 2) / 2) + 0.65 * np.exp(-((h - 19.5) ** 2) / 4)
    office = 0.25 + 0.75 * ((h >= 8) & (h < 18))
    rows = []
    for day, weekend in (("weekday", 1.0), ("saturday", 0.8), ("sunday", 0.7)):
        for name, shape in (("H0", house), ("G0", office * (1.0 if day == "weekday" else 0.5)), ("flat", np.ones_like(h))):
            f = shape / shape.max() * (weekend if name == "H0" else 1.0)
            rows.append(pd.DataFrame({"profile": name, "day_type": day, "minute_of_day": minutes, "factor": np.round(f, 4)}))
    return pd.concat(rows, ignore_index=True)


def make_grid(n_nodes: int, *, seed: int = 0, centre_lonlat: tuple[float, float] = (7.42, 43.73)) -> Grid:
    """A validated synthetic :class:`Grid` of about ``n_nodes`` nodes (see :func:`make_layers`)."""
    return Grid.from_layers(make_layers(n_nodes, seed=seed, centre_lonlat=centre_lonlat), source=f"synthetic:{n_nodes}:{seed}")
