"""How a question is read before it is answered: everyday words bridged to the documents' terms, names typed
in lower case, framing dropped, figures in prose read with the words around them, and a change said the
way the question means it. Real index, real embedding model."""

from __future__ import annotations

import pytest

from assistant.answerers import AnswerContext
from assistant.arithmetic import compute, quantities
from assistant.bridge import MIN_SIMILARITY, vocabulary_terms
from assistant.evidence import name_present, names_in
from assistant.figures import ordinal, premise
from assistant.service import Assistant
from assistant.wording import normalise


@pytest.fixture(scope="module")
def bot(built_index):
    assistant = Assistant(built_index)
    assistant.index()  # activates the documents' vocabulary
    return assistant


def test_a_word_the_documents_never_use_is_read_as_their_nearest_term(bot):
    bot.understand("What sort of crowd came - how many attendees?")
    bridges = bot.index().domain.bridges
    assert "particip" in bridges.get("attende", set())  # the report says 'participants'
    # Words with no term close enough stay unknown: an off-topic question stays off-topic.
    bot.understand("tell me a joke about lasagne")
    assert "joke" in bot.index().domain.unbridged and "joke" not in bridges
    assert 0.5 < MIN_SIMILARITY < 0.9


def test_the_bridge_vocabulary_leaves_out_names_and_numbers():
    texts = ["The Zorbland cluster employs twelve thousand staff in Zorbland.", "Zorbland staff and twelve more staff."]
    terms = vocabulary_terms(texts, names=frozenset({"zorbland"}))
    assert "staff" in terms and not any("zorbland" in t or "twelve" in t for t in terms)


def test_a_bridged_word_counts_as_the_documents_term(bot):
    from assistant.summary import off_topic
    from assistant.text import expand

    query = bot.understand("what attendees and obstacles does the cluster have")
    assert {"particip", "barrier"} <= expand({"attende", "obstacl"})
    assert {"goal", "aim"} <= expand({"target"})  # "what target did X set?": "established a goal of …"
    assert not off_topic(query, bot.index())  # before: two of its four topic words unknown, so 'off-topic'


def test_names_typed_in_lower_case_are_still_required(bot):
    assert "canada" in names_in("whats canada's machinery value added in the oecd table")
    assert "ngen" in names_in("how many members does ngen have")
    assert names_in("to decide what counts as advanced machinery") == []  # an ordinary word, not a dataset's name
    answer = bot.answer("whats canadas machinery value added in the oecd table")  # Canada is not in Table 2-2
    assert answer.refused, answer.text


def test_a_name_starting_a_sentence_is_a_name_and_a_question_word_is_not(bot):
    from assistant.evidence import names_in

    assert names_in("Italy vs Spain") == ["Italy", "Spain"]  # the documents write 'Italy' as a name
    assert names_in("The report says Germany ranked 39th. Whose forecast was that?") == ["Germany"]
    assert names_in("Summarise the Aachen case") == ["Aachen"]


def test_a_country_is_found_by_its_other_names():
    assert name_present("United States", "Trade balance 2022: US — Rank")
    assert not name_present("United States", "Trade balance 2022: UK — Rank")
    assert "United States" in names_in("What was the United States' rank in 2022, according to Figure 2-2?")
    assert not any("Figure" in n for n in names_in("What does Figure 2-2 show?"))


def test_framing_and_possessives_typed_without_apostrophe(bot):
    words = bot.index().words
    assert normalise("For a briefing note: how many members did NGen have?", words) == "how many members did NGen have?"
    assert normalise("germanys value added", words).startswith("germany's")
    assert normalise("what caveats apply", words) == "what caveats apply"  # a plural, not a possessive


