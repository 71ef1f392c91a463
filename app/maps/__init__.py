"""Maps for the web pages: GeoJSON from the grid and folium maps using vendored assets.

The only package of the project that imports folium. Pure functions of a
:class:`gis.Grid` (and results); no Flask here, so they are tested directly.

- :mod:`app.maps.geojson`: RFC 7946 layers (grid, customers, outage/stage overlays).
- :mod:`app.maps.folium_map`: per-map vendored assets, tiles, data layers, rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import folium

from app.maps.folium_map import (
    OSM_ATTRIBUTION,
    MapParts,
    add_layer,
    finish,
    html_size,
    js_template_text,
    json_for_script,
    new_map,
    render_parts,
    text_popup,
    text_tooltip,
)
from app.maps.geojson import (
    IMPORTANT,
    customers_columns,
    customers_geojson,
    feeder_colors,
    fit_zoom,
    grid_bounds,
    grid_layers,
    isolation_overlay,
    points_geojson,
    roads_geojson,
    state_overlay,
)
from gis import Grid

__all__ = [
    "IMPORTANT",
    "OSM_ATTRIBUTION",
    "MapParts",
    "crew_map",
    "customers_columns",
    "customers_geojson",
    "dispatcher_map",
    "feeder_colors",
    "grid_center",
    "grid_layers",
    "html_size",
    "isolation_overlay",
    "js_template_text",
    "json_for_script",
    "planner_map",
    "points_geojson",
    "roads_geojson",
    "render_parts",
    "service_map",
    "state_overlay",
    "text_popup",
    "text_tooltip",
]

#: English layer names; pages pass translated ones.
LAYER_NAMES = {
    "lines": "Cables and lines",
    "equipment": "RMUs and distribution rooms",
    "switches": "Switches (T = normally-open tie)",
    "substations": "Substations",
    "important": "Important customers",
    "customers": "All customers (clustered)",
    "overlay": "Outage / restoration",
    "points": "Crews, generators, stops",
    "routes": "Routes",
    "roads": "Roads",
}


def grid_center(grid: Grid) -> tuple[float, float]:
    """Centre of the grid's nodes as ``(lat, lon)`` (Leaflet order)."""
    (s, w), (n, e) = grid_bounds(grid)
    return ((s + n) / 2, (w + e) / 2)


def _grid_map(
    grid: Grid,
    *,
    key: str,
    tile_url: str | None,
    static_prefix: str,
    customers_url: str | None,
    labels: Mapping[str, str] | None,
    layer_names: Mapping[str, str] | None,
    zoom: int,
    layer_url: Callable[[str], str] | None = None,
    show_customers: bool = True,
    roads_url: str | None = None,
) -> folium.Map:
    names = {**LAYER_NAMES, **(layer_names or {})}
    grid_keys = ("lines", "equipment", "switches", "substations", "important")
    urls = {k: layer_url(k) for k in grid_keys} if layer_url else {}
    if roads_url:
        urls["roads"] = roads_url
    prefetch = [*urls.values(), *([customers_url] if customers_url and show_customers else [])]
    z = fit_zoom(grid_bounds(grid))
    m = new_map(key=key, center=grid_center(grid), zoom=max(z, zoom) if zoom else z, min_zoom=z, max_zoom=18, tile_url=tile_url, static_prefix=static_prefix, labels=labels, prefetch=prefetch)
    data = {} if layer_url else {**grid_layers(grid), "important": customers_geojson(grid, importance=IMPORTANT)}
    if roads_url:  # under everything; shown by default only on the plain background
        add_layer(m, "roads", key="roads", name=names["roads"], url=roads_url, show=not tile_url, static_prefix=static_prefix)
    for k in grid_keys[:4]:
        add_layer(m, k, key=k, name=names[k], data=data.get(k), url=urls.get(k), static_prefix=static_prefix)
    if customers_url:
        add_layer(m, "customers", key="customers", name=names["customers"], url=customers_url, show=show_customers, static_prefix=static_prefix)
    add_layer(m, "important", key="important", name=names["important"], data=data.get("important"), url=urls.get("important"), static_prefix=static_prefix)
    add_layer(m, "overlay", key="overlay", name=names["overlay"], static_prefix=static_prefix)
    add_layer(m, "points", key="points", name=names["points"], static_prefix=static_prefix)
    add_layer(m, "routes", key="routes", name=names["routes"], static_prefix=static_prefix)
    return finish(m)


