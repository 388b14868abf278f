"""Pick the sentence that answers a question and judge whether it really supports an answer."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.arithmetic import pointed_at, quantities
from assistant.domain import UNIT_STEMS, active
from assistant.figures import ALIASES, COMPARING, COUNTRY_SET, change_stems, measures_met
from assistant.query import AREA_PATTERNS, ASKS_REASON, FILLERS, GENERIC_COUNTS, STATES_CAUSE, Query, aspect_words
from assistant.ranker import sentence_score
from assistant.retrieve import idf
from assistant.text import (
    LOCATOR_REFERENCE,
    NUMBER,
    STOPWORDS,
    YEAR,
    bullet_items,
    expand,
    numbers_in,
    split_sentences,
    stem,
    stems,
)
from ingest.markup import strip_superscripts
from ingest.records import Chunk, Hit

_REFERS_BACK = re.compile(r"^(This|These|That|Those|It|Its|They|Their|The|Such|He|She|Here)\b")
_DEFINITE = re.compile(r"\bthe (network|cluster|organisation|institute|association|company|firm|centre|programme|"
                       r"project|initiative|group|sector|region|strategy|report|fund)\b", re.I)
# "… of employment in this subsector is …": the subsector is named in the sentence before.
DEMONSTRATIVE = re.compile(r"\b(?:this|these) (?:sub-?sectors?|sectors?|industr(?:y|ies)|firms?|companies|market|"
                            r"region|area|group|cluster|programme|initiative|organisation|network|figure|estimate|businesses|business|"
                            r"enterprises|jobs|workers|organisations|institutes?)\b", re.I)
_SECTION_SUBJECT = re.compile(r"^(?:[A-Z][a-z]+, )?" + _DEFINITE.pattern, re.I)
_SHARE = re.compile(r"\b(shares?|proportions?|percentages?|per\s*cent|percent|rates?)\b", re.I)
# Nouns that say a number is wanted but not of what ("what is the value of …"): the rest of the question does.
GENERIC_SUBJECTS = {"value", "number", "figure", "total", "amount", "size", "level", "share", "proportion", "percentage",
                    "rate", "rank", "ranking", "position", "estimate", "count", "cost", "price", "sum", "average",
                    # what is done with two figures, not what they measure ("the gap in output")
                    "gap", "difference", "change", "ratio", "increase", "decrease", "rise", "fall", "drop", "growth",
                    # what is wanted of a subject, not the subject ("the gist of the policies")
                    "gist", "rundown", "lowdown", "recap", "overview", "summary", "outline"}
_NAME = re.compile(r"\b([A-Z][a-zA-Z&]+(?:\s+[A-Z][a-zA-Z&]+)*)\b")
_LOCATOR_WORDS = re.compile(r"\b(?:Table|Figure|Fig|Section|Chapter|Paragraph|Para|Footnote|Annex|Page)\.?\s+(?=\d)")
_NOT_NAMES = {"What", "Which", "Who", "How", "When", "Where", "Why", "Does", "Did", "Is", "Are", "Was", "Were", "The",
              "In", "I", "I'm", "Give", "Can", "Based", "By", "At", "Do", "Of", "For", "On", "According", "Tell", "Please",
              "Show", "List", "Me", "A", "An", "If", "And", "Or", "To", "It", "This", "That", "From", "Has", "Have"}


@dataclass
class Evidence:
    """A sentence in a passage, with how well it supports an answer to the question (0–1)."""

    hit: Hit
    sentence: str
    support: float
    score: float
    following: str = ""
    previous: str = ""  # the sentence this one refers back to ("This is 60% higher …")
    features: dict[str, float] | None = None  # what the ranker scored it by (ranker.SENTENCE_FEATURES)


# Country codes are places: the area rules check them (query.AREA_PATTERNS), also inside a run of names.
_SHARED_TERMS = {"uk", "gb", "us", "uk's", "us's"}


def names_in(question: str) -> list[str]:
    """Proper names and acronyms the question depends on ('Sweden', 'WHO', 'Nestlé')."""
    domain = active()
    return list(_names_in(question, domain.acronyms, domain.names))  # asked for each sentence of each passage: remembered


@lru_cache(maxsize=2048)
def _names_in(question: str, acronyms: frozenset[str], capitalised: frozenset[str]) -> tuple[str, ...]:
    out = []
    for match in _NAME.finditer(_LOCATOR_WORDS.sub(" ", question)):  # "Figure 2-2" is a place in the documents, no name
        # Areas and shared terms are handled by their own rules, also inside a run ("UK A&D productivity").
        words = [w for w in match.group(1).split() if w not in _NOT_NAMES and w.lower() not in _SHARED_TERMS]
        opens = match.start() == 0 or re.search(r"[.?!:;]\s+$", question[:match.start()])
        first = words[0] if words else ""
        if (opens and first == match.group(1).split()[0] and not first.isupper() and stem(first.lower()) not in capitalised
                and _place_key(first) not in _FORM_TO_PLACE):
            # capitalised because it starts a sentence ("Summarise …", ". Whose …"), unless the documents write
            # it as a name ("Peru's exports?")
            words = words[1:]
        if not words:
            continue
        name = " ".join(words)
        out.append(name)
    # Typed in lower case ("whats canadas value added"): a country, or a word the documents write as an acronym.
    named = {w.lower() for name in out for w in name.split()}
    for word in re.findall(r"\b[a-z][a-z&'’-]+\b", question):
        key = _place_key(word)
        if key in named or key in _SHARED_TERMS or word in _SHARED_TERMS or word.capitalize() in _NOT_NAMES:
            continue
        if key in _FORM_TO_PLACE or key in acronyms:
            out.append(key)
            named.add(key)
    return tuple(out)


MEMO_SIZE = 20_000  # remembered name checks per vocabulary (a name, a passage's text, a flag: a few MB)


def name_present(name: str, text: str) -> bool:
    """Every word of the name starts a word of the text ('Ruritanian' finds 'Ruritania'; a short name never the middle of a word)."""
    memo = active().memo
    key = ("name_present", name, text)
    found = memo.get(key)
    if found is None:
        if len(memo) > MEMO_SIZE:
            memo.clear()
        found = memo[key] = _name_present(name, text)
    return found


def _name_present(name: str, text: str) -> bool:
    low = text.lower()
    if " " in name and _FORM_TO_PLACE.get(_place_key(name)):  # "United States" is found by "US"
        return any(_starts_a_word(form, low) for form in same_place(name))
    if " " in name and _COMPASS & set(name.lower().split()):  # "North Elbonia" is not "North Acmeton … Elbonia"
        return bool(re.search(r"(?<![a-z])" + r"\s+".join(re.escape(w) for w in name.lower().split()), low))
    for word in name.split():
        forms = same_place(word) | active().spellings.get(word.lower(), frozenset())  # and the documents' other spelling
        if not any(_starts_a_word(form, low) for form in forms) and not _spelled_out_in(word, low) \
                and not _initials_in(word, text):
            return False
    return True


# Compass words name a region only together with the word beside them (general English geography).
_COMPASS = {"north", "south", "east", "west", "northern", "southern", "eastern", "western", "central"}
_ACRONYM = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z]{2,6}$")
_SKIPPED = r"\s+(?:(?:of|for|and|the|on|in|de|&)\s+)?"  # "Office of Widgets": OW as well as OoW


def _initials_in(word: str, text: str) -> bool:
    """True when an acronym the documents may never write ('IfW', 'RWA') is spelled out in the text by words with
    its initials ('Institute for Widgets'): capitals by capitalised words, small letters by small words."""
    if not _ACRONYM.match(word):
        return False
    parts = [rf"{c}[\w'’-]*" if c.isupper() else rf"{c}[a-z]*" for c in word]
    pattern = parts[0] + "".join((_SKIPPED if c.isupper() else r"\s+") + part for c, part in zip(word[1:], parts[1:], strict=True))
    return bool(re.search(rf"(?<![\w'’-]){pattern}(?![\w'’-])", text))


def _starts_a_word(form: str, low: str) -> bool:
    # A short form is a whole word, or its plural ('ABCs' for 'ABC'; 'US' is never found in 'use').
    return bool(re.search(rf"(?<![a-z0-9]){re.escape(_prefix(form))}" + (r"s?(?![a-z])" if len(form) <= 3 else ""), low))


def _spelled_out_in(word: str, text: str) -> bool:
    """True when the text gives what an acronym of the documents stands for instead of the acronym."""
    spelled = active().spelled_out(word)
    return bool(spelled) and spelled <= set(stems(text))


def _prefix(word: str) -> str:
    return word.lower()[: max(4, len(word) - 3)] if len(word) > 5 else word.lower()


# Country names, demonyms and everyday names (general knowledge, not one report's): "British" is found by
# "UK" or "Great Britain", "Ruritanian" by "Ruritania". Short codes keep their word boundary.
_PLACE_FORMS = {country: {country, *forms} for country, forms in ALIASES.items()}
_PLACE_FORMS["uk"] |= {"britain", "british", "great britain", "gb"}
_FORM_TO_PLACE = {form: country for country, forms in _PLACE_FORMS.items() for form in forms}


def _place_key(word: str) -> str:
    low = word.lower()
    return low[:-2] if low.endswith(("'s", "’s")) else low.rstrip("'’")  # "Ruritania's", "the United States'"


def same_place(word: str) -> set[str]:
    """The word and, for a country or its demonym, every other name of that country."""
    country = _FORM_TO_PLACE.get(_place_key(word))
    return _PLACE_FORMS[country] | {word} if country else {word}


_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]*(?:\s+[A-Z][A-Za-z]*)*")


def country_of(name: str) -> str | None:
    """The country a name or demonym stands for ('Polish' -> 'poland'), if it is one."""
    key = _place_key(name)
    return _FORM_TO_PLACE.get(key) or (key if key in COUNTRY_SET else None)


def countries_in(sentence: str) -> list[tuple[int, str]]:
    """Where each country is named in a sentence, by any of its names ('Peru', 'the US', 'British')."""
    found = []
    for match in _CAPITALISED.finditer(sentence):
        whole = country_of(match.group(0))
        if whole:
            found.append((match.start(), whole))
            continue
        at = match.start()
        for word in match.group(0).split():
            country = country_of(word)
            if country:
                found.append((at, country))
            at += len(word) + 1
    return found


def figure_owners(sentence: str) -> list[str | None]:
    """For each number of a sentence (years aside), the country it is stated of: the nearest named before it,
    else the nearest after it, else None. In 'Peru had 12%, and has overtaken Chile' the 12% is Peru's."""
    places = countries_in(sentence)
    owners = []
    for number in NUMBER.finditer(sentence):
        if not any(ch.isdigit() for ch in number.group(0)) or YEAR.fullmatch(number.group(0).strip(" ,.")):
            continue
        before = [c for at, c in places if at < number.start()]
        after = [c for at, c in places if at > number.start()]
        owners.append(before[-1] if before else (after[0] if after else None))
    return owners


