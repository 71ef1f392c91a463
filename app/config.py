"""Layered, validated configuration.

Order (later wins): :data:`DEFAULTS` -> ``instance/config.py`` (or the file named by
``OUTAGE_CONFIG``) -> ``OUTAGE_*`` environment variables (plus ``DATABASE_URL`` and
``REDIS_URL``) -> the ``config`` mapping given to :func:`app.create_app`.

Every key is documented in ``docs/api.md``. :func:`validate` turns a bad value into a
:class:`ConfigError` with a message that names the key and what is wrong, so a bad
grid path or database URL stops the service at start-up, not at the first request.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

import outage_demo
from gis.errors import InputError
from gis.records import parse_bool

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent  # the source checkout (tests/data lives there)

ROLES = ("admin", "planner", "planner_lead", "dispatcher", "crew", "customer_service", "viewer")

#: A role that holds every right of the roles listed (besides its own): a planner lead is a
#: planner who may also approve outages (docs/api.md, "Roles").
ROLE_INCLUDES: dict[str, tuple[str, ...]] = {"planner_lead": ("planner",)}


class ConfigError(InputError):
    """A configuration value is missing or invalid."""

    code = "bad_config"


def _default_grid() -> str:
    city = outage_demo.GRID
    return str(city if city.exists() else ROOT / "tests" / "data" / "small_ring")


def _default_generators() -> str | None:
    path = outage_demo.GENERATORS
    return str(path) if path.exists() else None


def _default_roads() -> str | None:
    roads = outage_demo.ROADS
    return str(roads) if roads.exists() else None


DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # None: read or create instance/secret_key
    "DATABASE_URL": None,  # None: sqlite:///<instance>/outage.db
    "GRID_PATH": None,  # None: outage_demo/monaco.gpkg, else tests/data/small_ring
    "ROADS_PATH": None,  # None: outage_demo/monaco_roads.graphml when present
    "GRID_VERSION_CHECK_S": 5.0,  # how often a process checks which grid version is served
    "LOAD_ROADS": True,
    "GENERATORS_PATH": None,  # None: outage_demo/generators.csv when present (generator truck fleet)
    "REDIS_URL": None,
    "RUNNER": None,  # "thread" (default), "rq" (default when REDIS_URL), "sync" (tests)
    "RQ_QUEUE": "outage",
    "RUN_HEARTBEAT_S": 10.0,  # how often a process renews the lease of the runs it owns
    "RUN_LEASE_S": 60.0,  # a run whose owner has not beaten for this long is reaped as failed
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    "GRID_UPLOAD_MAX_BYTES": 256 * 1024 * 1024,  # a grid version upload (GeoPackage) may be this large
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "PLAN_TIME_LIMIT_S": 30.0,
    "NOTICE_LEAD_DAYS": 7.0,  # advance notice owed to customers: jobs are checked on entry, plans use it by default
    "PLANNING_NOW": None,  # None: the clock; an ISO time with offset pins "now" for job checks and plans (demos, tests)
    "ROUTING_TIME_LIMIT_S": 10.0,
    "ROUTING_OBJECTIVE": "weighted_restoration",
    "NOTIFY_SENDER": "file",  # file | log | webhook
    "NOTIFY_FILE": None,  # None: <instance>/outbox.jsonl
    "NOTIFY_WEBHOOK_URL": None,
    "NOTIFY_WEBHOOK_TIMEOUT_S": 10.0,
    "TILE_URL": None,  # intranet XYZ/WMTS template for the pages' basemap
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ("en", "zh"),
    "TOKEN_TTL_DAYS": 365,
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",  # failed logins per username (Flask-Limiter string)
    "LOGIN_LIMIT_PER_ADDRESS": "50 per 15 minutes",  # failed logins per client address
    "LOOKUP_LIMIT_PER_ADDRESS": "30 per minute",  # public outage lookups per client address
    "LOOKUP_MISS_LIMIT_PER_ADDRESS": "20 per 10 minutes",  # lookups that found nothing (guessed accounts)
    "RATELIMIT_STORAGE_URI": None,  # None: REDIS_URL when set, else memory:// (one process only)
    "IDEMPOTENCY_WAIT_S": 10.0,  # how long a repeated Idempotency-Key waits for the first answer
    "PASSWORD_HASH_METHOD": "scrypt",  # werkzeug method string
    # The crew's phone page and route links (docs/deploy.md)
    "PUBLIC_URL": None,  # e.g. https://outage.example.org: the base of links sent by SMS (None: the request's host)
    "ROUTE_LINK_TTL_MIN": 720,  # how long a crew's route link opens its route (minutes)
    "PHOTO_MAX_BYTES": 8 * 1024 * 1024,  # largest stop photo accepted (bytes)
    "CLIENT_TIME_MAX_AGE_S": 86400.0,  # how late a phone's report may arrive with its own time
    "CLIENT_TIME_MAX_AHEAD_S": 300.0,  # how far a phone's clock may run ahead of the server's
    "CREW_POSITION_INTERVAL_S": 30,  # how often the crew page sends the phone's position
    "POSITION_MAX_ROAD_M": 300.0,  # farthest a reported position may be from a drivable road
    "POSITION_AREA_MARGIN_M": 5000.0,  # how far outside the grid's extent a position may be
    # Extra navigation links on each stop: [{"name": "Amap", "url": "https://uri.amap.com/navigation?to={lon},{lat},{label}"}]
    # ({lat}, {lon}: WGS84 degrees; {label}: the stop's name, URL-encoded). geo: and Apple Maps are always shown.
    "NAV_LINK_TEMPLATES": None,  # a list, or its JSON text (OUTAGE_NAV_LINK_TEMPLATES)
    "TESTING": False,
}

def _coerce(key: str, raw: str) -> Any:
    """Convert an environment string to the type of the key's default."""
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        try:
            return parse_bool(raw)
        except InputError:
            raise ConfigError(f"OUTAGE_{key} must be true/false, got {raw!r}") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"OUTAGE_{key} must be an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"OUTAGE_{key} must be a number, got {raw!r}") from None
    if isinstance(default, tuple):
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    return raw


