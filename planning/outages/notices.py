"""Two-level advance notice (seed: 7 days before, and an SMS 10 minutes before switching).

Every customer who loses grid supply at any step of an outage is notified,
including customers of break-before-make transfers (dark for a few minutes at
each end) and customers who will be on a generator truck.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from planning.outages.options import PlanOptions
from planning.outages.timeline import Timeline

SUPPLY_TEXT = {
    "interrupted": ("no supply for the whole outage", "整个停电时段停电"),
    "short_breaks": ("two short breaks of about {m} minutes, at the start and at the end (supplied through another feeder in between)", "开始和结束时各短时停电约{m}分钟（期间由其他线路转供）"),
    "generator": ("supplied by a mobile generator truck during the outage", "停电期间由发电车保障供电"),
}


def build_notice(
    tl: Timeline,
    *,
    outage_id: str,
    start: datetime,
    end: datetime,
    equipment: Sequence[str],
    supply: Mapping[int, str],
    options: PlanOptions,
) -> dict[str, Any]:
    """Notice for one outage: due times, per-customer lines and message texts (English, Simplified Chinese).

    ``supply`` maps customer index -> ``interrupted`` | ``short_breaks`` | ``generator``.
    """
    tz = tl.grid.timezone
    s, e = start.astimezone(tz), end.astimezone(tz)
    notice_due = s - timedelta(days=options.notice_lead_days)
    sms_due = s - timedelta(minutes=options.sms_lead_min)
    c = tl.grid.customers
    rows = []
    idx = np.array(sorted(supply), dtype=np.int64)
    names = c["name"].to_numpy(dtype=object)
    phones = c["phone"].to_numpy(dtype=object) if "phone" in c.columns else np.full(len(c), None)
    addrs = c["address"].to_numpy(dtype=object) if "address" in c.columns else np.full(len(c), None)
    for i in idx:
        rows.append(
            {
                "id": str(tl.cust_ids[i]),
                "name": names[i],
                "phone": phones[i],
                "address": addrs[i],
                "importance": str(tl.importance[i]),
                "supply": supply[int(i)],
            }
        )
    day = s.strftime("%Y-%m-%d")
    span_en = f"{day} {s:%H:%M}–{e:%H:%M}" if s.date() == e.date() else f"{s:%Y-%m-%d %H:%M} – {e:%Y-%m-%d %H:%M}"
    span_zh = (
        f"{s.year}年{s.month}月{s.day}日{s:%H:%M}至{e:%H:%M}"
        if s.date() == e.date()
        else f"{s.year}年{s.month}月{s.day}日{s:%H:%M}至{e.year}年{e.month}月{e.day}日{e:%H:%M}"
    )
    what = ", ".join(equipment)
    m = options.switching_break_min
    text = {
        "en": (
            f"Planned power interruption {outage_id}: {span_en} ({tz.key}) for maintenance of {what}. "
            "Please prepare; if this time causes you serious difficulty, contact us before "
            f"{(notice_due + timedelta(days=2)):%Y-%m-%d} so that we can review the plan. We apologise for the inconvenience."
        ),
        "zh": (
            f"计划停电通知（{outage_id}）：因{what}检修，定于{span_zh}停电。请提前做好准备；"
            f"如对停电时间有重大困难，请于{(notice_due + timedelta(days=2)):%Y-%m-%d}前与我们联系，以便调整计划。给您带来不便，敬请谅解。"
        ),
    }
    sms = {
        "en": f"Power supply notice {outage_id}: switching for planned maintenance starts in {options.sms_lead_min} minutes ({span_en}).",
        "zh": f"【停电提醒】{outage_id}：计划检修将于{options.sms_lead_min}分钟后开始操作（{span_zh}），请做好准备。",
    }
    supply_texts = {k: {"en": v[0].format(m=m), "zh": v[1].format(m=m)} for k, v in SUPPLY_TEXT.items()}
    return {
        "notice_due": notice_due.isoformat(),
        "sms_due": sms_due.isoformat(),
        "customers": rows,
        "count": len(rows),
        "text": text,
        "sms": sms,
        "supply_texts": supply_texts,
    }
