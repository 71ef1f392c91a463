"""Planned outages and faults on a :class:`gis.Grid`. No Flask, no database, no network.

Two halves with one public API each:

* :mod:`planning.outages` — jobs, merging, transfer, generators, windows,
  scheduling, switching plans, notices: :func:`plan_outages`.
* :mod:`planning.faults` — fault location, isolation and restoration
  ("lights first"): :func:`locate_fault`, :func:`restore`.

Names are re-exported lazily so that importing one half never needs the other.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "planning.outages": ("Job", "Plan", "PlanOptions", "load_jobs_csv", "plan_outages"),
    "planning.faults": ("locate_fault", "restore", "FaultOptions"),
}


def __getattr__(name: str) -> Any:
    for module, names in _EXPORTS.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'planning' has no attribute {name!r}")


__all__ = [n for names in _EXPORTS.values() for n in names]