def from_environ(environ: dict[str, str]) -> dict[str, Any]:
    """``OUTAGE_<KEY>`` variables, plus the conventional ``DATABASE_URL`` and ``REDIS_URL``."""
    out: dict[str, Any] = {}
    for plain in ("DATABASE_URL", "REDIS_URL"):
        if environ.get(plain):
            out[plain] = environ[plain]
    for name, raw in environ.items():
        if name.startswith("OUTAGE_") and name != "OUTAGE_CONFIG":
            key = name[len("OUTAGE_"):]
            out[key] = _coerce(key, raw)
    return out


def from_file(path: Path) -> dict[str, Any]:
    """Upper-case names of a Python config file (like Flask's ``from_pyfile``)."""
    scope: dict[str, Any] = {"__file__": str(path)}
    try:
        code = compile(path.read_bytes(), str(path), "exec")
        exec(code, scope)  # noqa: S102 - trusted operator file, like Flask's from_pyfile
    except (OSError, SyntaxError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    return {k: v for k, v in scope.items() if k.isupper()}


def layered(instance_path: Path, test_config: dict[str, Any] | None, environ: dict[str, str]) -> dict[str, Any]:
    """Merge the four layers and fill the computed defaults."""
    cfg = dict(DEFAULTS)
    cfg_file = Path(environ.get("OUTAGE_CONFIG") or instance_path / "config.py")
    if cfg_file.exists():
        cfg.update(from_file(cfg_file))
    elif environ.get("OUTAGE_CONFIG"):
        raise ConfigError(f"OUTAGE_CONFIG names {cfg_file}, which does not exist")
    cfg.update(from_environ(environ))
    if test_config:
        cfg.update(test_config)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{instance_path / 'outage.db'}"
    if not cfg["GRID_PATH"]:
        cfg["GRID_PATH"] = _default_grid()
    if cfg["ROADS_PATH"] is None and cfg["LOAD_ROADS"]:
        cfg["ROADS_PATH"] = _default_roads()
    if cfg["GENERATORS_PATH"] is None and not test_config_sets(test_config, "GENERATORS_PATH"):
        cfg["GENERATORS_PATH"] = _default_generators()
    if not cfg["NOTIFY_FILE"]:
        cfg["NOTIFY_FILE"] = str(instance_path / "outbox.jsonl")
    if not cfg["RUNNER"]:
        cfg["RUNNER"] = "rq" if cfg["REDIS_URL"] else "thread"
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _instance_secret(instance_path)
    return cfg


def test_config_sets(test_config: dict[str, Any] | None, key: str) -> bool:
    return bool(test_config) and key in test_config  # type: ignore[operator]


def _instance_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    log.info("created %s", path)
    return key


def validate(cfg: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming every bad key."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    problems: list[str] = []
    grid = Path(str(cfg["GRID_PATH"]))
    if not grid.exists():
        problems.append(f"GRID_PATH {grid} does not exist (a GeoPackage file or a GeoJSON folder)")
    if cfg.get("ROADS_PATH") and not Path(str(cfg["ROADS_PATH"])).exists():
        problems.append(f"ROADS_PATH {cfg['ROADS_PATH']} does not exist (a GraphML or OSM file)")
    try:
        url = make_url(str(cfg["DATABASE_URL"]))
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            problems.append(f"DATABASE_URL must be sqlite or postgresql, got {url.get_backend_name()!r}")
    except ArgumentError as exc:
        problems.append(f"DATABASE_URL {cfg['DATABASE_URL']!r} is not a database URL: {exc}")
    if cfg.get("GENERATORS_PATH") and not Path(str(cfg["GENERATORS_PATH"])).exists():
        problems.append(f"GENERATORS_PATH {cfg['GENERATORS_PATH']} does not exist (CSV id,name,kw,depot_id)")
    if cfg["RUNNER"] not in ("thread", "rq", "sync"):
        problems.append(f"RUNNER must be thread, rq or sync, got {cfg['RUNNER']!r}")
    if cfg["RUNNER"] == "rq" and not cfg.get("REDIS_URL"):
        problems.append("RUNNER=rq needs REDIS_URL")
    if cfg["NOTIFY_SENDER"] not in ("file", "log", "webhook"):
        problems.append(f"NOTIFY_SENDER must be file, log or webhook, got {cfg['NOTIFY_SENDER']!r}")
    if cfg["NOTIFY_SENDER"] == "webhook" and not cfg.get("NOTIFY_WEBHOOK_URL"):
        problems.append("NOTIFY_SENDER=webhook needs NOTIFY_WEBHOOK_URL")
    for key in ("MAX_CONTENT_LENGTH", "GRID_UPLOAD_MAX_BYTES"):
        mcl = cfg.get(key)
        if not isinstance(mcl, int) or mcl <= 0:
            problems.append(f"{key} must be a positive integer (bytes), got {mcl!r}")
    for key in ("PLAN_TIME_LIMIT_S", "ROUTING_TIME_LIMIT_S", "GRID_VERSION_CHECK_S"):
        v = cfg.get(key)
        if not isinstance(v, int | float) or not v > 0:
            problems.append(f"{key} must be a positive number of seconds, got {v!r}")
    problems.extend(_limit_problems(cfg))
    problems.extend(_planning_problems(cfg))
    beat, lease = cfg.get("RUN_HEARTBEAT_S"), cfg.get("RUN_LEASE_S")
    if not isinstance(beat, int | float) or not beat > 0:
        problems.append(f"RUN_HEARTBEAT_S must be a positive number of seconds, got {beat!r}")
    elif not isinstance(lease, int | float) or not lease >= 2 * beat:
        problems.append(f"RUN_LEASE_S must be at least twice RUN_HEARTBEAT_S ({2 * beat} s), got {lease!r}")
    problems.extend(_crew_page_problems(cfg))
    if cfg["ROUTING_OBJECTIVE"] not in ("weighted_restoration", "distance"):
        problems.append("ROUTING_OBJECTIVE must be weighted_restoration or distance")
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems), details=problems)


