"""Grid layers as RFC 7946 GeoJSON, with bounding-box filtering."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app

from app.api import ApiBlueprint
from app.api.common import grid
from app.auth import require, sees_phones
from app.services import grid as grid_service

blp = ApiBlueprint("grid", __name__, url_prefix="/api/grid", description="The grid: summary, feeders and GeoJSON layers")


class BBoxArgs(ma.Schema):
    bbox = ma.fields.String(metadata={"description": "minLon,minLat,maxLon,maxLat (WGS84)", "example": "7.41,43.72,7.44,43.74"})


@blp.route("/summary")
@require()
@blp.response(200)
def summary() -> Any:
    """Counts of every layer, feeders and the grid's source and timezone."""
    s = grid().summary()
    return current_app.json.loads(current_app.json.dumps(s, default=str))


@blp.route("/feeders")
@require()
@blp.response(200)
def feeders() -> Any:
    """Feeders with rating, capacity (kW), customers, demand and tie switches."""
    df = grid().feeders
    return current_app.json.loads(df.to_json(orient="records"))


@blp.route("/layers")
@require()
@blp.response(200)
def layers() -> Any:
    """The layer names served by ``/api/grid/layers/<layer>``."""
    return {"layers": list(grid_service.LAYERS)}


@blp.route("/layers/<string:layer>")
@require()
@blp.arguments(BBoxArgs, location="query")
@blp.response(200, content_type="application/geo+json")
def layer(args: dict[str, Any], layer: str) -> Response:
    """One layer as a FeatureCollection; ``bbox`` keeps features that intersect it.

    Customers' phone numbers are included for customer_service and admin only.
    """
    bbox = grid_service.parse_bbox(args.get("bbox"))
    cache = current_app.extensions.setdefault("layer_cache", {})
    data = grid_service.layer_geojson(grid(), layer, bbox=bbox, with_phones=sees_phones(), cache=cache)
    return Response(data, mimetype="application/geo+json")
