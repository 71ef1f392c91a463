"""Customer messages for a fault, in English and Simplified Chinese, as data for the outbox.

One :class:`Message` per recipient, event and language. Events (``kind``):
``fault_start`` (every customer who lost supply, at the fault time),
``crew_dispatch`` (customers still out when the crew is sent, with the ETA when
known), ``stage_restored`` / ``stage_progress`` (after each stage that restores
someone: those restored, and those still waiting), ``restored`` (final
restoration after the repair). Times in texts are local to the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from planning.texts import LANGUAGES

if TYPE_CHECKING:  # pragma: no cover
    from planning.faults.network import SectionNet
    from planning.faults.restore import Stage

TEMPLATES: dict[str, dict[str, str]] = {
    "fault_start": {
        "en": "Power cut at {time}: a fault on the network interrupted your supply. We are restoring it and "
              "will keep you informed.",
        "zh-Hans": "{time}，因电网故障，您所在区域停电。我们正在全力抢修，并将及时通知您进展。",
    },
    "crew_dispatch": {
        "en": "A repair crew has been dispatched to the fault{eta}.",
        "zh-Hans": "抢修人员已出发前往故障地点{eta}。",
    },
    "stage_restored": {
        "en": "Your power was restored at {time} ({stage} switching). The fault itself is still being repaired; "
              "a short interruption is possible when the network returns to normal.",
        "zh-Hans": "您的供电已于{time}恢复（{stage}）。故障仍在抢修中，电网恢复正常运行方式时可能有短时停电。",
    },
    "stage_progress": {
        "en": "Update {time}: supply is back for {restored} of {total} affected customers. Yours is expected "
              "back by {final}.",
        "zh-Hans": "{time}进展：{total}户受影响用户中已有{restored}户恢复供电，您的供电预计于{final}前恢复。",
    },
    "restored": {
        "en": "The fault has been repaired and your power was restored at {time}. Thank you for your patience.",
        "zh-Hans": "故障已修复，您的供电已于{time}恢复。感谢您的耐心与理解。",
    },
}

STAGE_NAMES = {"remote": {"en": "remote", "zh-Hans": "远方遥控操作"},
               "manual": {"en": "manual", "zh-Hans": "现场人工操作"}}


@dataclass(frozen=True)
class Message:
    """One message for the notification outbox."""

    recipient: str  # customer id
    time: datetime
    kind: str
    language: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"recipient": self.recipient, "time": self.time.isoformat(), "kind": self.kind,
                "language": self.language, "text": self.text}


def _fmt(t: datetime, tz: Any) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _emit(out: list[Message], recipients: Sequence[str], at: datetime, kind: str, **fields: Any) -> None:
    for lang in LANGUAGES:
        values = {k: (v[lang] if isinstance(v, dict) else v) for k, v in fields.items()}
        text = TEMPLATES[kind][lang].format(**values)
        out.extend(Message(r, at, kind, lang, text) for r in recipients)


def build_messages(
    net: SectionNet,
    *,
    now: datetime,
    customers_out: Sequence[str],
    stages: Sequence[Stage],
    crew_eta: datetime | None,
    crew_dispatch: datetime,
    final_time: datetime,
    still_out: Sequence[str],
) -> list[Message]:
    """Every message of one fault event, in time order (see the module docstring)."""
    tz = net.grid.timezone
    out: list[Message] = []
    total = len(customers_out)
    _emit(out, customers_out, now, "fault_start", time=_fmt(now, tz))
    waiting = [c for c in customers_out if c not in set(stages[0].restored_customers)] if stages else list(customers_out)
    if waiting:
        if crew_eta is not None:
            eta = {"en": f", expected on site at {_fmt(crew_eta, tz)}", "zh-Hans": f"，预计{_fmt(crew_eta, tz)}到达现场"}
        else:
            eta = {"en": "", "zh-Hans": ""}
        _emit(out, waiting, crew_dispatch, "crew_dispatch", eta=eta)
    restored = 0
    for stage in stages:
        if not stage.restored_customers:
            continue
        restored += len(stage.restored_customers)
        by_time: dict[datetime, list[str]] = {}
        when = {c: s.time for s in stage.steps for c in s.restores}
        for c in stage.restored_customers:
            by_time.setdefault(when.get(c, stage.end), []).append(c)
        for t, who in sorted(by_time.items()):
            _emit(out, who, t, "stage_restored", time=_fmt(t, tz), stage=STAGE_NAMES[stage.kind])
        if stage.still_out:
            _emit(out, stage.still_out, stage.end, "stage_progress", time=_fmt(stage.end, tz), restored=restored,
                  total=total, final=_fmt(final_time, tz))
    _emit(out, still_out, final_time, "restored", time=_fmt(final_time, tz))
    out.sort(key=lambda m: m.time)
    return out