def _planning_problems(cfg: dict[str, Any]) -> list[str]:
    """A notice lead outside 0..90 days, a pinned planning time that is not ISO 8601 with offset."""
    from gis.records import parse_aware_datetime

    out: list[str] = []
    lead = cfg.get("NOTICE_LEAD_DAYS")
    if isinstance(lead, bool) or not isinstance(lead, int | float) or not 0 <= lead <= 90:
        out.append(f"NOTICE_LEAD_DAYS must be a number of days within 0..90, got {lead!r}")
    pinned = cfg.get("PLANNING_NOW")
    if pinned is not None:
        try:
            parse_aware_datetime(pinned)
        except InputError:
            out.append(f"PLANNING_NOW must be an ISO 8601 time with a UTC offset, got {pinned!r}")
    return out


#: Schemes a navigation link template may use (web maps and the map apps' own schemes).
NAV_SCHEMES = ("https", "http", "geo", "maps", "comgooglemaps", "iosamap", "androidamap", "amapuri", "baidumap", "intent")


#: Apple Maps directions, offered on every stop beside ``geo:`` (iPhones do not open ``geo:`` links).
APPLE_MAPS_URL = "https://maps.apple.com/?daddr={lat},{lon}&dirflg=d"


def nav_templates(raw: Any) -> list[dict[str, str]]:
    """``NAV_LINK_TEMPLATES`` as a list of ``{"name", "url"}`` (a JSON string from the environment
    is parsed); :class:`ConfigError` for anything else."""
    import json

    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except ValueError as exc:
            raise ConfigError(f"NAV_LINK_TEMPLATES is not JSON: {exc}") from None
    if not isinstance(raw, list | tuple):
        raise ConfigError("NAV_LINK_TEMPLATES must be a list of {name, url}")
    out = []
    for i, t in enumerate(raw):
        if not (isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("url"), str)
                and 1 <= len(t["name"]) <= 40 and 1 <= len(t["url"]) <= 500):
            raise ConfigError(f"NAV_LINK_TEMPLATES[{i}] must be {{\"name\": 1-40 characters, \"url\": 1-500 characters}}")
        scheme = t["url"].split(":", 1)[0].lower()
        if scheme not in NAV_SCHEMES or ("{lat}" not in t["url"] or "{lon}" not in t["url"]):
            raise ConfigError(f"NAV_LINK_TEMPLATES[{i}]: the url must use one of {', '.join(NAV_SCHEMES)} "
                              "and contain {lat} and {lon}")
        out.append({"name": t["name"], "url": t["url"]})
    return out