def stated_of_others(text: str, asked: set[str]) -> bool:
    """True when every sentence naming an asked country gives only other countries' figures ('Peru had 12%
    … and has overtaken Chile' for Chile's share), or a text never naming it states other countries' figures.
    A sentence naming it with no figure says something of it."""
    sentences = split_sentences(strip_superscripts(text))
    mentions = [s for s in sentences if asked & {c for _, c in countries_in(s)}]
    for sentence in mentions:
        owners = set(figure_owners(sentence))
        if not owners or asked & owners or owners == {None}:
            return False
    if not mentions:  # never named: only figures of other countries ('the UK … $42 billion' for Japan's)
        owners = {o for s in sentences for o in figure_owners(s)}
        return bool(owners - {None})
    return True


def context_text(chunk: Chunk) -> str:
    return f"{chunk.doc_title} {chunk.section} {chunk.heading} {chunk.continues} {chunk.text}"


def support(query: Query, sentence: str, chunk: Chunk, frequency: dict[str, int], total: int, previous: str = "") -> float:
    """IDF-weighted share of the question's terms in the sentence (less weight: the sentence before it, its passage)."""
    in_sentence = set(stems(sentence))
    in_previous = set(stems(previous))
    in_context = set(stems(context_text(chunk)))
    weights = {}
    known = [idf(t, frequency, total) for t in query.stems if frequency.get(t)]
    typical = sorted(known)[len(known) // 2] if known else 1.0
    for term in query.stems:
        # A word the documents never use counts like a typical word: it may be the user's phrasing.
        weights[term] = idf(term, frequency, total) if frequency.get(term) else typical
    if not weights:
        return 0.0
    score = 0.0
    acronym_in_sentence = active().covered_by_acronyms(query.stems, in_sentence)
    for term, weight in weights.items():
        variants = query.variants(term)
        if variants & in_sentence or term in acronym_in_sentence:
            score += weight
        elif variants & in_previous:
            score += 0.8 * weight
        elif variants & in_context:
            score += 0.6 * weight
    return score / sum(weights.values())


def blocked(query: Query, chunk: Chunk, sentence: str) -> str | None:
    """A reason this passage cannot answer the question, or None."""
    context = context_text(chunk)
    for year in query.years:
        if str(year) not in context:
            return f"nothing for {year}"
    names = names_in(query.text) if chunk.kind != "footnote" else []  # a footnote's topic is its paragraph's
    if query.kind == "compare" and any(name_present(name, context) for name in names):
        return None  # a passage about one side of a comparison
    for name in names:
        if not name_present(name, context):
            return f"nothing about {name}"
    return None


_NUMBER_WORDS = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|"
                           r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|half|double|twice|"
                           r"quarter|third of|majority)\b", re.I)


