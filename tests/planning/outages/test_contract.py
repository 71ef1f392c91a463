"""The JSON contract of Plan.to_json(), the CLI, notices, and the load model against the grid's own."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from planning.outages import PlanOptions, plan_outages, write_jobs_csv
from planning.outages.cli import main
from planning.outages.timeline import Timeline, parse_peak_hours

OUTAGE_KEYS = {"id", "jobs", "start", "end", "switching_steps", "valid", "transfers", "generators", "customers"}
METRIC_KEYS = {"outages", "ci", "cmi", "ens_kwh", "peak_hits", "generator_hours"}


def _iso_aware(text: str) -> bool:
    return datetime.fromisoformat(text).utcoffset() is not None


def test_json_contract(small_ring, mk) -> None:
    jobs = [mk.job("J1", "R2", 240), mk.job("J2", "L9", 60), mk.job("BAD", "NOPE", 60)]
    doc = plan_outages(small_ring, jobs, now=mk.NOW, options=mk.FAST).to_json()
    again = json.loads(json.dumps(doc, ensure_ascii=False))
    assert again == doc  # only JSON types
    assert {"outages", "errors", "metrics"} <= set(doc)
    for o in doc["outages"]:
        assert set(o) >= OUTAGE_KEYS
        assert isinstance(o["valid"], bool) and all(isinstance(j, str) for j in o["jobs"] + o["customers"])
        assert _iso_aware(o["start"]) and _iso_aware(o["end"])
        for s in o["switching_steps"]:
            assert {"seq", "phase", "action", "device", "at"} <= set(s) and _iso_aware(s["at"])
    assert doc["errors"] == [{"job": "BAD", "code": "unknown_equipment", "message": "unknown equipment id: NOPE"}]
    assert set(doc["metrics"]["plan"]) >= METRIC_KEYS and set(doc["metrics"]["plan"]) == set(doc["metrics"]["baseline"])
    assert _iso_aware(doc["now"])


def test_notices_are_due_seven_days_and_ten_minutes_before(small_ring, mk) -> None:
    (o,) = plan_outages(small_ring, [mk.job("J1", "R2", 240)], now=mk.NOW, options=mk.FAST).outages
    n = o.notices
    assert datetime.fromisoformat(n["notice_due"]) == o.start - timedelta(days=7)
    assert datetime.fromisoformat(n["sms_due"]) == o.start - timedelta(minutes=10)
    assert n["count"] == 4 and {c["id"] for c in n["customers"]} == {"C1", "C2", "C3", "C7"}
    hhmm = o.start.astimezone(small_ring.timezone).strftime("%H:%M")
    assert hhmm in n["text"]["en"] and hhmm in n["text"]["zh"] and "停电" in n["text"]["zh"]
    assert "10 minutes" in n["sms"]["en"] and "10分钟" in n["sms"]["zh"]
    assert n["customers"][0]["phone"]


def test_cli_json(tmp_path: Path, capsys, mk) -> None:  # noqa: ANN001
    p = write_jobs_csv([mk.job("J1", "R2", 240), mk.job("J2", "NOPE", 60)], tmp_path / "jobs.csv")
    grid = Path(__file__).resolve().parents[2] / "data" / "small_ring"
    rc = main(["--grid", str(grid), "--jobs", str(p), "--now", mk.NOW.isoformat(), "--json", "--time-limit", "3"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [o["jobs"] for o in doc["outages"]] == [["J1"]]
    assert doc["errors"][0]["code"] == "unknown_equipment"
    assert doc["metrics"]["plan"]["cmi"] < doc["metrics"]["baseline"]["cmi"]


def test_cli_bad_request_is_an_error_not_a_traceback(tmp_path: Path, capsys, mk) -> None:  # noqa: ANN001
    grid = Path(__file__).resolve().parents[2] / "data" / "small_ring"
    rc = main(["--grid", str(grid), "--jobs", str(tmp_path / "none.csv"), "--now", mk.NOW.isoformat(), "--json"])
    assert rc == 1 and json.loads(capsys.readouterr().out)["error"]["code"] == "jobs_not_found"
    rc = main(["--grid", str(grid), "--jobs", str(tmp_path / "none.csv"), "--now", "2026-12-01T08:00"])
    assert rc == 1 and "UTC offset" in capsys.readouterr().err
    rc = main(["--grid", str(grid), "--jobs", "x.csv", "--now", mk.NOW.isoformat(), "--options", '{"time_step_min": 7}'])
    assert rc == 1 and "multiple of 15" in capsys.readouterr().err


def test_loads_match_the_grid(small_ring, mk) -> None:
    tl = Timeline(small_ring, PlanOptions(), mk.NOW)
    for t in ("2026-12-08 03:00", "2026-12-08 12:15", "2026-12-12 12:00", "2026-12-13 23:45"):
        at = mk.at(t)
        k = round(tl.slot_of(at))
        ours = tl.demand * tl.factor[tl.prof, k]
        assert np.allclose(ours, small_ring.customer_load_kw(at).to_numpy())
        feeders = small_ring.feeder_load_kw(at)
        assert np.allclose(tl.feeder_load[:, k], feeders.reindex(tl.feeder_ids).to_numpy())
    # energy of C2 ("day": 50 kW 08:00-18:00 weekdays, 10 kW otherwise) over 07:00-09:30: 10 + 75 kWh
    c2 = int(tl.customer_idx(["C2"])[0])
    s = np.array([round(tl.slot_of(mk.at("2026-12-08 07:00")))])
    assert tl.energy(tl.customer_load(c2), s, 150)[0] == 85.0


def test_peak_hours(small_ring, mk) -> None:
    mask = parse_peak_hours("08:45-14:15;22:00-02:00")
    assert mask is not None and mask[35] and mask[56] and not mask[57] and mask[95] and mask[7] and not mask[8]
    assert parse_peak_hours("9h-12h") is None
    grid = mk.ring_grid(lambda L: [mk.set_row(L, "customers", c, importance="first") for c in ("C2", "C1")])
    tl = Timeline(grid, PlanOptions(), mk.NOW)
    c2, c1 = tl.customer_idx(["C2", "C1"])
    k = round(tl.slot_of(mk.at("2026-12-08 09:00")))
    assert tl.peak_mask(c2)[k] and not tl.peak_mask(c2)[k - 8]  # "day" profile: 08:00-18:00 on weekdays
    assert not tl.peak_mask(c1).any()  # flat profile: no distinguishable peak
