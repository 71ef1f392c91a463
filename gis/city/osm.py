"""Read the parts of an OpenStreetMap extract that the city builder needs.

Everything here is offline: :mod:`pyrosm` parses the ``.osm.pbf`` file.  Rows
come back sorted by OSM type and id, so that later steps never depend on the
order in which the parser happened to emit them.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

log = logging.getLogger(__name__)

#: POI keys read from the extract (points and areas); their tags decide the
#: category and importance of the buildings they sit in or cover.
POI_FILTER: dict[str, Any] = {
    "amenity": True,
    "shop": True,
    "office": True,
    "tourism": True,
    "leisure": True,
    "healthcare": True,
    "craft": True,
    "government": True,
    "emergency": True,
    "railway": ["station", "halt"],
    "public_transport": ["station"],
    "man_made": True,
    "telecom": True,
    "aeroway": ["terminal", "aerodrome", "heliport"],
    "landuse": True,
    "historic": True,
}

#: Place kinds used to name substations and depots after the neighbourhood.
PLACE_KINDS = ("city", "town", "village", "suburb", "quarter", "neighbourhood", "hamlet")

_SKIP_COLUMNS = {"tags", "geometry", "visible", "version", "timestamp", "changeset", "lon", "lat"}


@dataclass(frozen=True)
class OsmData:
    """Raw layers of one extract, all in EPSG:4326.

    Attributes
    ----------
    road_nodes, road_edges
        pyrosm's driving network: one row per OSM node / per segment between
        consecutive OSM nodes (``u``, ``v``, ``length`` in metres).
    buildings
        One row per building way or relation, with a ``tagdict`` column (all
        tags as a ``dict``) and ``osm_id`` (``"way/123"``).
    pois
        Amenities, shops, offices, land use areas … with ``tagdict`` and
        ``osm_id``; points and polygons.
    places
        Named place nodes (``name``, ``place``, point geometry).
    """

    road_nodes: gpd.GeoDataFrame
    road_edges: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    places: gpd.GeoDataFrame


def _tag_dicts(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Merge pyrosm's tag columns and its JSON ``tags`` column into dicts."""
    columns = [c for c in frame.columns if c not in _SKIP_COLUMNS]
    out: list[dict[str, str]] = []
    records = frame[columns].to_dict("records")
    raw_tags = frame["tags"].tolist() if "tags" in frame.columns else [None] * len(frame)
    for rec, raw in zip(records, raw_tags, strict=True):
        tags: dict[str, str] = {}
        if isinstance(raw, str) and raw:
            try:
                extra = json.loads(raw)
            except ValueError:
                extra = {}
            if isinstance(extra, dict):
                tags.update({str(k): str(v) for k, v in extra.items() if v is not None})
        elif isinstance(raw, dict):
            tags.update({str(k): str(v) for k, v in raw.items() if v is not None})
        for key, value in rec.items():
            if key in ("id", "osm_type"):
                continue
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            tags[str(key)] = str(value)
        out.append(tags)
    return out


def _with_ids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy()
    osm_type = frame["osm_type"].astype(str) if "osm_type" in frame.columns else "way"
    frame["osm_id"] = osm_type + "/" + frame["id"].astype("int64").astype(str)
    frame["tagdict"] = _tag_dicts(frame)
    frame = frame.sort_values(["osm_type", "id"], kind="mergesort").reset_index(drop=True)
    return frame[["osm_id", "tagdict", "geometry"]]


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Closed rings that the parser left as lines become polygons."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type == "LineString" and geom.is_closed and len(geom.coords) >= 4:
        return shapely.Polygon(geom.coords)
    if geom.geom_type == "MultiLineString":
        polys = [
            shapely.Polygon(part.coords)
            for part in geom.geoms
            if part.is_closed and len(part.coords) >= 4
        ]
        if polys:
            return shapely.MultiPolygon(polys)
    if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_valid:
        return shapely.make_valid(geom)
    return geom


