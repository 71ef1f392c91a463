"""Faults: location, isolation and restoration — "lights first" (亮灯第一).

* :func:`locate_fault` ranks the sections that may hold a fault from a tripped
  breaker, fault indicators and trouble calls; each candidate has a one-line
  :class:`Summary` and its evidence as :class:`Reason` codes (English, Chinese).
* :func:`restore` isolates a faulted section and restores healthy customers in
  a remote stage and a manual stage, with the repair task, generator trucks,
  customer messages and reliability metrics.
* :class:`FaultReport` joins both into the JSON contract of
  ``python -m planning fault`` (docs/faults.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planning.faults.locate import Candidate, Location, Summary, call_log_likelihood, locate_fault
from planning.faults.messages import Message
from planning.faults.options import FaultOptions
from planning.faults.reasons import REASON_TEMPLATES, Reason
from planning.faults.restore import (
    DeadArea,
    FeederLoading,
    GeneratorProposal,
    RepairTask,
    Restoration,
    Stage,
    Step,
    restore,
)
from planning.fleet import Generator, load_generators_csv

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FaultReport:
    """A located (or given) fault and its restoration: ``to_json()`` is the CLI/API contract."""

    location: Location | None
    restoration: Restoration

    def to_json(self) -> dict[str, Any]:
        r = self.restoration.to_json()
        if self.location is not None:
            candidates = [c.to_json() for c in self.location.candidates]
            warnings = list(self.location.warnings) + r["warnings"]
        else:
            candidates = []
            warnings = r["warnings"]
        return {
            "schema_version": SCHEMA_VERSION,
            "candidates": candidates,
            "faulted": r["faulted"],
            "stages": r["stages"],
            "return_to_normal": r["return_to_normal"],
            "power_flow": r["power_flow"],
            "final_state": r["final_state"],
            "repair": r["repair"],
            "generators": r["generators"],
            "messages": r["messages"],
            "metrics": r["metrics"],
            "warnings": warnings,
        }


__all__ = [
    "REASON_TEMPLATES",
    "SCHEMA_VERSION",
    "Candidate",
    "DeadArea",
    "FaultOptions",
    "FaultReport",
    "FeederLoading",
    "Generator",
    "GeneratorProposal",
    "Location",
    "Message",
    "Reason",
    "RepairTask",
    "Restoration",
    "Stage",
    "Step",
    "Summary",
    "call_log_likelihood",
    "load_generators_csv",
    "locate_fault",
    "restore",
]
