"""Issue 11, briefings: the export reads as a document (Markdown and DOCX), pins are kept once, refusals are not
pinned, a removal can be undone. Real files under tmp_path; the DOCX is opened with python-docx."""

from __future__ import annotations

import re

import pytest
from docx import Document as Docx
from test_ui_units import TABLE, figure_answer, prose_answer, refused_answer

from assistant.service import Assistant
from ingest.loader import load_document
from ingest.records import Answer, Citation
from ingest.settings import BUNDLED_REPORT, REPO_ROOT, Settings
from ui import briefing as brief

REPORT_DOC = {"title": "Future State of Machinery Sector", "subtitle": "Market Assessment", "authors": "SQW",
              "publisher": "AMPI", "year": 2025, "role": "report", "path": "/x/report.md",
              "credit": "An AMPI report supported by independent research carried out by SQW"}


class FollowUp(Answer):
    """An answer to a follow-up question, as the chat records it: `resolved` is the question answered."""

    resolved: str = ""


def same_table_answer() -> Answer:
    """A second answer resting on the same Table 2-2 passage as figure_answer (with another quoted row)."""
    return Answer(question="WHAT WAS GERMANY'S M&E VALUE ADDED IN 2021?",
                  text="Germany's M&E value added was **US$132 billion** in 2021 [1].",
                  citations=[Citation(doc="Future State of Machinery Sector", locator="Table 2-2", section="2. Advanced Machinery > UK performs",
                                      text=TABLE, quote="Germany\t132\t115",
                                      sources=["Source: Adapted from UK Innovation Report 2024 (Institute for Manufacturing) 2024"])])


@pytest.fixture
def data(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "data" / "index", corpus_dir=tmp_path / "corpus")


def _items(data: Settings, *answers: Answer) -> list[brief.BriefingItem]:
    for n, answer in enumerate(answers):
        brief.pin(data, "alice", answer, f"id{n}")
    return brief.load_briefing(data, "alice").items


# -- pinning -----------------------------------------------------------------------------------
def test_the_same_answer_is_pinned_once(data):
    briefing, added = brief.pin_answer(data, "alice", figure_answer(), "a")
    assert added and len(briefing.items) == 1
    assert brief.pin_answer(data, "alice", figure_answer(), "a") [1] is False  # the same chat answer again
    # Asked again in the chat it gets another id; it is still the same answer.
    again, added = brief.pin_answer(data, "alice", figure_answer(), "a-second-time")
    assert not added and [i.id for i in again.items] == ["a"]
    assert [i.id for i in brief.load_briefing(data, "alice").items] == ["a"]


def test_a_refused_answer_cannot_be_pinned_and_says_why(data):
    with pytest.raises(brief.NotPinnable) as refused:
        brief.pin_answer(data, "alice", refused_answer(), "r")
    assert "can't be pinned" in str(refused.value) and "don't answer the question" in str(refused.value)
    assert brief.load_briefing(data, "alice").items == [] and not brief.briefing_path(data, "alice").exists()


def test_a_removal_can_be_undone_to_its_place(data):
    _items(data, figure_answer(), prose_answer(), same_table_answer())
    briefing, removed = brief.take_out(data, "alice", "id1")
    assert [i.id for i in briefing.items] == ["id0", "id2"] and removed[0] == 1
    restored = brief.put_back(data, "alice", *removed)
    assert [i.id for i in restored.items] == ["id0", "id1", "id2"]
    assert [i.id for i in brief.put_back(data, "alice", *removed).items] == ["id0", "id1", "id2"]  # once only
    assert brief.take_out(data, "alice", "missing")[1] is None


# -- the document ------------------------------------------------------------------------------
def test_headings_are_the_resolved_question_in_sentence_case(data):
    follow = FollowUp(question="and Germany?", resolved="what was germany's m&e value added in 2021?",
                      text="Germany's value added was US$132 billion in 2021 [1].", citations=same_table_answer().citations)
    items = [brief.BriefingItem(id="f", pinned_at="2025-05-01T10:00:00", answer=follow)]
    items += _items(data, same_table_answer())
    text = brief.to_markdown(items, date="1 May 2025")
    headings = [line for line in text.splitlines() if line.startswith("## ")][:2]
    # The question answered, not the fragment typed; names and acronyms as the documents write them.
    assert headings[0] == "## What was Germany's M&E value added in 2021?"
    assert headings[1] == "## What was Germany's M&E value added in 2021?"  # typed in capitals
    assert brief.sentence_case("how many SMEs are there in the UK?") == "How many SMEs are there in the UK?"
    assert brief.sentence_case("What Is The Value Added Of Japan?", ["In 2021 Japan led."]) == "What is the value added of Japan?"


