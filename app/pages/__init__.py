"""The four web pages (planner, dispatcher, crew, customer service) and their map data.

``bp`` is registered by :func:`app.create_app`. Pages are thin: a folium map built
by :mod:`app.maps` from ``app.extensions["grid"]``, a sidebar, and page JavaScript
(``static/js/pages/*.js``) that talks to the JSON API under ``/api``. The map's
inline script is served as an external file (``/pages/map/<page>.js``) so the
service's CSP (``script-src 'self'``) holds. Read-only map data derived from the
grid (customers, outage-zone previews, switching-state overlays, load curves) is
served here under ``/pages/data/``; everything that creates or changes records goes
through the API. A domain error in a data route answers the JSON body and status that
:mod:`app.errors` gives it (the one error map of the service).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from jinja2 import TemplateNotFound

from app import maps
from app.errors import domain_error_json, json_error, status_of
from app.pages.crew_labels import crew_labels
from app.pages.workflow import workflow_labels
from gis import Grid, OutageError
from gis.records import MAX_YEAR, MIN_YEAR

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__, url_prefix="")

PAGES = {
    "planner": ("planner",),
    "dispatcher": ("dispatcher",),
    "crew": ("crew", "dispatcher"),
    "customer_service": ("customer_service",),
}


# -- access ------------------------------------------------------------------------


def _auth() -> Any:
    """The service's auth module, or None when the pages run without it (unit tests)."""
    if "login_manager" not in current_app.extensions and not hasattr(current_app, "login_manager"):
        return None
    from app import auth

    return auth