_WANTS_PLACE = re.compile(r"^(?:where\b|(?:in )?which (?:region|regions|area|areas|nation|nations|part|parts|district|"
                          r"districts|place|places|city|cities|locations?)\b)", re.I)


def names_a_place(sentence: str, question: str) -> bool:
    """True when a sentence names a proper noun the question does not (a region, a town), UK/GB/US aside."""
    asked = question.lower()
    for match in _NAME.finditer(strip_superscripts(sentence)):
        if match.start() == 0:
            continue  # capitalised only because it starts the sentence
        name = match.group(1)
        if name.lower() not in asked and name not in _NOT_NAMES and not re.fullmatch(r"[A-Z]{2,5}s?", name):
            return True
    return False


# "see Section 5", "Table 2-2", "paragraph 3.4": numbers that point somewhere, not figures.
_ASKS_SHARE = re.compile(r"\bwhat (?:share|proportion|percentage|fraction)\b|\bwhat %", re.I)
_STATES_SHARE = re.compile(r"%|\bper ?cent\b|\b(?:half|third|quarter|fifth|tenth|majority|minority|share|proportion)\b", re.I)
# Stricter twins for a whole answer (chooser.meets_constraints): "what is X's share of …" asks a share too, and
# only a percentage or a fraction states one (an answer merely using the word 'share' does not).
ASKS_SHARE_OF = re.compile(r"\b(?:what|which)\b(?:\s+\S+){0,4}?\s+(?:share|proportion|percentage|fraction)\s+of\b", re.I)
STATES_A_SHARE = re.compile(r"%|\bper ?cent\b|\b(?:half|third|thirds|quarter|quarters|fifth|tenth)\b", re.I)
# "10% higher than in 2015" is a change, not a share of anything.
_AS_CHANGE = re.compile(r"\s*(?:[\w-]+\s+)?(?:higher|lower|more|less|up|down|increase|decrease|rise|fall|growth|above|"
                        r"below|greater|smaller|larger|bigger)\b", re.I)


