"""The admin's data-quality map (``/admin/quality``): the quality report of the grid the service
runs (:func:`gis.quality.check_quality`) as a GeoJSON layer with the offending features
highlighted, or a report file written by ``python -m gis import-mapped`` / ``quality`` that the
admin opens in the page (read in the browser, never uploaded).

``bp`` is registered by :func:`app.create_app` next to the role pages.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app import maps
from app.pages import _base_template, _grid, _json_response, roles
from gis.quality import check_quality, report_geojson

bp = Blueprint("quality", __name__, url_prefix="/admin/quality")

#: The report's codes, in the page's language (the message beneath stays the core's English sentence).
def code_labels() -> dict[str, str]:
    return {
        "dangling_line_end": _("Dangling line end"), "device_not_on_line": _("Device not on a line"),
        "duplicate_id": _("Duplicated id"), "lines_crossing": _("Lines crossing without a node"),
        "multipart_geometry": _("Multi-part geometry"), "feeder_without_breaker": _("Feeder without a breaker"),
        "customer_without_transformer": _("Customer without a transformer"), "missing_rating": _("Missing rating"),
        "ambiguous_switch": _("Ambiguous switch"), "missing_geometry": _("Missing geometry"), "bad_value": _("Bad value"),
    }


@bp.route("")
@roles("admin")
def page() -> Any:
    grid = _grid()
    config = {
        "locale": str(get_locale() or "en"),
        "report": url_for("quality.report"),
        "lines": url_for("pages.grid_data", layer="lines"),
        "codes": code_labels(),
        "labels": {
            "error": _("error"), "warning": _("warning"), "findings": _("findings"), "none": _("No findings"),
            "loading": _("Loading…"), "bad_file": _("Not a quality report (GeoJSON FeatureCollection)"),
            "code": _("Finding"), "layer": _("Layer"), "id": _("Id"), "message": _("Message"),
            "from_file": _("Report file"), "from_grid": _("The service's grid"),
        },
        "center": list(maps.grid_center(grid)),
    }
    return render_template("pages/quality.html", base_template=_base_template(), page="quality",
                           page_config=maps.json_for_script(config))


@bp.route("/report.geojson")
@roles("admin")
def report() -> Any:
    """The quality report of the service's grid (distances in its metric CRS), computed once."""
    grid = _grid()
    cache: dict[str, bytes] = current_app.extensions.setdefault("pages_data", {})
    key = f"quality:{id(grid)}"
    if key not in cache:
        items = check_quality(grid.layers(), metric_crs=grid.metric_crs)
        cache[key] = json.dumps(report_geojson(items), ensure_ascii=False, separators=(",", ":")).encode()
    return _json_response(cache[key], mimetype="application/geo+json", max_age=300)
