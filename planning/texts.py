"""The languages the planning core writes its texts in, and how a list of ids reads in each.

Fault reasons (:mod:`planning.faults.reasons`), customer messages
(:mod:`planning.faults.messages`) and switching-step notes (:mod:`planning.outages.step_notes`)
all render their templates in these languages.
"""

from __future__ import annotations

#: Language tags of every text the core writes (English, Simplified Chinese).
LANGUAGES = ("en", "zh-Hans")
#: How a list of ids is joined in each language.
LIST_SEPARATORS = {"en": ", ", "zh-Hans": "、"}
