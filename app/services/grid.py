"""Grid and road network loading, grid layers as RFC 7946 GeoJSON."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import geopandas as gpd

from app.config import ConfigError
from gis import (
    Grid,
    GridValidationError,
    InputError,
    NotFoundError,
    OutageError,
    load_grid,
    to_geojson,
)
from routing import RoadNetwork
from routing import load_roads as load_road_network

log = logging.getLogger(__name__)

LAYERS = ("substations", "nodes", "lines", "switches", "customers", "depots")
PRIVATE_COLUMNS = ("phone",)


def load(path: str) -> Grid:
    """Load and validate the grid; a bad grid stops start-up with every problem listed."""
    try:
        grid = load_grid(path)
    except GridValidationError as exc:
        raise ConfigError(f"GRID_PATH {path}: {exc.message}", details=exc.details) from exc
    except OutageError as exc:
        raise ConfigError(f"GRID_PATH {path}: {exc.message}", details=exc.details) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"GRID_PATH {path} cannot be read: {exc}") from exc
    log.info("grid loaded from %s: %s", path, grid.summary())
    return grid


def load_roads(path: str | None, grid: Grid) -> RoadNetwork | None:
    """The road network with the grid's access points snapped, or None when not configured.

    Routing endpoints answer 503 when this is None.
    """
    if not path:
        return None
    points = dict(grid.access_points())
    depots = grid.depots
    for _, row in depots.iterrows():
        points[str(row["id"])] = (float(row.geometry.x), float(row.geometry.y))
    names = {str(r["id"]): str(r.get("name") or r["id"]) for _, r in grid.nodes.iterrows()}
    try:
        return load_road_network(Path(path), access_points=points, names=names)
    except OutageError as exc:
        raise ConfigError(f"ROADS_PATH {path}: {exc.message}", details=exc.details) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"ROADS_PATH {path} cannot be read: {exc}") from exc


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minLon,minLat,maxLon,maxLat`` (WGS84) or None."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise InputError("bbox must be minLon,minLat,maxLon,maxLat", details={"bbox": raw})
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise InputError("bbox values must be numbers", details={"bbox": raw}) from None
    if not all(math.isfinite(v) for v in vals):
        raise InputError("bbox values must be finite", details={"bbox": raw})
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError("bbox must have minLon<=maxLon in [-180,180] and minLat<=maxLat in [-90,90]", details={"bbox": raw})
    return x0, y0, x1, y1


def layer_frame(grid: Grid, name: str, *, with_phones: bool) -> gpd.GeoDataFrame:
    if name not in LAYERS:
        raise NotFoundError(f"no layer {name!r}; layers are {', '.join(LAYERS)}")
    gdf = getattr(grid, name)
    if not with_phones:
        drop = [c for c in PRIVATE_COLUMNS if c in gdf.columns]
        if drop:
            gdf = gdf.drop(columns=drop)
    return gdf


def layer_geojson(
    grid: Grid, name: str, *, bbox: tuple[float, float, float, float] | None, with_phones: bool, cache: dict[Any, bytes]
) -> bytes:
    """The layer (optionally only features intersecting ``bbox``) as GeoJSON bytes.

    Full layers are cached per (layer, phones) because the grid never changes.
    """
    key = (name, with_phones)
    if bbox is None and key in cache:
        return cache[key]
    gdf = layer_frame(grid, name, with_phones=with_phones)
    if bbox is not None:
        gdf = gdf.cx[bbox[0] : bbox[2], bbox[1] : bbox[3]]
    doc = to_geojson(gdf)
    if len(gdf):
        doc["bbox"] = [float(v) for v in gdf.total_bounds]
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    if bbox is None:
        cache[key] = data
    return data
