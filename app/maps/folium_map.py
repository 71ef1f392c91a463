"""Folium maps for the pages: vendored assets per map, configurable tiles, data layers.

Every map built here loads Leaflet, Leaflet.markercluster and our own
``app/static/js/outage-map.js`` from the service's static files (vendored by
``scripts/vendor_assets.sh``), set **on each map and component instance**:
folium's module-level defaults (CDN links) are never touched, so other folium
users in the process are unaffected and nothing is fetched from the internet.

User strings (customer and equipment names) reach the browser only as JSON data
(``tojson``: ``<``, ``>``, ``&`` and ``'`` escaped) and are put into popups and
tooltips by ``outage-map.js`` with ``textContent``. folium's own ``Popup`` and
``Tooltip`` place their text inside JavaScript template literals as raw HTML;
use :func:`text_popup` / :func:`text_tooltip` if one is ever needed.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import CssLink, Figure, JavascriptLink
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

#: Files under ``app/static/`` (vendored by scripts/vendor_assets.sh, versions pinned there).
VENDOR_JS: tuple[tuple[str, str], ...] = (
    ("leaflet", "vendor/leaflet-1.9.4/dist/leaflet.js"),
    ("markercluster", "vendor/leaflet.markercluster-1.5.3/dist/leaflet.markercluster.js"),
    ("outage_map", "js/outage-map.js"),
)
VENDOR_CSS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "vendor/leaflet-1.9.4/dist/leaflet.css"),
    ("markercluster_css", "vendor/leaflet.markercluster-1.5.3/dist/MarkerCluster.css"),
    ("markercluster_default_css", "vendor/leaflet.markercluster-1.5.3/dist/MarkerCluster.Default.css"),
    ("outage_map_css", "css/outage-map.css"),
)
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def _urls(prefix: str, files: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, f"{prefix.rstrip('/')}/{path}") for name, path in files]


def use_vendored_assets(element: JSCSSMixin, *, static_prefix: str, js: Sequence[tuple[str, str]] = VENDOR_JS, css: Sequence[tuple[str, str]] = VENDOR_CSS) -> None:
    """Point one folium element's JS/CSS links at our static files (instance attributes only)."""
    element.default_js = _urls(static_prefix, js)
    element.default_css = _urls(static_prefix, css)


class DataLayer(JSCSSMixin, Layer):
    """A GeoJSON layer drawn and annotated by ``OutageMap.dataLayer`` in ``outage-map.js``.

    ``kind`` picks the styling and popup fields (``lines``, ``equipment``,
    ``switches``, ``substations``, ``important``, ``customers``, ``overlay``).
    With ``url`` the data is fetched after the page loads (``customers`` are
    clustered); otherwise ``data`` is embedded as JSON.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = OutageMap.dataLayer(
            {{ this.kind|tojson }}, {{ this.data|tojson }}, {{ this.layer_options|tojson }});
        OutageMap.register({{ this._parent.get_name() }}, {{ this.key|tojson }}, {{ this.get_name() }});
        {%- if this.url %}
        OutageMap.load({{ this.get_name() }}, {{ this.url|tojson }}, {{ this.key|tojson }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        kind: str,
        *,
        key: str,
        name: str,
        data: Mapping[str, Any] | None = None,
        url: str | None = None,
        show: bool = True,
        options: Mapping[str, Any] | None = None,
        static_prefix: str,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DataLayer"
        self.kind = kind
        self.key = key
        self.data = dict(data) if data is not None else None
        self.url = url
        self.layer_options = dict(options or {})
        use_vendored_assets(self, static_prefix=static_prefix)


class MapSetup(JSCSSMixin, folium.MacroElement):
    """Registers the map with ``OutageMap`` (page key, labels) and adds the OSM attribution."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        OutageMap.setup({{ this._parent.get_name() }}, {{ this.key|tojson }}, {{ this.settings|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, *, key: str, settings: Mapping[str, Any], static_prefix: str) -> None:
        super().__init__()
        self._name = "MapSetup"
        self.key = key
        self.settings = dict(settings)
        use_vendored_assets(self, static_prefix=static_prefix)


@dataclass(frozen=True)
class MapParts:
    """A rendered map split for embedding in a page template (all trusted markup)."""

    header: str  # <link>/<script src> tags and the map's <style>
    html: str  # the map <div>
    script: str  # inline script that builds the map
    prefetch: tuple[str, ...] = ()  # data URLs the map fetches at once (for <link rel=preload>)


