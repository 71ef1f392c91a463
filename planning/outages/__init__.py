"""Planned-outage planning: the seeds' "five musts" on a :class:`gis.Grid`.

Public API::

    from planning.outages import Job, PlanOptions, load_jobs_csv, plan_outages
    jobs, errors = load_jobs_csv("jobs.csv")
    plan = plan_outages(grid, jobs, now=now, options=PlanOptions(), input_errors=errors)
    plan.to_json()   # the stable JSON contract, see docs/planning.md

No Flask, no database, no network. OR-Tools is imported only by
:mod:`planning.outages.cpsat`.
"""

from planning.fleet import Generator, load_generators_csv
from planning.outages.fixed import FixedOutage
from planning.outages.jobs import Job, JobError, LoadedJobs, load_jobs_csv, write_jobs_csv
from planning.outages.ledger import LedgerItem, propose_year
from planning.outages.options import PlanOptions
from planning.outages.plan import Outage, Plan, plan_outages

__all__ = [
    "FixedOutage",
    "Generator",
    "Job",
    "JobError",
    "LedgerItem",
    "LoadedJobs",
    "Outage",
    "Plan",
    "PlanOptions",
    "load_generators_csv",
    "load_jobs_csv",
    "plan_outages",
    "propose_year",
    "write_jobs_csv",
]
