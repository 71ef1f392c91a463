"""The project's error hierarchy.

Every error the core (``gis``, ``planning``, ``routing``) raises on purpose is an
:class:`OutageError`. The web shell maps these classes to HTTP status codes in
one place (``app/errors.py``); the CLIs print them and exit with status 1 or 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class OutageError(Exception):
    """Base class of all deliberate errors. ``code`` is a stable machine-readable tag."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InputError(OutageError, ValueError):
    """The caller gave bad input (HTTP 400/422)."""

    code = "bad_input"


class NotFoundError(InputError, LookupError):
    """An id the caller named does not exist (HTTP 404)."""

    code = "not_found"


class ConflictError(OutageError):
    """The request conflicts with the current state (HTTP 409)."""

    code = "conflict"


@dataclass(frozen=True)
class Problem:
    """One finding of grid validation.

    ``severity`` is ``"error"`` (the grid cannot be loaded) or ``"warning"``
    (loaded, but someone should look).
    """

    code: str
    severity: str
    message: str
    ids: tuple[str, ...] = field(default=())
    layer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "layer": self.layer,
            "ids": list(self.ids),
            "message": self.message,
        }


class GridValidationError(InputError):
    """The grid failed validation; ``problems`` lists every finding (errors and warnings)."""

    code = "grid_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        head = "; ".join(p.message for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(
            f"grid is invalid: {len(errors)} error(s): {head}{more}",
            details=[p.to_dict() for p in problems],
        )
        self.problems = problems

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