def states_a_share(text: str) -> bool:
    """Whether a text gives a share (a percentage or fraction of something), not only a change in per cent."""
    return any(not _AS_CHANGE.match(text, found.end()) for found in STATES_A_SHARE.finditer(text))


_SHARE_ASKED_OF = re.compile(r"\b(?:shares?|proportions?|percentages?|fractions?|per ?cent)\s+of\s+((?:[\w&'’-]+\s*){1,6})", re.I)
_SHARE_STATED_OF = re.compile(r"(?:%|\bper ?cent\b|\b(?:half|third|thirds|quarter|quarters|fifth|tenth)\b)\s+of\s+"
                              r"((?:[\w&'’-]+\s*){1,6})", re.I)


def share_fit(question: str, sentence: str) -> float:
    """1 when a sentence gives a share of what the question asks a share of ("9% of all manufacturing
    enterprises" for "what share of manufacturing enterprises …"), 0.5 for a share of something else, else 0."""
    if not states_a_share(sentence):
        return 0.0
    asked = {s for found in _SHARE_ASKED_OF.finditer(question) for s in _object_stems(found.group(1))}
    stated = {s for found in _SHARE_STATED_OF.finditer(sentence) for s in _object_stems(found.group(1))}
    return 1.0 if not asked or asked & stated else 0.5  # (a share of nothing named: any share fits)


def _object_stems(words: str) -> set[str]:
    """The stems of a noun phrase that opens `words` ("all manufacturing enterprises are …": its words up to the
    first word that is no content word, after determiners)."""
    out: set[str] = set()
    for word in words.split():
        key = stem(word.lower())
        if word.lower() in STOPWORDS:
            if out:
                break
            continue
        out.add(key)
    return out
# Measures that come in opposite pairs: a sentence about one never answers a question about the other.
OPPOSITES = [("import", "export"), ("surplus", "deficit"), ("inflow", "outflow"), ("male", "femal"),
             ("public", "privat"), ("full-tim", "part-tim")]


def opposite_measure(query: Query, window: str) -> bool:
    """True when the question asks about one side of a pair and the text speaks only of the other."""
    asked, said = query.stems, set(stems(window))
    for a, b in OPPOSITES:
        for want, other in ((a, b), (b, a)):
            if want in asked and other not in asked and other in said and want not in said:
                return True
    return False


# Words that state a count; "half", "a quarter" or "the majority" are shares, not counts.
_COUNT_WORDS = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                          r"hundreds?|thousands?|dozens?)\b", re.I)


@lru_cache(maxsize=16384)  # the same sentences are read for every answerer's pass and question after question
def has_figure(sentence: str) -> bool:
    """True when a sentence states a number (digits or words like 'fifth') other than a year or a footnote."""
    plain = LOCATOR_REFERENCE.sub(" ", strip_superscripts(sentence))
    return any(not YEAR.fullmatch(n.strip(" ,.;:")) for n in numbers_in(plain)) or bool(_NUMBER_WORDS.search(plain))


# General English: asking what something is ("what kind of body is X", "tell me about X"), and a sentence
# saying what it is ("X is an independent …").
_ASKS_WHAT_IS = r"^\W*(?:(?:what|who)(?:\s+(?:kind|type|sort)\s+of\s+\w+)?\s+(?:is|was|are)|tell me about|describe)\s+(?:the\s+)?"


def defines(query: Query, names: list[str], sentence: str) -> bool:
    """True when the question asks what a named thing is and the sentence says it ('X is a not-for-profit …')."""
    return any(re.match(_ASKS_WHAT_IS + re.escape(name) + r"\b", query.text, re.I)
               and re.match(rf"\W*(?:the\s+)?{re.escape(name)}\s+(?:is|was|are|were)\s+(?:a|an|the|one)\b", sentence, re.I)
               for name in names)


def counted_of(query: Query) -> str | None:
    """The stem of what a 'how many' question counts, when it says ('people' alone says nothing)."""
    if query.counted == "people" and _WORKING.search(query.text):
        return "employ"  # "how many people work at X" counts staff, not visitors or members
    return stem(query.counted) if query.counted and query.counted not in GENERIC_COUNTS else None


def counts_beside(sentence: str, counted: str) -> bool:
    """True when the sentence states a count of the thing counted ('11,500 enterprises', 'three sub-sectors' for
    'how many firms / sub-sectors'), not only other figures near it (the ends of a range, years, percentages)."""
    wanted = expand({counted})  # synonyms either way: 'jobs' count employment, 'employment' is counted in jobs
    if any(not q.year and not q.percent and pointed_at(frozenset(expand(set(q.context))), wanted)
           for q in quantities(sentence)):
        return True
    return any(pointed_at(frozenset(expand(set(stems(m.group(2))))), wanted)
               for m in re.finditer(_COUNT_WORDS.pattern + r"((?:\s+[\w'’-]+){1,3})", sentence, re.I))


