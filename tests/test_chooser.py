"""The learned answer chooser: arithmetic on stated figures, the split by passage, the fitted weights, constraints."""

from __future__ import annotations

import json

import pytest

from assistant.answerers import ANSWERER_NAMES
from assistant.arithmetic import compute, quantities
from assistant.chooser import CANDIDATE_FEATURES, QUESTION_FEATURES, WEIGHTS, load_model
from assistant.train import labelled_items, split_of


def test_stated_figures_are_read_with_currency_scale_and_percent():
    found = quantities("Productivity rose from £91,000 in 2011 to £102,000 in 2021, a rise of 12%.¹⁵")
    assert [(q.value, q.currency, q.percent) for q in found] == [(91000, "£", False), (102000, "£", False), (12, "", True)]
    assert [q.value for q in quantities("It allocated $26 million, against $292 million approved.")] == [26e6, 292e6]
    assert quantities("Firms with 10 to 49 employees") == []  # the ends of a band are no figures


@pytest.mark.parametrize("question, sentence, expected", [
    ("How much did productivity rise between 2011 and 2021?", "£91,000 in 2011 and £102,000 in 2021",
     ["£102,000 is £11,000 more than £91,000", "+12%"]),
    ("What is the difference between the two allocations?", "$26 million versus $292 million",
     ["$266 million more than $26 million", "11.2 times"]),
    ("How many graduates in total across the four disciplines?", "over 350 mechanical, 240 industrial, 190 electronics and 170",
     ["Together 950"]),
    # "from A to B" is a change, not a range; "by what percentage did it grow" asks the change, not A's share of B
    ("By what percentage did productivity grow?", "Over the same period, productivity grew from £91,000 to £102,000.",
     ["a change of +12%"]),
])
def test_arithmetic_on_figures_stated_in_prose(question, sentence, expected):
    worked = compute(question, quantities(sentence))
    assert worked and all(part in worked for part in expected), worked


def test_no_arithmetic_without_an_operation_or_two_figures():
    assert compute("What was productivity in 2021?", quantities("£91,000 in 2011 and £102,000 in 2021")) is None
    assert compute("How much did it rise?", quantities("It reached £102,000 in 2021")) is None
    # "which part of" asks a place: no share worked out of the figures of a sentence about two regions
    assert compute("Which part of Ruritania has the most widget jobs?",
                   quantities("Acmeton has 16,000 widget jobs and Elbonia 20,000")) is None
    # a share is of figures that count the thing asked: a score of 2.2 is no part of 3,500 jobs
    assert compute("What share of widget jobs is in Acmeton?",
                   quantities("Acmeton has 3,500 jobs and a concentration score of 2.2")) is None


def test_a_passage_opening_on_the_same_period_dates_its_later_sentences():
    from assistant.evidence import with_period
    from ingest.records import Chunk, Citation

    before = Chunk(id="a", doc_id="d", doc_title="d", doc_path="d.md", locator="1.1", section="s", kind="paragraph", order=0,
                   text="Widget output rose between 2011 and 2021.")
    passage = Chunk(id="b", doc_id="d", doc_title="d", doc_path="d.md", locator="1.2", section="s", kind="paragraph", order=1,
                    text="Over the same period, output grew from 5 to 7. In contrast, spending was stable at 1 billion.")
    cited = [Citation(doc="d", locator="1.2", text=passage.text)]
    assert with_period("In contrast, spending was stable at 1 billion.", cited, [before, passage]).endswith(
        "1 billion (2011 to 2021).")
    elsewhere = [Citation(doc="d", locator="1.1", text=before.text)]  # a passage that does not open on the period
    assert with_period("Widget output rose.", elsewhere, [before, passage]) == "Widget output rose."


def test_split_keeps_each_passage_on_one_side_and_spreads_off_topic_questions():
    items = [i for i in labelled_items() if i["id"].startswith("pool")]
    sides: dict[str, set[str]] = {}
    for item in items:
        if item.get("group", "none") != "none":
            sides.setdefault(item["group"], set()).add(item["split"])
    assert all(len(s) == 1 for s in sides.values())
    off_topic = [split_of(i) for i in items if i.get("group") == "none"]
    assert len(set(off_topic)) == 2, "off-topic questions must not all land on one side"
    validation = sum(i["split"] == "validation" for i in items)
    assert 0.15 < validation / len(items) < 0.35


