"""Errors raised by the routing floor.

They subclass the project-wide hierarchy in :mod:`gis.errors`, so the web shell
maps them to HTTP status codes in one place and the CLIs print them as JSON:

* :class:`RoutingInputError` (``InputError``, HTTP 400/422): bad input, e.g. zero
  crews, a shift that ends before it starts, duplicate ids, a time limit of 0,
  an unreadable road file.
* :class:`UnknownLocationError` (``NotFoundError``, HTTP 404): an equipment or
  depot id that the road network has no access point for.
* :class:`RoutingError` (``OutageError``): something failed that is not the
  caller's fault (e.g. the solver backend).

Tasks that cannot be served are *not* errors: :func:`routing.plan_routes`
drops them and says why (see :class:`routing.DroppedTask`).
"""

from __future__ import annotations

from gis.errors import InputError, NotFoundError, OutageError

__all__ = [
    "RoadNetworkError",
    "RoutingError",
    "RoutingInputError",
    "UnknownLocationError",
]


class RoutingError(OutageError):
    """A routing failure that is not caused by the caller's input."""

    code = "routing_error"


class RoutingInputError(InputError):
    """Bad input to a routing function (a ``ValueError`` too)."""

    code = "routing_bad_input"


class RoadNetworkError(RoutingInputError):
    """The road network file cannot be read or holds no usable drivable roads."""

    code = "bad_road_network"


class UnknownLocationError(NotFoundError):
    """An equipment / depot id that has no access point on the road network."""

    code = "unknown_location"