def _crew_page_problems(cfg: dict[str, Any]) -> list[str]:
    out: list[str] = []
    try:
        nav_templates(cfg.get("NAV_LINK_TEMPLATES"))
    except ConfigError as exc:
        out.append(exc.message)
    for key in ("ROUTE_LINK_TTL_MIN", "PHOTO_MAX_BYTES", "CREW_POSITION_INTERVAL_S"):
        v = cfg.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            out.append(f"{key} must be a positive integer, got {v!r}")
    for key in ("CLIENT_TIME_MAX_AGE_S", "CLIENT_TIME_MAX_AHEAD_S", "POSITION_MAX_ROAD_M", "POSITION_AREA_MARGIN_M"):
        v = cfg.get(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
            out.append(f"{key} must be a number >= 0, got {v!r}")
    url = cfg.get("PUBLIC_URL")
    if url and not (isinstance(url, str) and url.split("://", 1)[0] in ("http", "https") and "://" in url):
        out.append(f"PUBLIC_URL must be an http(s) URL, got {url!r}")
    return out


def _limit_problems(cfg: dict[str, Any]) -> list[str]:
    """Unparseable login and lookup limits (Flask-Limiter strings such as ``10 per 15 minutes``)."""
    from limits import parse_many

    out: list[str] = []
    for key in ("LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS", "LOOKUP_LIMIT_PER_ADDRESS", "LOOKUP_MISS_LIMIT_PER_ADDRESS"):
        try:
            parse_many(str(cfg.get(key)))
        except ValueError:
            out.append(f"{key} must be a rate such as '10 per 15 minutes', got {cfg.get(key)!r}")
    wait = cfg.get("IDEMPOTENCY_WAIT_S")
    if not isinstance(wait, int | float) or wait < 0:
        out.append(f"IDEMPOTENCY_WAIT_S must be a number of seconds >= 0, got {wait!r}")
    return out


def environ() -> dict[str, str]:
    return dict(os.environ)
