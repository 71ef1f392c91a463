"""Planned outages and faults on a :class:`gis.Grid`. No Flask, no database, no network.

Two halves with one public API each:

* :mod:`planning.outages` — jobs, merging, transfer, generators, windows,
  scheduling, switching plans, notices: :func:`plan_outages`.
* :mod:`planning.faults` — fault location, isolation and restoration
  ("lights first"): :func:`locate_fault`, :func:`restore`, :class:`FaultReport`.

Names are re-exported lazily so that importing one half never needs the other;
type checkers see the same names through the ``TYPE_CHECKING`` imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planning.faults import FaultOptions, FaultReport, locate_fault, restore
    from planning.outages import (
        Job,
        Plan,
        PlanOptions,
        load_generators_csv,
        load_jobs_csv,
        plan_outages,
    )

_EXPORTS = {
    "planning.outages": ("Job", "Plan", "PlanOptions", "load_generators_csv", "load_jobs_csv", "plan_outages"),
    "planning.faults": ("FaultOptions", "FaultReport", "locate_fault", "restore"),
}


def __getattr__(name: str) -> Any:
    for module, names in _EXPORTS.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'planning' has no attribute {name!r}")


__all__ = [
    "FaultOptions",
    "FaultReport",
    "Job",
    "Plan",
    "PlanOptions",
    "load_generators_csv",
    "load_jobs_csv",
    "locate_fault",
    "plan_outages",
    "restore",
]