def test_figures_in_prose_are_read_with_the_words_around_them():
    sentence = ("As of March 2024, the network had 9,700 members (c.3,500 corporate members and c.6,200 individual "
                "experts and researchers) and approximately 250 members outside Canada.")
    assert [q.text for q in quantities(sentence)] == ["9,700", "c.3,500"[2:], "c.6,200"[2:], "250"]
    worked = compute("Are there more corporate members or individual experts and researchers, and by how many?",
                     quantities(sentence))
    assert worked.startswith("6,200 is 2,700 more than 3,500"), worked
    assert compute("What share of the members are based outside Canada?", quantities(sentence)) == "250 of 9,700 is 2.6%"
    years = quantities("The association was established in 1891.", True) + quantities("The institute was founded in 1980.", True)
    assert compute("How many years separate the two foundings?", years) == "89 years (from 1891 to 1980)"


def test_a_total_adds_only_figures_of_the_thing_asked():
    # "LQs of 2.2 and 2.3" are no jobs: a total of jobs is not 3,500 + 2.2 + 2.3 (and one count of jobs is no total).
    both = quantities("A third of widget employment is in Acmeton and Elbonia (both with 3,500 jobs and LQs of 2.2 and "
                      "2.3 respectively).")
    assert compute("Together, how many widget jobs are there in Acmeton and Elbonia?", both) is None
    apart = quantities("Acmeton has 3,500 widget jobs and Elbonia has 2,000 jobs, with LQs of 2.2 and 2.3.")
    assert compute("Together, how many widget jobs are there in Acmeton and Elbonia?", apart) == "Together 5,500 (3,500 + 2,000)"


def test_shares_are_set_against_each_other_as_a_ratio_only_when_asked():
    shares = quantities("Elbonia has 18.6% of widget exports and Ruritania has 2.6% of widget exports.")
    sides = ["Elbonia", "Ruritania"]
    assert compute("How many times bigger is Elbonia's share than Ruritania's?", shares, sides).endswith("7.2 times as much")
    assert "times" not in compute("How much bigger is Elbonia's share than Ruritania's?", shares, sides)


def test_the_ends_of_a_range_are_no_quantities():
    assert [q.text for q in quantities("firms with 10 to 49 employees, or 50-249, made up 35% of all")] == ["35%"]
    assert [q.text for q in quantities("from £91,000 in 2011 to £102,000 in 2021")] == ["£91,000", "£102,000"]


def test_an_acronym_the_documents_never_write_is_found_by_its_words():
    assert name_present("IfM", "The Institute for Manufacturing suggests that")
    assert name_present("DBT", "the Department for Business and Trade (2024)")
    assert not name_present("IfM", "The Institute of Mining suggests that")  # the small 'f' is a small word
    assert not name_present("UK", "under kilograms")  # initials must be capitalised words


def test_figures_given_respectively_count_what_the_clause_before_names():
    figures = quantities("Ruritania has the highest employment in widget making, ahead of Elbonia (1,200 and 900 respectively).")
    assert [q.text for q in figures] == ["1,200", "900"]
    assert all({"employ", "widget"} <= q.context for q in figures), [sorted(q.context) for q in figures]
    assert "elbonia" not in figures[0].context and "ruritania" not in figures[1].context  # each its own place's
    # As many names as figures, in order; with fewer or more, the figures belong to none of them.
    first, second = quantities("However, widgets are made in the South West and Elbonia (LQs of 7.1 and 2.5 respectively).")
    assert {"south", "west"} <= first.context and "elbonia" not in first.context and "elbonia" in second.context
    assert not any({"ruritania", "elbonia"} & q.context for q in quantities("Ruritania and the Elbonia have (5 and 6 respectively)."))
    alone = quantities("Exports grew (to 900), while the number of firms fell.")
    assert "employ" not in alone[0].context


def test_a_change_is_said_the_way_the_question_means_it(bot):
    assert premise("why did exports go up", -2.2) == "No: " and premise("why did exports fall", -2.2) == ""
    assert premise("how did exports change", -2.2) == ""
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 176)] == ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th",
                                                                        "21st", "176th"]
    assert premise("why didn't exports go up", -2.2) == ""  # it takes no rise for granted
    # No reason can be given for a change that did not happen: a refusal that shows the figures instead.
    answer = bot.answer("why did uk m&e exports go up between 2011 and 2022")
    assert answer.refused and "premise" in answer.text and "fell by USD 2.2 billion" in answer.text, answer.text
    answer = bot.answer("How did Italy's position in the M&E trade balance ranking change from 2011 to 2022?")
    assert "3rd in 2011" in answer.text and "4th in 2022" in answer.text and "fell by 1 place " in answer.text, answer.text