def test_sets_added_to_the_pool_keep_each_passage_on_the_side_the_pool_puts_it():
    items = labelled_items(also=["unseen_s17"])
    added = [i for i in items if i["id"].startswith("s17u")]
    assert added and {i["split"] for i in added} == {"train", "validation"}
    sides: dict[str, set[str]] = {}
    for item in items:
        if item.get("group", "none") != "none" and not item["group"].startswith(("dev:", "probe")):
            sides.setdefault(item["group"], set()).add(item["split"])
    assert all(len(s) == 1 for s in sides.values())  # a paragraph asked about in both sets is on one side


def test_shipped_weights_fit_this_feature_layout_and_every_answerer():
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["chooser"]["question_features"] == QUESTION_FEATURES
    assert data["chooser"]["candidate_features"] == CANDIDATE_FEATURES
    model = load_model()
    assert model is not None and 0.0 <= model.threshold < 1.0
    assert set(model.coef) <= set(ANSWERER_NAMES) and "refusal" in model.coef
    width = 1 + len(QUESTION_FEATURES) + len(CANDIDATE_FEATURES)
    assert all(len(w) == width for w in model.coef.values())


def test_the_intent_is_read_from_the_questions_form_not_its_topic():
    from assistant.chooser import question_form

    documents = {"widget": 3, "export": 5, "ruritania": 2}
    assert question_form("What is Ruritania's share of widget exports in 2021?", documents) == \
        "What is X share of X X in N ?"
    # Another report's topic words read the same; words no document uses stay (an off-topic question shows).
    assert question_form("What is Freedonia's share of gadget imports in 2021?", {"gadget": 1, "import": 1, "freedonia": 1}) == \
        question_form("What is Ruritania's share of widget exports in 2021?", documents)
    assert "joke" in question_form("tell me a joke", documents)
    # An everyday word read as the documents' term is topic too ('sell' for 'export'), not an off-topic word.
    assert question_form("How much did widget makers sell in 2021?", documents) == "How much did X makers X in N ?"


def test_a_share_is_told_from_a_change_in_per_cent_and_from_a_share_of_something_else():
    from assistant.evidence import share_fit, states_a_share

    assert states_a_share("9% of all manufacturing enterprises")
    assert not states_a_share("around 10% higher than the 2015 figure")
    assert not states_a_share("a 12% increase")
    asked = "what share of all GB manufacturing enterprises are machine makers?"
    assert share_fit(asked, "This represents 9% of all manufacturing enterprises across GB.") == 1.0
    assert share_fit(asked, "Around 60% of these businesses were in repair.") == 0.5
    assert share_fit(asked, "There were 11,500, around 10% higher than in 2015.") == 0.0


def test_a_premise_the_answer_contradicts_is_recognised():
    from assistant.figures import contradicted

    assert contradicted("Why did Ruritania's trade surplus grow?", "Ruritania has a trade deficit.")
    assert contradicted("How big are Acme's profits?", "Acme made a loss in 2020.")
    assert not contradicted("How big is Ruritania's trade surplus?", "Ruritania's surplus was $5 billion.")
    assert contradicted("What makes Ruritania the largest producer?", "Ruritania is the third largest producer in the EU.")
    assert not contradicted("What makes Ruritania the largest producer?", "Ruritania is the largest producer.")
    assert not contradicted("Why is Ruritania the second largest producer?", "Ruritania is the second largest producer.")
    assert contradicted("What makes Ruritania the EU's largest widget producer?", "It is the third largest producer of widgets.")
    # A rank the question takes for granted, beside another rank in the same ranking ('why is X ranked 2nd …').
    stated = "Ruritania is a significant widget exporter, with exports of $4 billion (ranked 10th globally)."
    assert contradicted("why is ruritania ranked 2nd in the world for widget exports", stated)
    assert not contradicted("why is ruritania ranked 10th in the world for widget exports", stated)
    assert not contradicted("Why is Ruritania ranked 2nd for widget value added?", stated)  # another ranking
    # 'rank' as a verb places too, and 'among' (like 'globally') says where the ranking holds, not what it ranks.
    among = "Ruritania ranked fifth amongst the member countries by widget value added in 2021."
    assert contradicted("Why did Ruritania rank first among member countries for widget value added?", among)
    assert not contradicted("Why did Ruritania rank fifth among member countries for widget value added?", among)
    # A superlative of another thing is no premise about the ranking: 'the biggest problem' of the third largest producer.
    assert not contradicted("What is the biggest problem holding back Ruritania?", "It is the third largest producer.")


