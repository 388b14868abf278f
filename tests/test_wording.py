"""Chat wording: shorthand spelt out, typos corrected towards the documents' own words, countries by any name."""

from __future__ import annotations

from collections import Counter

from assistant.evidence import name_present
from assistant.wording import normalise, vocabulary

WORDS = vocabulary(["Advanced machinery employs 135,000 people across 11,500 enterprises.",
                    "The machinery sector employs people; machinery exports rose.",
                    "Employees of the enterprises work in manufacturing."])


def test_chat_shorthand_is_spelt_out():
    assert normalise("how many ppl work there rn approx") == "how many people work there now approximately"
    assert normalise("whats the no. of firms w/ exports") == "what is the number of firms with exports"


def test_everyday_ranking_words_and_output_lead_ins_are_plain_english():
    assert normalise("who was no1 on trade in 2022") == "who was top on trade in 2022"
    assert normalise("Where did it sit in the league table?") == "Where did it sit in the ranking?"
    # A lead-in naming the output, not the subject, is dropped; one naming the subject stays.
    assert normalise("Briefing line needed: how did exports move?") == "how did exports move?"
    assert normalise("Exports: how did they move?") == "Exports: how did they move?"
    # A slice of a whole is a share of it; exports less imports are the trade balance (general economics).
    assert normalise("what slice of world exports") == "what share of world exports"
    assert normalise("widget exports minus imports by country") == "widget trade balance by country"
    # A body that was set up was established; setting something up yourself is not a date asked.
    assert normalise("When was the Acme fund set up?") == "When was the Acme fund established?"
    assert normalise("is it easy to set up") == "is it easy to set up"
    # Lines asked for a briefing on a subject: the subject is what is asked.
    assert normalise("Give me two lines for a briefing on which firm is largest.") == "which firm is largest."
    assert normalise("Draft a short paragraph for my board briefing about widget exports") == "widget exports"
    # People who go or turn up to an event attend it.
    assert normalise("how many people turn up to the fair") == "how many people attend the fair"
    assert normalise("how many went to it") == "how many attend it"
    # One letter typed once where English doubles it is that word, not the documents' longer word.
    assert normalise("how many staf", Counter({"staffordshire": 5})) == "how many staff"


def test_who_is_asking_and_general_abbreviations_are_read_as_plain_questions():
    # A sentence saying who asks is not what the question is about ("trade events" is no measure asked).
    assert normalise("I'm a council officer looking at trade events. How many firms attend?") == "How many firms attend?"
    assert normalise("As a board member: what is the turnover of Acme?") == "what is the turnover of Acme?"
    assert normalise("I'm a student") == "I'm a student"  # nothing after it: kept
    assert normalise("I'm a trade officer - which firms export?") == "which firms export?"  # set off by a dash
    assert normalise("I'm a trade officer - and widgets") == "I'm a trade officer - and widgets"  # no question after
    # Whatever the asker says of themselves before the dash ("I make …", "My family …") is not the question.
    assert normalise("I make widgets in Acmeton - what is pushing firms abroad?") == "what is pushing firms abroad?"
    assert normalise("My family is from Acmeton - why did widget jobs fall?") == "why did widget jobs fall?"
    assert normalise("We export widgets. How many firms export?") == "How many firms export?"
    assert normalise("I'm preparing a briefing on widgets - can you summarise?") == (
        "I'm preparing a briefing on widgets - can you summarise?")  # no question of its own after the dash
    # ... or in a clause before it, when a role opens the clause; "as a share of …" is part of the question.
    assert normalise("As an analyst at a trade association, what share of firms export?") == "what share of firms export?"
    assert normalise("As a local economic development officer, how many jobs are there?") == "how many jobs are there?"
    assert normalise("As a share of output, how big is trade?") == "As a share of output, how big is trade?"
    assert normalise("As a result, what happened to exports?") == "As a result, what happened to exports?"
    # The comma may be left out before a request; "as a share of …" still keeps its clause.
    assert normalise("As a board member I'd like to know what share of firms export.") == "what share of firms export."
    assert normalise("As an investor can you tell me how many firms export?") == "how many firms export?"
    assert normalise("As a percentage of turnover I need the figure") == "As a percentage of turnover I need the figure"
    # Asking to be told is not the question: what follows is ("tell me about X" has no question after it: kept).
    assert normalise("I'd like to know how many jobs there are") == "how many jobs there are"
    assert normalise("Can you tell me which firms export?") == "which firms export?"
    assert normalise("tell me about exports") == "tell me about exports"
    # A general abbreviation the documents never use is spelt out; one they use stays.
    assert normalise("where is acme's hq", WORDS) == "where is acme's headquarters"
    assert normalise("where is the hq", Counter({"hq": 2})) == "where is the hq"
    assert normalise("exports n imports") == "exports and imports"
    assert normalise("what is the market gonna be worth") == "what is the market going to be worth"
    assert normalise("how many member cos does it have") == "how many member companies does it have"