def test_markdown_reads_as_a_document_with_each_passage_and_source_once(data):
    items = _items(data, figure_answer(), prose_answer(), same_table_answer())
    text = brief.to_markdown(items, user="alice", date="1 May 2025", documents=[REPORT_DOC])
    # Three answers cite Table 2-2 twice and footnote 2 twice: each is listed once, the markers agree.
    passages = text.split("## Passages cited", 1)[1].split("## Sources", 1)[0]
    assert passages.count("Table 2-2") == 1 and passages.count("paragraph 2.5") == 1
    assert "Germany — Value added (US$, billion): 132" in passages and "Japan — Value added (US$, billion): 155" in passages
    sources = text.split("## Sources", 1)[1].split("## Reference", 1)[0]
    assert sources.count("UK Innovation Report 2024") == 2  # the table's Source line and footnote 2: two entries
    assert sources.count("footnote 2: UK Innovation Report 2024") == 1
    germany = text.split("## What was Germany's M&E value added in 2021?", 1)[1]
    assert germany.lstrip().startswith("Germany's M&E value added was **US$132 billion** in 2021 [1].")  # renumbered to Table 2-2's [1]
    assert "| Japan | 155 | US$ billion | [1] Table 2-2 |" in text  # each figure with its citation
    reference = text.split("## Reference", 1)[1]
    assert "SQW for AMPI (2025). _Future State of Machinery Sector — Market Assessment_." in reference
    assert text.rstrip().endswith("_Briefing exported 1 May 2025._") and "Prepared 1 May 2025 by alice" in text


def test_footnote_asides_are_left_to_the_sources_list(data):
    answer = prose_answer().model_copy(update={"text": "Almost 11,500 [1] (Footnote 14: SQW analysis of UK Business "
                                                       "Counts (Enterprises). It covers the UK.) in 2023."})
    text = brief.to_markdown(_items(data, answer), date="1 May 2025")
    assert "(Footnote 14" not in text and "Almost 11,500 [1] in 2023." in text
    assert text.count("footnote 14: SQW analysis of UK Business Counts") == 1


def test_docx_export_opens_and_lists_each_citation_once(data):
    items = _items(data, figure_answer(), prose_answer(), same_table_answer())
    markdown, word = brief.save_export(data, "alice", items, documents=[REPORT_DOC])
    assert markdown.suffix == ".md" and word.suffix == ".docx" and word.parent == markdown.parent
    doc = Docx(str(word))
    paragraphs = [p.text for p in doc.paragraphs]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading") or p.style.name == "Title"]
    assert headings[0] == "AMPI briefing"
    assert headings[1:4] == ["What was Japan's M&E value added in 2021?",
                             "How many advanced machinery enterprises were there in Great Britain in 2023?",
                             "What was Germany's M&E value added in 2021?"]
    assert headings[4:] == ["Passages cited", "Sources", "Reference"]
    cited = [p for p in paragraphs if re.match(r"\[\d+\] ", p)]
    assert [p.split(" ", 1)[0] for p in cited] == ["[1]", "[2]", "[3]"]
    for where in ("Table 2-2", "paragraph 2.5", "paragraph 3.7, page 14"):  # each cited passage listed once
        assert sum(where in p for p in cited) == 1, where
    listed = [p for p in paragraphs if re.match(r"S\d+\. ", p)]
    texts = [p.split(". ", 1)[1] for p in listed]
    assert len(texts) == len(set(texts)) == 3  # each source once
    every = {brief.source_text(s) for item in items for c in item.answer.citations for s in c.sources}
    assert set(texts) == every
    assert any(run.bold and run.text == "US$155 billion" for p in doc.paragraphs for run in p.runs)
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Item", "Value", "Unit", "Cited in"]
    assert [c.text for c in table.rows[2].cells] == ["Japan", "155", "US$ billion", "[1] Table 2-2"]
    reference = paragraphs[paragraphs.index("Reference") + 1]
    assert reference.startswith("SQW for AMPI (2025). Future State of Machinery Sector — Market Assessment.")
    assert paragraphs[-1].startswith("Briefing exported ") and doc.core_properties.title == "AMPI briefing"
    # A new export replaces the old one: one of each kind in the folder.
    brief.save_export(data, "alice", items[:1], documents=[REPORT_DOC])
    assert sorted(p.suffix for p in markdown.parent.iterdir()) == [".docx", ".md"]


