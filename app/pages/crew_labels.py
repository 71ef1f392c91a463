"""Translated strings of the crew's phone page (``static/js/pages/crew.js``), in the request's language."""

from __future__ import annotations

from flask_babel import gettext as _


def crew_labels() -> dict[str, str]:
    """Labels the crew page's script shows (it gets them in the page configuration)."""
    return {
        "equipment": _("Equipment"), "address": _("Address"), "access_notes": _("Access notes"),
        "access_point": _("Access point"),
        # {street}, {m}, {dir} are filled in by the page
        "access_hint": _("Park on {street}; the equipment is {m} m {dir} of the access point."),
        "access_hint_nostreet": _("The equipment is {m} m {dir} of the access point."),
        "dir_N": _("north"), "dir_NE": _("north-east"), "dir_E": _("east"), "dir_SE": _("south-east"),
        "dir_S": _("south"), "dir_SW": _("south-west"), "dir_W": _("west"), "dir_NW": _("north-west"),
        "switching": _("Switching at this stop"), "no_switching": _("No switching at this stop"),
        "action_open": _("Open"), "action_close": _("Close"), "remote": _("remote"), "manual": _("manual"),
        "repair": _("Repair"), "repair_of": _("Repair of {what}, about {min} min"),
        "customers_affected": _("Customers affected: {n}"), "and_more": _("and {n} more"),
        "arrived": _("Arrived"), "working": _("Working"), "done": _("Done"),
        "status_planned": _("Not started"), "status_arrived": _("Arrived"), "status_working": _("Working"),
        "status_done": _("Done"), "working_at": _("working since"),
        "note": _("Note"), "save_note": _("Save note"), "note_saved": _("Note saved"),
        "photo": _("Add a photo"), "photo_saved": _("Photo saved"), "photos": _("Photos"),
        "navigate": _("Navigate"), "nav_geo": _("Map app (Android)"), "nav_apple": _("Apple Maps"),
        "my_position": _("My position"), "position_sent": _("Position sent"),
        "position_off": _("Position not available (allow location for this page)"),
        "position_refused": _("The server refused the position"),
        "offline": _("No signal: reports are kept on this phone and sent when it is back."),
        "queued": _("Reports waiting to be sent: {n}"),
        "link_expired": _("This route link has expired or was withdrawn. Ask the dispatcher for a new one."),
        "link_until": _("Link valid until"), "next_step": _("Next step"),
        "stop_of": _("Stop {i} of {n}"), "no_route": _("No route yet"),
    }
