"""The admin's grid-versions page: upload a grid file, read its diff and the outages it
changes, activate it. No map: the page is tables over ``/api/grid/versions``."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _

from app import maps
from app.pages import _base_template, bp, js_labels, roles


def labels() -> dict[str, str]:
    """The page script's labels in the request's language."""
    return {
        **js_labels(),
        "st_served": _("Served"), "st_scheduled": _("Scheduled"), "st_previous": _("Previous"),
        "st_uploaded": _("Uploaded, not active"),
        "file": _("File"), "uploaded_at": _("Uploaded"), "effective_at": _("Effective from"), "note": _("Note"),
        "changes": _("Changes"), "flagged": _("Outages to re-check"), "view": _("View"), "layer": _("Layer"),
        "added": _("Added"), "removed": _("Removed"), "changed": _("Changed"), "column": _("Attribute"),
        "old": _("Before"), "new": _("After"), "all_kinds": _("All kinds of change"), "more": _("more"),
        "kind_rating": _("Rating"), "kind_normal_state": _("Normal state"), "kind_connection": _("Connection"),
        "kind_position": _("Position (m moved)"), "kind_attribute": _("Other attribute"),
        "no_changes": _("No difference from the version it was compared with"),
        "no_flags": _("No open outage is changed by this version"),
        "compared_with": _("Compared with version"),
        "activate": _("Activate"), "confirm_activate": _("Serve this grid version from the given time?"),
        "activated": _("Activated"), "uploading": _("Checking the grid…"), "uploaded_ok": _("Uploaded as version"),
        "truncated": _("Only the first 10,000 changes are kept; the counts are whole."),
        "f_customers_changed": _("The work zone darkens other customers"),
        "f_equipment_removed": _("The job's equipment is gone"),
        "f_equipment_changed": _("The job's equipment changed"),
        "f_device_removed": _("A switching device is gone"),
        "f_device_changed": _("A switching device changed"),
        "customers_more": _("customers more"), "customers_fewer": _("customers fewer"),
        **{f"layer_{k}": v for k, v in {
            "substations": _("Substations"), "nodes": _("Nodes"), "lines": _("Lines"), "switches": _("Switches"),
            "transformers": _("Transformers"), "customers": _("Customers"), "dg": _("Distributed generation"),
            "depots": _("Depots")}.items()},
    }


@bp.route("/admin/grid")
@roles("admin")
def grid_versions() -> Any:
    config = {"page": "grid_versions", "labels": labels()}
    return render_template("pages/grid_versions.html", page="grid_versions", base_template=_base_template(),
                           page_config=maps.json_for_script(config))