def read_osm(pbf: str | Path) -> OsmData:
    """Read roads, buildings, POIs and place names from an OSM extract.

    Parameters
    ----------
    pbf
        Path to an ``.osm.pbf`` file.  Nothing is downloaded.

    Returns
    -------
    OsmData
        The layers in EPSG:4326, sorted by OSM id.
    """
    import pyrosm  # heavy import, only needed here

    path = Path(pbf)
    if not path.is_file():
        raise FileNotFoundError(f"no such OSM extract: {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(path))
        road_nodes, road_edges = osm.get_network("driving", nodes=True)
        buildings = osm.get_buildings()
        pois = osm.get_pois(custom_filter=dict(POI_FILTER))
        places = osm.get_pois(custom_filter={"place": list(PLACE_KINDS)})
    if road_edges is None or len(road_edges) == 0:
        raise ValueError(f"{path}: the extract has no drivable streets")
    if buildings is None or len(buildings) == 0:
        raise ValueError(f"{path}: the extract has no buildings")

    road_nodes = road_nodes.sort_values("id", kind="mergesort").reset_index(drop=True)
    road_edges = road_edges.sort_values(["id", "u", "v"], kind="mergesort").reset_index(drop=True)

    buildings = _with_ids(buildings)
    buildings["geometry"] = [_polygonal(g) for g in buildings.geometry]
    buildings = buildings[~buildings.geometry.isna() & ~buildings.geometry.is_empty]
    buildings = gpd.GeoDataFrame(buildings.reset_index(drop=True), geometry="geometry", crs=4326)

    if pois is None or len(pois) == 0:
        pois = gpd.GeoDataFrame(
            {"osm_id": [], "tagdict": [], "geometry": []}, geometry="geometry", crs=4326
        )
    else:
        pois = _with_ids(pois)
        pois["geometry"] = [_polygonal(g) for g in pois.geometry]
        pois = pois[~pois.geometry.isna() & ~pois.geometry.is_empty]
        pois = gpd.GeoDataFrame(pois.reset_index(drop=True), geometry="geometry", crs=4326)

    if places is None or len(places) == 0:
        places = gpd.GeoDataFrame({"name": [], "place": [], "geometry": []}, crs=4326)
    else:
        places = _with_ids(places)
        places["name"] = [t.get("name") for t in places["tagdict"]]
        places["place"] = [t.get("place") for t in places["tagdict"]]
        places = places[places["name"].notna() & places.geometry.geom_type.eq("Point")]
        places = gpd.GeoDataFrame(
            places[["osm_id", "name", "place", "geometry"]].reset_index(drop=True),
            geometry="geometry",
            crs=4326,
        )
    log.info(
        "read %s: %d road segments, %d buildings, %d POIs, %d places",
        path.name,
        len(road_edges),
        len(buildings),
        len(pois),
        len(places),
    )
    return OsmData(road_nodes, road_edges, buildings, pois, places)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing ``(lon, lat)``."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def guess_timezone(lon: float, lat: float) -> str:
    """IANA time zone whose principal city (``zone.tab``) is nearest.

    Uses the ``zone.tab`` table shipped with the ``tzdata`` package, so it is
    offline; good enough for a city extract (pass ``timezone=`` to override).
    """
    import importlib.resources

    text = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    best: tuple[float, str] | None = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        zlat, zlon = _parse_iso6709(parts[1])
        dlat = math.radians(zlat - lat)
        dlon = math.radians(zlon - lon) * math.cos(math.radians((zlat + lat) / 2))
        dist = dlat * dlat + dlon * dlon
        if best is None or dist < best[0]:
            best = (dist, parts[2])
    return best[1] if best else "UTC"


def _parse_iso6709(text: str) -> tuple[float, float]:
    """``+4342+00723`` -> (43.7, 7.38); also handles seconds."""
    split = max(text.rfind("+"), text.rfind("-"))
    lat_s, lon_s = text[:split], text[split:]

    def conv(s: str, deg_digits: int) -> float:
        sign = -1.0 if s[0] == "-" else 1.0
        digits = s[1:]
        deg = float(digits[:deg_digits])
        minutes = float(digits[deg_digits : deg_digits + 2] or 0)
        seconds = float(digits[deg_digits + 2 : deg_digits + 4] or 0)
        return sign * (deg + minutes / 60.0 + seconds / 3600.0)

    return conv(lat_s, 2), conv(lon_s, 3)


def centroid_lonlat(frame: gpd.GeoDataFrame) -> tuple[float, float]:
    """Mean lon/lat of a layer's bounds centre (cheap and deterministic)."""
    minx, miny, maxx, maxy = frame.total_bounds
    return float((minx + maxx) / 2.0), float((miny + maxy) / 2.0)


__all__ = [
    "OsmData",
    "read_osm",
    "utm_epsg",
    "guess_timezone",
    "centroid_lonlat",
]
