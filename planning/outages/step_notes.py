"""The notes of a planned outage's switching steps as codes with parameters, in English and Chinese.

:func:`planning.outages.switching.build_steps` gives every step a ``note_code`` and its
``params`` (feeder, tie, switch and substation ids, customer and node counts); the step's
``why`` carries them with the texts of every language, so a shell shows the note in the
page's language (``why.texts[lang]``) or renders its own from ``code`` and ``params``.
``note`` keeps the English text for readers of the plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planning.texts import LANGUAGES, LIST_SEPARATORS

NOTE_TEMPLATES: dict[str, dict[str, str]] = {
    "mbb_close_tie": {"en": "make-before-break: {what} (same substation {substation})",
                      "zh-Hans": "先合后拉：{what}（同一变电站{substation}）"},
    "mbb_fed_through": {"en": "{what} now fed through {tie}", "zh-Hans": "{what}，现由{tie}供电"},
    "bbm_open": {"en": "break-before-make: {what} dark until {tie} closes",
                 "zh-Hans": "先拉后合：{what}，{tie}合上前停电"},
    "bbm_close_tie": {"en": "break-before-make: {what} (substation {substation})",
                      "zh-Hans": "先拉后合：{what}（变电站{substation}）"},
    "supply_side": {"en": "supply side of the work zone", "zh-Hans": "作业区电源侧"},
    "far_side": {"en": "far side of the work zone", "zh-Hans": "作业区对侧"},
    "keep_tie_open": {"en": "normally-open tie touching the work zone: verify open, lock and tag",
                      "zh-Hans": "与作业区相连的常开联络开关：确认分位、加锁挂牌"},
    "verify_dead": {"en": "test the work zone dead ({nodes} node(s))", "zh-Hans": "验明作业区无电（{nodes}个节点）"},
    "portable_earth": {"en": "portable earth on the work-zone side", "zh-Hans": "在作业区侧装设接地线"},
    "work_on": {"en": "{equipment}", "zh-Hans": "{equipment}"},
    "work_finished": {"en": "work finished, crews clear", "zh-Hans": "工作结束，人员撤离"},
    "remove_earth": {"en": "", "zh-Hans": ""},
    "far_side_still_dark": {"en": "far side of the work zone (still dark)", "zh-Hans": "作业区对侧（仍无电）"},
    "reenergise": {"en": "re-energise the work zone", "zh-Hans": "作业区恢复送电"},
    "mbb_back": {"en": "make-before-break back to {feeder}", "zh-Hans": "先合后拉，转回{feeder}"},
    "tie_back_open": {"en": "tie back to normally open", "zh-Hans": "联络开关恢复常开"},
    "bbm_back_open_tie": {"en": "break-before-make: block dark until {switches} closes",
                          "zh-Hans": "先拉后合：{switches}合上前该段停电"},
    "block_back": {"en": "block back on {feeder}", "zh-Hans": "该段恢复由{feeder}供电"},
    "rejoin_split": {"en": "rejoin the block split at {switch}: all of it back on its own feeder",
                     "zh-Hans": "合上分段开关{switch}：整段恢复由本馈线供电"},
}

#: The ``what`` of a transfer step: a whole block or the part of one split at a switch.
WHAT_TEMPLATES: dict[str, dict[str, str]] = {
    "block": {"en": "block of {customers} customer(s) to {feeder}", "zh-Hans": "{customers}户负荷段转至{feeder}"},
    "split_block": {"en": "part of a block split at {switch} ({customers} customer(s)) to {feeder}",
                    "zh-Hans": "在{switch}处分段的部分负荷（{customers}户）转至{feeder}"},
}


def render(code: str, params: Mapping[str, Any], lang: str) -> str:
    """The note ``code`` in ``lang`` (``en`` or ``zh-Hans``): lists joined, a nested ``what`` rendered."""
    values = {k: _value(v, lang) for k, v in params.items()}
    what = params.get("what")
    if isinstance(what, Mapping):
        values["what"] = WHAT_TEMPLATES[str(what["code"])][lang].format(**{k: _value(v, lang) for k, v in what.items()})
    return NOTE_TEMPLATES[code][lang].format(**values)


def why(code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``{code, params, texts: {lang: text}}`` of one step's note (JSON)."""
    return {"code": code, "params": dict(params), "texts": {lang: render(code, params, lang) for lang in LANGUAGES}}


def _value(v: Any, lang: str) -> Any:
    return LIST_SEPARATORS[lang].join(str(x) for x in v) if isinstance(v, list | tuple) else v
