"""Options sent by API clients: names checked against the core's option dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from app.errors import status_of
from app.services.options import BadOptions, check_option_names

NOW = "2026-12-01T10:00:00+01:00"
JOB = {"id": "J1", "equipment": ["L7"], "duration_min": 120, "earliest": "2026-12-01T08:00:00+01:00",
       "latest": "2026-12-04T18:00:00+01:00"}


@dataclass(frozen=True)
class Knobs:
    speed_kmh: float = 30.0
    limit_s: float = 10.0


def test_known_names_pass_and_unknown_ones_are_all_named() -> None:
    check_option_names(Knobs, {})
    check_option_names(Knobs, {"speed_kmh": 20.0, "limit_s": 1.0})
    with pytest.raises(BadOptions) as caught:
        check_option_names(Knobs, {"speed_kmh": 20.0, "speed_kph": 1.0, "limit": 2})
    exc = caught.value
    assert exc.code == "bad_options" and status_of(exc) == 422
    assert exc.details == {"unknown": ["limit", "speed_kph"], "known": ["speed_kmh", "limit_s"]}
    assert "'limit'" in exc.message and "'speed_kph'" in exc.message and "Knobs" in exc.message


def test_unknown_plan_option_is_422_naming_it_and_stores_nothing(client: Any, tokens: Any) -> None:
    client.post("/api/jobs", json=JOB, headers=tokens["planner"])
    r = client.post("/api/plans", json={"now": NOW, "options": {"time_step_mins": 15, "time_step_min": 15}},
                    headers=tokens["planner"])
    assert r.status_code == 422
    assert r.json["code"] == "bad_options" and r.json["details"]["unknown"] == ["time_step_mins"]
    assert "time_step_min" in r.json["details"]["known"]
    assert client.get("/api/plans", headers=tokens["planner"]).json["total"] == 0


def test_unknown_fault_option_is_422_naming_it_and_stores_nothing(client: Any, tokens: Any) -> None:
    r = client.post("/api/faults", json={"section": "R2", "now": NOW, "options": {"manual_switching_mins": 45}},
                    headers=tokens["dispatcher"])
    assert r.status_code == 422
    assert r.json["code"] == "bad_options" and r.json["details"]["unknown"] == ["manual_switching_mins"]
    bad_value = client.post("/api/faults", json={"section": "R2", "now": NOW, "options": {"call_probability": 2}},
                            headers=tokens["dispatcher"])
    assert bad_value.status_code == 422 and bad_value.json["code"] == "bad_options"
    assert "call_probability" in bad_value.json["message"]
    assert client.get("/api/faults", headers=tokens["viewer"]).json["total"] == 0


def test_a_known_fault_option_reaches_the_core(client: Any, tokens: Any) -> None:
    """``manual_switching_min`` is minutes per manual operation: 30 more minutes each
    push the manual stage's end back by 30 minutes per manual step in it."""
    def manual_stage(options: dict[str, Any]) -> dict[str, Any]:
        r = client.post("/api/faults", json={"section": "R2", "now": NOW, "options": options}, headers=tokens["dispatcher"])
        assert r.status_code == 201, r.json
        (stage,) = [s for s in r.json["stages"] if s["kind"] == "manual"]
        return stage

    usual, slow = manual_stage({"manual_switching_min": 15}), manual_stage({"manual_switching_min": 45})
    steps = [s for s in usual["steps"] if not s["remote"]]
    assert steps
    delay = datetime.fromisoformat(slow["end"]) - datetime.fromisoformat(usual["end"])
    assert delay.total_seconds() == 30 * 60 * len(steps)
