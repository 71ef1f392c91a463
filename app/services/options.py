"""Options sent by API clients, checked against the core's option dataclasses by name.

The core's option types (``planning.outages.PlanOptions``,
``planning.faults.FaultOptions``) validate their values; the shell first makes sure
every key a client sent names one of their fields, so a misspelt option is a 422
``bad_options`` naming it rather than an option silently ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gis import InputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class BadOptions(InputError):
    """Options a client sent that the core does not know or accept (HTTP 422)."""

    code = "bad_options"


def check_option_names(cls: type[DataclassInstance], values: Mapping[str, Any]) -> None:
    """Raise :class:`BadOptions` listing every key of ``values`` that is not a field of ``cls``."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise BadOptions(f"unknown {cls.__name__} option(s): {', '.join(map(repr, unknown))}",
                         details={"unknown": unknown, "known": known})
