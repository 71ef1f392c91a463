"""The job list pages, filters and sorts on the server (issue 13): the planner page reads it a
page at a time and plans every job of a filter, never only the rows it shows."""

from __future__ import annotations

from typing import Any

import pytest

JOBS = [
    {"id": "A-3", "equipment": ["R2"], "duration_min": 60, "earliest": "2026-12-03T08:00:00+01:00",
     "latest": "2026-12-05T18:00:00+01:00", "crew": "K1", "description": "Cable joint"},
    {"id": "A-1", "equipment": ["L7"], "duration_min": 240, "earliest": "2026-12-01T08:00:00+01:00",
     "latest": "2026-12-09T18:00:00+01:00", "crew": "K2", "description": "Replace 100%_switchgear"},
    {"id": "B-2", "equipment": ["R2", "L7"], "duration_min": 120, "earliest": "2026-12-02T08:00:00+01:00",
     "latest": "2026-12-04T18:00:00+01:00", "requested_by": "Asset team"},
]


@pytest.fixture
def listed(client: Any, tokens: dict[str, Any]) -> Any:
    for j in JOBS:
        assert client.post("/api/jobs", json=j, headers=tokens["planner"]).status_code == 201

    def ids(query: str) -> tuple[int, list[str]]:
        r = client.get("/api/jobs?" + query, headers=tokens["viewer"])
        assert r.status_code == 200, r.json
        return r.json["total"], [j["id"] for j in r.json["items"]]
    return ids


def test_sorts(listed: Any) -> None:
    assert listed("sort=id") == (3, ["A-1", "A-3", "B-2"])
    assert listed("sort=earliest") == (3, ["A-1", "B-2", "A-3"])
    assert listed("sort=latest") == (3, ["B-2", "A-3", "A-1"])
    assert listed("sort=duration") == (3, ["A-1", "B-2", "A-3"])
    assert listed("")[1] == ["B-2", "A-1", "A-3"]  # newest first


def test_filters_and_pages(listed: Any) -> None:
    assert listed("q=l7&sort=id") == (2, ["A-1", "B-2"])  # equipment, any case
    assert listed("q=joint") == (1, ["A-3"])  # description
    assert listed("q=asset") == (1, ["B-2"])  # requester
    assert listed("q=k2") == (1, ["A-1"])  # crew
    assert listed("q=100%25_") == (1, ["A-1"])  # % and _ are literal, not wildcards
    assert listed("q=%25") == (1, ["A-1"])
    assert listed("crew=K1") == (1, ["A-3"])
    assert listed("sort=id&limit=2&offset=0") == (3, ["A-1", "A-3"])
    assert listed("sort=id&limit=2&offset=2") == (3, ["B-2"])
    assert listed("status=open&q=nothing-like-this") == (0, [])


def test_jobs_of_a_plan(client: Any, tokens: dict[str, Any], listed: Any) -> None:
    r = client.post("/api/plans", json={"job_ids": ["A-3", "B-2"], "now": "2026-11-20T09:00:00+01:00"}, headers=tokens["planner"])
    assert r.status_code == 202
    assert listed(f"plan={r.json['plan']['id']}&sort=id") == (2, ["A-3", "B-2"])
    assert client.get("/api/jobs?plan=99999", headers=tokens["viewer"]).status_code == 404


@pytest.mark.parametrize("query", ["sort=colour", "q=", "limit=0", "plan=0", "crew=" + "x" * 65, "colour=red"])
def test_bad_list_arguments(client: Any, tokens: dict[str, Any], query: str) -> None:
    assert client.get("/api/jobs?" + query, headers=tokens["viewer"]).status_code == 422
