"""Query understanding without an LLM: question type, years, locators, entities and key terms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.text import STOPWORDS, YEAR, expand, stem, stems

_PARAGRAPH_REFERENCE = r"(?:paragraph|para\.?|§)\s*(\d{1,2}\.\d{1,2})"
LOCATOR = re.compile(rf"\b(?:(table|figure|fig\.?)\s*(\d+)\s*[-–.]\s*(\d+)|{_PARAGRAPH_REFERENCE}|footnote\s*(\d+))\b", re.I)
_PARAGRAPH = re.compile(rf"\b{_PARAGRAPH_REFERENCE}\b", re.I)
ORDINALS = {"first": 1, "top": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}
# Places and bodies the report distinguishes; Britain/GB and the UK are kept apart on purpose.
AREA_ALIASES = {
    # A bare "Britain" or "British" is everyday English for either: it sets no area constraint.
    "gb": "GB", "great britain": "GB",
    "uk": "UK", "united kingdom": "UK",
    "us": "US", "usa": "US", "united states": "US", "america": "US",
}

# How each area is written in the documents (for checking what a passage is about).
AREA_PATTERNS = {"UK": r"\bUK\b|United Kingdom", "GB": r"\bGB\b|Great Britain|\bBritain\b", "US": r"\bUS\b|United States"}
# Nouns too general to say what a "how many" question counts.
GENERIC_COUNTS = {"people", "times", "years"}

_FIGURE = re.compile(r"\b(how (many|much|large|big)|what (was|is|were|are) the (value|number|share|size|rate|level|total|figure|amount)|"
                     r"what (share|proportion|percentage|rate|growth)|value added|productivity|employment|enterprises|the number of|"
                     r"\blq\b|location quotient|worth|exports?|imports?|trade balance|turnover|cagr|per cent|percent|%|rank|"
                     r"grant|funding|budget|investment|receive)", re.I)
_COMPARE = re.compile(r"\b(compare|compared|versus|vs\.?|larger|smaller|bigger|higher|lower|more than|less than|"
                      r"which (?:has|had|have|is|was|employs?|gets?) (?:more|fewer|less)|"
                      r"difference|differ|ratio|times|faster|slower|change|changed|fall|fell|drop|dropped|rise|rose|"
                      r"increase|decrease|grow faster|or the)\b", re.I)
_SUMMARY = re.compile(r"\b(key (trends|points|findings|drivers|lessons|factors|challenges|themes)|what are the|summar\w*|overview|outline|"
                      r"gist|run-?down|low-?down|recap|headlines|(?:the|key|main) highlights|highlights (?:of|on|from)|take-?aways|what (?:helped|enabled)|"
                      r"lessons|implications|explains?|what made|what has made|success factors|challenges|stages|"
                      r"factors|trends|drivers|briefing|what did .* find|"
                      # what went wrong, what made it work, what it consists of, which kinds, why it matters
                      r"obstacles|barriers|difficulties|hurdles|problems|issues|risks|criteria|"
                      r"why (?:has|have|is|are|was|were|did) .{1,80}\b(?:success\w*|succeed\w*|thriv\w*|work(?:ed|s)? well)|"
                      r"makes? up|made up of|consists? of|compris\w*|(?:what|which) (?:kinds|types|sorts|forms) of|"
                      r"how (?:is|are|was|were) .{1,80}\brelevant|relevance|^what are (?!the\b)\S+ \S+|"
                      r"(?:compare|differ|vary|varies) across|(?:main|key|biggest|major|principal) (?:challenge|issue|problem|"
                      r"risk|barrier|lesson|finding|driver|trend|factor|strength|weakness)|"
                      # what it has achieved, and what each of several things does
                      r"what (?:have|has) .{1,80}\b(?:achieved|delivered|accomplished)|what does each|what each \w+ does)\b", re.I)
# "How has X changed across the regions / over time?", "How is X spread across the regions?": a pattern over
# many values, not one comparison ("… changed since 2015" alone may be one figure's change: the compare rule's).
_TREND = re.compile(r"^(?=.*\bhow\b)(?=.*\b(?:chang|evolv|develop|shift|spread|distribut|var(?:y|ies|ied))\w*\b)"
                    r"(?=.*\b(?:across|over time|over the (?:years|decades)|in each|by region)\b)", re.I)
_NUMBERED_ORDINAL = re.compile(r"\b(\d{1,4})(?:st|nd|rd|th)\b", re.I)
_SOURCE = re.compile(r"\b(source|sources|cited|citation|reference for|references for|backs|backed|back(?:s|ed)? up|rel(y|ies|ied) on|evidence for|where can .* (found|find)|"
                     r"which (?:\w+ )?(report|evaluation|review|study|dataset|survey|analysis|publication)|"
                     r"(figures?|data|numbers?|statistics|estimates?|values?) (come|comes|came) from|"
                     r"where (?:does|do|did) the (?:[\w&'’%.,$£€-]+ ){0,3}(?:claim|statement|definition|figure|estimate|finding|"
                     r"data|number|statistic|ranking|assertion)s?\b.{0,160}\b(?:come|comes|came) from|"
                     # "where's the stat on … from", "where is that figure from"
                     r"where (?:is|are|was|were) (?:the|that|this) (?:[\w&'’%.,$£€-]+ ){0,6}?(?:claim|statement|figure|estimate|"
                     r"finding|data|number|stat|statistic|ranking|table|chart|graph|map|definition|quote|list)s?\b.{0,160}\bfrom\b|"
                     # "where does the report get the ranking of …": where the documents took it from
                     r"where (?:does|did|do) (?:the (?:report|study|document|paper|author)s?|they|it) (?:get|take|obtain)s?\b|"
                     # "who says so?", "according to whom?": whoever made the claim is its source
                     r"who (?:says|said|claims?|claimed|states?|stated) (?:so|that|this|it)\b|according to whom|says who|"
                     # "who said proximity isn't needed …", "who argues that …": whoever made the claim
                     r"^who (?:says|said|claims?|claimed|states?|stated|argues?|argued|suggests?|suggested|concluded)\b|"
                     r"^whose (?:data|figures?|numbers?|statistics|estimates?|research|analysis)\b|"
                     # "who's behind those numbers?": whoever made the figures
                     r"^who (?:is|are|was|were) behind (?:the|those|these|that|this) (?:[\w&'’-]+ )?"
                     r"(?:data|figures?|numbers?|statistics|stats|estimates?|research|analysis)\b|"
                     # "who reported the forecast …": whoever reported or published a statement is its source
                     r"^who (?:reported|published|produced|compiled|authored|wrote|estimated|calculated|evaluated|assessed)\b|"
                     r"^who (?:did|carried out|conducted|ran) (?:the|that|this) (?:evaluation|review|study|analysis|survey)\b|"
                     # "which ministry put out the plan", "publisher and year for the reference list"
                     r"^(?:who|which [\w ]{1,40}?) (?:put|puts) out\b|^which [\w ]{1,40}? (?:published|issued|released)\b|"
                     r"\bpublisher\b|"
                     # "what data does the chart … draw on", "which dataset is the table based on"
                     r"(?:chart|figure|table|graph|map|estimate|ranking|analysis)\b.{0,120}\b(?:draws?|drew|drawn|rel(?:y|ies)) on|"
                     r"(?:data|dataset|publication|study|survey)\b.{0,120}\bbased on)\b", re.I)
_DEFINE = re.compile(r"(?:\bwhat (?:does|do|did) [\w&.\- ]{1,40}? mean by (?P<j>['‘\"]?[\w&\- ]{1,40}?['’\"]?)\s*\??$|"
                     r"\bwhat (?:does|do) (?:the (?:term|acronym|abbreviation) )?(?P<a>[\w&.\- ]{1,40}?) (?:stand for|mean|measure)\b|"
                     r"^what (?:is|are) (?:an? |the )?(?P<b>[A-Z][\w&]{1,9})\s*\??$|"
                     r"^what (?:is|are) (?:an? |the )?(?P<i>[A-Z][\w&]{1,9}) (?=(?:when (?:the|a|an|people|you|we|they)|exactly|"
                     r"again|anyway|as (?:used|mentioned|given))\b)|^define (?P<c>[\w&\- ]{1,40})|"
                     # "what does the report mean by X", "how does the report define X", "how is X defined",
                     # "what is meant by X", "the definition of X"
                     r"\bhow (?:does|do) (?:the |this )?(?:report|document|study|paper|it|they) define "
                     r"(?P<d>['‘\"]?[\w&\- ]{1,40}?['’\"]?)\s*\??$|"
                     r"^how (?:is|are) (?P<e>['‘\"]?[\w&\- ]{1,40}?['’\"]?) defined\b|"
                     r"\bwhat is meant by (?P<f>['‘\"]?[\w&\- ]{1,40}?['’\"]?)\s*\??$|"
                     r"\b(?:what is|what's) the (?:definition|meaning) of (?P<g>['‘\"]?[\w&\- ]{1,40}?['’\"]?)\s*\??$|"
                     r"^in (?:plain|simple) (?:english|terms|words),? what (?:is|are) (?:an? |the )?"
                     r"(?P<h>['‘\"]?[\w&\- ]{1,40}?['’\"]?)\s*\??$)", re.I)
# Where a question's own clause opens: at the start, or after a lead-in ("For a briefing table, which …").
CLAUSE_OPENS = r"(?:^|[,:;.]\s)\W*"
# A chat question typed as a short bare noun phrase ("japans share of global exports 2022"), no word of asking in
# it, asks for its measure's value.
_ASKING = re.compile(r"\b(?:what|which|who|whom|whose|how|why|when|where|tell|give|list|show|summari[sz]e|explain|"
                     r"describe|outline|compare|compared|comparison|versus|vs|define|overview|briefing|source)\b", re.I)
_MEASURE_NOUN = re.compile(r"\b(?:share|value|number|worth|balance|productivity|rank|ranking|rate|total|size|"
                           r"level|amount|percentage|proportion|turnover|figure|employment|budget|cost|exports|imports)\b",
                           re.I)
_WANTS_NUMBER = re.compile(r"\b(how (many|much|large|big)|numbers|what (share|proportion|percentage|rate)|by how much|to one decimal|exact|"
                           r"^what (turnover|value|revenue|amount|budget|funding|growth|productivity|employment|sales|income) |"
                           r"what (was|is|were|are) .*\b(value|number|worth|balance|productivity|rank|quotient|lq|share|rate|total|"
                           r"size|level|amount|percentage|proportion|turnover|figure|employment|budget|cost)|"
                           # "I need the sector's research spend for 2023", "give me the export figure"
                           r"\b(?:need|want|give me|looking for)\s+(?:the|a|an)\s+.{0,80}?\b(?:figure|number|value|spend|"
                           r"spending|total|amount|count|rate|share|level|size|turnover|budget|cost)s?\b)", re.I)
# The counted noun ends its phrase: "how many small furniture enterprises were there" counts enterprises.
# A year that ends a name ("Vision 2030", "Horizon 2020") dates nothing the question asks about.
_YEAR_IN_NAME = re.compile(r"\b([A-Z][A-Za-z]+) ((?:19|20)\d{2})\b")
NOT_NAME_BEFORE_YEAR = {"in", "by", "since", "from", "to", "for", "until", "till", "before", "after", "of", "and", "or",
                         "between", "during", "around", "circa", "c", "early", "late", "mid", "summer", "winter", "spring",
                         "autumn", "fall", "january", "february", "march", "april", "may", "june", "july", "august",
                         "september", "october", "november", "december", "fy", "q1", "q2", "q3", "q4", "year", "the"}
# General English for asking a reason, and for a sentence that gives one.
ASKS_REASON = re.compile(r"^\W*(?:(?:and|so|but)\s+)?(?:why\b|how come\b|what(?:['’]s)? (?:\w+ ){0,2}?(?:caused|causes|causing|"
                         r"drove|drives|driving|driven|prompted|triggered|explains?|is behind|was behind|are the reasons?|"
                         r"were the reasons?|is the reason|was the reason)\b)", re.I)
# A reason asked for anywhere in the question ("… - what's the reason?"), not only as its opening.
MENTIONS_REASON = re.compile(r"\bwhy\b|\breasons?\b|\bhow come\b", re.I)
STATES_CAUSE = re.compile(r"\b(because|due to|driven by|caused by|owing to|as a result|result(?:ed|s|ing)? from|"
                          r"led to|leads to|contribut\w* to|thanks to|the reasons?|factors?)\b", re.I)
_COUNTED = re.compile(r"\b(?:how many|number of)\s+((?:[a-z][a-z&'’-]* ){0,3}?[a-z][a-z&'’-]*)"
                      r"(?=\s+(?:are|were|is|was|do|does|did|have|has|had|will|would|can|could|in|across|of|at|for|by|"
                      r"on|from|within|there|work|works|worked|working|turn|attend|employed|live|took|take|between|"
                      r"make|makes|made|exist|exists|existed|operate|operates|operated|form|forms|formed|belong|"
                      r"belonged|got|get|gets|received|receive|receives)\b|\s*[?,.]|\s*$)", re.I)
# "What is the average salary in …" → "salary": the noun the question asks the value of.
# "Who is the X's chief executive?" → "executive": the role asked for, which the documents may never name.
# (The X ends before a second question joined on: "what is X and how did they make it?" asks about X.)
_SUBJECT = re.compile(r"^(?:what|who) (?:is|was|are|were|will be) (?:the |a |an )?"
                      r"((?:(?!(?:how|what|why|where|when|who|which)\b)[a-z&'’-]+ ){0,8}?[a-z&-]+)"
                      r"(?= (?:in|of|for|among|across|per|by|at|as|between|from|to|that|planned|expected|"
                      r"and (?:how|what|why|where|when|who|which))\b|\s*\?|$)", re.I)
# People a 'how many' question counts are counted by the documents as jobs, employees or workers (general English).
COUNTED_PEOPLE = {stem(w): {"employ", "job", "worker", "employe"} for w in ("people", "persons", "individuals")}
# A measure named by how it is taken (general English): "the average salary", "annual profit", "typical wage".
_MEASURE = re.compile(r"\b(?:average|median|typical|annual|yearly|monthly|weekly|hourly)\s+([a-z][a-z'’-]{2,})\b", re.I)
# Words that can end "what was the X … in 2011" without being the X ("trade balance back in 2011").
FILLERS = {"back", "then", "now", "currently", "actually", "overall", "again", "exactly", "roughly", "approximately",
            "really", "today", "originally", "recently", "last", "ago", "worth"}
_WHICH_ENTITY = re.compile(r"\b(which|what|who)\s+(country|countries|region|nation|firm|company|organisation|one)\b", re.I)


@dataclass
class Query:
    """What the assistant understood from a question."""

    text: str
    kind: str = "fact"  # figure | compare | summary | source | definition | locator | fact
    years: list[int] = field(default_factory=list)
    locators: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    ordinal: int | None = None
    wants_number: bool = False
    wants_entity: bool = False
    term: str | None = None  # the term a definition question asks about
    counted: str | None = None  # the noun a "how many X" question counts
    subject: str | None = None  # the noun a "what is the X" question asks about
    measure: str | None = None  # the noun an "average X" or "annual X" question asks about
    stems: set[str] = field(default_factory=set)
    expanded: set[str] = field(default_factory=set)
    set_aside: str = ""  # what the question leaves out ("excluding repair"): neither searched for nor its topic

    def variants(self, term: str) -> set[str]:
        """A question stem with its synonyms; people counted ('how many people work …') are counted in jobs too."""
        out = expand({term})
        if term in COUNTED_PEOPLE and self.counted and stem(self.counted) == term:
            out |= COUNTED_PEOPLE[term]
        return out

    @property
    def empty(self) -> bool:
        return not self.stems and not self.locators and not self.term

    @property
    def search_text(self) -> str:
        if self.kind == "definition" and self.term:
            return f"What is {self.term}?"  # "how does the report define X" is not about defining in general
        return " ".join(self.text.replace(self.set_aside, " ").split()) if self.set_aside else self.text


# Set beside another country by a comparison word, a lower-case "us" is the country ("us vs uk"), not the pronoun.
_PAIRED = r"(?:vs\.?|versus|v|and|or|than|compared (?:to|with)|against)"
# Another area the question reads (AREA_ALIASES), or a word ending the way country names do.
_OTHER_PLACE = (r"(?:the )?(?:" + "|".join(re.escape(a) for a in AREA_ALIASES if AREA_ALIASES[a] != "US")
                + r"|[a-z]+(?:land|any|ance|ina|ia|an|ain|ea|ium|ey|al|il))")
_US_PAIRED = re.compile(rf"\bus\s+{_PAIRED}\s+{_OTHER_PLACE}\b|\b{_OTHER_PLACE}\s+{_PAIRED}\s+(?:the )?us\b")


def names_the_us(text: str) -> bool:
    """True when the question names the United States as 'US' (not the currency), or as 'us' set against
    another country ('us vs uk', 'ruritania and the us')."""
    return bool(re.search(r"\bUS\b(?!\s*(?:\$|dollars?))", text) or _US_PAIRED.search(text.lower()))


def _areas(text: str) -> list[str]:
    low = f" {text.lower()} "
    found = []
    for alias, area in sorted(AREA_ALIASES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(?<![\w]){re.escape(alias)}(?![\w])", low) and area not in found:
            if alias == "us" and not names_the_us(text):
                continue  # the pronoun "us", or a currency
            found.append(area)
    return found


def _locators(text: str) -> list[str]:
    out = []
    for m in LOCATOR.finditer(text):
        if m.group(1):
            out.append(f"{'Table' if m.group(1).lower().startswith('t') else 'Figure'} {m.group(2)}-{m.group(3)}")
        elif m.group(4):
            out.append(m.group(4))
        else:
            out.append(f"footnote {m.group(5)}")
    return out


# Words that set part of a question aside (general English): "employment, excluding repair and servicing",
# "making widgets, as opposed to fixing them", "manufacturing as a whole, not just widgets". What follows, up to
# the clause's end, is not what the question is about, so it is not searched for nor asked of the evidence.
_SET_ASIDE = re.compile(r"\b(?:excluding|excl\.|except(?:\s+for)?|apart from|other than|as opposed to|rather than|"
                        r"not including|not counting|leaving (?:out|aside)|not just|not only)\s+"
                        r"((?:(?!(?:in|for|across|by|during|within|between|since|from|at|how|what|which|who|when|where)\b)"
                        r"[^\s,.;:?!()]+\s*){1,5})", re.I)


# What a document calls itself; named in a question ("this report", "the whole study") it is the document itself,
# and a sentence opening on it ("This study draws on …") says what the document is.
DOCUMENT_NAMES = ("report", "document", "study", "assessment", "publication", "paper")
THE_DOCUMENT = re.compile(rf"\b(?:this|the|your|whole|entire)\s+(?:whole\s+|entire\s+)?({'|'.join(DOCUMENT_NAMES)})\b", re.I)
OPENS_ON_THE_DOCUMENT = re.compile(rf"^(?:this|the)\s+(?:{'|'.join(DOCUMENT_NAMES)})\b", re.I)
# How a document was made ("what is this report and how was it put together?"): still the document itself.
# (How it is laid out is asked of its own list of sections, not of an overview.)
DOCUMENT_MAKING = frozenset(stems("put together compiled compile made produced written researched method methods "
                                  "methodology approach done use"))


def analyse(question: str) -> Query:
    """Classify a question and pull out what retrieval and answering need."""
    text = " ".join(question.split())[:2000]
    text = re.sub(r"\b(what|who|where|how)['’]s\b", r"\1 is", text, flags=re.I)  # "What's AMBA's turnover?"
    query = Query(text=text)
    aside = _SET_ASIDE.search(text)
    query.set_aside = aside.group(0).strip() if aside else ""
    # A paragraph is found by its number as a locator, never in a sentence ('a ratio of 3.4' is not paragraph 3.4).
    query.stems = set(stems(_PARAGRAPH.sub(" ", query.search_text)))
    # "What is this report about?": the document itself is asked about (its name is a stopword in other questions).
    document = THE_DOCUMENT.search(text)
    if document and query.stems - DOCUMENT_MAKING - {stem(document.group(1).lower())}:
        document = None  # something in it is asked about ('what does the report say about exports?')
    if document:
        query.stems = {stem(document.group(1).lower())} | query.stems
    query.expanded = expand(query.stems)
    named = {m.group(2) for m in _YEAR_IN_NAME.finditer(text) if m.group(1).lower() not in NOT_NAME_BEFORE_YEAR}
    query.years = [int(y) for y in YEAR.findall(text) if y not in named]
    query.locators = _locators(text)
    query.areas = _areas(text)
    words = re.findall(r"[a-z0-9]+", text.lower())
    query.ordinal = next((ORDINALS[w] for w in words if w in ORDINALS), None)
    if query.ordinal is None and (numbered := _NUMBERED_ORDINAL.search(text)):  # "ranked 187th"
        query.ordinal = int(numbered.group(1))
    query.wants_number = bool(_WANTS_NUMBER.search(text) or (not _ASKING.search(text) and len(text.split()) <= 10
                                                             and _MEASURE_NOUN.search(text)))
    # ("Ranking countries by X, who came third?": the question's own clause may follow a lead-in)
    query.wants_entity = bool(_WHICH_ENTITY.search(text) or text.lower().startswith(("which", "who"))
                              or re.search(r"[,:;]\s*(?:which|who)\b", text, re.I))
    counted = _COUNTED.search(text)
    # "how many times bigger" asks for a ratio; "the largest number of X" for a ranking: neither counts X.
    ranking = counted and re.search(r"\b(largest|highest|most|smallest|lowest|greatest|biggest)\s+(total\s+)?$",
                                    text[:counted.start()], re.I)
    counted_words = counted.group(1).lower().split() if counted and not ranking else []
    # "the number of people that were employed": the noun is the last word before a relative pronoun
    cut = next((i for i, w in enumerate(counted_words) if w in {"that", "which", "who", "whom", "whose"}), None)
    counted_words = counted_words[:cut] if cut else counted_words
    while len(counted_words) > 1 and counted_words[-1].endswith("ly"):  # "how many people usually attend": people
        counted_words = counted_words[:-1]
    query.counted = counted_words[-1] if counted_words and counted_words[0] not in {"times", "of"} else None
    subject = _SUBJECT.search(text)
    if subject and re.match(r"\s+of\s+(?:how|what|where|why|which|who|whether)\b", text[subject.end():], re.I):
        subject = None  # "what's the overall picture of how big X is": the picture frames the question, X is asked
    subject_words = [w for w in subject.group(1).lower().split() if w not in FILLERS] if subject else []
    query.subject = subject_words[-1].strip("'’") if subject_words else None
    if query.subject in STOPWORDS:
        query.subject = None  # "what is it telling you", "what is it gonna be worth": no noun is asked about
    measure = _MEASURE.search(text)
    query.measure = measure.group(1).lower().strip("'’") if measure else None
    if query.measure in STOPWORDS or query.measure in FILLERS:
        query.measure = None
    define = _DEFINE.search(text)
    if _SOURCE.search(text):
        query.kind = "source"
        query.wants_number = False  # "the source for the figures on …" asks for a source, not a figure
    elif define and (not query.wants_number or define.group("b") or define.group("i")):  # "what is an ABC?": a term
        query.kind = "definition"
        query.term = re.sub(r"^(?:an?|the)\s+", "", next(g for g in define.groups() if g).strip(" ?'‘’\""), flags=re.I)
        query.subject = query.term.split()[-1].lower()  # "what is meant by X": X is asked, not a thing called 'meant'
    elif document or (_SUMMARY.search(text) or (_TREND.search(text) and len(query.years) < 2)) and not query.wants_number:
        query.kind = "summary"
    elif _COMPARE.search(text) and (query.wants_number or _FIGURE.search(text) or " or " in text.lower()):
        query.kind = "compare"
    elif query.wants_number or _FIGURE.search(text):
        query.kind = "figure"
    elif query.locators:
        query.kind = "locator"
    return query


_HOW_DIMENSION = re.compile(r"\bhow\s+([a-z]+)\b", re.I)


def dimension_asked(query: Query) -> frozenset[str]:
    """The stem after 'how' ('old' in 'how old is it'): what kind of answer is wanted, not a word to find."""
    return _dimension_of(query.text)


@lru_cache(maxsize=1024)  # asked for by every coverage of every passage of a question
def _dimension_of(text: str) -> frozenset[str]:
    return frozenset(stem(m.group(1).lower()) for m in _HOW_DIMENSION.finditer(text))


def unknown_stems(query: Query, frequency: dict[str, int]) -> list[str]:
    """The question's content stems the documents never use, nor any everyday synonym of them ('staff' is
    known when the documents say 'employ'). The dimension a 'how' asks for ('how old', 'how big') is the
    question's form, not its subject."""
    asked = dimension_asked(query)
    return [s for s in query.stems if not s.isdigit() and not frequency.get(s) and s not in asked
            and not any(frequency.get(t) for t in expand({s}) - {s})]


