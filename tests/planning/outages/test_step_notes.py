"""planning.outages.step_notes: every switching step's note as a code with English and Chinese texts."""

from __future__ import annotations

import re

import pytest

from planning.outages.step_notes import LANGUAGES, NOTE_TEMPLATES, WHAT_TEMPLATES, render, why


def test_every_template_has_both_languages_with_the_same_fields() -> None:
    for table in (NOTE_TEMPLATES, WHAT_TEMPLATES):
        for code, texts in table.items():
            assert set(texts) == set(LANGUAGES), code
            fields = {lang: set(re.findall(r"{(\w+)", t)) for lang, t in texts.items()}
            assert fields["en"] == fields["zh-Hans"], code


def test_a_transfer_note_renders_its_block_in_each_language() -> None:
    params = {"what": {"code": "block", "customers": 21, "feeder": "SUB1-F07"}, "tie": "T9"}
    assert render("bbm_open", params, "en") == "break-before-make: block of 21 customer(s) to SUB1-F07 dark until T9 closes"
    assert render("bbm_open", params, "zh-Hans") == "先拉后合：21户负荷段转至SUB1-F07，T9合上前停电"


def test_lists_are_joined_per_language_and_why_carries_code_params_and_texts() -> None:
    doc = why("bbm_back_open_tie", {"switches": ["S1", "S2"]})
    assert doc["code"] == "bbm_back_open_tie" and doc["params"] == {"switches": ["S1", "S2"]}
    assert doc["texts"] == {"en": "break-before-make: block dark until S1, S2 closes",
                            "zh-Hans": "先拉后合：S1、S2合上前该段停电"}


def test_an_unknown_code_is_an_error() -> None:
    with pytest.raises(KeyError):
        render("no_such_note", {}, "en")