def counts_something(sentence: str) -> bool:
    """True when a sentence states a count, not only percentages or years ('how many' needs a count)."""
    plain = LOCATOR_REFERENCE.sub(" ", strip_superscripts(sentence))
    return any(not YEAR.fullmatch(n.strip(" ,.;:")) and "%" not in n and "per cent" not in n
               for n in numbers_in(plain)) or bool(_COUNT_WORDS.search(plain))


# Words that ask to compare ("bigger", "faster"): how to answer, not what about. The table lookup's list
# plus the inflected forms a stemmed question carries.
_COMPARING = COMPARING | {stem(w) for w in "greater times compared comparison difference changed grew grow grown "
                                           "shrink widen".split()}


def topic_stems(query: Query) -> set[str]:
    """What a figure question is about once places, years and generic words are set aside."""
    aside = {stem(w) for w in GENERIC_COUNTS | GENERIC_SUBJECTS | FILLERS} | _COMPARING
    aside |= {a.lower() for a in query.areas} | {"britain", "kingdom", "unit", "state"} | _LIGHT_VERBS
    return {s for s in query.stems if not s.isdigit() and s not in aside}


# Everyday verbs that carry little of what a question is about ("how many people work in making furniture"):
# rare in a report's prose, so they must not be taken for its topic (general English).
_LIGHT_VERBS = {stem(w) for w in "make makes made making do does did doing get gets got getting take takes took taking "
                "give gives gave go goes went come comes came put puts keep keeps kept work works worked working "
                "set add adds added adding count counts counted counting include includes included including "
                # ... and words of the request itself ("I need the figure, with the period it covers")
                "need needs needed want wants wanted cover covers covered period periods".split()}


_WORKING = re.compile(r"\b(work|works|worked|working|employ|employs|employed|staff|on the payroll)\b", re.I)
_CITATION = re.compile(r"https?://|\b(?:19|20)\d{2}\)|\((?:19|20)\d{2}\)|^ibid", re.I)


def is_citation(text: str) -> bool:
    """True for a footnote that names a source ('ONS (2023) Business counts …', a URL), not one that explains."""
    return bool(_CITATION.search(text[:120]))


def _since_covers(query: Query, window: str) -> bool:
    """'Between 2015 and 2023' is what 'since 2015' means in a report whose latest data is 2023."""
    if len(query.years) != 2:
        return False
    first, last = sorted(query.years)
    return bool(re.search(rf"\bsince {first}\b", window)) and str(last) not in window and last >= 2020


def rarest(terms: set[str], frequency: dict[str, int], keep: int = 2) -> set[str]:
    """The few terms the documents use least (words they never use are left out: they may be phrasing).

    'global', the sector's name and 'UK' are everywhere; 'imports' is what the question is really about."""
    known = sorted((frequency[t], t) for t in terms if frequency.get(t))
    return {t for _, t in known[:keep]}


def _near_miss(query: Query, sentence: str, window: str, missing: list[str], counted_stem: str | None,
               asked: list[str], other: list[str], topic: set[str] = frozenset(), before: str = "",
               period: str = "") -> bool:
    """True when a sentence states a figure about something other than what was asked: never an answer.

    `before` is the sentence before it in its passage: a paragraph keeps to its topic, so the topic the
    question asks about may be named there ('X captures … . Employment is concentrated in Y (900 jobs)').
    `period` is the sentence naming the years of a passage about 'the same period' (for one that states none)."""
    dated = f"{period} {window}" if period else window
    if query.wants_number and any(str(y) not in dated for y in query.years) and not _since_covers(query, dated):
        return True  # the figure must be stated for the year asked about
    # A comparison is answered by one sentence per side: each must name at least one of the sides.
    names_here = len(names_in(query.text)) - len(missing) + len(asked)
    if query.kind == "compare" and names_here:
        missing = []
    if missing and (query.wants_number or query.kind in {"figure", "compare"}):
        return True  # a number about another body or place
    if counted_stem and not expand({counted_stem}) & expand(set(stems(window))):  # synonyms either way
        return True  # "how many robots": a count of something else
    if _ASKS_SHARE.search(query.text) and not _STATES_SHARE.search(sentence) and not change_stems(query.text):
        return True  # "what percentage …": a sum of money is not a share (a change in per cent is worked out from two)
    if (query.wants_number or query.kind == "compare") and opposite_measure(query, window):
        return True  # a share of exports is no answer about imports
    said = set(stems(window))
    said |= active().covered_by_acronyms(query.stems, said)  # 'ABC' written says 'Acme Bolt Count' asked
    if (query.wants_number or query.kind == "compare") and topic and not expand(topic) & (said | set(stems(before))):
        return True  # "how many people are employed in robotics …": a sentence about none of it
    if query.wants_number and query.subject and query.subject not in GENERIC_SUBJECTS \
            and not expand({stem(query.subject)}) & said:
        return True  # "what was the productivity …": a figure of something else (a trade deficit) is no answer
    if query.counted and not counts_something(sentence):
        return True  # "how many jobs": a percentage is not a count
    if query.kind == "compare" and names_here:
        return False  # the sentence is about the other side of the comparison
    return bool(query.wants_number and query.areas and other and not asked)  # a GB figure is not a UK one


