"""The report parser on the real bundled report, and on small Markdown inputs for its edge cases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ingest.markup import clean
from ingest.records import Chunk, Footnote, Table
from ingest.report_parser import looks_like_numbered_report, parse_report
from ingest.settings import BUNDLED_REPORT, REPO_ROOT
from ingest.sources import build_registry
from ingest.tables import parse_number, parse_table_block

REPORT = REPO_ROOT / "corpus" / BUNDLED_REPORT

EXPECTED_PARAGRAPHS = ([f"1.{n}" for n in range(1, 6)] + [f"2.{n}" for n in range(1, 27)]
                       + [f"3.{n}" for n in range(1, 24)] + [f"4.{n}" for n in range(1, 41)])

# Photo captions and a pull quote printed between paragraphs (one of them in bold).
CAPTIONS = [
    "Pick and place robot end effector",
    "Manchester, United Kingdom",
    "Engineer being trained on a manual lathe",
    "Frankfurt, Germany",
    "Bilbao, Spain",
    "Drilling on a lathe",
    "Engineer adjusting grippers on a robot",
    "Hamilton, Canada",
    "Gear cutting lathe",
    "Grinding head",
    "In general, sales are tied to long-term investment plans",
]


@pytest.fixture(scope="module")
def parsed() -> tuple[str, list[Chunk], list[Footnote]]:
    return parse_report(REPORT.read_text(encoding="utf-8"), "report-id", "", str(REPORT))


@pytest.fixture(scope="module")
def chunks(parsed) -> list[Chunk]:
    return parsed[1]


def one(chunks: list[Chunk], locator: str, kind: str | None = None) -> Chunk:
    found = [c for c in chunks if c.locator == locator and (kind is None or c.kind == kind)]
    assert len(found) == 1, f"{locator}: {len(found)} chunks"
    return found[0]


def tables(chunks: list[Chunk], locator: str) -> list[Table]:
    return [c.table for c in chunks if c.locator == locator and c.table is not None]


def row(table: Table, entity: str):
    found = [r for r in table.rows if r.entity == entity]
    assert len(found) == 1, f"{entity} in {table.locator} {table.panel!r}: {[r.entity for r in table.rows]}"
    return found[0]


def cell(table_row, header: str):
    return next(c for c in table_row.cells if c.header == header)


# -- the real report: paragraphs -------------------------------------------------------------------


def test_title_and_document_fields(parsed, chunks):
    title, _, _ = parsed
    assert title == "Future State of Machinery Sector"
    assert all(c.doc_title == title and c.doc_id == "report-id" and c.doc_path == str(REPORT) for c in chunks)
    orders = [c.order for c in chunks]
    assert orders == sorted(set(orders))  # unique and in document order


def test_chunk_order_is_the_position(chunks):
    assert [c.order for c in chunks] == list(range(len(chunks)))


def test_every_numbered_paragraph_once_and_in_order(chunks):
    paragraphs = [c.locator for c in chunks if c.kind == "paragraph"]
    counts = Counter(paragraphs)
    assert {loc: n for loc, n in counts.items() if n != 1} == {}
    assert sorted(set(EXPECTED_PARAGRAPHS) - set(counts)) == []
    assert sorted(set(counts) - set(EXPECTED_PARAGRAPHS)) == []
    assert paragraphs == EXPECTED_PARAGRAPHS


def test_paragraph_text_has_no_markup(chunks):
    for chunk in chunks:
        if chunk.kind == "paragraph":
            assert not chunk.text.startswith(("-", "*", chunk.locator)), chunk.locator
            assert "**" not in chunk.text and "<sup>" not in chunk.text and "\\$" not in chunk.text, chunk.locator


@pytest.mark.parametrize(("locator", "start", "resumed"), [
    ("2.7", "The same report also analyses UN trade data", "SMEs in particular to export to European markets"),
    ("3.1", "Advanced machinery related employment", "and its installation and repair (two codes within SIC33"),
])
def test_paragraph_broken_across_pages_is_joined(chunks, locator, start, resumed):
    paragraph = one(chunks, locator, "paragraph")
    assert paragraph.text.startswith(start)
    assert resumed in paragraph.text
    # The resumed half is not left over as a chunk of its own.
    assert [c.locator for c in chunks if resumed.split(" ", 1)[1] in c.text] == [locator]


@pytest.mark.parametrize("caption", CAPTIONS)
def test_captions_are_not_inside_any_passage(chunks, caption):
    assert [c.locator for c in chunks if caption in c.text] == []


def test_caption_after_last_paragraph_not_appended(chunks):
    last = one(chunks, "4.40", "paragraph")
    assert "Grinding head" not in last.text
    assert last.text.startswith("The three case studies present the following implications for AMPI:")
    assert last.text.rstrip().endswith("Hannover Messe 2025).")


def test_dollar_escapes_are_removed(chunks):
    text = one(chunks, "2.5", "paragraph").text
    assert "($42 billion compared to $22 billion)" in text
    assert "\\" not in text


def test_section_path_and_heading(chunks):
    paragraph = one(chunks, "2.9", "paragraph")
    assert "Trends and drivers of change" in paragraph.section
    assert paragraph.section.startswith("2. Advanced Machinery and drivers of change")
    assert paragraph.heading == "Trends and drivers of change"
    assert one(chunks, "4.3").section == "4. Learning from elsewhere > Aachen, Germany > Current activity in the cluster"
    assert one(chunks, "3.1").section.startswith("3. Advanced Machinery in Great Britain")


def test_summary_boxes_get_section_locators(chunks):
    summaries = {c.locator: c for c in chunks if c.kind == "summary"}
    assert sorted(summaries) == ["Summary (Section 2)", "Summary (Section 4)"]
    section2 = summaries["Summary (Section 2)"]
    assert section2.section.startswith("2. Advanced Machinery and drivers of change")
    assert "worth around $500 billion" in section2.text
    assert section2.text.count("\n- ") == 5  # six bullets, each on its own line
    assert summaries["Summary (Section 4)"].section.startswith("4. Learning from elsewhere")
    # The box ends where the numbered paragraphs begin.
    assert "Advanced machinery refers to technologically advanced equipment" not in section2.text


# -- the real report: tables ------------------------------------------------------------------------


def test_table_2_2_rows_values_units_and_year(chunks):
    (table,) = tables(chunks, "Table 2-2")
    assert table.title == "Top 10 OECD countries for M&E manufacturing value added (2021)"
    assert table.year == 2021
    assert [r.entity for r in table.rows] == ["US", "Japan", "Germany", "Italy", "UK", "Netherlands", "France",
                                              "Switzerland", "Sweden", "Mexico"]
    uk = row(table, "UK")
    value_added = cell(uk, "Value added (US$, billion)")
    productivity = cell(uk, "Labour productivity (US$, thousand)")
    assert (value_added.value, value_added.unit, value_added.year) == (22.0, "US$ billion", 2021)
    assert (productivity.value, productivity.unit, productivity.year) == (137.0, "US$ thousand", 2021)
    assert uk.text == "UK\t22\t137"  # the <b> markup is gone
    assert table.source.startswith("Adapted from UK Innovation Report 2024")


def test_table_2_2_uk_row_is_highlighted(chunks):
    (table,) = tables(chunks, "Table 2-2")
    assert [r.entity for r in table.rows if r.highlighted] == ["UK"]


def test_figure_2_2_panels(chunks):
    panels = tables(chunks, "Figure 2-2")
    assert [t.panel for t in panels] == ["Trade balance 2011", "Trade balance 2022", "UK exports", "UK imports"]
    for table in panels:
        assert all("..." not in r.text and "…" not in r.text for r in table.rows), table.panel
        assert table.source == "UK Innovation Report 2024 (Institute for Manufacturing) 2024"


def test_figure_2_2_rankings_with_negative_values(chunks):
    by_panel = {t.panel: t for t in tables(chunks, "Figure 2-2")}
    balance_2011, balance_2022 = by_panel["Trade balance 2011"], by_panel["Trade balance 2022"]
    assert (balance_2011.year, balance_2022.year) == (2011, 2022)
    assert len(balance_2011.rows) == len(balance_2022.rows) == 8  # 10 printed rows minus two '...' rows
    uk_2022 = row(balance_2022, "UK")
    assert cell(uk_2022, "USD billion").value == -7.2
    assert cell(uk_2022, "USD billion").unit == "USD billion"
    assert cell(uk_2022, "USD billion").year == 2022
    assert cell(uk_2022, "Rank").value == 176
    uk_2011 = row(balance_2011, "UK")
    assert (cell(uk_2011, "Rank").value, cell(uk_2011, "USD billion").value) == (144, -2.0)
    assert cell(row(balance_2022, "US"), "USD billion").value == -102.5
    assert [r.entity for r in balance_2022.rows][:2] == ["China", "Germany"]


def test_figure_2_2_exports_and_imports(chunks):
    by_panel = {t.panel: t for t in tables(chunks, "Figure 2-2")}
    (exports,) = by_panel["UK exports"].rows
    assert exports.entity == "UK exports"  # a label-less row takes its subject from the panel
    assert [(c.value, c.unit, c.year) for c in exports.cells] == [(44.2, "USD billion", 2011), (42.0, "USD billion", 2022),
                                                                   (-0.5, "%", None)]
    (imports,) = by_panel["UK imports"].rows
    assert [c.value for c in imports.cells] == [46.1, 49.2, 0.6]


def test_charts_without_data_keep_title_and_source(chunks):
    figure = one(chunks, "Figure 3-1")
    assert figure.kind == "table" and figure.table is None
    assert figure.text.startswith("Figure 3-1: Employment – the headline numbers")
    assert "Source: SQW" in figure.text


# -- the real report: footnotes and sources ---------------------------------------------------------


def test_footnotes_registered_and_chunked(parsed, chunks):
    _, _, footnotes = parsed
    assert [n.number for n in footnotes] == list(range(1, 67))
    notes = [c for c in chunks if c.kind == "footnote"]
    assert [c.locator for c in notes] == [f"footnote {n}" for n in range(1, 67)]
    assert footnotes[0].text == "SQW analysis of BRES data for 2023"
    assert footnotes[1].url == "https://www.ciip.group.cam.ac.uk/innovation/the-uk-innovation-report-2024/"


@pytest.mark.parametrize(("locator", "refs"), [("4.3", [16, 17]), ("2.2", [1]), ("3.1", [10]), ("2.9", [])])
def test_paragraph_footnote_links(chunks, locator, refs):
    assert one(chunks, locator, "paragraph").footnotes == refs


def test_footnote_markers_become_superscripts(chunks):
    text = one(chunks, "4.3", "paragraph").text
    assert "in these disciplines.¹⁶" in text and "“applied development”.¹⁷" in text


def test_registry_names_bare_url_footnote_from_table_source(parsed, chunks):
    _, _, footnotes = parsed
    source_lines = sorted({c.table.source for c in chunks if c.table and c.table.source})
    registry = {s.number: s for s in build_registry(footnotes, source_lines, [])}
    assert len(registry) == 66
    second = registry[2]
    assert second.title.startswith("UK Innovation Report 2024 (Institute for Manufacturing)")
    assert second.url == "https://www.ciip.group.cam.ac.uk/innovation/the-uk-innovation-report-2024/"
    assert second.label().startswith("footnote 2: UK Innovation Report 2024")
    assert registry[1].title == "SQW analysis of BRES data for 2023"


def test_registry_matches_local_source_document(parsed):
    _, _, footnotes = parsed
    registry = {s.number: s for s in build_registry(footnotes, [], ["UK Innovation Strategy (2021)"])}
    assert registry[5].local_doc == "UK Innovation Strategy (2021)"
    assert registry[1].local_doc is None


def test_chunk_ids_are_stable_and_unique(chunks):
    again = parse_report(REPORT.read_text(encoding="utf-8"), "report-id", "", str(REPORT))[1]
    assert [c.id for c in again] == [c.id for c in chunks]
    assert len({c.id for c in chunks}) == len(chunks)


def test_report_is_recognised_as_numbered():
    assert looks_like_numbered_report(REPORT.read_text(encoding="utf-8"))
    assert not looks_like_numbered_report("# Notes\n\nJust some prose.\n\n- a list item\n")


# -- small synthetic inputs --------------------------------------------------------------------------


def parse(markdown: str) -> list[Chunk]:
    return parse_report(markdown, "doc", "Doc", "doc.md")[1]


def test_paragraph_numbering_variants():
    chunks = parse(
        "# Report\n\n## 2. Section two\n\n"
        "**2.7** Bold number then text.\n\n"
        "- 2.9** Bullet with a half-bold number.\n"
        "- **3.2** Bullet with a bold number.\n"
        "▶ **3.3** Arrow bullet.\n"
    )
    assert [(c.kind, c.locator, c.text) for c in chunks] == [
        ("paragraph", "2.7", "Bold number then text."),
        ("paragraph", "2.9", "Bullet with a half-bold number."),
        ("paragraph", "3.2", "Bullet with a bold number."),
        ("paragraph", "3.3", "Arrow bullet."),
    ]


def test_paragraph_resumes_after_page_break_footnote():
    chunks = parse(
        "## 1. Intro\n\n"
        "**1.2** The first half of a sentence broken by the page\n\n"
        "<sup>3</sup> A footnote printed at the foot of the page.\n\n\n"
        "end, and the rest of it.<sup>3</sup>\n\n"
        "**1.3** Next.\n"
    )
    paragraph = one(chunks, "1.2")
    assert paragraph.text == "The first half of a sentence broken by the page end, and the rest of it.³"
    assert paragraph.footnotes == [3]
    assert one(chunks, "footnote 3").text == "A footnote printed at the foot of the page."


def test_caption_after_finished_paragraph_is_dropped():
    chunks = parse(
        "## 4. Elsewhere\n\n"
        "**4.1** A finished paragraph.\n\n"
        "Bilbao, Spain\n\n"
        "**Grinding head on a lathe**\n\n"
        "**4.2** Another finished paragraph.\n"
    )
    assert [c.text for c in chunks] == ["A finished paragraph.", "Another finished paragraph."]


def test_caption_after_paragraph_ending_in_footnote_marker_is_dropped():
    chunks = parse(
        "## 4. Elsewhere\n\n"
        "**4.1** A finished paragraph with a source.<sup>7</sup>\n\n"
        "Bilbao, Spain\n\n"
        "**4.2** Another paragraph.\n"
    )
    assert one(chunks, "4.1").text == "A finished paragraph with a source.⁷"


def test_bullets_stay_inside_their_paragraph():
    chunks = parse(
        "## 4. Elsewhere\n\n"
        "**4.18** Key examples include:\n\n"
        "- **AFM** is an association.\n"
        "- **IDEKO** is a research centre.\n\n"
        "**4.19** Next.\n"
    )
    assert one(chunks, "4.18").text == "Key examples include:\n- AFM is an association.\n- IDEKO is a research centre."


def test_summary_box_and_unescaping():
    chunks = parse(
        "# Report\n\n# 4. Learning\n\n## Summary\n\n"
        "- Worth around \\$500 billion.\n"
        "- A second point.\n\n"
        "**4.1** A paragraph.\n"
    )
    summary = one(chunks, "Summary (Section 4)")
    assert summary.kind == "summary"
    assert summary.text == "- Worth around $500 billion.\n- A second point."
    assert one(chunks, "4.1").kind == "paragraph"


def test_table_with_omitted_rows_negative_numbers_and_bold_markup():
    chunks = parse(
        "## 2. Trade\n\n"
        "**Table 2-9: Balance by country (2020)**\n\n"
        "Country\tValue (£, million)\tShare\n"
        "<b>UK</b>\t<b>−3.5</b>\t<b>12%</b>\n"
        "…\t\t\n"
        "France\t1,200\t8%\n\n"
        "Source: Somebody 2021\n\n"
        "**2.1** After the table.\n"
    )
    table = one(chunks, "Table 2-9").table
    assert table.source == "Somebody 2021" and table.year == 2020
    assert [r.entity for r in table.rows] == ["UK", "France"]
    assert [(c.value, c.unit, c.year) for c in table.rows[0].cells[1:]] == [(-3.5, "£ million", 2020), (12.0, "%", 2020)]
    assert table.rows[1].cells[1].value == 1200.0
    assert one(chunks, "2.1").text == "After the table."


def test_parse_table_block_side_by_side_panels():
    lines = ["Left 2011\t\tRight 2022\t", "Country\tUSD billion\tCountry\tUSD billion",
             "A\t1.5\tB\t-2", "...\t\t...\t"]
    left, right = parse_table_block("Figure 9-9", "Two panels", lines)
    assert (left.panel, left.year, right.panel, right.year) == ("Left 2011", 2011, "Right 2022", 2022)
    assert [(r.entity, r.cells[1].value) for r in left.rows] == [("A", 1.5)]
    assert [(r.entity, r.cells[1].value) for r in right.rows] == [("B", -2.0)]


@pytest.mark.parametrize(("text", "value"), [("-7.2", -7.2), ("−7.2", -7.2), ("1,200", 1200.0), ("0.6%", 0.6),
                                             ("$42", 42.0), ("UK", None), ("2011-2022", None), ("...", None)])
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_clean_markup():
    assert clean("See [the report](https://x.org/r) for <b>more</b> \\$5<sup>12</sup>") == "See the report for more $5¹²"


def test_empty_markdown_gives_no_chunks():
    title, chunks, footnotes = parse_report("", "d", "", "p")
    assert (title, chunks, footnotes) == ("Untitled report", [], [])


def test_report_file_is_the_bundled_one():
    # Guards the fixtures above against a renamed or moved report.
    assert REPORT.is_file() and Path(REPORT).stat().st_size > 50_000


def test_a_paragraph_continuing_a_period_carries_the_sentence_that_names_it(chunks):
    by_locator = {c.locator: c for c in chunks}
    # 3.11 opens "Over the same period, M&E productivity grew from £91,000 to £102,000": the period is 3.10's.
    assert "2011 to 2021" in by_locator["3.11"].continues
    assert "2011 to 2021" in by_locator["3.11"].search_text()
    assert not by_locator["3.10"].continues and not by_locator["2.7"].continues


def test_a_continuation_needs_a_paragraph_before_it_in_the_same_section():
    text = ("# Report\n\n## 1. Intro\n\n**1.1** Exports fell between 2011 and 2022. Imports rose.\n\n"
            "**1.2** Over the same period, jobs rose from 10 to 12.\n\n## 2. Next\n\n"
            "**2.1** Over this period, firms grew.\n")
    _, made, _ = parse_report(text, "d", "Report", "r.md")
    by_locator = {c.locator: c for c in made}
    assert by_locator["1.2"].continues == "Exports fell between 2011 and 2022."
    assert by_locator["2.1"].continues == ""