def roles(*allowed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Logged-in users with one of ``allowed`` roles (admin always); others get 403.

    Not logged in: redirect to the service's login page with ``next``.
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            auth = _auth()
            if auth is not None:
                if auth.user() is None:
                    if request.path.startswith("/pages/data/") or request.path.startswith("/pages/map/"):
                        abort(401)
                    return redirect(url_for("auth.login", next=request.full_path))
                if allowed and not auth.has_role(*allowed):
                    abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def _grid() -> Grid:
    grid = current_app.extensions.get("grid")
    if grid is None:
        abort(503, "no grid loaded")
    return grid


# -- translations for the pages' JavaScript -------------------------------------------


def js_labels() -> dict[str, str]:
    """Labels used by outage-map.js and the page scripts, in the request's language."""
    return {
        "id": _("Id"), "kind": _("Kind"), "feeder": _("Feeder"), "role": _("State"), "importance": _("Importance"),
        "category": _("Category"), "demand_kw": _("Demand (kW)"), "normally_open": _("Normally open"),
        "remote": _("Remote-controlled"), "fault_indicator": _("Fault indicator"), "yes": _("yes"), "no": _("no"),
        "status": _("Status"), "eta": _("ETA"), "kw": _("kW"), "crew": _("Crew"), "distance_m": _("Distance (m)"),
        "time_s": _("Time (s)"),
        "rmu": _("Ring-main unit"), "distribution_room": _("Distribution room"), "pole_transformer": _("Pole transformer"),
        "breaker": _("Breaker"), "load_break": _("Load-break switch"), "disconnector": _("Disconnector"), "fuse": _("Fuse"),
        "cable": _("Cable"), "overhead": _("Overhead line"),
        "special": _("Special grade"), "first": _("First grade"), "second": _("Second grade"),
        "temporary": _("Temporary"), "normal": _("Normal"),
        "work": _("Work zone"), "dead": _("Without supply"), "transferred": _("Transferred"),
        "generator": _("Generator truck"), "stop": _("Stop"), "arrived": _("Arrived"), "done": _("Done"),
        "arrived_at": _("arrived at"), "done_at": _("done at"),
        "working": _("Working"), "working_at": _("working since"),
        "planned": _("Planned"), "pending": _("Pending"), "sent": _("Sent"), "failed": _("Failed"),
        "queued": _("Queued"), "running": _("Running"), "finished": _("Finished"),
        "loading": _("Loading…"), "no_results": _("Nothing found"), "error": _("Error"),
        "customers": _("customers"), "job_created": _("Job created"), "plan_running": _("Planning…"),
        "plan_done": _("Plan ready"), "outage": _("Outage"), "start": _("Start"), "end": _("End"),
        "window": _("Outage window"), "load_kw": _("Load (kW)"), "hour": _("Hour"),
        "metric": _("Metric"), "plan": _("Plan"), "baseline": _("Baseline"),
        "outages": _("Outages"), "ci": _("Customer interruptions"), "cmi": _("Customer-minutes"),
        "ens_kwh": _("Energy not supplied (kWh)"), "peak_hits": _("Peak-hour hits"), "generator_hours": _("Generator-hours"),
        "stage": _("Stage"), "restored": _("restored"), "still_out": _("still out"), "dropped": _("Dropped"),
        "sent_to_crew": _("Sent to crew"), "navigate": _("Navigate"), "candidate": _("Candidate"),
        "select_equipment": _("Click equipment on the map"), "zone_customers": _("customers without supply"), "open_jobs": _("open jobs (a plan takes them all)"),
        "confirm_outage": _("Approve and publish"),
        "cancel_outage": _("Cancel outage"),
        "mark_executed": _("Record as executed"),
        "outage_planned": _("planned"),
        "outage_confirmed": _("published"),
        "outage_cancelled": _("cancelled"),
        "outage_done": _("executed"),
        "legend": _("Legend"),
        "legend_feeder": _("Feeder (one colour each)"),
        "legend_work": _("Work zone"),
        "legend_dead": _("Without supply"),
        "legend_transferred": _("Transferred (colour of the receiving feeder)"),
        "legend_tie": _("Normally-open tie switch"),
        # planning error codes (docs/planning.md), shown in the page's language
        "err_no_jobs": _("The job list is empty"),
        "err_duplicate_id": _("A job with this id comes twice"),
        "err_missing_id": _("The job has no id"),
        "err_no_equipment": _("The job names no equipment"),
        "err_bad_duration": _("The duration is not a whole number of minutes"),
        "err_bad_datetime": _("A time is not readable"),
        "err_naive_datetime": _("A time has no UTC offset"),
        "err_bad_night_work": _("night_work is not true or false"),
        "err_bad_job": _("The job is not readable"),
        "err_unknown_equipment": _("The equipment is not in the grid"),
        "err_not_equipment": _("The id is not grid equipment"),
        "err_source_equipment": _("The work would de-energise a substation busbar"),
        "err_cannot_isolate": _("No switch can isolate the equipment"),
        "err_bad_window": _("The window ends before it starts"),
        "err_duration_exceeds_window": _("The work is longer than its window"),
        "err_window_past": _("The window is over"),
        "err_notice_too_late": _("Too late for the 7-day notice"),
        "err_beyond_horizon": _("The window is beyond the planning horizon"),
        "err_no_working_window": _("No start fits the working hours"),
        "err_peak_hours_conflict": _("Every start hits an important customer's peak hours"),
        "err_no_feasible_window": _("No start fits window, notice and horizon"),
        "err_not_scheduled": _("No start left: the feeders, crews or trucks it needs are taken"),
        "err_bad_history": _("A history row cannot be used"),
        "err_bad_fixed_outage": _("A published outage no longer fits the grid"),
        "err_bad_crew": _("The crew id is not valid"),
        "err_bad_description": _("The description is too long or not text"),
        "err_bad_equipment": _("An equipment id is not valid"),
        "err_bad_id": _("The job id is not valid"),
        "err_bad_requested_by": _("The requester is too long or not text"),
        "err_extra_values": _("The row has more values than columns"),
        "transferred_customers": _("customers transferred"),
        "send_to_crew": _("Send to crew"), "crew_link": _("Crew link"), "fault": _("Fault"),
        "customer": _("Customer"), "due": _("Due"), "message": _("Message"), "done_run": _("Done"),
        "name": _("Name"), "address": _("Address"), "phone": _("Phone"), "notice": _("Notice"), "sms": _("SMS"),
        # customer service's customer table
        "account": _("Account"), "supply_status": _("Supply now"), "restoration": _("Restoration (estimated until done)"),
        "window_start": _("Outage from"), "window_end": _("Outage until"), "supply": _("Supply"),
        "supply_interrupted": _("No supply"), "supply_short_breaks": _("Two short breaks"),
        "supply_generator": _("Generator truck"), "supply_out": _("Still out"), "supply_restored": _("Restored"),
        "page_prev": _("Previous"), "page_next": _("Next"), "rows_of": _("of"),
        "status_open": _("Open"), "status_restored": _("Restored"), "status_closed": _("Closed"),
        "status_queued": _("Queued"), "status_running": _("Running"), "status_done": _("Done"),
        "status_failed": _("Failed"), "no_faults": _("No faults yet"), "dispatch": _("Crew routes"),
        "routes_count": _("routes"), "dispatch_running": _("Planning crew routes…"), "calls": _("calls"),
        "outages_count": _("outages"),
        **workflow_labels(),
    }


LAYER_NAMES_EN = maps.LAYER_NAMES


def layer_names() -> dict[str, str]:
    return {
        "lines": _("Cables and lines"), "equipment": _("RMUs and distribution rooms"),
        "switches": _("Switches (T = normally-open tie)"), "substations": _("Substations"),
        "important": _("Important customers"), "customers": _("All customers (clustered)"),
        "overlay": _("Outage / restoration"), "points": _("Crews, generators, stops"), "routes": _("Routes"),
        "roads": _("Roads"),
    }


# -- maps (built once per page and language; the grid is immutable) --------------------


def _build_map(page: str) -> maps.MapParts:
    grid = _grid()
    static_prefix = url_for("static", filename="").rstrip("/")
    settings = maps.MapSettings(
        static_prefix=static_prefix,
        tile_url=current_app.config.get("TILE_URL") or None,
        labels=js_labels(),
        layer_names=layer_names(),
        layer_url=lambda k: url_for("pages.grid_data", layer=k),
        roads_url=url_for("pages.grid_data", layer="roads") if _roads_graph() is not None else None,
    )
    customers = url_for("pages.customers_columns")
    if page == "planner":
        m = maps.planner_map(grid, customers_url=customers, settings=settings)
    elif page == "dispatcher":
        m = maps.dispatcher_map(grid, customers_url=customers, settings=settings)
    elif page == "crew":
        m = maps.crew_map(grid, settings=settings)
    else:
        m = maps.service_map(grid, settings=settings)
    return maps.render_parts(m)


def map_parts(page: str, lang: str | None = None) -> maps.MapParts:
    """Rendered map for a page in a language (default: the request's), cached on the app."""
    cache: dict[tuple[str, str], maps.MapParts] = current_app.extensions.setdefault("pages_maps", {})
    lang = lang or str(get_locale() or "en")
    key = (page, lang)
    if key not in cache:
        with force_locale(lang):
            cache[key] = _build_map(page)
    return cache[key]


_GZIP_CACHE: dict[str, bytes] = {}


def _gzip(payload: bytes, etag: str) -> bytes:
    if etag not in _GZIP_CACHE:
        if len(_GZIP_CACHE) > 64:
            _GZIP_CACHE.clear()
        _GZIP_CACHE[etag] = gzip.compress(payload, compresslevel=5)
    return _GZIP_CACHE[etag]


def _json_response(payload: bytes, *, mimetype: str = "application/json", max_age: int = 0) -> Response:
    etag = hashlib.sha256(payload).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        resp = Response(status=304)
    elif "gzip" in (request.headers.get("Accept-Encoding") or "") and len(payload) > 4096:
        resp = Response(_gzip(payload, etag), mimetype=mimetype)
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
    else:
        resp = Response(payload, mimetype=mimetype)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"private, max-age={max_age}"
    return resp


def _page(page: str, template: str, **ctx: Any) -> str:
    parts = map_parts(page)
    config = {
        "page": page,
        "labels": js_labels(),
        "locale": str(get_locale() or "en"),
        "timezone": str(_grid().timezone),
        "data": {
            "customers": url_for("pages.customers_data"),
            "zone": url_for("pages.zone_data"),
            "state": url_for("pages.state_data"),
            "load": url_for("pages.load_data"),
        },
        **ctx.pop("config", {}),
    }
    return render_template(
        template,
        page=page,
        map_header=parts.header,
        preload=parts.prefetch,
        map_html=parts.html,
        map_script_url=url_for("pages.map_script", page=page, lang=config["locale"], v=hashlib.sha256(parts.script.encode()).hexdigest()[:12]),
        page_config=maps.json_for_script(config),
        base_template=_base_template(),
        **ctx,
    )


def _base_template() -> str:
    """The service's ``base.html`` (or config ``PAGES_BASE_TEMPLATE``), else our standalone layout."""
    name = current_app.config.get("PAGES_BASE_TEMPLATE", "base.html")
    try:
        current_app.jinja_env.get_template(name)
        return str(name)
    except TemplateNotFound:
        return "pages/_standalone.html"


# -- pages -----------------------------------------------------------------------------


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {"page_locale": str(get_locale() or "en"), "lang_switch": "set_language" in current_app.view_functions}


@bp.route("/pages/")
@roles()
def index() -> Any:
    return render_template("pages/index.html", base_template=_base_template(), page="index")


@bp.route("/planner")
@roles(*PAGES["planner"])
def planner() -> Any:
    return _page("planner", "pages/planner.html")


@bp.route("/dispatcher")
@roles(*PAGES["dispatcher"])
def dispatcher() -> Any:
    # the tripped feeder's fault indicators come from /api/faults/indicators once a breaker is chosen
    feeders = sorted(map(str, _grid().feeders["id"]))
    return _page("dispatcher", "pages/dispatcher.html", feeders=feeders)


@bp.route("/crew")
@bp.route("/crew/")
@bp.route("/crew/<crew_id>")
@roles(*PAGES["crew"])
def crew(crew_id: str | None = None) -> Any:
    """The crew's phone page (docs/pages.md); a crew user (or a route link's phone) without a crew
    in the URL is sent to its own, inside the service worker's scope ``/crew/``."""
    auth = _auth()
    route = request.args.get("route")
    link = getattr(auth.user(), "route_id", None) if auth is not None else None
    if crew_id is None and auth is not None:
        crew_id = getattr(auth.user(), "crew_id", None)
        if crew_id is not None:
            return redirect(url_for("pages.crew", crew_id=crew_id, route=link or route))
    if auth is not None and crew_id is not None:
        try:
            auth.crew_scope(crew_id)
        except OutageError as exc:
            abort(status_of(exc))
    if link is not None:
        route = str(link)  # a route link opens only its route
    installable = "crew_link.service_worker" in current_app.view_functions  # app.route_links registered
    return _page("crew", "pages/crew.html", crew_id=crew_id,
                 manifest_url=url_for("crew_link.manifest") if installable else None, config={
                     "crew_id": crew_id, "route": route, "link": link is not None, "crew_labels": crew_labels(),
                     "sw": url_for("crew_link.service_worker") if installable else None,
                 })


@bp.route("/service")
@roles(*PAGES["customer_service"])
def customer_service() -> Any:
    return _page("customer_service", "pages/service.html")


@bp.route("/pages/map/<page>.js")
@roles()
def map_script(page: str) -> Any:
    languages = tuple(current_app.config.get("LANGUAGES", ("en", "zh")))
    lang = request.args.get("lang")
    if page not in PAGES or (lang is not None and lang not in languages):
        abort(404)
    script = map_parts(page, lang).script
    return _json_response(script.encode(), mimetype="text/javascript", max_age=3600)


# -- read-only map data ------------------------------------------------------------------


GRID_LAYERS = ("lines", "equipment", "switches", "substations", "important", "roads")


def _roads_graph() -> Any:
    """The road network's graph (osmnx conventions) when the service loaded one, else None."""
    roads = current_app.extensions.get("roads")
    return getattr(roads, "graph", None)


def _cached_json(key: str, build: Callable[[], Any]) -> bytes:
    cache: dict[str, bytes] = current_app.extensions.setdefault("pages_data", {})
    if key not in cache:
        cache[key] = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
    return cache[key]


@bp.route("/pages/data/grid/<layer>.geojson")
@roles()
def grid_data(layer: str) -> Any:
    """One grid layer for the maps (``lines``, ``equipment``, ``switches``, ``substations``,
    ``important`` customers, ``roads`` when the service has a road network), as GeoJSON,
    cached and gzip-compressed."""
    if layer not in GRID_LAYERS:
        abort(404)
    if layer == "roads":
        graph = _roads_graph()
        if graph is None:
            abort(404)
        return _json_response(_cached_json("grid:roads", lambda: maps.roads_geojson(graph)), mimetype="application/geo+json", max_age=300)
    cache: dict[str, bytes] = current_app.extensions.setdefault("pages_data", {})
    if "grid:" + layer not in cache:
        grid = _grid()
        layers = {**maps.grid_layers(grid), "important": maps.customers_geojson(grid, importance=maps.IMPORTANT)}
        for k, fc in layers.items():
            cache.setdefault("grid:" + k, json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode())
    return _json_response(cache["grid:" + layer], mimetype="application/geo+json", max_age=300)


@bp.route("/pages/data/customers.columns.json")
@roles()
def customers_columns() -> Any:
    """All customers as columns (see :func:`app.maps.geojson.customers_columns`): what the
    clustered map layer loads, because it parses about 3x faster than the GeoJSON."""
    payload = _cached_json("customers_columns", lambda: maps.customers_columns(_grid()))
    return _json_response(payload, max_age=300)


@bp.route("/pages/data/customers.geojson")
@roles()
def customers_data() -> Any:
    """All customers as GeoJSON (no phone numbers), cached and gzip-compressed."""
    payload = _cached_json("customers", lambda: maps.customers_geojson(_grid()))
    return _json_response(payload, mimetype="application/geo+json", max_age=300)


def _ids(name: str) -> list[str]:
    raw = request.args.get(name, "")
    return [p for p in (s.strip() for s in raw.split(",")) if p]


@bp.route("/pages/data/zone.geojson")
@roles()
def zone_data() -> Any:
    """Outage-zone preview for ``?equipment=ID[,ID]``: work zone, best transfers, dead customers."""
    equipment = _ids("equipment")
    if not equipment:
        return json_error(400, "missing_equipment", "give ?equipment=ID[,ID...]")
    try:
        fc = maps.isolation_overlay(_grid(), equipment)
    except OutageError as exc:
        return domain_error_json(exc)
    return _json_response(json.dumps(fc, ensure_ascii=False).encode(), mimetype="application/geo+json")


@bp.route("/pages/data/state.geojson")
@roles()
def state_data() -> Any:
    """Overlay for a switching state: ``?open=S1,S2&close=T1&work=R2`` (switch and node ids)."""
    try:
        fc = maps.state_overlay(_grid(), open_switches=_ids("open"), close_switches=_ids("close"), work_nodes=_ids("work"))
    except OutageError as exc:
        return domain_error_json(exc)
    return _json_response(json.dumps(fc, ensure_ascii=False).encode(), mimetype="application/geo+json")


@bp.route("/pages/data/load.json")
@roles()
def load_data() -> Any:
    """Load (kW) of ``?customers=ID,...`` (at most 50) every 15 min over ``?date=YYYY-MM-DD``
    in the grid's timezone: ``{"times": [iso...], "series": [{"id", "name", "importance", "kw": [...]}]}``."""
    grid = _grid()
    ids = _ids("customers")[:50]
    try:
        day = date.fromisoformat(request.args.get("date") or datetime.now(grid.timezone).date().isoformat())
    except ValueError:
        return json_error(400, "bad_date", "date must be YYYY-MM-DD")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return json_error(400, "bad_date", f"date must lie in the years {MIN_YEAR}-{MAX_YEAR}")
    c = grid.customers.set_index("id")
    unknown = [i for i in ids if i not in c.index]
    if unknown:
        return json_error(404, "unknown_customer", f"unknown customer id(s): {', '.join(unknown[:5])}")
    start = datetime(day.year, day.month, day.day, tzinfo=grid.timezone)
    times = [start + timedelta(minutes=15 * k) for k in range(96)]
    series: list[dict[str, Any]] = [{"id": i, "name": str(c.at[i, "name"]), "importance": str(c.at[i, "importance"]), "kw": []} for i in ids]
    for t in times:
        kw = grid.customer_load_kw(t)
        for s in series:
            s["kw"].append(round(float(kw.loc[s["id"]]), 2))
    payload = {"times": [t.isoformat() for t in times], "series": series}
    return _json_response(json.dumps(payload, ensure_ascii=False).encode())


from app.pages import grid_versions as _grid_versions  # noqa: E402,F401  (registers /admin/grid on bp)