def _opens_on_a_name(sentence: str) -> bool:
    """Whether a sentence's first word is one the documents write with a capital mid-sentence (a name)."""
    first = re.match(r"[A-Za-z][\w'’-]*", sentence)
    return bool(first) and first.group(0)[0].isupper() and stem(first.group(0).lower()) in active().names


def _names_section_subject(sentence: str, chunk: Chunk) -> bool:
    """Whether a sentence is about one of the names its section's own title (below the chapter) gives: names it,
    and not as where its figure is ("480 people in Acmeton" is a count for that town, not for its country)."""
    titles = chunk.section.split(" > ")[1:]
    names = {stem(w.lower()) for title in titles for w in re.findall(r"\b[A-Z][\w'’-]*", title)} & active().names
    return any(stem(found.group(1).lower()) in names
               for found in re.finditer(r"(?<!\bin )(?<!\bat )(?<!\bacross )(?<!\bwithin )\b([A-Z][\w'’-]*)", sentence))


def _list_leads(text: str, sentences: list[str]) -> list[str | None]:
    """For each sentence, the sentence ending in a colon that introduces it when it sits in a bulleted item."""
    items = bullet_items(text)
    if not items:
        return [None] * len(sentences)
    leads: list[str | None] = []
    lead = None
    for sentence in sentences:
        if any(sentence in item for item in items):
            leads.append(lead)
        else:
            lead = sentence if sentence.rstrip().endswith(":") else None
            leads.append(None)
    return leads


def best_sentences(query: Query, hits: list[Hit], frequency: dict[str, int], total: int, limit: int = 6) -> list[Evidence]:
    """Sentences of the top passages ranked by support and retrieval rank; blocked passages skipped."""
    found: list[Evidence] = []
    names = names_in(query.text)
    counted_stem = counted_of(query)
    asked = topic_stems(query)
    # Of the question's words, those its best passages use say what it is about; the rest may be phrasing.
    seen = set().union(*(stems(context_text(h.chunk)) for h in hits[:limit])) if hits else set()
    topic = rarest({t for t in asked if expand({t}) & seen} or asked, frequency)
    scores = sorted({h.score for h in hits[:limit]}, reverse=True)
    for hit in hits[:limit]:
        rank = scores.index(hit.score)  # a footnote ranks with the passage that cites it
        chunk = hit.chunk
        if chunk.kind == "table":
            continue  # tables answer through their structured records, never as a quoted block
        if chunk.kind == "footnote" and query.kind != "source" and is_citation(chunk.text):
            continue  # a source's title ("ONS (2023) Business counts") answers where a claim comes from, nothing else
        sentences = split_sentences(chunk.text)
        leads = _list_leads(chunk.text, sentences)
        for i, sentence in enumerate(sentences):
            if blocked(query, chunk, sentence):
                continue
            # A sentence that refers back ("The fair … attracts 1,200", "This accounts for 2.6%") speaks
            # about what the sentence before it names; the section path names a case study's subject.
            # ("Lyon is home to X, one of the company's largest sites": a sentence opening on a name is about it.)
            refers_back = bool(i > 0 and (_REFERS_BACK.match(sentence) or (
                (_DEFINITE.search(sentence) or DEMONSTRATIVE.search(sentence)) and not _opens_on_a_name(sentence))))
            # A sentence that refers back may name its subject in the sentence before or in the paragraph's first.
            # A figure's may be further back: its list item's first sentence ("Acme makes widgets. … It employs
            # 200 people."), or the sentence before one that refers back too ("The project … It involves 85").
            item = next((split_sentences(it)[0] for it in bullet_items(chunk.text) if sentence in it and it.strip()),
                        None) if query.wants_number else None
            earlier = sentences[i - 2] if query.wants_number and i > 1 and _REFERS_BACK.match(sentences[i - 1]) else ""
            window = f"{item or sentences[0]} {earlier} {sentences[i - 1]} {sentence}" if refers_back else sentence
            if i == 0 and chunk.continues:  # "Over the same period, …": the period is the paragraph before's
                window = f"{chunk.continues} {window}"
            # A passage opening on that period keeps to it until a sentence states a year ("Over the same period, X
            # grew. In contrast, Y was stable at £1 billion a year"): the later sentence is of the same years.
            period = chunk.continues if i and chunk.continues and _SAME_PERIOD.search(sentences[0]) \
                and not any(YEAR.search(s) for s in sentences[:i + 1]) else ""
            lead = leads[i]
            if lead:  # an item of a list goes on from the sentence that introduces it ("… followed five stages:")
                window = f"{lead} {window}"
            # Numbers must name their subject in the sentence itself (a case study's heading is not
            # enough: "employs 311,000 people" under "Lyon, France" is a multinational worldwide).
            # A sentence whose subject is "the cluster" or "the region" speaks about the one its section is named
            # after; "one of the company's centres" further in does not (that company may be anyone).
            # So does one naming the body its section is about ("Acme will receive …" under "Acme, Ruritania").
            named_by_section = (not (query.wants_number or query.kind == "compare") or _SECTION_SUBJECT.match(sentence)
                                or _names_section_subject(sentence, chunk))
            scope = f"{window} {chunk.section} {chunk.heading}" if named_by_section else window
            # A thing's acronym ('F&B') may be left to the passage, as 'the sector' is: not a body's name.
            # (Within its own list item, where the passage is a list: a summary's bullets speak of different things.)
            unit = next((item for item in bullet_items(chunk.text) if sentence in item), chunk.text)
            missing = [n for n in names if not name_present(n, scope)
                       and not (query.wants_number and n.lower() in active().terms and name_present(n, unit))]
            asked, other = area_mentions(query, window)
            before = sentences[i - 1] if i and query.kind != "compare" else ""
            if _near_miss(query, sentence, window, missing, counted_stem, asked, other, topic, before, period):
                continue
            if query.kind != "compare" and not measures_met(query, f"{window} {chunk.heading}"):
                continue  # a figure of another measure (turnover for exports) is never the answer
            value = support(query, sentence, chunk, frequency, total, window if refers_back else "")
            figure = has_figure(sentence)
            features = {
                "support": value, "retrieval_rank": 1.0 / (1 + rank), "retrieval_score": hit.score,
                "dense": hit.dense, "missing_names": float(len(missing)), "areas_met": float(len(asked)),
                "figure_fit": float(query.wants_number and figure), "figure_missing": float(query.wants_number and not figure),
                "share_fit": share_fit(query.text, sentence) if _SHARE.search(query.text) else 0.0,
                "place_fit": float(bool(_WANTS_PLACE.search(query.text)) and names_a_place(sentence, query.text)),
                "first_in_passage": float(i == 0), "refers_back": float(refers_back),
                "numbers": min(len(numbers_in(sentence)), 4) / 4, "log_length": math.log1p(len(sentence)) / 6,
                "footnote": float(chunk.kind == "footnote"), "compare": float(query.kind == "compare"),
                "cause_fit": float(bool(ASKS_REASON.match(query.text)) and bool(STATES_CAUSE.search(sentence))),
                "count_fit": float(bool(counted_stem) and counts_beside(sentence, counted_stem)),
                "defines": float(defines(query, names, sentence)),
            }
            value += 0.1 * len(asked)
            score = sentence_score(features)
            following = sentences[i + 1] if i + 1 < len(sentences) else ""
            found.append(Evidence(hit=hit, sentence=sentence, support=value, score=score, following=following, features=features,
                                  previous=sentences[i - 1] if i > 0 and (_REFERS_BACK.match(sentence)
                                                                           or DEMONSTRATIVE.search(sentence)) else ""))
    found.sort(key=lambda e: -e.score)
    return found