def test_a_place_cut_short_is_spelt_out_with_its_capital():
    words = vocabulary(["The West Midlands and the East Midlands grew in the mid-2020s."] * 3)
    assert "mid-" not in words  # a word cut off by a digit is no word of the documents
    assert normalise("how far behind is the West Mids", words) == "how far behind is the West Midlands"
    assert normalise("and the west mids?", words) == "and the west midlands?"


def test_typos_are_corrected_towards_the_documents_words_only():
    assert normalise("advanced machinary enterprizes", WORDS) == "advanced machinery enterprises"
    # "employes" already matches: its stem is the documents' ("employ"); only the unknown word changes.
    assert normalise("employes in manufacturng", WORDS) == "employes in manufacturing"
    # Another form of a word the documents use is no typo; "R" is chat for "are" only on its own.
    assert normalise("how does R&D compare, r they", Counter({"compared": 3, "research": 1})) == "how does R&D compare, are they"
    # Words the documents do not use stay as typed: no guess from outside the documents.
    assert normalise("tell me a joke about salaries", WORDS) == "tell me a joke about salaries"
    # Acronyms and short words are never "corrected".
    assert normalise("AMPI and the UK", WORDS) == "AMPI and the UK"


def test_the_most_used_near_word_wins():
    words = Counter({"exports": 50, "experts": 2})
    assert normalise("exprts", words) == "exports"


def test_countries_are_found_by_any_of_their_names():
    assert name_present("British", "the UK ranked fifth")
    assert name_present("America", "the value added for the US was eight times larger")  # everyday name
    # A region named by compass words is found only as the whole name.
    assert name_present("South East", "Acmeshire and the South East lead")
    assert not name_present("South East", "in the South West and the East of Ruritania")
    assert name_present("Britain", "across Great Britain")
    assert name_present("German", "Germany and Japan")
    assert name_present("Dutch", "the Netherlands")
    assert not name_present("American", "firms used robots")  # "us" is a whole word, never a prefix of "used"
    assert not name_present("Swedish", "the Aachen cluster in Germany")


def test_a_country_typed_without_its_apostrophe_is_its_possessive():
    # A country the documents name only in a table (no capital in running text tells it is a name) still counts.
    words = vocabulary(["Country | Value", "Ruritania | 12", "Sweden | 13"])
    assert normalise("whats swedens productivity", words) == "what is sweden's productivity"
    assert normalise("how many caveats", Counter({"caveat": 2})) == "how many caveats"  # no country: no possessive


def test_a_compound_the_documents_never_hyphenate_is_read_as_its_words():
    from assistant.wording import spell_out

    words = vocabulary(["Value added rose. Widget-making is small. Making of widgets."])
    assert spell_out("the 2021 value-added table", words) == "the 2021 value added table"
    assert spell_out("widget-making firms", words) == "widget-making firms"  # the documents' own spelling
    assert spell_out("well-known widgets", words) == "well-known widgets"  # 'well' and 'known' are not theirs


def test_selling_abroad_is_exporting_and_buying_from_abroad_importing():
    # "sell abroad" named no measure the documents use: the exports sentence was never put forward.
    assert normalise("How much did Elbonian widget makers sell abroad in 2021?") == \
        "How much did Elbonian widget makers export in 2021?"
    assert normalise("What were Acme's sales overseas?") == "What were Acme's exports?"
    assert normalise("how much does Ruritania buy from abroad") == "how much does Ruritania import"
    assert normalise("Where does Acme sell its widgets?") == "Where does Acme sell its widgets?"


def test_a_label_before_a_question_is_left_out_unless_the_documents_use_its_words():
    words = Counter({"widgets": 5, "exports": 3, "which": 9})
    assert normalise("Citation check: which study is it from?", words) == "which study is it from?"
    assert normalise("Widgets: which country exports most?", words) == "Widgets: which country exports most?"
    assert normalise("Citation check: which study?", words) == "Citation check: which study?"  # too short to stand alone


def test_stacking_up_against_is_comparing_with():
    assert normalise("how does that stack up against 2011") == "how does that compare with 2011"
    assert normalise("How do Acme's exports measure up to Elbonia's?") == "How do Acme's exports compare with Elbonia's?"
    assert normalise("How is Acme stacking up against Elbonia?") == "How is Acme comparing with Elbonia?"
    assert normalise("how Acme stacks up internationally") == "how Acme stacks up internationally"  # an overview
    assert normalise("Where do the widgets stack?") == "Where do the widgets stack?"


def test_the_whole_of_a_country_is_the_country():
    assert normalise("how many firms were there in the whole UK") == "how many firms were there in the UK"
    assert normalise("what about Germany as a whole") == "what about Germany"
    assert normalise("how does that compare with the whole economy") == "how does that compare with the whole economy"
    assert normalise("is Acme as a whole bigger") == "is Acme as a whole bigger"  # a group against its parts

