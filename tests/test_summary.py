"""Summary answers: questions written for these tests from the report (not the dev or probe sets)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from assistant.compose import Citations
from assistant.domain import Domain
from assistant.query import analyse
from assistant.service import Assistant
from assistant.summary import MAX_PASSAGES, answer_summary, item_head, parse_list
from assistant.text import stems
from ingest.records import Chunk, Hit
from ingest.settings import Settings

MARKER = re.compile(r"\[\d+\]$")


@pytest.fixture(scope="module")
def bot(built_index):
    return Assistant(built_index)


def _bullets(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith("- ")]


def _cited(answer) -> list[str]:
    return [c.locator for c in answer.citations]


@pytest.mark.parametrize("question", [
    "Why has NGen been successful?",
    "What barriers did the Basque cluster face?",
    "What kinds of projects does NGen fund?",
    "Which organisations make up the Basque machine tool cluster?",
    "How are the R&D Roadmap and the Innovation Strategy relevant to AMPI?",
    "How has installation and repair employment changed across the regions?",
    "Summarise the Aachen case study.",
    "How is installation and repair employment distributed across the regions?",
    "What is the biggest challenge for NGen?",
    "What has the Cluster Accelerator achieved?",
    "Which research centres serve the Basque cluster, and what does each do?",
    "gimme the headlines on where machinery jobs are across the regions",  # headlines, takeaways: the key points
    "What are the key takeaways for AMPI from the case studies?",
    "What helped the Aachen cluster become successful?",  # what helped: the factors
])
def test_summary_requests_are_recognised(question):
    assert analyse(question).kind == "summary"


@pytest.mark.parametrize("question, kind", [
    ("Give me the robotics advances the report highlights.", "fact"),  # 'highlights' the verb asks no summary
    ("How did UK M&E exports change between 2011 and 2022?", "compare"),
    ("How much larger was Japan's M&E value added than Germany's in 2021?", "compare"),
    ("What was Italy's M&E value added in 2021?", "figure"),
    ("Where do the trade balance figures come from?", "source"),
    ("What does LQ stand for?", "definition"),
])
def test_other_question_types_keep_their_type(question, kind):
    assert analyse(question).kind == kind


def test_success_factors_take_a_point_from_each_paragraph_of_the_subsection(bot):
    answer = bot.answer("What made the Basque machine tool cluster succeed?")
    assert not answer.refused and answer.kind == "summary", answer.text
    assert {"4.19", "4.20", "4.21", "4.22", "4.23"} <= set(_cited(answer)), answer.text
    assert all("Basque Country, Spain > Key success factors" in c.section for c in answer.citations)  # stays in the subsection
    bullets = _bullets(answer.text)
    assert len(bullets) >= 5 and all(MARKER.search(b) for b in bullets), answer.text
    for word in ("proximity", "collaboration", "skills", "government", "internationalisation"):
        assert word in answer.text, word


def test_bullets_follow_reading_order(bot):
    answer = bot.answer("Give me an overview of offshoring and reshoring in the sector.")
    assert not answer.refused
    cited = _cited(answer)
    assert cited == ["2.10", "2.11", "2.12", "2.13"], answer.text
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert numbers == sorted(numbers)


def test_a_list_after_a_lead_in_is_complete(bot):
    answer = bot.answer("What are the anchor institutions behind the Basque machine tool cluster?")
    assert not answer.refused and "4.18" in _cited(answer), answer.text
    bullets = _bullets(answer.text)
    for name in ("AFM", "IDEKO", "Tecnalia", "TKNIKA", "IMH"):
        assert any(b.startswith(f"- {name}") for b in bullets), name  # each institution is its own bullet


def test_nested_items_are_kept_and_the_named_programme_is_the_focus(bot):
    answer = bot.answer("What types of projects can NGen's Cluster Accelerator pay for?")
    assert not answer.refused
    assert _cited(answer) == ["4.37"], answer.text
    for kind in ("start-up", "Cluster building", "Innovation projects", "Commercialisation projects",
                 "Sustainability projects", "Workforce and Management", "Networking projects"):
        assert kind in answer.text, kind
    assert re.search(r"^    - Networking projects", answer.text, re.M), answer.text  # sub-items nest under their item


def test_a_heading_naming_what_is_asked_for_wins(bot):
    answer = bot.answer("What difficulties does the Basque machine tool cluster face?")
    assert not answer.refused
    assert _cited(answer) == ["4.24"], answer.text
    assert len(_bullets(answer.text)) >= 3 and "China" in answer.text  # a one-paragraph section: its sentences


def test_names_may_sit_in_different_paragraphs_of_the_section(bot):
    answer = bot.answer("How are Local Growth Plans and the English Devolution White Paper relevant to AMPI?")
    assert not answer.refused, answer.text
    assert {"2.24", "2.25", "2.26"} <= set(_cited(answer)), answer.text


def test_trend_across_regions_lists_every_point(bot):
    answer = bot.answer("How has installation and repair employment changed across the regions?")
    assert not answer.refused and "3.15" in _cited(answer), answer.text
    for region in ("London", "South East", "Scotland", "South West"):
        assert region in answer.text, region


@pytest.mark.parametrize("question", [
    "Summarise what the report says about offshore wind farms.",
    "What are the key challenges facing the Swedish robotics cluster?",
    "Give an overview of the semiconductor supply chain in Taiwan.",
])
def test_off_topic_summary_requests_are_refused(bot, question):
    answer = bot.answer(question)
    assert answer.refused, answer.text


def test_list_parsing_handles_pdf_bullets_numbers_nesting_and_wrapped_lines():
    lead, items = parse_list("Three lessons follow:\n• Start early.\n• Fund at scale for a decade\nor longer.\n"
                             "  • Across several funders.\n1) Keep industry in charge.")
    assert lead == "Three lessons follow:"
    assert [i.text for i in items] == ["Start early.", "Fund at scale for a decade or longer.", "Keep industry in charge."]
    assert [c.text for c in items[1].children] == ["Across several funders."]
    assert parse_list("One line.\n- a single dash line is not a list") == (
        "One line.\n- a single dash line is not a list", [])


def test_item_head_keeps_a_label_with_its_sentence():
    assert item_head("Geography. Firms are spread out. More detail.") == "Geography. Firms are spread out."
    long_first = ("A first sentence that is long enough to stand on its own as the key point of the item, "
                  "well over the length under which a sentence only opens an item.")
    assert item_head(f"{long_first} Detail.") == long_first


def _page(order: int, text: str) -> Chunk:
    return Chunk(id=f"c{order}", doc_id="pdf", doc_title="Maintenance study", doc_path="study.pdf", kind="page",
                 locator=f"p. {order + 1}", page=order + 1, section="", text=text, order=order)


def test_a_document_without_an_outline_is_summarised_around_the_best_pages():
    pages = [_page(i, f"Page {i} covers unrelated background number {i}. More filler text here.") for i in range(20)]
    pages[9] = _page(9, "continued from before. Predictive maintenance cuts downtime for machine users. Sensors feed it.")
    pages[10] = _page(10, "Maintenance contracts are changing:\n• Pay-per-use maintenance is growing.\n"
                          "• Remote maintenance needs secure data links.")
    frequency: dict[str, int] = {}
    for chunk in pages:
        for item in set(stems(chunk.text)):
            frequency[item] = frequency.get(item, 0) + 1
    loaded = SimpleNamespace(chunks=pages, document_frequency=frequency, sources={}, domain=Domain())
    query = analyse("Summarise the findings on maintenance")
    hits = [Hit(chunk=pages[10], score=1.5), Hit(chunk=pages[9], score=1.4), Hit(chunk=pages[3], score=0.5)]
    cites = Citations(loaded)
    text = answer_summary(query, hits, loaded, cites, Settings())
    assert text is not None
    cited = [c.locator for c in cites.items]
    assert "p. 10" in cited and "p. 11" in cited and len(cited) <= MAX_PASSAGES  # not the whole document
    assert "continued from before" not in text  # a page's leading fragment is no key point
    assert "Pay-per-use maintenance is growing." in text and "Remote maintenance" in text
    assert answer_summary(analyse("Summarise the findings on hydrogen electrolysers"), hits, loaded, Citations(loaded),
                          Settings()) is None


def _text(order: int, section: str, text: str) -> Chunk:
    return Chunk(id=f"t{order}", doc_id="md", doc_title="Workshop handbook", doc_path="handbook.md", kind="text",
                 locator=section.rsplit(" > ", 1)[-1], section=section, text=text, order=order)


def test_a_user_document_section_is_summarised_whole_and_alone():
    chunks = [_text(0, "Handbook > Benefits", "Lathes in the workshop raise output. Training is shared."),
              _text(1, "Handbook > Benefits", "Shared tools cut costs for members."),
              _text(2, "Handbook > Risks", "Three risks stand out for the workshop:\n- Injury from moving parts.\n"
                                           "- Dust from grinding.\n- Noise above safe limits."),
              _text(3, "Handbook > Risks", "Insurance premiums rise after any accident in the workshop."),
              _text(4, "Handbook > Risks", "Old machines lack guards, which adds to the risk."),
              _text(5, "Handbook > Costs", "Membership costs a monthly fee.")]
    frequency: dict[str, int] = {}
    for chunk in chunks:
        for item in set(stems(chunk.search_text())):
            frequency[item] = frequency.get(item, 0) + 1
    loaded = SimpleNamespace(chunks=chunks, document_frequency=frequency, sources={}, domain=Domain())
    hits = [Hit(chunk=chunks[3], score=1.2), Hit(chunk=chunks[0], score=0.9), Hit(chunk=chunks[5], score=0.8)]
    cites = Citations(loaded)
    text = answer_summary(analyse("What risks does the workshop handbook describe?"), hits, loaded, cites, Settings())
    assert text is not None
    assert [c.text for c in cites.items] == [chunks[2].text, chunks[3].text, chunks[4].text]  # the section, in order
    for item in ("Injury from moving parts.", "Dust from grinding.", "Noise above safe limits."):
        assert f"  - {item} [1]" in text


def test_a_passage_about_the_reports_parts_summarises_no_topic(bot):
    from assistant.answerers import AnswerContext, propose_summary
    from assistant.query import analyse

    query = analyse("give me an overview of the companies in this sector")
    loaded, vector, hits = bot.search(query)
    candidate = propose_summary(AnswerContext(query=query, hits=hits, loaded=loaded, settings=bot.settings, vector=vector))
    assert candidate is None or "Section 2 provides" not in candidate.text, candidate.text
    # Asked about the structure itself, the list of sections is the answer.
    structure = bot.answer("How is the report structured?")
    assert "Section 2" in structure.text and "Section 4" in structure.text, structure.text


def test_what_made_a_cluster_work_so_well_is_read_from_its_success_factors(bot):
    answer = bot.answer("what made the basque machine tool cluster work so well")
    assert "success" in answer.text and "Key success factors" in " ".join(c.section for c in answer.citations), answer.text


@pytest.mark.parametrize("question", ["summarise section 2", "Summarise the key points of the section on advanced machinery and drivers of change.",
                                      "give me an overview of chapter 2"])
def test_a_section_named_by_number_or_title_is_summarised_from_its_own_summary(bot, question):
    answer = bot.answer(question)
    assert not answer.refused and {c.locator for c in answer.citations} == {"Summary (Section 2)"}, answer.text


def test_a_section_without_a_summary_is_summarised_from_its_opening_and_a_missing_one_refused(bot):
    answer = bot.answer("summarise section 3")
    assert not answer.refused and all(c.section.startswith("3.") for c in answer.citations), answer.text
    answer = bot.answer("summarise section 7")
    assert answer.refused and "Section 7" in answer.text, answer.text


def test_the_main_lessons_are_read_from_the_implications_section(bot):
    # 'lessons' never occurs in the documents; it is the aspect asked for, not an unknown thing
    answer = bot.answer("What are the main lessons from the overseas examples for AMPI?")
    assert not answer.refused and "Implications for AMPI" in answer.citations[0].section, answer.text


def test_the_gist_of_a_subject_is_a_summary_of_it_not_an_unknown_word(bot):
    answer = bot.answer("what's the gist of the national innovation policy documents the report summarises?")
    assert not answer.refused and "Innovation Strategy" in answer.text, answer.text


@pytest.mark.parametrize("question", ["What is this report about?", "Summarise the report",
                                      "give me an overview of the whole report"])
def test_the_report_as_a_whole_is_summarised_section_by_section(bot, question):
    # "What is this report about?" was read as empty ('report' is a stopword elsewhere): "Please type a question".
    answer = bot.answer(question)
    assert not answer.refused and answer.kind == "summary", answer.text
    lines = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert [line.split(":")[0] for line in lines] == ["- 1. Introduction", "- 2. Advanced Machinery and drivers of change",
                                                      "- 3. Advanced Machinery in Great Britain",
                                                      "- 4. Learning from elsewhere"], answer.text
    assert "135,000" in answer.text and {"Summary (Section 2)", "Summary (Section 4)"} <= set(_cited(answer))


def test_how_the_report_was_made_is_told_with_its_overview(bot):
    # "… and how is it put together?" asks of the document too: it was refused ('put', 'together' named no passage).
    answer = bot.answer("As a journalist, what is this report about and how is it put together?")
    assert not answer.refused and answer.kind == "summary", answer.text
    assert answer.text.startswith("- 1. Introduction") and "This study draws on a desk-based" in answer.text, answer.text
    assert "1.4" in _cited(answer), answer.text
    # How it is laid out is still answered from its own list of sections.
    assert "structured as follows" in bot.answer("How is the report structured?").text


def test_a_topic_asked_of_the_report_is_summarised_not_the_report(bot):
    answer = bot.answer("summarise the report on exports")
    assert "- 1. Introduction" not in answer.text and "export" in answer.text.lower(), answer.text