def test_chat_follow_ups_read_against_the_previous_question(bot):
    reading = bot.read("wat about mexico", ["what was labour productivity in the netherlands for M&E manufacturing?"])
    assert reading.rewritten and "Mexico" in reading.resolved and "labour productivity" in reading.resolved
    reading = bot.read("what prompted that?", ["When did the Basque Country begin implementing cluster policy?"])
    assert reading.resolved == "Why did the Basque Country begin implementing cluster policy?"


def test_the_source_of_a_figure_named_only_by_its_number(bot):
    answer = bot.answer("where does the 135,000 figure come from?")  # its footnote is a note, not a work
    assert not answer.refused and "whose source is" in answer.text, answer.text


def test_a_ranking_asked_for_each_of_two_years(bot):
    answer = bot.answer("Which country was at the very bottom of the machinery trade league in 2011, and which in 2022?")
    assert "2011: Russian Federation" in answer.text and "2022: US" in answer.text, answer.text
    answer = bot.answer("how did Germany's M&E trade balance and ranking change between 2011 and 2022?")
    assert "1st in 2011" in answer.text and "fell by USD 25.1 billion" in answer.text, answer.text


def test_a_source_question_about_a_table_figure_names_the_tables_source(bot):
    answer = bot.answer("What is the source for Germany's M&E value added in 2021?")
    assert "US$132 billion" in answer.text and "UK Innovation Report 2024" in answer.text, answer.text


def test_value_added_is_a_measure_but_adding_up_is_not(bot):
    from assistant.domain import active

    assert "ad" in active().measures_in(bot.understand("What was Germany's M&E value added in 2022?").stems)
    assert not active().measures_in(bot.understand("Adding up everything, how much will it receive?").stems)
    answer = bot.answer("What was Germany's M&E value added in 2022?")  # Table 2-2 is for 2021; Figure 2-2 is trade
    assert answer.refused and "2021" in answer.text, answer.text


def test_the_noun_counted_stops_at_a_relative_pronoun():
    from assistant.query import analyse

    assert analyse("Where does the figure for the number of people that were employed come from?").counted == "people"


def test_a_name_ending_in_a_year_typed_in_lower_case_is_still_a_name(bot):
    query = bot.understand("how many priority sectors r in invest 2035")
    assert "Invest 2035" in query.text and query.years == [], (query.text, query.years)
    assert bot.understand("uk exports 2022").years == [2022]  # a year after a word the documents never title


def test_where_a_figure_with_an_acronym_in_it_is_from_is_a_source_question():
    from assistant.query import analyse

    assert analyse("Where is the UK's M&E trade deficit in 2022 figure from?").kind == "source"
    assert analyse("whose data").kind == "source"
    # Who published a work is named by its reference: a source question in everyday words.
    assert analyse("Which government department put out the Widget Strategy?").kind == "source"
    assert analyse("Who put out the widget white paper?").kind == "source"
    assert analyse("Widget white paper: publisher and year for the reference list.").kind == "source"
    assert analyse("who did that evaluation?").kind == "source" and analyse("Who evaluated the scheme?").kind == "source"


def test_a_bare_noun_phrase_naming_a_measure_asks_for_its_value():
    from assistant.query import analyse

    assert analyse("ruritanias share of global widget exports 2022").wants_number
    assert analyse("widget turnover in 2021").wants_number
    # A word of asking, or a long sentence, is read as usual: a comparison or a request is not a bare figure.
    assert not analyse("widget employment in the north vs the south, how do they compare").wants_number
    assert not analyse("summarise the widget exports section").wants_number


def test_a_why_question_is_answered_with_reasons_not_a_figure(bot):
    answer = bot.answer("Why did the UK's M&E trade deficit change between 2011 and 2022?")
    assert "increasing imports" in answer.text and "computed from the two values" not in answer.text, answer.text