def test_a_premise_the_answer_denies_is_recognised():
    from assistant.figures import denies_asked

    assert denies_asked("What membership fee does Acme charge?", "Acme does not charge a fee for membership.")
    assert denies_asked("Why did Acme start charging members a fee?", "Acme doesn't charge members a fee.")
    # One word denied is a detail: 'how is it funded' is answered by what does fund it.
    assert not denies_asked("How is Acme funded?", "Acme is not funded by the state but by its members.")
    # A question that asks about the denial agrees with it.
    assert not denies_asked("Why does Acme not charge a fee?", "Acme does not charge a fee.")
    assert not denies_asked("What fee does Acme charge?", "Acme charges a fee of £50.")


def test_a_change_the_sentence_reverses_or_denies_is_recognised():
    from assistant.figures import change_stems, reverses_change

    assert reverses_change("Why did Ruritania's export share increase?", "New rivals caused a decrease in its share.")
    assert reverses_change("Why did widget jobs fall the most?", "Widget jobs were the fastest growing.")
    assert reverses_change("Why did R&D spending double?", "R&D spending remained flat at £1 billion.")
    assert not reverses_change("Why did the share increase?", "The share increased, although costs fell.")
    assert not reverses_change("Why did the share increase?", "The share did not fall.")
    assert not reverses_change("What is Ruritania's share?", "Its share decreased.")  # no change taken for granted
    assert change_stems("Why did spending double and jobs fall?") == {"doubl", "fall"}


def test_a_figure_without_a_year_takes_the_one_year_its_passage_states():
    from assistant.chooser import _dated_by_passage
    from assistant.query import Query
    from ingest.records import Citation

    passage = Citation(doc="d", locator="1.2", text="Acme employs 3,500 people. This is 6% of all jobs in 2023.")
    mixed = Citation(doc="d", locator="1.3", text="Acme employs 3,500 people, up from 3,000 in 2015. Jobs grew by 2023.")
    asked = Query(text="How many people did Acme employ in 2023?", kind="figure", years=[2023], wants_number=True)
    assert _dated_by_passage(asked, "Acme employs 3,500 people.", [passage])
    assert not _dated_by_passage(asked, "Acme employs 3,500 people.", [mixed])  # two years: which one is unknown
    assert not _dated_by_passage(asked, "Acme had 3,000 in 2015.", [passage])  # a year stated is read as stated
    other = Query(text="How many people did Acme employ in 2015?", kind="figure", years=[2015], wants_number=True)
    assert not _dated_by_passage(other, "Acme employs 3,500 people.", [passage])


def test_a_rank_stated_in_words_beside_the_year_is_a_figure_for_that_year():
    from assistant.chooser import _years_met
    from assistant.query import analyse

    stated = "Ruritania ranked fifth amongst member countries by widget value added in 2021."
    assert _years_met(analyse("Where did Ruritania rank for widget value added in 2021?"), stated)
    assert not _years_met(analyse("What was Ruritania's widget value added in 2021?"), stated)  # no value beside it


def test_a_measure_named_by_how_it_is_taken_must_be_one_the_documents_use():
    from assistant.evidence import unknown_counted
    from assistant.query import analyse

    documents = {"widget": 4, "maker": 3, "turnov": 2, "employ": 5}
    # Not at the start of the question, so no 'what is the X' reading finds the noun.
    assert unknown_counted(analyse("Need the average salary of widget makers for a slide."), documents) == "salary"
    assert unknown_counted(analyse("For my briefing, the annual profit of widget makers please"), documents) == "profit"
    assert unknown_counted(analyse("Need the annual turnover of widget makers for a slide."), documents) is None


def test_people_a_question_counts_are_counted_in_jobs_too():
    from assistant.query import analyse
    from assistant.retrieve import coverage

    counting = analyse("How many people work in widget making?")
    assert {"job", "employ"} <= counting.variants("peopl")
    assert "job" not in analyse("Where do people think widget makers could do well?").variants("peopl")
    frequency = {"peopl": 1, "work": 3, "widget": 5, "make": 4, "job": 4}
    assert coverage(counting, "Widget making accounts for 2,000 jobs.", frequency, 20) == 1.0