def test_export_names_and_owners():
    assert re.fullmatch(r"ampi-briefing-alice-\d{4}-\d\d-\d\d\.docx", brief.export_name("alice", ".docx"))
    visitor = "anonymous-" + "0" * 32
    assert brief.VISITOR.match(visitor) and re.fullmatch(r"ampi-briefing-\d{4}-\d\d-\d\d\.md", brief.export_name(visitor))
    assert "by anonymous" not in brief.to_markdown([], user=visitor)


# -- the reference comes from the document -----------------------------------------------------
def test_the_reports_reference_is_read_from_its_title_page(tmp_path):
    """Title, subtitle, authors, publisher and year come from the report's own front matter: change the title
    page and the reference changes with it."""
    document = load_document(REPO_ROOT / "corpus" / BUNDLED_REPORT, Settings())
    assert (document.title, document.subtitle, document.authors, document.publisher, document.year) == \
        ("Future State of Machinery Sector", "Market Assessment", "SQW", "AMPI", 2025)
    text = (REPO_ROOT / "corpus" / BUNDLED_REPORT).read_text(encoding="utf-8")
    edited = text.replace("## Market Assessment", "## Interim Review", 1).replace("\n2025\n", "\n2026\n", 1)
    edited = edited.replace("An AMPI report supported by independent  \nresearch carried out by SQW",
                            "Prepared by Jane Roe and Ann Lee for the Example Trust", 1)
    copy = tmp_path / BUNDLED_REPORT
    copy.write_text(edited, encoding="utf-8")
    other = load_document(copy, Settings())
    assert (other.subtitle, other.authors, other.publisher, other.year) == \
        ("Interim Review", "Jane Roe and Ann Lee", "the Example Trust", 2026)
    entry = {**other.model_dump(), "role": "report"}
    assert brief.reference_text(entry).startswith(
        "Jane Roe and Ann Lee for the Example Trust (2026). _Future State of Machinery Sector — Interim Review_.")


def test_the_index_records_the_reference_and_the_export_uses_it(built_index, tmp_path):
    assistant = Assistant(built_index)
    report = next(d for d in assistant.documents() if d["role"] == "report")
    assert (report["authors"], report["publisher"], report["year"], report["subtitle"]) == ("SQW", "AMPI", 2025, "Market Assessment")
    answer = assistant.answer("What was Japan's value added in M&E manufacturing in 2021?")
    settings = built_index.model_copy(update={"data_dir": tmp_path / "data"})
    brief.pin(settings, "alice", answer, "a")
    items = brief.load_briefing(settings, "alice").items
    word = brief.save_export(settings, "alice", items, documents=assistant.documents())[1]
    paragraphs = [p.text for p in Docx(str(word)).paragraphs]
    assert paragraphs[paragraphs.index("Reference") + 1].startswith(
        "SQW for AMPI (2025). Future State of Machinery Sector — Market Assessment.")


def test_no_report_details_are_written_into_the_briefing_code():
    code = (REPO_ROOT / "ui" / "briefing.py").read_text(encoding="utf-8")
    for detail in ("SQW", "Market Assessment", "2025", "Future State"):
        assert detail not in code


def test_briefings_of_browsers_gone_for_a_month_are_deleted_and_users_briefings_kept(data):
    import os
    import time

    from ui.auth import visitor_key

    month_ago = time.time() - 31 * 86400
    gone, recent, new = visitor_key("a" * 32), visitor_key("b" * 32), visitor_key("c" * 32)
    for owner in (gone, recent, "alice"):
        brief.pin(data, owner, figure_answer(), "a1")
        brief.save_export(data, owner, brief.load_briefing(data, owner).items)
    for owner in (gone, "alice"):
        for path in [brief.briefing_path(data, owner), *brief.export_folder(data, owner).glob("*")]:
            os.utime(path, (month_ago, month_ago))
    brief.pin(data, new, figure_answer(), "a1")  # a new browser's first pin prunes
    assert not brief.briefing_path(data, gone).exists() and not brief.export_folder(data, gone).exists()
    for owner in (recent, "alice", new):
        assert brief.load_briefing(data, owner).items, owner
    assert len(list(brief.export_folder(data, "alice").glob("ampi-briefing-*"))) == 2