def area_pattern(area: str) -> str | None:
    """How an area (UK, GB, US) is written in the documents, or None for other names."""
    return AREA_PATTERNS.get(area)


def area_mentions(query: Query, text: str) -> tuple[list[str], list[str]]:
    """Areas of the question the text names, and other areas it names instead."""
    named = _areas_named(text)
    return [a for a in named if a in query.areas], [a for a in named if a not in query.areas]


@lru_cache(maxsize=16384)
def _areas_named(text: str) -> tuple[str, ...]:
    return tuple(a for a, pattern in AREA_PATTERNS.items() if re.search(pattern, text))


def unknown_counted(query: Query, frequency: dict[str, int]) -> str | None:
    """The noun a 'how many X', 'what is the X' or 'average X' question asks about, when the documents never
    use X at all."""
    for noun in (query.counted, query.subject, query.measure):
        if not noun or noun in GENERIC_COUNTS or noun in STOPWORDS or noun in GENERIC_SUBJECTS or aspect_words(noun):
            continue  # (an aspect a summary asks for, 'the main lessons', is read from headings: 'Implications')
        base = stem(noun)
        if base in UNIT_STEMS:
            continue  # "how many billion dollars" asks an amount in a unit, not a count of a thing called dollars
        if not frequency.get(base) and not any(frequency.get(s) for s in expand({base}) - {base}):
            return noun
    return None


SECTION_REFERENCE = re.compile(r"\b(section|chapter|part)\s+(\d{1,2})\b", re.I)


def unknown_reference(query: Query, chunks: list[Chunk]) -> str | None:
    """A table, figure, paragraph, footnote or numbered section the question names that the documents lack."""
    have = {c.locator.lower() for c in chunks}
    for locator in query.locators:
        if locator.lower() not in have:
            return locator
    numbered = {c.section.split(".", 1)[0].strip() for c in chunks if re.match(r"\d{1,2}\.", c.section)}
    for found in SECTION_REFERENCE.finditer(query.text):
        if numbered and found.group(2) not in numbered:
            return f"{found.group(1).capitalize()} {found.group(2)}"
    attached = _ATTACHED_PART.search(query.text)
    if attached and (query.wants_number or query.kind in {"figure", "table", "compare"}):
        # "From Appendix C: the rate for …": the figures of an appendix the documents only point to are not in them.
        label = f"{attached.group(1).lower()} {attached.group(2).lower()}"
        if not any(f"{c.locator} {c.section} {c.heading}".lower().startswith(label) or f" {label}" in c.section.lower()
                   for c in chunks):
            return f"{attached.group(1).capitalize()} {attached.group(2)}"
    named = _SECTION_ON.search(query.text)
    if named:
        topic = {s for s in stems(named.group(2)) if not s.isdigit()}
        titles = set().union(*(set(stems(f"{c.section} {c.heading}")) for c in chunks))
        if topic and not expand(topic) & titles:
            return f"{named.group(1).lower()} on {named.group(2).strip()}"
    return None


