"""Feedback and briefing storage: real files under tmp_path, per-user isolation, readable Markdown."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ingest.records import Answer, Citation, FigureRow
from ingest.settings import REPO_ROOT, Settings
from ui import briefing as brief
from ui.feedback import feedback_path, read_feedback, record_feedback, safe_name

TABLE = ("Table 2-2: Top 10 OECD countries for M&E manufacturing value added (2021)\n"
         "OECD Country\tValue added (US$, billion)\tLabour productivity (US$, thousand)\n"
         "US\t174\t149\nJapan\t155\t93\nSource: Adapted from UK Innovation Report 2024 (Institute for Manufacturing) 2024")


def figure_answer() -> Answer:
    return Answer(
        question="What was Japan's M&E value added in 2021?",
        text="Japan's M&E value added was **US$155 billion** in 2021 [1], fifth after the UK ranking [2].",
        citations=[
            Citation(doc="Future State of Machinery Sector", locator="Table 2-2", section="2. Advanced Machinery > UK performs",
                     text=TABLE, quote="Japan\t155\t93",
                     sources=["Source: Adapted from UK Innovation Report 2024 (Institute for Manufacturing) 2024"]),
            Citation(doc="Future State of Machinery Sector", locator="2.5", section="2. Advanced Machinery > UK performs",
                     text="Data included in the report show that the UK ranked fifth. The US led.",
                     quote="Data included in the report show that the UK ranked fifth.",
                     sources=["footnote 2: UK Innovation Report 2024 (Institute for Manufacturing) 2024"]),
        ],
        figures=[FigureRow(label="US", value=174, unit="US$ billion", citation="Table 2-2"),
                 FigureRow(label="Japan", value=155, unit="US$ billion", citation="Table 2-2")],
    )


def prose_answer() -> Answer:
    return Answer(
        question="How many advanced machinery enterprises were there in Great Britain in 2023?",
        text="Almost 11,500 [1].",
        citations=[Citation(doc="Future State of Machinery Sector", locator="3.7", page=14, section="3. Advanced Machinery in GB",
                            text="In 2023, there were almost 11,500 advanced machinery enterprises in Great Britain.",
                            quote="In 2023, there were almost 11,500 advanced machinery enterprises in Great Britain.",
                            sources=["footnote 14: SQW analysis of UK Business Counts (Enterprises)",
                                     "footnote 2: UK Innovation Report 2024 (Institute for Manufacturing) 2024"])],
    )


def refused_answer() -> Answer:
    return Answer(question="What is the capital of France?", text="The documents don't say this.", refused=True,
                  related=[Citation(doc="Future State of Machinery Sector", locator="4.23", text="Key markets include France.")])


@pytest.fixture
def ui_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "data" / "index", corpus_dir=tmp_path / "corpus")


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, prefix", [
    ("alice", "alice"), ("../../etc/passwd", "etc_passwd-"), ("/abs/path", "abs_path-"), ("..", "user-"),
    ("", "anonymous"), (None, "anonymous"), ("bob smith", "bob_smith-"), ("a\\b", "a_b-"), (".hidden", "hidden-"),
])
def test_safe_name_never_leaves_one_path_component(raw, prefix):
    name = safe_name(raw)
    assert name.startswith(prefix) and "/" not in name and "\\" not in name and not name.startswith(".")


def test_distinct_names_stay_distinct():
    names = ["alice", "alice.", "Мария", "Иван", "bob smith", "bob_smith"]
    assert len({safe_name(n) for n in names}) == len(names)


def test_hostile_user_name_stays_inside_the_data_folder(ui_settings):
    record_feedback(ui_settings, "../../../outside", prose_answer(), "up")
    brief.pin(ui_settings, "../../../outside", prose_answer(), "a1")
    data = ui_settings.data_dir.resolve()
    for path in (feedback_path(ui_settings, "../../../outside"), brief.briefing_path(ui_settings, "../../../outside")):
        assert data in path.resolve().parents and path.exists()
    assert not (data.parent.parent / "outside.jsonl").exists()


# -- feedback ------------------------------------------------------------------------------------
def test_feedback_appends_json_lines_with_the_documented_fields(ui_settings):
    record_feedback(ui_settings, "alice", prose_answer(), "up", comment="  spot on ")
    record_feedback(ui_settings, "alice", figure_answer(), "down")
    path = ui_settings.data_dir / "feedback" / "alice.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [e["rating"] for e in lines] == ["up", "down"]
    assert set(lines[0]) == {"ts", "user", "question", "answer", "rating", "comment", "citations"}
    assert lines[0]["comment"] == "spot on" and lines[0]["user"] == "alice"
    assert lines[1]["citations"] == ["Table 2-2", "2.5"]
    assert read_feedback(ui_settings, "alice") == lines


def test_feedback_is_kept_per_user(ui_settings):
    record_feedback(ui_settings, "alice", prose_answer(), "up")
    record_feedback(ui_settings, None, prose_answer(), "down")
    assert [e["rating"] for e in read_feedback(ui_settings, "alice")] == ["up"]
    assert [e["user"] for e in read_feedback(ui_settings, None)] == ["anonymous"]
    assert read_feedback(ui_settings, "bob") == []


def test_feedback_rejects_unknown_ratings_and_survives_a_damaged_line(ui_settings):
    with pytest.raises(ValueError):
        record_feedback(ui_settings, "alice", prose_answer(), "meh")
    record_feedback(ui_settings, "alice", prose_answer(), "up")
    with feedback_path(ui_settings, "alice").open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    record_feedback(ui_settings, "alice", prose_answer(), "down")
    assert [e["rating"] for e in read_feedback(ui_settings, "alice")] == ["up", "down"]


# -- briefing storage ----------------------------------------------------------------------------
def test_pin_move_remove_persist_in_order(ui_settings):
    brief.pin(ui_settings, "alice", figure_answer(), "a")
    brief.pin(ui_settings, "alice", prose_answer(), "b")
    with pytest.raises(brief.NotPinnable):  # a refusal is nothing to brief anyone on
        brief.pin(ui_settings, "alice", refused_answer(), "r")
    brief.pin(ui_settings, "alice", prose_answer().model_copy(update={"question": "And in 2022?", "text": "No data [1]."}), "c")
    brief.pin(ui_settings, "alice", prose_answer(), "b")  # pinning again keeps one copy
    assert [i.id for i in brief.load_briefing(ui_settings, "alice").items] == ["a", "b", "c"]
    brief.move(ui_settings, "alice", "c", -1)
    assert [i.id for i in brief.load_briefing(ui_settings, "alice").items] == ["a", "c", "b"]
    brief.move(ui_settings, "alice", "a", -1)  # already first: stays
    brief.move(ui_settings, "alice", "b", +1)  # already last: stays
    brief.move(ui_settings, "alice", "missing", +1)
    assert [i.id for i in brief.load_briefing(ui_settings, "alice").items] == ["a", "c", "b"]
    brief.remove(ui_settings, "alice", "c")
    saved = brief.load_briefing(ui_settings, "alice")
    assert [i.id for i in saved.items] == ["a", "b"]
    assert saved.items[0].answer.citations[0].locator == "Table 2-2"
    assert json.loads(brief.briefing_path(ui_settings, "alice").read_text())["user"] == "alice"


def test_briefings_are_per_user(ui_settings):
    brief.pin(ui_settings, "alice", figure_answer(), "a")
    brief.pin(ui_settings, "bob", prose_answer(), "b")
    assert [i.id for i in brief.load_briefing(ui_settings, "alice").items] == ["a"]
    assert [i.id for i in brief.load_briefing(ui_settings, "bob").items] == ["b"]
    assert brief.load_briefing(ui_settings, None).items == []


def test_unreadable_briefing_file_starts_empty(ui_settings):
    path = brief.briefing_path(ui_settings, "alice")
    path.parent.mkdir(parents=True)
    path.write_text("{broken", encoding="utf-8")
    assert brief.load_briefing(ui_settings, "alice").items == []
    brief.pin(ui_settings, "alice", prose_answer(), "b")
    assert [i.id for i in brief.load_briefing(ui_settings, "alice").items] == ["b"]


# -- briefing Markdown ---------------------------------------------------------------------------
def test_describe_locator():
    assert brief.describe_locator("2.7") == "paragraph 2.7"
    assert brief.describe_locator("Table 2-2") == "Table 2-2"
    assert brief.describe_locator("p. 3") == "page 3"
    assert brief.describe_locator("3.7", 14) == "paragraph 3.7, page 14"


def test_markdown_has_every_citation_and_a_deduplicated_sources_list(ui_settings):
    for item_id, answer in (("a", figure_answer()), ("b", prose_answer())):
        brief.pin(ui_settings, "alice", answer, item_id)
    # A briefing saved before refusals could not be pinned may still hold one.
    items = brief.load_briefing(ui_settings, "alice").items + [
        brief.BriefingItem(id="c", pinned_at="2025-05-01T10:00:00", answer=refused_answer())]
    text = brief.to_markdown(items, user="alice", date="1 May 2025")
    assert text.startswith("# AMPI briefing") and "1 May 2025" in text and "by alice" in text
    for heading in ("## What was Japan's M&E value added in 2021?", "## How many advanced machinery",
                    "## What is the capital of France?"):
        assert heading in text
    for locator in ("Table 2-2", "paragraph 2.5", "paragraph 3.7, page 14"):
        assert locator in text
    assert "[1]" in text and "[2]" in text  # the answer's markers survive
    assert "Japan — Value added (US$, billion): 155; Labour productivity (US$, thousand): 93" in text
    assert "> In 2023, there were almost 11,500" in text
    assert "footnote 14: SQW analysis" in text and "Source: Source:" not in text
    assert "| Japan | 155 | US$ billion | [1] Table 2-2 |" in text
    assert "Related passages (not an answer)" in text and "paragraph 4.23" in text
    sources = text.split("## Sources", 1)[1]
    assert sources.count("footnote 2: UK Innovation Report 2024") == 1
    assert sources.count("Adapted from UK Innovation Report 2024") == 1
    assert "footnote 14: SQW analysis of UK Business Counts (Enterprises)" in sources


def test_markdown_for_an_empty_briefing_and_the_written_file(ui_settings, tmp_path):
    assert "Nothing has been pinned yet." in brief.to_markdown([])
    brief.pin(ui_settings, "../eve", prose_answer(), "b")
    path = brief.write_markdown(brief.load_briefing(ui_settings, "../eve").items, tmp_path / "out", user="../eve")
    assert path.parent == tmp_path / "out" and path.name.startswith("ampi-briefing-eve-") and path.suffix == ".md"
    assert "paragraph 3.7" in path.read_text(encoding="utf-8")


def test_storage_modules_do_not_import_gradio():
    code = "import sys, ui.feedback, ui.briefing; assert 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)