def test_operation_nouns_locators_and_years_in_names(bot):
    from assistant.query import analyse

    answer = bot.answer("what was the gap in M&E value added between the US and Japan in 2021?")  # 'gap' is no measure
    assert "US$19 billion" in answer.text, answer.text
    answer = bot.answer("where does table 2-2 come from")  # a table the documents have is their topic
    assert "UK Innovation Report 2024" in answer.text, answer.text
    assert analyse("How many priority sectors does Invest 2035 identify?").years == []
    assert analyse("By March 2024 how many members were there?").years == [2024]


def test_british_is_the_uk_row_of_a_table_without_a_gb_row(bot):
    answer = bot.answer("what was britain's m&e trade balance in 2022")
    assert "UK" in answer.text and "-USD 7.2 billion" in answer.text, answer.text


def test_it_before_a_change_is_the_earlier_figure_and_since_then_its_year(bot):
    reading = bot.read("Why has it got worse since then?", ["What was the UK's trade balance in 2011?"])
    assert reading.resolved == "Why has the UK's trade balance got worse since 2011?"
    assert bot.read("which group does it belong to?", ["What is IDEKO?"]).resolved == "Which group does IDEKO belong to?"


def test_two_sides_are_compared_only_with_a_figure_stated_beside_each():
    sentence = "employment is highly concentrated, with metallurgy machinery in the South West and Yorkshire (LQs of 7.1 and 2.5)"
    assert compute("Which has more, Yorkshire or the West Midlands, and by how much?", quantities(sentence),
                   ["Yorkshire", "West Midlands"]) is None  # no figure beside the West Midlands: no sum to show
    both = "Yorkshire has 12,000 jobs, while the West Midlands has 10,000 jobs"
    worked = compute("Which has more, Yorkshire or the West Midlands?", quantities(both), ["Yorkshire", "West Midlands"])
    assert worked.startswith("Yorkshire (12,000) is 2,000 more than West Midlands (10,000)"), worked


def test_the_words_right_beside_a_figure_stop_at_the_next_figure():
    turnover, staff = quantities("It has an annual turnover of over €5 billion, with 19,000 employees internationally.")
    assert "employe" in staff.close and "employe" not in turnover.close
    assert compute("Which employs more people, A or B?", [turnover, staff], []) is None  # one figure of each kind


def _worked_out(bot, question: str):
    """What the arithmetic answerer proposes for a question, whatever the chooser then picks."""
    from assistant.answerers import propose_arithmetic

    query = bot.understand(question)
    loaded, vector, hits = bot.search(query)
    return propose_arithmetic(AnswerContext(query=query, hits=hits, loaded=loaded, settings=bot.settings, vector=vector,
                                            embed=bot.embed_texts))


def test_two_names_are_compared_from_a_sentence_about_each(bot):
    candidate = _worked_out(bot, "Which employs more people worldwide, TRUMPF or Siemens?")
    # Each side's figure comes from the sentence about it (its staff, not its turnover or its countries).
    assert candidate.text.startswith("Siemens (311,000) is 292,000 more than TRUMPF (19,000)"), candidate.text
    assert "311,000 people" in candidate.text and "19,000 employees" in candidate.text