# The parts a report attaches at its end, in general English ("Appendix C", "Annex 2").
_ATTACHED_PART = re.compile(r"\b(annex|appendix)\s+([A-Z]|\d{1,2})\b", re.I)
# "The section on skills": a part of the documents named by its subject, which must be a heading's.
_SECTION_ON = re.compile(r"\b(section|chapter|part)\s+(?:on|about|covering|dealing with|that covers)\s+"
                         r"(?:the\s+)?([\w&' -]{2,60}?)(?=\s*(?:[?.,;]|$|\bin the\b|\bof the\b))", re.I)


def named_section(query: Query, chunks: list[Chunk]) -> str | None:
    """The section heading a question names ('summarise the section on learning from elsewhere'), if one
    heading holds every word of it; None otherwise."""
    named = _SECTION_ON.search(query.text)
    if not named:
        return None
    topic = {s for s in stems(named.group(2)) if not s.isdigit()}
    for chunk in chunks:
        for part in chunk.section.split(" > "):
            if topic and topic <= set(stems(part)):
                return part
    return None


# "Over the same period, output grew from £9m to £12m": the years are in the sentence before.
_SAME_PERIOD = re.compile(r"\b(?:the same|this|that) (?:period|time|year|decade|timeframe)\b", re.I)


def with_period(text: str, cited: list, chunks: list[Chunk]) -> str:
    """The text with the years a sentence refers back to ('over the same period') written after it, read from
    the sentence before it in its passage or the passage before that. `cited`: the citations (document, locator).
    A passage that opens on the period ('Over the same period, X grew. In contrast, Y was stable …') is about it
    throughout: its later sentences, until one states a year, take the same years."""
    places = {(c.doc, c.locator) for c in cited}
    passages = [i for i, c in enumerate(chunks) if (c.doc_title, c.locator) in places]
    if not _SAME_PERIOD.search(text) and not any(_SAME_PERIOD.search(chunks[i].text[:120]) for i in passages):
        return text
    out = []
    for sentence in split_sentences(text):
        if (_SAME_PERIOD.search(sentence) or _in_a_period_passage(sentence, passages, chunks)) and not YEAR.search(sentence):
            years = _years_before(sentence, passages, chunks)
            if years:
                sentence = _with_years(sentence, years)
        out.append(sentence)
    return " ".join(out)


def _lookup_key(sentence: str) -> str:
    """The opening of a sentence, as found in its passage (a quoted one: 'Worked out from: “Over the same period …”')."""
    return sentence.split("“")[-1].lstrip("\"‘' ")[:60]


def _in_a_period_passage(sentence: str, passages: list[int], chunks: list[Chunk]) -> bool:
    """Whether the sentence is in a passage that opens on 'the same period' with no year stated before it."""
    key = _lookup_key(sentence)
    for index in passages:
        text = chunks[index].text
        at = text.find(key)
        if at >= 0:
            return bool(_SAME_PERIOD.search(split_sentences(text)[0])) and not YEAR.search(text[:at])
    return False


def _with_years(sentence: str, years: list[str]) -> str:
    """The sentence with '(2011 to 2021)' written in before its full stop (and any closing quote or marker)."""
    end = re.search(r"[.!?]?[”\"’]?(?:\s*\[\d+\])*\s*$", sentence).start()
    return f"{sentence[:end]} ({' to '.join(years)}){sentence[end:]}"


def dated(quote: str, chunk: Chunk) -> str:
    """A quote opening a passage that continues a period ('Over the same period, …') with that period's years
    written in ('… to £45,000 (2011 to 2021).'): shown alone, the quote would not say which years it means."""
    if not chunk.continues or not _SAME_PERIOD.search(quote) or YEAR.search(quote):
        return quote
    years = YEAR.findall(chunk.continues)
    if not years:
        return quote
    first, *rest = split_sentences(quote)
    return " ".join([_with_years(first, [years[0], years[-1]]), *rest])


def _years_before(sentence: str, passages: list[int], chunks: list[Chunk]) -> list[str]:
    key = _lookup_key(sentence)
    for index in passages:
        chunk = chunks[index]
        at = chunk.text.find(key)
        if at < 0:
            continue
        before = chunk.text[:at]
        if not YEAR.search(before) and chunk.continues:
            before = chunk.continues  # the sentence the passage continues from (set at ingest)
        elif not YEAR.search(before) and index and chunks[index - 1].doc_id == chunk.doc_id:
            before = chunks[index - 1].text
        dated = [s for s in split_sentences(before) if YEAR.search(s)]
        return YEAR.findall(dated[-1]) if dated else []
    return []
