"""Issue 11, glossary: every acronym the documents use, spelled out where they spell it out, found by pattern
('Full Name (ABC)', 'ABC (Full Name)', capitalised words whose initials spell it), never from a hand list."""

from __future__ import annotations

import re

import pytest

from assistant.catalog import acronyms_used, full_glossary, glossary
from assistant.service import Assistant
from ingest.markup import strip_superscripts
from ingest.records import Chunk
from ingest.settings import REPO_ROOT
from ui.render import NOT_SPELLED_OUT, glossary_html


def _chunk(text: str, locator: str, order: int, kind: str = "paragraph") -> Chunk:
    return Chunk(id=f"c{order}", doc_id="d1", doc_title="Plant notes", doc_path="/notes.md", kind=kind,
                 locator=locator, text=text, order=order)


NOTES = [
    _chunk("The Widget Export Council (WEC) met in March.", "1.1", 1),
    _chunk("Funding came through QZE (Quarterly Zinc Exchange) and from PQR sites.", "1.2", 2),
    _chunk("The Northern Widget Office approved the plan in 2024.", "1.3", 3),
    _chunk("Later the NWO asked for more SMEs to join; FY2025 budgets and part II follow.", "1.4", 4),
    _chunk("Sales in Great Britain grew fast. GB sales now lead.", "1.5", 5),
    _chunk("Acme Rockets Group makes parts. AR rules apply elsewhere.", "2.1", 6),
]


def _by_term(entries):
    return {e.term: e for e in entries}


def test_each_pattern_spells_out_an_acronym():
    terms = _by_term(full_glossary(NOTES))
    assert terms["WEC"].meaning == "Widget Export Council" and terms["WEC"].locator == "1.1"  # Full Name (ABC)
    assert terms["QZE"].meaning == "Quarterly Zinc Exchange" and terms["QZE"].locator == "1.2"  # ABC (Full Name)
    assert terms["NWO"].meaning == "Northern Widget Office" and terms["NWO"].locator == "1.3"  # initials, elsewhere
    assert terms["GB"].meaning == "Great Britain"  # initials in the passage that uses it


def test_acronyms_without_a_spelling_are_listed_where_first_used():
    terms = _by_term(full_glossary(NOTES))
    assert not terms["PQR"].defined and terms["PQR"].meaning == "" and terms["PQR"].locator == "1.2"
    assert not terms["SME"].defined and "SMEs" not in terms  # a plural is the same acronym
    # Two letters and a capitalised name in another sentence: too weak to say 'AR' means 'Acme Rockets'.
    assert not terms["AR"].defined
    assert "FY2025" not in terms and "II" not in terms  # a fiscal year and a roman numeral are not acronyms


def test_answers_keep_to_stated_definitions():
    """The glossary answers use (`glossary`) holds only what the documents state outright."""
    stated = _by_term(glossary(NOTES))
    assert set(stated) == {"WEC"}
    assert {e.term for e in full_glossary(NOTES, list(stated.values()))} >= {"WEC", "QZE", "NWO", "PQR"}


@pytest.fixture(scope="module")
def report_glossary(built_index):
    assistant = Assistant(built_index)
    return assistant, _by_term(assistant.glossary())


def test_the_report_glossary_lists_every_acronym_it_uses(report_glossary):
    assistant, terms = report_glossary
    for term in ("BRES", "SME", "UKRI", "ONS", "GB", "LQ", "OI", "ISED", "R&D", "CAGR"):
        assert term in terms, term
    assert terms["LQ"].meaning == "Location Quotient" and terms["GB"].meaning == "Great Britain"
    assert terms["OI"].meaning == "Oxford Innovation" and terms["ISED"].meaning.startswith("Innovation, Science")
    assert terms["SIPF"].meaning == "Strength in Places Fund" and terms["OECD"].meaning.startswith("Organisation for Economic")
    assert not terms["BRES"].defined and terms["BRES"].locator  # used, never spelled out: where it is first used
    used = acronyms_used(assistant.index().chunks)
    assert set(used) <= set(terms)
    # Every capitalised abbreviation in the report's text and footnotes is in the list.
    printed = {m.group(1) for c in assistant.index().chunks
               for m in re.finditer(r"(?<![\w&$])([A-Z][A-Z&]*[A-Z])s?(?![\w&])", strip_superscripts(c.text))}
    assert printed - set(terms) <= {"II", "III", "IV", "VI"}, printed - set(terms)


def test_the_glossary_table_shows_every_row(report_glossary):
    _, terms = report_glossary
    html = glossary_html(list(terms.values()))
    assert html.count("<tr>") == len(terms) + 1 and "BRES" in html and NOT_SPELLED_OUT in html
    assert "Location Quotient" in html and "first used in" in html
    assert "<script" not in glossary_html([e.model_copy(update={"meaning": "<script>x</script>"}) for e in terms.values()])


def test_no_document_terms_are_named_in_the_glossary_code():
    code = (REPO_ROOT / "assistant" / "catalog.py").read_text(encoding="utf-8")
    for term in ("BRES", "UKRI", "ONS", "SME", "SQW", "AMPI", "Location Quotient", "Great Britain"):
        assert not re.search(rf"\b{re.escape(term)}\b", code), term
