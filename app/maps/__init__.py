"""Maps for the web pages: GeoJSON from the grid and folium maps using vendored assets.

The only package of the project that imports folium. Pure functions of a
:class:`gis.Grid` (and results); no Flask here, so they are tested directly.

- :mod:`app.maps.geojson`: RFC 7946 layers (grid, customers, outage/stage overlays; a stored
  outage's customers come from its rows, :func:`outage_overlay`).
- :mod:`app.maps.folium_map`: per-map vendored assets, tiles, data layers, rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
    outage_overlay,
    points_geojson,
    roads_geojson,
    state_overlay,
)
from gis import Grid

__all__ = [
    "IMPORTANT",
    "OSM_ATTRIBUTION",
    "MapParts",
    "MapSettings",
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
    "outage_overlay",
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


@dataclass(frozen=True)
class MapSettings:
    """What every page map shares: where assets and data live, tiles and labels.

    ``static_prefix``: URL of the ``static/`` folder; ``tile_url``: XYZ template of the
    basemap (None: plain background); ``labels``/``layer_names``: translated strings for
    popups and the layer control; ``layer_url``: layer key -> URL of that grid layer as
    GeoJSON (None: layers embedded in the page); ``roads_url``: the road network as GeoJSON.
    """

    static_prefix: str = "/static"
    tile_url: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    layer_names: Mapping[str, str] = field(default_factory=dict)
    layer_url: Callable[[str], str] | None = None
    roads_url: str | None = None

    def names(self) -> dict[str, str]:
        return {**LAYER_NAMES, **self.layer_names}


def _base(grid: Grid, key: str, s: MapSettings, prefetch: list[str], *, crew: bool = False) -> folium.Map:
    z = fit_zoom(grid_bounds(grid))
    m = new_map(key=key, center=grid_center(grid), zoom=z, min_zoom=max(1, z - 1) if crew else z, max_zoom=18,
                tile_url=s.tile_url, static_prefix=s.static_prefix, labels=s.labels, prefetch=[u for u in prefetch if u])
    if s.roads_url:  # under everything; shown by default only on the plain background
        add_layer(m, "roads", key="roads", name=s.names()["roads"], url=s.roads_url, show=not s.tile_url, static_prefix=s.static_prefix)
    return m


def _grid_map(grid: Grid, key: str, s: MapSettings, *, customers_url: str | None, show_customers: bool = True) -> folium.Map:
    names = s.names()
    grid_keys = ("lines", "equipment", "switches", "substations", "important")
    urls = {k: s.layer_url(k) for k in grid_keys} if s.layer_url else {}
    prefetch = [*urls.values(), s.roads_url or "", customers_url if customers_url and show_customers else ""]
    m = _base(grid, key, s, prefetch)
    data = {} if s.layer_url else {**grid_layers(grid), "important": customers_geojson(grid, importance=IMPORTANT)}
    for k in grid_keys[:4]:
        add_layer(m, k, key=k, name=names[k], data=data.get(k), url=urls.get(k), static_prefix=s.static_prefix)
    if customers_url:
        add_layer(m, "customers", key="customers", name=names["customers"], url=customers_url, show=show_customers, static_prefix=s.static_prefix)
    add_layer(m, "important", key="important", name=names["important"], data=data.get("important"), url=urls.get("important"), static_prefix=s.static_prefix)
    for k in ("overlay", "points", "routes"):
        add_layer(m, k, key=k, name=names[k], static_prefix=s.static_prefix)
    return finish(m)


def planner_map(grid: Grid, *, customers_url: str, settings: MapSettings = MapSettings()) -> folium.Map:
    """The planner's map: the whole grid coloured by feeder, ties marked, important customers
    always visible, all customers clustered (fetched from ``customers_url``), and empty
    ``overlay`` / ``points`` / ``routes`` layers the page fills with plan results."""
    return _grid_map(grid, "planner", settings, customers_url=customers_url)


def dispatcher_map(grid: Grid, *, customers_url: str | None = None, settings: MapSettings = MapSettings()) -> folium.Map:
    """The dispatcher's map: the grid, restoration stages (``overlay``), crews and routes;
    customers in the layer control but off at first."""
    return _grid_map(grid, "dispatcher", settings, customers_url=customers_url, show_customers=False)


def service_map(grid: Grid, *, settings: MapSettings = MapSettings()) -> folium.Map:
    """Customer service's map: the grid and the affected customers of the chosen outage."""
    return _grid_map(grid, "service", settings, customers_url=None)


def crew_map(grid: Grid, *, settings: MapSettings = MapSettings()) -> folium.Map:
    """A light map for a crew's phone: roads and cables for orientation, its route and stops."""
    s = settings
    names = s.names()
    lines_url = s.layer_url("lines") if s.layer_url else None
    m = _base(grid, "crew", s, [lines_url or "", s.roads_url or ""], crew=True)
    add_layer(m, "lines", key="lines", name=names["lines"], data=None if lines_url else grid_layers(grid)["lines"], url=lines_url, static_prefix=s.static_prefix)
    add_layer(m, "routes", key="routes", name=names["routes"], static_prefix=s.static_prefix)
    add_layer(m, "points", key="points", name=names["points"], static_prefix=s.static_prefix)
    return finish(m, layer_control=False)
