"""Chat follow-ups (issue 11): each question read against the earlier questions of its conversation.

Real components throughout: the session's index of the bundled report (`built_index`), the real
answerer, the `ampi` command in a subprocess, the Gradio app on 127.0.0.1 and a headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.evaluate import evaluate_conversations, load_items, summarise_conversations
from assistant.followup import names_for
from assistant.service import Assistant, answer_record
from ingest.settings import REPO_ROOT, Settings

AMPI = REPO_ROOT / ".venv" / "bin" / "ampi"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO_ROOT / ".ampi" / "screenshots"
RECORD_KEYS = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
UK_2022 = "What was the UK's trade balance in 2022?"
JAPAN = "What was Japan's M&E value added in 2021?"


@pytest.fixture(scope="module")
def bot(built_index) -> Assistant:
    return Assistant(built_index)


# -- how follow-ups are read ---------------------------------------------------------------------
READINGS = [  # (earlier questions, oldest first; the follow-up; the standalone question it is read as)
    # "… on that" at the end points back, whatever comes before it
    (["how much M&E did the UK import in 2022"], "whats the annual growth rate on that",
     "What is the annual growth rate on the amount of M&E that the UK import in 2022?"),
    ([UK_2022], "how big was the gap in 2011", "How big was the UK's trade balance in 2011?"),  # the figure asked
    # a term in quotes is replaced whole, its 'other' included
    (["How many 'other general purpose machinery' jobs are there in Yorkshire?"], "and lifting and handling equipment there?",
     "How many 'lifting and handling equipment' jobs are there in Yorkshire?"),
    # what a name owns is a name too, 'of' and all
    (["What's the name of RWTH Aachen's Cluster of Excellence on digital production?"], "when did it start",
     "When did RWTH Aachen's Cluster of Excellence start?"),
    ([UK_2022], "And in 2011?", "What was the UK's trade balance in 2011?"),  # a new year
    # a cause asked of a yes/no question or of "what happened": why, of the same thing
    (["Did UK M&E exports fall between 2011 and 2022?"], "what was causing that",
     "Why did UK M&E exports fall between 2011 and 2022?"),
    (["What happened to UK M&E imports between 2011 and 2022?"], "why", "Why did UK M&E imports between 2011 and 2022 change?"),
    # after a modal "that" is the subject (the rank asked about), and the word after it its verb
    (["Where does Italy stand on M&E value added?"], "why could that exaggerate it",
     "Why could Italy's position on M&E value added exaggerate Italy?"),
    # "that split" of a question asking how things were split, for a new year: the same question for that year
    # (a year followed by a comma is still a year)
    (["How many widget enterprises were there in GB in 2023, and how were they split between making and repair?"],
     "how did that split look in 2015",
     "How many widget enterprises were there in GB in 2015, and how were they split between making and repair?"),
    # "how about X, what's its …": X put first after "how about" is what changes
    (["What share of Kent's advanced machinery employment is in installation and repair?"], "how about Scotland, whats its share",
     "What share of Scotland's advanced machinery employment is in installation and repair?"),
    # "they" after "who had the biggest X?" is the one named; what they beat another on is X
    (["who had the biggest M&E trade surplus in 2022?"], "by how much did they beat Japan",
     "By how much did China beat Japan (the one who had the biggest M&E trade surplus in 2022)?"),
    # a new name after "which one tops X": the new one set against the one at the top
    (["Which country topped the M&E trade balance ranking in 2022?"], "and Germany?",
     "How does Germany compare with the country that topped the M&E trade balance ranking in 2022?"),
    # a measure sharing a word with the earlier one replaces the words lined up with it, not the whole run
    (["How many jobs does paper machinery manufacturing support in the East?"], "and metallurgy machinery",
     "How many jobs does metallurgy machinery manufacturing support in the East?"),
    # a name a possessive owns ("its own machines") is not what 'it' stands for
    (["What is AMBA?"], "does it make its own machines?", "Does AMBA make AMBA's own machines?"),
    # "how many of those": of the things counted before, not "of the number of" them
    (["How many Technology Leadership projects had NGen approved by March 2024?"], "how many of those were about robotics?",
     "How many of the Technology Leadership projects that had NGen approved by March 2024 were about robotics?"),
    # "its rank" after a figure: the rank of that figure, not a rank in its place
    (["What were UK M&E imports worth in 2011?"], "and its position?",
     "What is the position of UK M&E imports worth in 2011?"),
    # "those involved …": a verb after the demonstrative, not a noun it names
    (["How many Technology Leadership projects had NGen approved by March 2024?"], "how many of those involved SMEs?",
     "How many of the Technology Leadership projects that had NGen approved by March 2024 involved SMEs?"),
    # "a typical one": one of the things the previous question asked about
    (["How does NGen fund Technology Leadership projects?"], "how long does a typical one last?",
     "How long does a typical Technology Leadership project last?"),
    # a comparison with nothing to compare with compares with what was asked before
    (["What annual core grant did NGen get in its first five years?"], "how do the later years compare?",
     "How do the later years compare with the annual core grant that NGen get in its first five years?"),
    # an attribution after a short question says who is asked, not what
    (["How many people does the Fraunhofer IPT employ in Aachen?"], "how come, according to WZL?",
     "How many people does the Fraunhofer IPT employ in Aachen — why, according to WZL?"),
    # a hedge ("do you reckon") asks nothing of its own: why, of the question before
    (["Which region has the most advanced machinery manufacturing jobs?"], "why, do you reckon?",
     "Which region has the most advanced machinery manufacturing jobs — why?"),
    ([JAPAN], "What about Italy?", "What was Italy's M&E value added in 2021?"),  # a new name
    ([JAPAN], "and the US?", "What was the US's M&E value added in 2021?"),
    (["What was Germany's labour productivity in M&E manufacturing?"], "and Switzerland's?",
     "What was Switzerland's labour productivity in M&E manufacturing?"),
    (["What was Germany's M&E trade balance in 2011?"], "what about the Russian Federation?",
     "What was the Russian Federation's M&E trade balance in 2011?"),
    (["How many installation and repair jobs are there in the South East?"], "And in Scotland?",  # a new place
     "How many installation and repair jobs are there in Scotland?"),
    (["How many people does the Fraunhofer IPT employ in Aachen?"], "What about WZL?",  # which name it replaces
     "How many people does WZL employ in Aachen?"),
    (["What were UK M&E exports worth in 2011?"], "And imports?", "What were UK M&E imports worth in 2011?"),  # a measure
    ([JAPAN], "what about labour productivity?", "What was Japan's M&E labour productivity in 2021?"),
    (["What is mining machinery's location quotient in Scotland?"], "What about metallurgy machinery in the South West?",
     "What is metallurgy machinery's location quotient in the South West?"),
    ([JAPAN, "What about Germany?"], "And its labour productivity?",  # three turns: the chain is followed
     "What was Germany's M&E labour productivity in 2021?"),
    ([JAPAN], "How does that compare with Germany?", "How does Japan's M&E value added in 2021 compare with Germany?"),
    (["What was Germany's M&E value added in 2021?"], "What's the source for that?",
     "What is the source for Germany's M&E value added in 2021?"),
    (["How many advanced machinery enterprises were there in Great Britain in 2023?"], "What's the source?",
     "What is the source for “In 2023, there were almost 11,500 advanced machinery enterprises in Great Britain, "
     "around 10% higher than the 2015 figure”?"),
    ([UK_2022], "what was it in 2011?", "What was the UK's trade balance in 2011?"),
    (["How many people did the Basque machine tool sector employ in 2020?"], "and how many were there by the late 80s?",
     "How many people did the Basque machine tool sector employ in the late 1980s?"),  # a decade is a time
    (["What share of London's advanced machinery employment is in installation and repair?"],  # a name put first
     "And Yorkshire, how is it split?", "What share of Yorkshire's advanced machinery employment is in installation and repair?"),
    (["What is IDEKO?"], "and tecnalia, what's that", "What is Tecnalia?"),  # a name the text writes only first
    (["What share of global M&E exports does the UK have?"], "How does that compare with China?",
     "How does the UK's share of global M&E exports compare with China?"),
    (["What was Germany's trade surplus in machinery in 2022?"], "is china's bigger",  # a comparative
     "How does Germany's trade surplus in machinery in 2022 compare with China's?"),
    (["What turnover does the Basque machine tool sector have?"], "Who reported that?",  # "that" at the end
     "Who reported the Basque machine tool sector's turnover?"),
    (["What was the UK's M&E trade deficit in 2022?"], "Is that up or down on 2011?",  # "up" says, not names
     "Is the UK's M&E trade deficit up or down on 2011?"),
    (["When did the Basque Country start using cluster policy?"], "Why did they go down that route?",
     "Why did the Basque Country start using cluster policy?"),
    (["What's NGen's Cluster Accelerator programme?"], "How much does it give each cluster?",  # the named thing owned
     "How much does NGen's Cluster Accelerator programme give each cluster?"),
    (["Where did the UK rank globally by M&E trade balance in 2022?"], "ok and in 2011 where did it sit",  # a year
     "Where did the UK rank globally by M&E trade balance in 2011?"),
    ([UK_2022.replace("2022", "2011")], "and now?", "What was the UK's trade balance now?"),  # "now" for a year
    (["What were UK machinery exports in 2022?"], "Same for Germany?",  # an acronym used as an adjective
     "What were Germany's machinery exports in 2022?"),
    (["How much was AMPI awarded from the Strength in Places Fund?"], "When does the project end?",  # a general noun
     "When does the AMPI project end?"),
    (["What share of Yorkshire's advanced machinery employment is in manufacturing?"], "How does London compare?",
     "How does the share of Yorkshire's advanced machinery employment in manufacturing compare with London?"),
    (["How many members did NGen have as of March 2024?"], "how many of them are based abroad?",  # what was counted
     "How many of NGen's members are based abroad?"),
    (["What were the key success factors for NGen?"], "who did that evaluation?",  # a new noun after "that"
     "Who did the evaluation of the key success factors for NGen?"),
    (["When did the Basque Country start using cluster policy?"], "what prompted them to do that?",
     "Why did the Basque Country start using cluster policy?"),
    (["How much was AMPI awarded from the Strength in Places Fund?"], "Who runs it?", "Who runs AMPI?"),  # pronouns
    (["How many people does the Fraunhofer IPT employ in Aachen?"], "When was it founded?",
     "When was the Fraunhofer IPT founded?"),
    (["What was the turnover of the Basque machine tool sector in 2020?"], "And how many people did it employ?",
     "How many people did the Basque machine tool sector employ?"),
    (["Which country ranked first on M&E trade balance in 2022?"], "What was its trade balance?",  # named by the answer
     "What was China's trade balance?"),
    (["Is business R&D spending in the M&E sector growing?"], "Why not?",  # why
     "Why isn't business R&D spending in the M&E sector growing?"),
    (["What are the key success factors for the Aachen cluster?"], "and the challenges?",
     "What are the challenges for the Aachen cluster?"),
    (["What was the UK's trade balance in 2022?"], "and eleven years earlier?",  # a time counted from the last
     "What was the UK's trade balance in 2011?"),
    (["What was the UK's trade balance in 2011?"], "and the following year?", "What was the UK's trade balance in 2012?"),
    (["How many people does AMBA employ?"], "What about Fecken Kirfel?",  # an acronym as a verb's subject
     "How many people does Fecken Kirfel employ?"),
    (["What were Basque machine tool exports in 2021?"], "where do they mostly go?",  # 'they': what was asked about
     "Where do Basque machine tool exports in 2021 mostly go?"),
    (["How many sub-sectors is advanced machinery employment divided into?"], "How are they split?",
     "How are the sub-sectors split?"),  # not "the sub-sectors' sub-sectors"
    (["How big was the UK's M&E trade deficit in 2022?"], "whose data",  # a source asked of the earlier figure
     "Whose data for the UK's M&E trade deficit in 2022?"),
    (["How big was the UK's M&E trade deficit in 2022?"], "whose data is it",  # 'it': the figure, not the UK
     "Whose data is the UK's M&E trade deficit in 2022?"),
    (["What's Tecnalia?"], "how many people work there",  # 'there': at the body named
     "How many people work at Tecnalia?"),
    (["What were Basque machine tool exports in 2021?"], "where's that from",  # a source asked of the figure
     "What is the source for “Finally, the cluster has benefitted from a strong internationalisation plan, achieving "
     "exports of c.€655 million in 2021”?"),
    (["How much has NGen approved for Technology Leadership projects by March 2024?"],  # a vague noun names nothing
     "and how much for the strategic ecosystem stuff",
     "How much has NGen approved for Strategic Ecosystem projects by March 2024?"),
    (["How many experts attend AWK?"], "how many of them come from outside germany",  # where people are from: no source
     "How many of AWK's experts come from outside germany?"),
]


@pytest.mark.parametrize("history, question, expected", READINGS, ids=[r[1] for r in READINGS])
def test_follow_ups_are_read_as_standalone_questions(bot, history, question, expected):
    reading = bot.read(question, history)
    assert reading.rewritten and reading.resolved == expected, (reading.resolved, reading.how, reading.score)
    assert reading.question == question


STANDALONE = [  # questions of their own after another: never rewritten
    (JAPAN, "When was the Fraunhofer IPT founded?"),
    ("How many installation and repair jobs are there in the South East?", "What does a location quotient measure?"),
    (UK_2022, "Which country had the largest share of the global M&E export market in 2022?"),
    ("What's TRUMPF's annual turnover?", "And how many people does Siemens employ?"),
    (UK_2022, "In 2022, how much bigger were the UK's M&E imports than its exports?"),  # "its" has its antecedent
    (JAPAN, "Who carried out this market assessment?"),  # "this …" is the report itself
    (JAPAN, "Is it true that AFM is based in Bilbao?"),  # "it" stands for nothing
    (JAPAN, "scotland install/repair jobs number"),  # terse, but a question of its own
    (JAPAN, "How many advanced machinery enterprises are there in Great Britain?"),  # 'there are': no place pointed at
]


@pytest.mark.parametrize("previous, question", STANDALONE, ids=[q for _, q in STANDALONE])
def test_questions_that_stand_alone_are_not_rewritten(bot, previous, question):
    reading = bot.read(question, [previous])
    assert not reading.rewritten and reading.resolved == question, (reading.resolved, reading.score)


def test_standalone_questions_of_the_eval_sets_are_never_rewritten(bot):
    """Every regression question, asked right after an unrelated one, is read exactly as asked."""
    questions = [item["question"] for name in ("dev", "probe", "probe2")
                 for item in load_items(REPO_ROOT / "tests" / "eval" / f"{name}.jsonl")]
    readings = [(questions[n - 1], bot.read(q, [questions[n - 1]])) for n, q in enumerate(questions)]
    assert [(previous, r.question, r.resolved) for previous, r in readings if r.rewritten] == []


def test_names_come_from_the_documents(bot):
    names = names_for(bot.index())
    assert {"south east", "russian federation", "fraunhofer ipt"} <= set(names.proper)  # capitalised mid-sentence, row labels
    assert "machinery" not in names.proper and "strategy" not in names.proper  # written in lower case too
    assert "fraunhofer ipt and wzl" not in names.proper  # two names listed together, not one
    assert names.peer("italy", "japan") > names.peer("italy", "m&e")  # rows of one table: one kind of thing


# -- answering in a conversation -----------------------------------------------------------------
def test_an_ordinal_names_what_the_rest_of_the_question_means(bot):
    # "The fourth one - what was its figure?": the fourth country the answer listed, for what was asked.
    answer = bot.answer("The fourth one - what was its figure?",
                        history=["Which countries had the top five M&E trade balances in 2022?"])
    assert answer.resolved.startswith("What was Italy's figure"), answer.resolved
    assert not answer.refused and "50.1" in answer.text, answer.text


def test_an_ordinal_after_a_listed_answer_is_that_item_of_the_list(bot):
    # The answer lists stages ("… five distinct stages: - Emergence (…): …"): "the second one" is the second stage,
    # not the second name the answer happens to mention.
    answer = bot.answer("what happened in the second one", history=["What stages did the Basque machine tool cluster go through?"])
    assert "Growth phase (1960 to 1974)" in answer.resolved, answer.resolved


def test_an_ordinal_item_keeps_the_name_the_list_belongs_to(bot):
    # "What are X's two main activities?" then "explain the second": X's second activity, not any body's.
    answer = bot.answer("explain the second", history=["What are NGen's two main activities?"])
    assert "NGen's Strategic Ecosystem" in answer.resolved, answer.resolved


def test_where_do_those_come_from_asks_the_source_of_what_was_found(bot):
    answer = bot.answer("where did they come from?", history=["What were the key success factors for NGen?"])
    assert answer.resolved.startswith("What is the source for"), answer.resolved
    assert "footnote 64" in answer.text or "Source cited by the report" in answer.text, answer.text


def test_where_are_they_from_after_a_who_question_asks_about_the_body_named(bot):
    answer = bot.answer("where do they come from?", history=["Who runs the Aachen Machine Tool Colloquium?"])
    assert "Fraunhofer IPT" in answer.resolved or "WZL" in answer.resolved, answer.resolved  # not its source


def test_stacking_up_against_a_year_compares_the_previous_figure_with_it(bot):
    answer = bot.answer("how does that stack up against 2011", history=["What were the UK's M&E exports in 2022?"])
    assert "compare with 2011" in answer.resolved and "exports" in answer.resolved, answer.resolved
    assert "44.2" in answer.text and not answer.refused, answer.text


def test_next_to_a_new_name_compares_and_keeps_the_first(bot):
    answer = bot.answer("and next to germany?", history=["What was Japan's M&E value added in 2021?"])
    assert "Japan" in answer.resolved and "compared with Germany" in answer.resolved, answer.resolved


def test_what_is_it_after_a_who_question_is_whoever_the_answer_named(bot):
    answer = bot.answer("what is it exactly", history=["Who is leading the AMPI SIPF programme?"])
    assert "National Physical Laboratory" in answer.resolved, answer.resolved
    # The answer spells out the acronym the question used ('the Advanced Machinery and Productivity Institute
    # (AMPI)'): that is the name asked about, not the one the answer gives; of the sentences as like the
    # question ('The project formally began …', '… being led by …'), the one naming someone answers it.
    answer = bot.answer("what does it say its mission is", history=["Who leads the AMPI Strength in Places project?"])
    assert "National Physical Laboratory" in answer.resolved, answer.resolved


def test_that_definition_is_the_definition_of_what_was_asked_and_the_report_is_no_antecedent(bot):
    answer = bot.answer("where's that definition taken from", history=["How does the report define 'special purpose machinery'?"])
    assert "definition of" in answer.resolved and "special purpose machinery" in answer.resolved, answer.resolved
    assert "Standard Industrial Classification" in answer.text or "SIC" in answer.text, answer.text
    answer = bot.answer("how does it actually work", history=["what does the report say predictive maintenance does"])
    assert "predictive maintenance" in answer.resolved, answer.resolved


def test_for_what_year_asks_when_the_previous_figure_is_from(bot):
    answer = bot.answer("for what year", history=["How many members does NGen have?"])
    assert answer.resolved == "How many members does NGen have — when?", answer.resolved
    assert "March 2024" in answer.text, answer.text


def test_comparing_with_a_country_the_passage_does_not_mention_is_refused(bot):
    answer = bot.answer("how does the uk compare on that", history=["What's the concentration of engineering graduates in the Basque Country?"])
    assert answer.refused, answer.text  # the documents give the Basque figure only


def test_a_region_typed_short_replaces_the_region_not_the_measure(bot):
    answer = bot.answer("and the west mids?", history=["What's the location quotient for lifting and handling in Yorkshire?"])
    assert "location quotient" in answer.resolved and "West Midlands" in answer.resolved, answer.resolved
    assert "Yorkshire" not in answer.resolved, answer.resolved


def test_who_says_so_asks_the_source_of_the_claim(bot):
    answer = bot.answer("who says so", history=["Is the Basque Country one of Spain's more prosperous regions?"])
    assert "Frick" in answer.text.split("Citations:")[0], answer.text  # the footnoted work, in the answer itself


def test_which_dataset_is_that_from_asks_the_source_of_the_statement_the_answer_quoted(bot):
    # The previous question's wording may not find its own sentence again; the statement the answer quoted does.
    answer = bot.answer("which dataset is that from?",
                        history=["How many advanced machinery enterprises were there in Great Britain in 2023?"])
    assert answer.resolved.startswith("Which dataset is “In 2023, there were almost 11,500"), answer.resolved
    assert "Business Counts" in answer.text.split("Citations:")[0], answer.text


def test_the_statement_quoted_is_the_one_whose_figure_was_asked_and_who_is_behind_figures_asks_their_source(bot):
    history = ["How many machine tool companies does the Basque Country have?"]
    answer = bot.answer("which source is that?", history=history)
    assert "128 companies" in answer.resolved and "4,000" not in answer.resolved, answer.resolved  # not the turnover
    behind = bot.answer("who is behind these figures", history=["What was Japan's M&E value added in 2021?"])
    assert "Institute for Manufacturing" in behind.text.split("Citations:")[0], behind.text


def test_a_source_follow_up_after_a_refusal_quotes_nothing_from_it(bot):
    # A refused answer quotes passages only to show what the documents do say: it makes no claim to source.
    from assistant.followup import read_conversation
    from ingest.records import Answer

    asked = ["How many advanced machinery enterprises were there in Great Britain in 2023?", "which dataset is that from?"]
    said = "In 2023, there were almost 11,500 advanced machinery enterprises in Great Britain."
    for refused in (False, True):
        reading = read_conversation(asked, names_for(bot.index()),
                                    lambda q, r=refused: Answer(question=q, text=said, refused=r))[-1]
        assert ("“In 2023, there were almost 11,500" in reading.resolved) is not refused, reading.resolved


def test_a_follow_up_is_answered_as_its_reading(bot):
    answer = bot.answer("And in 2011?", history=[UK_2022])
    assert answer.question == "And in 2011?" and answer.resolved == "What was the UK's trade balance in 2011?"
    assert not answer.refused and "2.0" in answer.text and any(c.locator == "Figure 2-2" for c in answer.citations)


def test_why_after_an_answer_that_said_no_asks_why_not(bot):
    # "Did X rise?" is answered "No: X fell …"; "why?" then asks why it did not, which the text explains.
    answer = bot.answer("why?", history=["Did UK M&E exports rise between 2011 and 2022?"])
    assert answer.resolved == "Why didn't UK M&E exports rise between 2011 and 2022?", answer.resolved
    assert not answer.refused and "Brexit" in answer.text, answer.text


def test_why_after_an_answer_that_denied_the_question_asks_why_not(bot):
    # "Does X charge a fee?" is answered "X does not charge a fee …"; "how come?" asks why not, not why it does.
    answer = bot.answer("how come", history=["Does NGen charge a membership fee?"])
    assert answer.resolved == "Why doesn't NGen charge a membership fee?", answer.resolved
    assert not answer.refused and "engage as many" in answer.text, answer.text


def test_a_premise_the_documents_deny_is_refused_with_the_denial(bot):
    answer = bot.answer("What membership fee does NGen charge its corporate members?")
    assert answer.refused and "does not charge a fee" in answer.text, answer.text


def test_a_follow_up_the_documents_do_not_answer_is_refused(bot):
    answer = bot.answer("And in 2023?", history=[UK_2022])
    assert answer.resolved == "What was the UK's trade balance in 2023?" and answer.refused


def test_without_a_rewrite_there_is_no_reading(bot):
    assert bot.answer(UK_2022).resolved is None
    assert bot.read("Who funded the project?", [UK_2022]).resolved == "Who funded the project?"  # no country's project
    assert bot.answer("When was the Fraunhofer IPT founded?", history=[UK_2022]).resolved is None
    assert bot.answer("why?", history=[]).refused  # nothing to lean on: asked to type a question, no error


def test_the_answer_record_adds_resolved_only_in_a_chat(bot):
    plain = answer_record(bot.answer(UK_2022), "q1")
    assert set(plain) == RECORD_KEYS
    chat = answer_record(bot.answer("And in 2011?", history=[UK_2022]), "q2", in_chat=True)
    assert set(chat) == RECORD_KEYS | {"resolved"} and chat["resolved"] == "What was the UK's trade balance in 2011?"
    alone = answer_record(bot.answer(JAPAN, history=[UK_2022]), "q3", in_chat=True)
    assert alone["resolved"] == JAPAN  # the question answered: as asked


def test_the_conversation_score(bot):
    items = load_items(REPO_ROOT / "tests" / "eval" / "conversations.jsonl")
    assert len(items) >= 60 and len(load_items(REPO_ROOT / "tests" / "eval" / "conversations_fresh.jsonl")) >= 30
    picked = [i for i in items if i["id"] in {"conv-001", "conv-066", "conv-075"}]  # a year, a refusal, one of its own
    summary = summarise_conversations(evaluate_conversations(picked, bot))
    assert summary["conversations"] == 3 and summary["conversation_score"] == 1.0
    assert summary["rewritten"] == 2 and summary["standalone_rewritten"] == 0


# -- the command line ----------------------------------------------------------------------------
def ampi(settings: Settings, *args: str, stdin: bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "AMPI_CORPUS_DIR": str(settings.corpus_dir), "AMPI_DATA_DIR": str(settings.data_dir),
           "AMPI_INDEX_DIR": str(settings.index_dir)}
    return subprocess.run([str(AMPI), *args], input=stdin, capture_output=True, cwd=REPO_ROOT, env=env, timeout=300)


def test_ask_jsonl_answers_in_the_given_history(built_index):
    lines = [{"id": "f", "question": "What about Italy?", "history": [JAPAN]},
             {"id": "s", "question": JAPAN},
             {"id": "b", "question": "And Italy?", "history": "What was Japan's value added?"}]
    done = ampi(built_index, "ask", "--jsonl", stdin="\n".join(json.dumps(x) for x in lines).encode())
    assert done.returncode == 0, done.stderr
    follow, alone, bad = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert follow["resolved"] == "What was Italy's M&E value added in 2021?" and "48" in follow["answer"]
    assert follow["question"] == "What about Italy?"
    assert set(alone) == RECORD_KEYS  # no history: the record as before
    assert bad == {"id": "b", "error": 'line 3: "history" is a string, not a list of earlier questions (strings, oldest first)'}


def test_ampi_chat_keeps_the_conversation(built_index):
    turns = [UK_2022, "And in 2011?", "and Germany's?", "/new", "And in 2011?", "/quit", "never asked"]
    done = ampi(built_index, "chat", stdin=("\n".join(turns) + "\n").encode())
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert out.count("Read as:") == 2  # the two follow-ups; the first question and the one after /new stand alone
    assert "Read as: What was the UK's trade balance in 2011?" in out and "-USD 2.0 billion" in out
    assert "Read as: What was Germany's trade balance in 2011?" in out and "127.3" in out
    assert "New conversation." in out and "Citations:" in out and "never asked" not in out


# -- the web app: the /ask API and the chat ---------------------------------------------------------
@pytest.fixture(scope="module")
def chat_server(built_index, tmp_path_factory):
    from ui.app import build_app, launch_options

    settings = built_index.model_copy(update={"data_dir": tmp_path_factory.mktemp("followup-ui")})
    app = build_app(settings, Assistant(settings))
    from servers import free_port  # outside the ephemeral range (see there)

    port = free_port()
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **launch_options(settings))
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_api_ask_takes_a_history(chat_server):
    from gradio_client import Client

    client = Client(chat_server, verbose=False, analytics_enabled=False)
    record = client.predict("What about Italy?", [JAPAN], api_name="/ask_in_context")
    assert record["resolved"] == "What was Italy's M&E value added in 2021?" and "48" in record["answer"]
    assert set(client.predict(JAPAN, api_name="/ask")) == RECORD_KEYS  # without a history: as before


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian chromium and chromium-driver (`make browser` installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1600"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=90):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # Gradio may re-render an element between finding it and reading it: that poll counts as "not yet".
    return WebDriverWait(driver, timeout, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition(d))


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).get_attribute("textContent") or ""


def _bot_messages(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [m.get_attribute("textContent") or "" for m in driver.find_elements(By.CSS_SELECTOR, "#ampi-chat [data-testid=bot]")]


def _ask(driver, question: str, turn: int) -> str:
    """Ask in the chat and wait for answer number `turn` (1-based) to arrive; return its text."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, "#ampi-question textarea")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ampi-ask").click()
    _wait(driver, lambda d: len(_bot_messages(d)) >= turn and "Searching the documents" not in _bot_messages(d)[turn - 1]
          and question in _text(d, "ampi-sources"))
    return _bot_messages(driver)[turn - 1]


