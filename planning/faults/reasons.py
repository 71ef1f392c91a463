"""Why a fault candidate is where it is: reason codes with parameters, in English and Chinese.

A :class:`Reason` is one piece of evidence (or the headline of a candidate) as
data: a ``code`` (one of :data:`REASON_TEMPLATES`), its ``params`` (ids,
counts, probabilities — JSON values) and the texts made from the templates in
every language of :data:`planning.texts.LANGUAGES`. A shell that
renders its own translations uses ``code`` and ``params``; one that does not
shows ``texts[language]``.

Lists in ``params`` (switch ids) are joined with ", " in English and "、" in
Chinese; ``likelihood`` is a probability 0..1, ``km`` kilometres.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planning.texts import LANGUAGES, LIST_SEPARATORS

REASON_TEMPLATES: dict[str, dict[str, str]] = {
    # -- details (the full evidence list of a candidate) --------------------------------
    "tripped_breaker": {
        "en": "fed through tripped breaker {breaker}",
        "zh-Hans": "由跳闸开关{breaker}供电",
    },
    "fault_current_seen": {
        "en": "downstream of {switches} (fault current seen)",
        "zh-Hans": "位于{switches}下游（检测到故障电流）",
    },
    "no_fault_current": {
        "en": "upstream of {switches} (no fault current)",
        "zh-Hans": "位于{switches}上游（未检测到故障电流）",
    },
    "indicators_consistent": {
        "en": "consistent with all {count} indicator reading(s)",
        "zh-Hans": "与全部{count}个故障指示器读数一致",
    },
    "indicators_contradict": {
        "en": "{count} contradicting reading(s): {detail}",
        "zh-Hans": "{count}个读数矛盾：{detail}",
    },
    "indicator_seen_off_path": {
        "en": "{switch} saw fault current but is not between the source and this section",
        "zh-Hans": "{switch}检测到故障电流，但不在电源与本区段之间",
    },
    "indicator_clear_on_path": {
        "en": "{switch} saw no fault current but lies between the source and this section",
        "zh-Hans": "{switch}未检测到故障电流，但位于电源与本区段之间",
    },
    "indicators_missing": {
        "en": "no reading from {switches} on the path",
        "zh-Hans": "路径上的{switches}无读数",
    },
    "calls": {
        "en": "trouble calls point at {device} (likelihood {likelihood:.2f}: {explained} call(s) explained, "
              "{silent} silent customer(s), {elsewhere} call(s) from elsewhere)",
        "zh-Hans": "报修电话指向{device}（可能性{likelihood:.2f}：解释{explained}个来电，{silent}户未来电，"
                   "{elsewhere}个来电来自其他区域）",
    },
    "exposure": {
        "en": "no indicator or call evidence: ranked by exposure ({km:.2f} km)",
        "zh-Hans": "无故障指示器或来电信息：按故障暴露度排序（{km:.2f} 公里）",
    },
    # -- headlines (the one reason that matters) ---------------------------------------
    "calls_explained": {
        "en": "explains {explained} of {calls} call(s); {silent} customer(s) below {device} did not call",
        "zh-Hans": "解释{calls}个来电中的{explained}个；{device}下游{silent}户未来电",
    },
    "indicators_bracket": {
        "en": "indicator {seen} saw the fault, {clear} did not",
        "zh-Hans": "故障指示器{seen}检测到故障电流，{clear}未检测到",
    },
    "indicator_seen": {
        "en": "indicator {seen} saw the fault; nothing below reported",
        "zh-Hans": "故障指示器{seen}检测到故障电流；下游无读数",
    },
    "indicator_clear": {
        "en": "indicator {clear} saw no fault current: the fault is upstream of it",
        "zh-Hans": "故障指示器{clear}未检测到故障电流：故障在其上游",
    },
    "indicators_partial": {
        "en": "agrees with {agree} of {total} indicator reading(s); {contradict} disagree",
        "zh-Hans": "与{total}个故障指示器读数中的{agree}个一致；{contradict}与之矛盾",
    },
    "tripped_exposure": {
        "en": "below tripped breaker {breaker}; {km:.2f} km of line and cabinets exposed",
        "zh-Hans": "位于跳闸开关{breaker}下游；暴露线路及设备{km:.2f} 公里",
    },
    # -- switching steps (Step.why) ------------------------------------------------------
    "step_isolate_remote_upstream": {
        "en": "isolate the fault (upstream remote switch nearest to it)",
        "zh-Hans": "隔离故障（距故障最近的上游遥控开关）",
    },
    "step_isolate_remote_downstream": {
        "en": "isolate the fault (downstream remote switch nearest to it)",
        "zh-Hans": "隔离故障（距故障最近的下游遥控开关）",
    },
    "step_isolate_located": {
        "en": "isolate the located section: supply was lost below {switch} (trouble calls, no trip reported); "
              "open it",
        "zh-Hans": "隔离定位区段：{switch}下游失电（来自报修电话，无跳闸报告）；断开该开关",
    },
    "step_isolate_section": {
        "en": "isolate the faulted section (nearest switch on this side)",
        "zh-Hans": "隔离故障区段（本侧最近的开关）",
    },
    "step_split": {
        "en": "split the transfer so that closing {switch} stays within capacity and passes the power flow",
        "zh-Hans": "拆分转供范围，使合上{switch}后不超容量并通过潮流校核",
    },
    "step_reclose_tripped": {
        "en": "reclose the tripped breaker; restores {restored} customer(s) from feeder {feeder}",
        "zh-Hans": "重合跳闸开关；由馈线{feeder}恢复{restored}户供电",
    },
    "step_close_assumed": {
        "en": "close {switch} again: assumed opened by protection (no trip was reported: check that it is open "
              "first); restores {restored} customer(s) from feeder {feeder}",
        "zh-Hans": "再次合上{switch}：推定为保护动作断开（无跳闸报告：请先确认其处于断开状态）；由馈线{feeder}恢复{restored}户供电",
    },
    "step_close_again": {
        "en": "close again now that the fault is isolated; restores {restored} customer(s) from feeder {feeder}",
        "zh-Hans": "故障已隔离，重新合上；由馈线{feeder}恢复{restored}户供电",
    },
    "step_close_tie": {
        "en": "close the tie: transfer to another feeder; restores {restored} customer(s) from feeder {feeder}",
        "zh-Hans": "合上联络开关：转供至其他馈线；由馈线{feeder}恢复{restored}户供电",
    },
    "step_back_close": {
        "en": "after the repair: close again (normal state); restores {restored} customer(s) from feeder {feeder}",
        "zh-Hans": "修复后：重新合上（恢复正常运行方式）；由馈线{feeder}恢复{restored}户供电",
    },
    "step_back_make_before_break": {
        "en": "make before break: close {switch}, a loop through tie {tie} (one substation, passes the power flow)",
        "zh-Hans": "先合后断：合上{switch}，经联络开关{tie}合环（同一变电站，通过潮流校核）",
    },
    "step_back_open_tie_after_loop": {
        "en": "open the tie: the area is back on its own feeder",
        "zh-Hans": "断开联络开关：该区域恢复由原馈线供电",
    },
    "step_back_open_unused_tie": {
        "en": "after the repair: open the tie (nothing depends on it any more)",
        "zh-Hans": "修复后：断开联络开关（已无负荷依赖该开关）",
    },
    "step_back_break_before_make": {
        "en": "break before make (the loop would join two substations or fail the power flow): open the tie first; "
              "the area is briefly dark until it is closed on its own feeder",
        "zh-Hans": "先断后合（合环将连接两个变电站或无法通过潮流校核）：先断开联络开关；该区域短时停电，直至合回原馈线",
    },
    "step_back_open_tie_unchecked": {
        "en": "after the repair: open the tie (normal state; not checked)",
        "zh-Hans": "修复后：断开联络开关（恢复正常运行方式；未校核）",
    },
    "step_back_close_unchecked": {
        "en": "after the repair: close again (normal state; not checked)",
        "zh-Hans": "修复后：重新合上（恢复正常运行方式；未校核）",
    },
    "step_disconnect_generator": {
        "en": "after the repair: disconnect the generator truck before the block is switched back",
        "zh-Hans": "修复后：在该区块切回电网前断开发电车",
    },
    # -- the one-line summary -------------------------------------------------------------
    "summary_line": {
        "en": "{where} — {percent} % — {reason}",
        "zh-Hans": "{where} — {percent}% — {reason}",
    },
    "where_device": {
        "en": "{node_name} below {device}, feeder {feeder}",
        "zh-Hans": "{device}下游的{node_name}，馈线{feeder}",
    },
    "where_section": {
        "en": "section {section}, feeder {feeder}",
        "zh-Hans": "区段{section}，馈线{feeder}",
    },
}

def render(code: str, params: Mapping[str, Any], language: str) -> str:
    """The text of a reason code in one language (lists joined, nested reasons rendered)."""
    sep = LIST_SEPARATORS[language]
    values: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, Reason):
            values[k] = v.texts()[language]
        elif isinstance(v, list | tuple) and all(isinstance(x, Reason) for x in v) and v:
            values[k] = ("; " if language == "en" else "；").join(x.texts()[language] for x in v)
        elif isinstance(v, list | tuple):
            values[k] = sep.join(str(x) for x in v)
        elif v is None:
            values[k] = "—"
        else:
            values[k] = v
    return REASON_TEMPLATES[code][language].format(**values)


@dataclass(frozen=True)
class Reason:
    """One reason: ``code`` (a key of :data:`REASON_TEMPLATES`) and its ``params``."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REASON_TEMPLATES:  # pragma: no cover - a programming error
            raise KeyError(f"unknown reason code {self.code!r}")

    @property
    def text(self) -> str:
        """The English text."""
        return render(self.code, self.params, "en")

    def texts(self) -> dict[str, str]:
        """The text in every language, by language tag (``en``, ``zh-Hans``)."""
        return {lang: render(self.code, self.params, lang) for lang in LANGUAGES}

    def to_json(self) -> dict[str, Any]:
        """``{"code", "params", "text", "texts"}``; nested reasons in ``params`` become their JSON."""
        params = {k: _json_param(v) for k, v in self.params.items()}
        return {"code": self.code, "params": params, "text": self.text, "texts": self.texts()}


def _json_param(v: Any) -> Any:
    if isinstance(v, Reason):
        return v.to_json()
    if isinstance(v, list | tuple):
        return [_json_param(x) for x in v]
    return v