# Words a question uses for the kind of section it wants, and the heading words that name such a section.
ASPECTS: list[tuple[re.Pattern[str], set[str]]] = [
    (re.compile(r"success|succeed|thriv|(?:work|do|done|did|go|went)(?:ed|es|s|ne)?\s+(?:so\s+|really\s+|very\s+)?well|"
                r"made it work|strengths|what works|(?:why|made) .{0,60}\b(?:work|worked)\b", re.I), {"success", "strength"}),
    (re.compile(r"challeng|obstacle|barrier|difficult|hurdle|problem|risk|threat|weakness|run into", re.I),
     {"challeng", "barrier", "risk", "obstacl", "difficulti", "threat"}),
    (re.compile(r"over time|histor|evol|origin|emerge|stages|developed", re.I),
     {"histor", "stage", "growth", "evolut", "origin", "background"}),
    (re.compile(r"lesson|implication|recommend|relevan|bear in mind|mean for|take-?aways?", re.I),
     {"implic", "lesson", "recommend", "conclus"}),
    (re.compile(r"trend|driver", re.I), {"trend", "driver"}),
]


def aspect_words(text: str) -> set[str]:
    """Stems of the headings a summary question asks for ('success' for "why has X done so well")."""
    return set().union(*(words for cue, words in ASPECTS if cue.search(text)))