def planner_map(
    grid: Grid,
    *,
    customers_url: str,
    tile_url: str | None = None,
    static_prefix: str = "/static",
    labels: Mapping[str, str] | None = None,
    layer_names: Mapping[str, str] | None = None,
    layer_url: Callable[[str], str] | None = None,
    roads_url: str | None = None,
) -> folium.Map:
    """The planner's map: the whole grid coloured by feeder, ties marked, important customers
    always visible, all customers clustered (fetched from ``customers_url``), and empty
    ``overlay`` / ``points`` / ``routes`` layers the page fills with plan results.

    With ``layer_url`` (layer key -> URL of :func:`grid_layers` / important customers
    as GeoJSON) the grid layers are fetched by URL too, which keeps the page small
    and lets the browser fetch them in parallel; without it they are embedded."""
    return _grid_map(grid, key="planner", tile_url=tile_url, static_prefix=static_prefix, customers_url=customers_url, labels=labels, layer_names=layer_names, zoom=0, layer_url=layer_url, roads_url=roads_url)


def dispatcher_map(
    grid: Grid,
    *,
    customers_url: str | None = None,
    tile_url: str | None = None,
    static_prefix: str = "/static",
    labels: Mapping[str, str] | None = None,
    layer_names: Mapping[str, str] | None = None,
    layer_url: Callable[[str], str] | None = None,
    roads_url: str | None = None,
) -> folium.Map:
    """The dispatcher's map: the grid, restoration stages (``overlay``), crews and routes."""
    return _grid_map(grid, key="dispatcher", tile_url=tile_url, static_prefix=static_prefix, customers_url=customers_url, labels=labels, layer_names=layer_names, zoom=0, show_customers=False, layer_url=layer_url, roads_url=roads_url)


def service_map(
    grid: Grid,
    *,
    tile_url: str | None = None,
    static_prefix: str = "/static",
    labels: Mapping[str, str] | None = None,
    layer_names: Mapping[str, str] | None = None,
    layer_url: Callable[[str], str] | None = None,
    roads_url: str | None = None,
) -> folium.Map:
    """Customer service's map: the grid and the affected customers of the chosen outage."""
    return _grid_map(grid, key="service", tile_url=tile_url, static_prefix=static_prefix, customers_url=None, labels=labels, layer_names=layer_names, zoom=0, layer_url=layer_url, roads_url=roads_url)


def crew_map(
    grid: Grid,
    *,
    tile_url: str | None = None,
    static_prefix: str = "/static",
    labels: Mapping[str, str] | None = None,
    layer_names: Mapping[str, str] | None = None,
    layer_url: Callable[[str], str] | None = None,
    roads_url: str | None = None,
) -> folium.Map:
    """A light map for a crew's phone: cables for orientation, its route and stops."""
    names = {**LAYER_NAMES, **(layer_names or {})}
    lines_url = layer_url("lines") if layer_url else None
    z = fit_zoom(grid_bounds(grid))
    m = new_map(key="crew", center=grid_center(grid), zoom=z, min_zoom=max(1, z - 1), max_zoom=18, tile_url=tile_url, static_prefix=static_prefix, labels=labels, prefetch=[lines_url] if lines_url else [])
    add_layer(m, "lines", key="lines", name=names["lines"], data=None if lines_url else grid_layers(grid)["lines"], url=lines_url, static_prefix=static_prefix)
    add_layer(m, "routes", key="routes", name=names["routes"], static_prefix=static_prefix)
    add_layer(m, "points", key="points", name=names["points"], static_prefix=static_prefix)
    return finish(m, layer_control=False)