def test_a_damaged_bridge_cache_is_rebuilt(tmp_path):
    import numpy as np

    from assistant.bridge import load_or_build

    calls = []

    def embed(texts):
        calls.append(len(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    texts = ["staff and repair staff", "repair of staff"]
    (tmp_path / "bridge.npz").write_bytes(b"not a zip file")
    first = load_or_build(texts, frozenset(), embed, tmp_path, "model")
    second = load_or_build(texts, frozenset(), embed, tmp_path, "model")  # read back, not embedded again
    assert first.terms == second.terms and len(calls) == 1
    assert load_or_build(texts, frozenset(), embed, tmp_path, "other model").terms == first.terms and len(calls) == 2


def test_britain_in_a_table_operation_is_the_uk_row(bot):
    answer = bot.answer("In percentage terms, how much did Britain's machinery exports shrink between 2011 and 2022?")
    assert "UK exports" in answer.text and "5.0%" in answer.text, answer.text


def test_of_sentences_naming_both_sides_the_one_whose_figures_the_question_points_at_is_worked_with(bot):
    # Several sentences name Yorkshire and the West Midlands with figures; only one counts manufacturing jobs.
    candidate = _worked_out(bot, "Which has more advanced machinery manufacturing employment, Yorkshire or the West Midlands?")
    assert candidate.text.startswith("Yorkshire (12,000) is 2,000 more than West Midlands (10,000)"), candidate.text


def test_a_sentence_stating_another_measure_is_not_evidence_for_a_figure(bot):
    query = bot.understand("How much does the Basque machine tool sector export?")
    loaded, vector, hits = bot.search(query)
    evidence = AnswerContext(query=query, hits=hits, loaded=loaded, settings=bot.settings, vector=vector).evidence()
    assert evidence and "export" in evidence[0].sentence, [e.sentence for e in evidence[:3]]  # not its turnover


def test_rows_under_a_limit_are_listed_not_the_whole_column(bot):
    answer = bot.answer("Which OECD countries in the value added table are under $20 billion?")
    head = "4 of the 10 countries listed in Table 2-2 have Value added (US$, billion) in 2021 below $20 billion"
    assert answer.text.startswith(head), answer.text  # the column and year the rows were read from, then the limit
    assert all(country in answer.text for country in ("Mexico", "Switzerland", "Sweden", "France"))
    assert "Japan" not in answer.text
    answer = bot.answer("How many countries in Table 2-2 have a higher labour productivity than the UK?")
    head = "4 of the 10 countries listed in Table 2-2 have Labour productivity (US$, thousand) in 2021 above UK"
    assert answer.text.startswith(head), answer.text  # not the UK's row
    answer = bot.answer("How many of the ten countries in Table 2-2 have higher labour productivity than the UK?")
    assert answer.text.startswith(head), answer.text  # the measure between 'higher' and 'than'
    answer = bot.answer("How many Table 2-2 countries have a higher M&E labour productivity than the UK?")
    assert answer.text.startswith(head), answer.text  # an acronym with '&' in that measure
    answer = bot.answer("how many countries in table 2-2 have value added over 100bn")
    assert answer.text.startswith("3 of the 10 countries listed"), answer.text  # counted as asked: countries


def test_rows_with_the_same_value_as_a_named_row(bot):
    for question in ("Which other country adds the same value from machinery making as the UK in the OECD table?",
                     "For a briefing table, which country has the same US$22bn value added as the UK in 2021?",
                     "which country has the same value added as the uk in the oecd table"):
        answer = bot.answer(question)
        assert answer.text.startswith("Netherlands has the same Value added"), answer.text
        assert "UK: US$22 billion; Netherlands: US$22 billion" in answer.text, answer.text


def test_a_rows_place_in_a_table_without_a_rank_column_is_counted_by_the_measure_asked(bot):
    for question in ("Where does Germany come in the OECD table for value added?",
                     "What rank is Germany on value added in Table 2-2?"):
        answer = bot.answer(question)
        assert answer.text.startswith("Germany is 3rd of the 10 countries listed in Table 2-2 by Value added"), answer.text
        assert "Trade balance" not in answer.text, answer.text  # not the rank of another table's measure


def test_the_top_row_is_given_with_the_year_of_its_column(bot):
    answer = bot.answer("According to Table 2-2, which OECD country had the highest labour productivity in 2021?")
    assert answer.text.startswith("Netherlands") and "Labour productivity" in answer.text, answer.text
    assert "2021" in answer.text and "US$235 thousand" in answer.text, answer.text


def test_chat_words_that_ask_nothing_do_not_count_against_an_answer(bot):
    answer = bot.answer("how many members has ngen got")
    assert not answer.refused and "9,700" in answer.text, answer.text
    assert {"got", "roughly", "approx"}.isdisjoint(bot.understand("roughly how many members has it got approx").stems)


def test_everyday_money_words_find_the_documents_funding_terms(bot):
    answer = bot.answer("how much money will NGen get over 2018-2028")
    assert not answer.refused and "460" in answer.text, answer.text


def test_a_unit_is_no_counted_thing_and_ahead_of_is_a_comparison(bot):
    answer = bot.answer("by how many billion dollars is Japan ahead of Germany in value added")
    assert "US$23 billion" in answer.text, answer.text


def test_a_written_acronym_covers_its_words_when_the_question_gives_both():
    from assistant.domain import Domain
    from assistant.text import stems

    words = frozenset(stems("Joint Test Facility"))
    domain = Domain(acronym_stems={"jtf": words}, acronym_marks={"jtf": words})
    asked = set(stems("how many people visit the jtf test facility"))
    assert domain.covered_by_acronyms(asked, set(stems("The JTF attracts 1,200 visitors"))) == words & asked != set()
    assert domain.covered_by_acronyms(asked, set(stems("The facility attracts 1,200 visitors"))) == set()


def test_a_count_is_a_number_beside_the_thing_counted():
    from assistant.evidence import counts_beside

    assert counts_beside("There were almost 11,500 enterprises in 2023.", "busi")  # businesses are enterprises
    assert counts_beside("Employment is dominated by three sub-sectors.", "sub-sector")
    assert not counts_beside("Larger proportions of firms have 10 to 49 employees, 9% of all.", "firm")
    assert counts_beside("Both regions have 3,500 jobs.", "employ")  # jobs count employment


def test_how_many_is_answered_by_a_count_of_what_is_counted(bot):
    answer = bot.answer("how many advanced machinery businesses r there in GB")
    assert not answer.refused and "11,500" in answer.text.split("\n\n")[0], answer.text


def test_research_and_development_is_r_and_d_both_ways():
    from assistant.text import expand, stems

    assert "r&d" in expand(set(stems("research and development"))) and "research" in expand({"r&d"})


def test_measures_described_in_everyday_words_are_named_as_the_documents_name_them():
    from collections import Counter

    from assistant.glosses import name_measures

    words = Counter("labour productivity trade balance value added".split())
    assert name_measures("How much value does each worker produce?", words) == \
        "How much labour productivity produce?"  # a short description is replaced by the name
    assert name_measures("exports-minus-imports in 2022", words) == "trade balance in 2022"
    assert name_measures("how did exports compare with imports - what was the net figure?", words) == \
        "how did exports compare with imports - what was the net (trade balance) figure?"  # a long one is kept
    assert name_measures("What is the UK labour productivity?", words) == "What is the UK labour productivity?"
    assert name_measures("What was productivity (value added per employee)?", words) == \
        "What was productivity (value added per employee)?"  # the measure is named already (its head word)
    assert name_measures("exports minus imports in 2022", Counter("exports imports".split())) == \
        "exports minus imports in 2022"  # documents that never name the measure are read as before
    assert name_measures("who was the top net exporter in 2011", words) == "who was the top trade balance in 2011"


def test_the_top_net_exporter_and_british_exports_are_read_from_the_trade_tables(bot):
    answer = bot.answer("who was the top net exporter of m&e in 2011 and by how much")
    assert answer.text.startswith("Germany") and "127.3" in answer.text, answer.text
    answer = bot.answer("Are British machinery exports going up or down compared with 2011?")
    assert "44.2" in answer.text and "42.0" in answer.text, answer.text  # the UK exports panel: no GB row anywhere


def test_a_table_measure_asked_in_everyday_words_is_looked_up(bot):
    answer = bot.answer("For Mexico, how much value per worker does the OECD value-added table show?")
    assert not answer.refused and "US$32 thousand" in answer.text, answer.text


def test_words_cut_short_in_chat_are_read_as_the_documents_words(bot):
    from assistant.wording import english_words, shortened

    words = bot.index().words
    assert "never" in english_words()  # a whole English word is never taken for an abbreviation
    assert shortened("never", words) is None
    assert shortened("adv", words) == "advanced" and shortened("manuf", words) == "manufacturing"
    assert bot.understand("total adv machinery enterprises incl ni").text == \
        "total advanced machinery enterprises including ni"


def test_two_kinds_set_against_each_other_in_words():
    from assistant.arithmetic import contrasted

    sentence = "The universities produce over 350 mechanical engineers, 240 industrial engineers and 190 electronics engineers."
    question = "how many more industrial than electronics engineers do they produce"
    assert contrasted(question) == ["industrial", "electronics"]
    assert compute(question, quantities(sentence)).startswith("industrial (240) is 50 more than electronics (190)")
    assert contrasted("which has more jobs than the UK") == []


def test_lower_case_us_set_against_another_country_is_the_united_states(bot):
    from assistant.query import names_the_us

    assert names_the_us("us vs uk value added") and names_the_us("germany and the us")
    assert not names_the_us("tell us about germany and the uk") and not names_the_us("can you give us the figure")
    answer = bot.answer("us vs uk m&e value added how many times bigger")
    assert "US$174 billion" in answer.text and "US$22 billion" in answer.text, answer.text


def test_a_general_abbreviation_the_documents_never_spell_out_is_read_as_its_words(bot):
    from assistant.glosses import GENERAL_ABBREVIATIONS

    assert "smes" in GENERAL_ABBREVIATIONS
    query = bot.understand("what share were small or medium-sized firms")  # firms are enterprises: SMEs
    assert {"sme", "smes"} & query.expanded, sorted(query.expanded)


def test_a_short_typo_that_is_no_english_word_is_corrected(bot):
    assert bot.understand("wich country came 3rd").text == "which country came 3rd"
    assert bot.understand("hw many firms").text == "hw many firms"  # too far from any word to guess
    assert bot.understand("the stand").text == "the stand"  # an English word is never taken for a typo


def test_a_share_is_answered_by_a_share_not_an_amount():
    from assistant.chooser import _share_met
    from assistant.query import analyse

    query = analyse("What is France's share of world exports?")
    assert not _share_met(query, "France exported $40 billion in 2022. [1]")
    assert _share_met(query, "France accounts for 6% of world exports. [1]")
    assert _share_met(analyse("How much did France export?"), "France exported $40 billion in 2022. [1]")


def test_asking_what_a_named_thing_is_prefers_the_sentence_saying_it():
    from assistant.evidence import defines
    from assistant.query import analyse

    assert defines(analyse("What kind of organisation is Acme?"), ["Acme"], "Acme is a non-profit body.")
    assert not defines(analyse("What kind of organisation is Acme?"), ["Acme"], "Linking firms is central to Acme.")
    assert not defines(analyse("What is the reference for Acme's staff?"), ["Acme"], "Acme is a non-profit body.")


def test_a_figure_belongs_to_the_country_named_before_it():
    from assistant.evidence import figure_owners, stated_of_others

    assert figure_owners("China had the largest share in 2022 with 18.6% of the market, and has overtaken Germany.") == ["china"]
    assert figure_owners("Peru exported $3 billion, behind Chile ($5 billion).") == ["peru", "chile"]
    assert stated_of_others("China had 18.6% of the market, and has overtaken Germany.", {"germany"})
    assert not stated_of_others("China had 18.6%. Germany is not included in the data.", {"germany"})  # said of it
    assert not stated_of_others("Germany had 12%, behind China (18.6%).", {"germany"})


def test_a_share_stated_of_another_country_is_no_answer_for_the_one_asked(bot):
    assert bot.answer("What share of the world's machinery exports did Germany have in 2022?").refused
    answer = bot.answer("What share of global M&E exports did the UK have in 2022?")
    assert not answer.refused and "2.6%" in answer.text, answer.text


def test_which_region_has_the_most_businesses_is_not_answered_by_where_jobs_are_concentrated(bot):
    answer = bot.answer("which region has the most advanced machinery manufacturing buisnesses")
    assert not answer.text.startswith("Advanced machinery manufacturing is particularly concentrated"), answer.text
    first = answer.text.split("\n\n")[0].lower()
    assert answer.refused or "enterprise" in first or "business" in first, answer.text