@pytest.mark.browser
def test_a_three_turn_chat_in_the_browser(browser, chat_server, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(chat_server)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#ampi-question textarea") and d.find_elements(By.ID, "ampi-sources"))
    first = _ask(browser, JAPAN, 1)
    assert "155" in first and "Read as" not in first

    second = _ask(browser, "What about Italy?", 2)
    assert "Read as: What was Italy's M&E value added in 2021?" in second
    assert "48" in second and "[1]" in second and "Table 2-2" in second  # the cited answer and its citation key
    assert "Table 2-2" in _text(browser, "ampi-sources") and "Italy" in _text(browser, "ampi-sources")

    third = _ask(browser, "And its labour productivity?", 3)
    assert "Read as: What was Italy's M&E labour productivity in 2021?" in third and "101" in third
    sources = _text(browser, "ampi-sources")
    assert "Table 2-2" in sources and "And its labour productivity?" in sources
    assert browser.find_elements(By.CSS_SELECTOR, "#ampi-sources tr.hit, #ampi-sources mark")  # the cited row is marked
    path = tmp_path / "ui-followup-chat.png"
    browser.save_screenshot(str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, SCREENSHOTS / path.name)

    # A cleared chat is a new conversation: the same follow-up is then answered as asked.
    browser.find_element(By.CSS_SELECTOR, "#ampi-chat button[aria-label*='lear']").click()
    _wait(browser, lambda d: not _bot_messages(d))
    fresh = _ask(browser, "And its labour productivity?", 1)
    assert "Read as" not in fresh


def test_an_earlier_question_read_as_a_noun_phrase_keeps_its_words_in_order():
    from assistant.followup import topic

    assert topic("What happened to Ruritania's trade deficit between 2011 and 2022?") == \
        "Ruritania's trade deficit between 2011 and 2022"
    assert topic("How much did Acme get from the Widget Fund?") == "the amount that Acme get from the Widget Fund"
    assert topic("What success factors were found for the Lyon cluster?") == "the success factors found for the Lyon cluster"
    assert topic("Which firms are based in Lyon?") == "the firms based in Lyon"
    assert topic("What was Acme's turnover in 2021?") == "Acme's turnover in 2021"
    assert topic("What annual core grant did Acme get in its first years?") == \
        "the annual core grant that Acme get in its first years"
