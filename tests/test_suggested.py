"""Every question the start page suggests is answered correctly (they are the first questions people try)."""

from __future__ import annotations

import re

import pytest

from assistant.service import Assistant

# What a right answer to each suggested question must say first (from the report, not from the answerer).
EXPECTED = {
    "What was Japan's M&E value added in 2021?": r"155",
    "How large is the global advanced machinery market?": r"\$?500 billion",
    "How many advanced machinery enterprises were there in Great Britain in 2023?": r"11,500",
    "Which region has the highest concentration of advanced machinery manufacturing?": r"Yorkshire",
    "What explains the success of the Aachen cluster?": r"public sector support",
    "What are the key challenges facing the Basque machine tool cluster?": r"large end-users",
}


@pytest.fixture(scope="module")
def bot(built_index):
    return Assistant(built_index)


def test_the_expectations_cover_every_suggested_question():
    from ui.app import SUGGESTED

    suggested = {q for _, questions in SUGGESTED.values() for q in questions}
    assert suggested == set(EXPECTED)


@pytest.mark.parametrize("question", sorted(EXPECTED))
def test_suggested_question_is_answered_right_in_its_first_line(bot, question):
    answer = bot.answer(question)
    assert not answer.refused and answer.citations, answer.text
    first = answer.text.lstrip("- ").split("\n", 1)[0]  # the quoted passage, or the first bullet of a summary
    assert re.search(EXPECTED[question], first), answer.text