def new_map(
    *,
    key: str,
    center: tuple[float, float],
    zoom: int = 14,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    static_prefix: str = "/static",
    labels: Mapping[str, str] | None = None,
    max_zoom: int = 19,
    min_zoom: int = 10,
    prefetch: Sequence[str] = (),
) -> folium.Map:
    """An empty map using only vendored assets.

    ``center`` is ``(lat, lon)`` (Leaflet order). ``tile_url`` is an XYZ template
    (``https://tiles.intranet/{z}/{x}/{y}.png``); without one no basemap is
    loaded and the grid and road layers are drawn on a plain background. The
    OpenStreetMap attribution is always shown (road and city data come from OSM).
    ``min_zoom`` bounds how far out a user may zoom (a city, not the world: it also
    saves the marker clusterer from building clusters for zoom levels nobody uses).
    ``prefetch`` URLs are fetched as soon as the map exists, in parallel.
    """
    m = folium.Map(location=list(center), zoom_start=zoom, tiles=None, prefer_canvas=True, max_zoom=max_zoom, control_scale=True)
    m.options["max_zoom"] = max_zoom  # Leaflet.markercluster needs the map's maxZoom
    m.options["min_zoom"] = min_zoom
    use_vendored_assets(m, static_prefix=static_prefix, js=VENDOR_JS[:1], css=VENDOR_CSS[:1])
    if tile_url:
        attribution = tile_attribution or OSM_ATTRIBUTION
        folium.TileLayer(tiles=tile_url, attr=attribution, name="basemap", max_zoom=max_zoom, control=False).add_to(m)
    settings = {"attribution": OSM_ATTRIBUTION, "labels": dict(labels or {}), "basemap": bool(tile_url), "prefetch": list(prefetch)}
    m.add_child(MapSetup(key=key, settings=settings, static_prefix=static_prefix))
    return m


def add_layer(m: folium.Map, kind: str, *, key: str, name: str, static_prefix: str, data: Mapping[str, Any] | None = None, url: str | None = None, show: bool = True, options: Mapping[str, Any] | None = None) -> DataLayer:
    """Add a :class:`DataLayer` to the map and return it."""
    layer = DataLayer(kind, key=key, name=name, data=data, url=url, show=show, options=options, static_prefix=static_prefix)
    m.add_child(layer)
    return layer


def finish(m: folium.Map, *, layer_control: bool = True) -> folium.Map:
    """Add the layer control (call after the last layer)."""
    if layer_control:
        folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def render_parts(m: folium.Map) -> MapParts:
    """Render the map's components for a page of our own (no whole folium page)."""
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium Map's root is always its Figure
    root.render()
    # Only the asset links: the page template owns <meta>, sizes and layout
    # (folium's header would also set html/body styles for a whole-page map).
    links = [c.render() for c in root.header._children.values() if isinstance(c, JavascriptLink | CssLink)]
    prefetch: tuple[str, ...] = ()
    for child in m._children.values():
        if isinstance(child, MapSetup):
            prefetch = tuple(child.settings.get("prefetch", ()))
    return MapParts(header="\n".join(links), html=root.html.render(), script=root.script.render(), prefetch=prefetch)


def html_size(parts: MapParts) -> int:
    """Bytes of the map's markup and inline script (UTF-8)."""
    return sum(len(s.encode()) for s in (parts.header, parts.html, parts.script))


# -- safe text for folium's own Popup/Tooltip (which use JS template literals) ---------


def js_template_text(text: str) -> str:
    """Escape text for HTML *and* for a JavaScript template literal.

    HTML specials become entities, and so do the characters a template literal
    interprets (backslash, backtick, ``$``): the browser shows them as text.
    """
    s = html.escape(str(text), quote=True)
    return s.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def text_tooltip(text: str) -> folium.Tooltip:
    """A folium Tooltip showing ``text`` literally."""
    return folium.Tooltip(js_template_text(text))


def text_popup(text: str) -> folium.Popup:
    """A folium Popup showing ``text`` literally."""
    return folium.Popup(js_template_text(text), parse_html=False)


def json_for_script(obj: Any) -> str:
    """JSON safe to place inside an HTML ``<script>`` element (``<``, ``>``, ``&``, ``'`` escaped)."""
    return json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
