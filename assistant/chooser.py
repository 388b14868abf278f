"""Choose among the answerers' candidates with fitted weights, or refuse.

Every candidate is described by the same named features: what the question looks like (an intent
classifier over its embedding, the parsed question, how strongly retrieval and the best sentence
support it) and what the candidate offers (how much of the question it covers, numbers and years
asked for, where its citation ranked). A logistic model per answerer, fitted by `assistant/train.py`
on labelled questions and stored in `assistant/weights.json`, turns them into the probability that
the candidate is right; the most probable candidate wins, and the refusal is one of the candidates.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answerers import ANSWERER_NAMES, AnswerContext, Candidate, propose
from assistant.compose import NO_ANSWER, NOT_AVAILABLE, Citations
from assistant.domain import active
from assistant.evidence import (
    ASKS_SHARE_OF,
    STATES_A_SHARE,
    counted_of,
    countries_in,
    country_of,
    counts_beside,
    name_present,
    names_in,
    rarest,
    stated_of_others,
    states_a_share,
    topic_stems,
    unknown_counted,
    unknown_reference,
    with_period,
)
from assistant.figures import (
    RANK_WORDS,
    RANKED_AT,
    change_stems,
    contradicted,
    denied_change,
    denies_asked,
    generic,
    measures_met,
    reverses_change,
    states_a_top_asked,
)
from assistant.query import AREA_PATTERNS, ASKS_REASON, CLAUSE_OPENS, MENTIONS_REASON, Query
from assistant.retrieve import coverage, idf
from assistant.summary import off_topic
from assistant.table_ops import asks_position
from assistant.text import (
    STOPWORDS,
    WORD_NUMBERS,
    YEAR,
    bullet_items,
    expand,
    numbers_in,
    split_sentences,
    stem,
    stems,
    strip_superscripts,
)
from ingest.records import Answer, Hit
from ingest.settings import Settings

WEIGHTS = Path(__file__).with_name("weights.json")
INTENTS = ["figure", "table", "compare", "fact", "summary", "source", "unanswerable"]
KINDS = ["figure", "compare", "summary", "source", "definition", "locator", "fact"]
QUESTION_FEATURES = ([f"p_{t}" for t in INTENTS] + [f"kind_{k}" for k in KINDS] +
                     ["wants_number", "top_score", "support", "oov", "unknown_word", "missing_year", "years",
                      "not_available", "top_dense", "best_coverage", "least_rare_missing", "names", "unknown_words",
                      "best_names_met"])
CANDIDATE_FEATURES = ["coverage", "has_number", "years_met", "log_length", "citations", "cited_rank",
                      "candidate_support", "passage_coverage", "rare_missing", "names_met", "cited_dense", "text_dense",
                      "new_number", "number_missing", "type_fit"]
_MARKER = re.compile(r"\[\d+\]")
NO_PREMISE = "The documents don't support the question's premise:"
SIMILARITY_CHARS = 300


@dataclass
class Model:
    """The fitted weights: an intent classifier over question-form vectors and one scorer per answerer."""

    intent_coef: np.ndarray | None  # (len(INTENTS), dim)
    intent_intercept: np.ndarray | None
    coef: dict[str, np.ndarray]  # answerer -> weights over [1] + QUESTION_FEATURES + CANDIDATE_FEATURES
    mean: np.ndarray
    scale: np.ndarray
    threshold: float = 0.0  # the best answer must be at least this probable, or the answer is a refusal

    def intents(self, vector: np.ndarray | None) -> np.ndarray:
        """Probabilities of the question's intent (zeros when there is no classifier or no vector)."""
        if self.intent_coef is None or vector is None:
            return np.zeros(len(INTENTS))
        logits = self.intent_coef @ vector + self.intent_intercept
        logits = np.exp(logits - logits.max())
        return logits / logits.sum()

    def probability(self, answerer: str, features: np.ndarray) -> float:
        """P(the candidate is right) under its answerer's weights."""
        weights = self.coef.get(answerer)
        if weights is None:
            return 0.0
        z = float(weights[0] + weights[1:] @ ((features - self.mean) / self.scale))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=4)
def load_model(path: Path = WEIGHTS) -> Model | None:
    """The fitted model, or None when none has been trained (the legacy order is used then)."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    intent = data.get("intent")
    chooser = data["chooser"]
    if chooser["question_features"] != QUESTION_FEATURES or chooser["candidate_features"] != CANDIDATE_FEATURES:
        return None  # weights of another feature layout must never be applied to this one
    return Model(intent_coef=np.asarray(intent["coef"]) if intent else None,
                 intent_intercept=np.asarray(intent["intercept"]) if intent else None,
                 coef={a: np.asarray(w) for a, w in chooser["coef"].items()},
                 mean=np.asarray(chooser["mean"]), scale=np.asarray(chooser["scale"]),
                 threshold=float(chooser.get("threshold", 0.0)))


def _rare_missing(query: Query, text: str, frequency: dict[str, int], total: int) -> float:
    """How rare (0-1, by IDF) the rarest question word a passage lacks is: 0 when it lacks none.

    Words the documents never use are left out: they are phrasing ('ppl'), not the subject."""
    have = set(stems(text))
    missing = [idf(t, frequency, total) for t in query.stems
               if frequency.get(t) and not t.isdigit() and t not in have and not (query.variants(t) - {t}) & have]
    return max(missing, default=0.0) / math.log(1 + total)


def _names_met(query: Query, text: str) -> float:
    names = names_in(query.text)
    return sum(name_present(n, text) for n in names) / len(names) if names else 1.0


def _passage_text(hit: Hit) -> str:
    return f"{hit.chunk.search_text()} {hit.chunk.section} {hit.chunk.heading}"


def question_features(ctx: AnswerContext, intents: np.ndarray) -> list[float]:
    """Features of the question and its evidence, shared by all its candidates."""
    query, loaded = ctx.query, ctx.loaded
    frequency = loaded.document_frequency
    total = len(loaded.chunks)
    content = [s for s in query.stems if not s.isdigit()]
    evidence = ctx.evidence()
    top = ctx.hits[:5]
    return (list(intents) + [float(query.kind == k) for k in KINDS] + [
        float(query.wants_number),
        ctx.hits[0].score if ctx.hits else 0.0,
        evidence[0].support if evidence else 0.0,
        sum(1 for s in content if not frequency.get(s)) / max(1, len(content)),
        float(bool(unknown_counted(query, frequency))),
        float(any(str(y) not in frequency for y in query.years)),
        min(len(query.years), 2) / 2,
        float(bool(evidence and NOT_AVAILABLE.search(evidence[0].sentence))),
        max((h.dense for h in ctx.hits[:10]), default=0.0),
        max((coverage(query, _passage_text(h), frequency, total) for h in top), default=0.0),
        min((_rare_missing(query, _passage_text(h), frequency, total) for h in top), default=1.0),
        min(len(names_in(query.text)), 3) / 3,
        min(sum(1 for s in content if not frequency.get(s)), 3) / 3,
        max((_names_met(query, _passage_text(h)) for h in top), default=0.0),
    ])


def candidate_features(candidate: Candidate, ctx: AnswerContext, similarity: float = 0.0) -> list[float]:
    """Features of what one candidate offers for the question (`similarity`: question vs candidate text)."""
    text = _MARKER.sub(" ", candidate.text)
    ranks = {h.chunk.locator: n for n, h in enumerate(ctx.hits)}
    cited = [ranks.get(c.locator, len(ctx.hits)) for c in candidate.cites.items]
    total = len(ctx.loaded.chunks)
    frequency = ctx.loaded.document_frequency
    cited_hits = [ctx.hits[n] for n in cited if n < len(ctx.hits)]
    passages = " ".join(_passage_text(h) for h in cited_hits) or text
    if candidate.refused:
        return [0.0] * 6 + [candidate.support, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    stated = text.split("\n\n")[0]  # the answer itself, not the sources or notes listed under it
    new_number = _new_numbers(ctx.query, stated)
    return [
        coverage(ctx.query, text, frequency, total),
        float(bool(numbers_in(text))),
        float(all(str(y) in text for y in ctx.query.years) or _dated_by_passage(ctx.query, text, candidate.cites.items)),
        math.log1p(len(text)) / 8,
        min(len(candidate.cites.items), 5) / 5,
        1.0 / (1 + min(cited)) if cited else 0.0,
        candidate.support,
        coverage(ctx.query, passages, frequency, total),
        _rare_missing(ctx.query, passages, frequency, total),
        _names_met(ctx.query, f"{text} {passages}"),
        max((h.dense for h in cited_hits), default=0.0),
        similarity,
        float(new_number),
        float(ctx.query.wants_number and not new_number),
        answer_type_fit(ctx.query, stated),
    ]


# What a question's first words ask for (ordinary English, true of any document).
_ASKS_PERSON = re.compile(r"^\W*who\b(?!\s+(?:else|has|have|had)\b)", re.I)
_ASKS_TIME = re.compile(r"^\W*(?:when|in what year|what year|since when|how long ago)\b", re.I)
_ASKS_AGE = re.compile(r"^\W*how old\b", re.I)
_STATES_AGE = re.compile(r"\b(?:19|20)\d{2}\b|\b\d[\d,]*\+?\s+years?\b", re.I)  # 'founded in 1980', 'over 100 years ago'
_ASKS_PLACE = re.compile(r"^\W*(?:where|in which (?:country|region|city|place))\b", re.I)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def _new_numbers(query: Query, text: str) -> bool:
    """Whether the candidate states a number the question does not already give (a year asked about is given)."""
    given = {n.strip(" ,.;:") for n in numbers_in(query.text)}
    return any(n.strip(" ,.;:") not in given for n in numbers_in(text))


def answer_type_fit(query: Query, text: str) -> float:
    """1 when the candidate holds the kind of thing the question's first words ask for (a name for 'who',
    a year for 'when', a place or name for 'where'), 0 when it does not, 0.5 when they ask for no kind."""
    asked = set(stems(query.text))
    if _ASKS_AGE.search(query.text):
        return float(bool(_STATES_AGE.search(text)))
    if _ASKS_TIME.search(query.text):
        return float(any(y not in query.text for y in YEAR.findall(text)))
    if _ASKS_PERSON.search(query.text) or _ASKS_PLACE.search(query.text):
        names = [m.group(0) for m in _PROPER.finditer(text)]
        return float(any(not set(stems(n)) <= asked for n in names))
    return 0.5


def feature_rows(ctx: AnswerContext, candidates: list[Candidate], intents: np.ndarray) -> list[np.ndarray]:
    """One feature vector per candidate: the question's features, then the candidate's."""
    shared = question_features(ctx, intents)
    similarities = _similarities(ctx, candidates)
    return [np.asarray(shared + candidate_features(c, ctx, s)) for c, s in zip(candidates, similarities, strict=True)]


def _similarities(ctx: AnswerContext, candidates: list[Candidate]) -> list[float]:
    """Cosine of the question and each candidate's opening, in one batch; 0 for refusals.

    Only the first SIMILARITY_CHARS characters are embedded: the opening says what a candidate is about,
    and embedding whole passages for every question would cost more than the rest of the answer."""
    if ctx.vector is None or ctx.embed is None:
        return [0.0] * len(candidates)
    texts = [_MARKER.sub(" ", c.text)[:SIMILARITY_CHARS] for c in candidates if not c.refused]
    vectors = iter(ctx.embed(texts) if texts else [])
    return [0.0 if c.refused else float(np.dot(next(vectors), ctx.vector)) for c in candidates]


def _legacy_pick(query: Query, candidates: list[Candidate]) -> Candidate:
    """Without fitted weights: the answerer the parsed question points to, else a sentence, else refuse."""
    by = {c.answerer: c for c in candidates}
    order = {"definition": ["definition"], "source": ["source"], "summary": ["summary"]}.get(query.kind, [])
    for name in order + ["table", "sentence", "refusal"]:
        if name in by and (name != "table" or query.kind in {"figure", "compare", "fact", "locator"}):
            return by[name]
    return candidates[-1]


def choose(ctx: AnswerContext, candidates: list[Candidate], model: Model | None) -> tuple[Candidate, list[float]]:
    """The most probable candidate and every candidate's probability (refusal included)."""
    if model is None:
        return _legacy_pick(ctx.query, candidates), []
    rows = feature_rows(ctx, candidates, model.intents(form_vector(ctx)))
    scores = [model.probability(c.answerer, row) if meets_constraints(c, ctx) else 0.0
              for c, row in zip(candidates, rows, strict=True)]
    if ctx.query.kind == "source" and any(s and c.names_work for c, s in zip(candidates, scores, strict=True)):
        # A source question is answered by the work a statement rests on: a quote naming none is no answer.
        scores = [s if c.refused or c.names_work else 0.0 for c, s in zip(candidates, scores, strict=True)]
    stated = [s for c, s in zip(candidates, scores, strict=True) if s and not c.refused and ctx.query.years
              and all(str(y) in c.text.split("\n\n")[0] for y in ctx.query.years)]
    if stated and any(c.other_years for c in candidates):
        # "The tables give 2021, not 2011" is untrue when the text states the figure for 2011: that refusal goes.
        scores = [0.0 if c.other_years else s for c, s in zip(candidates, scores, strict=True)]
    if ctx.query.kind == "summary" and any(c.whole_section for c in candidates):
        # "Summarise section 2": the section named is the answer's scope, and its own summary the answer.
        scores = [1.0 if c.whole_section else 0.0 for c in candidates]
    return pick(candidates, scores, model.threshold), scores


# General English for what a question asks for, kept when a question is reduced to its form (every other word
# the documents use is masked): the intent is in these, the topic in the masked words.
FORM_WORDS = frozenset("""source sources cite cited citation reference data dataset study publication report document come
compare comparison compared difference differ versus vs gap ratio times more less fewer bigger smaller larger higher lower
summarise summarize summary overview outline key points briefing brief main explain describe tell list why reason reasons
trend trends change changed grow grew growth rise rose fall fell increase decrease rank ranked ranking position largest
smallest highest lowest biggest top bottom best worst most least share percentage percent proportion total sum average
number figure amount value year years when where who whom define definition mean means stand stands lessons challenges
factors drivers success succeed stages example examples happen happened expected forecast estimate estimated""".split())


def question_form(text: str, frequency: dict[str, int]) -> str:
    """The question with every word the documents use masked, but the words of asking (FORM_WORDS, stopwords):
    'What is Ruritania's share of widget exports?' reads as 'What is X share of X X?'. The intent classifier
    reads this form, so another report's topic words cannot move it."""
    words = []
    for word in re.findall(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*|[?]", text):
        low = word.lower().strip("'’")
        if word[0].isdigit():
            words.append("N")
        elif low in FORM_WORDS or low in STOPWORDS or not _documents_term(stem(low.removesuffix("'s").removesuffix("’s")),
                                                                          frequency):
            words.append(word)  # words of asking, and words the documents never use (an off-topic question's)
        else:
            words.append("X")
    return " ".join(words)


def _documents_term(key: str, frequency: dict[str, int]) -> bool:
    """Whether the documents use the word, or a synonym or nearest term it is read as ('sell' for 'export')."""
    return bool(frequency.get(key)) or any(frequency.get(other) for other in expand({key}) - {key})


def form_vector(ctx: AnswerContext) -> np.ndarray | None:
    """The embedding of the question's form (see question_form), worked out once per question."""
    if ctx.embed is None:
        return None
    if "_form" not in ctx.__dict__:
        ctx.__dict__["_form"] = np.asarray(ctx.embed([question_form(ctx.query.text, ctx.loaded.document_frequency)])[0])
    return ctx.__dict__["_form"]


def meets_constraints(candidate: Candidate, ctx: AnswerContext) -> bool:
    """What the question names must be met before any score counts: an answer about something else is no answer.

    The refusal always qualifies. An answer needs every name the question gives (a country by any of its
    names) in its text or the passages it cites, and a figure asked for a year must be stated beside it. A
    question whose subject the documents never mention, or whose topic is mostly words they never use
    (a typo of a word they use counts as that word), gets none.
    """
    if candidate.refused:
        return True
    query, loaded = ctx.query, ctx.loaded
    if "_unanswerable" not in ctx.__dict__:  # a property of the question: worked out once for all its candidates
        ctx.__dict__["_unanswerable"] = bool(unknown_counted(query, loaded.document_frequency) or off_topic(query, loaded)
                                             or unknown_reference(query, loaded.chunks))
    if ctx.__dict__["_unanswerable"]:
        return False
    passages = " ".join(f"{c.text} {c.section}" for c in candidate.cites.items)
    text = with_period(_MARKER.sub(" ", candidate.text), candidate.cites.items, loaded.chunks)
    evidence = f"{text} {passages}"
    # A source answer names the work behind a claim: the year asked about is the claim's, not the work's.
    years_met = ((candidate.answerer == "source" and query.kind == "source") or _years_met(query, text)
                 or _dated_by_passage(query, text, candidate.cites.items))
    return (_names_met(query, evidence) == 1.0 and years_met and measures_met(query, evidence) and _count_met(ctx, text)
            and _item_names_met(query, candidate)
            and _share_met(query, candidate.text) and _sides_met(query, evidence) and _owner_met(query, candidate)
            and _ranked_thing_met(query, candidate) and _kind_named(query, candidate) and _scope_met(query, candidate)
            and _area_met(query, candidate)
            and _country_named(query, candidate) and _position_met(query, candidate) and _amount_met(query, candidate)
            and _date_met(query, candidate) and _period_met(query, candidate) and _time_of_name(query, candidate))


_STATES_TIME = re.compile(r"\b(?:1[6-9]|20)\d{2}s?\b|\b\d+\s+years?\s+ago\b", re.I)


def _time_of_name(query: Query, candidate: Candidate) -> bool:
    """'When was Acme founded?' is answered by a time stated of Acme (named in its sentence or the one before or
    after), not by the founding year of another body in the same passage."""
    names = names_in(query.text)
    if not names or not _ASKS_TIME.search(query.text) or query.kind in {"source", "summary"}:
        return True
    sentences = split_sentences(_stated(candidate.text).replace("\n", " "))
    # A sentence naming no body at all speaks of the one its section is about ("the company exported … in 2021").
    sections = " ".join(c.section for c in candidate.cites.items)

    def about(window: str) -> bool:
        return all(name_present(n, window) or (name_present(n, sections) and not names_in(window)) for n in names)

    return any(_STATES_TIME.search(sentence) and about(" ".join(sentences[max(0, i - 1):i + 2]))
               for i, sentence in enumerate(sentences))


_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_ASKS_DATE = re.compile(r"\b(?:what|which)\s+(?:exact\s+)?(?:date|dates|day|days)\b", re.I)
_STATES_DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|"
                          r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")


def _date_met(query: Query, candidate: Candidate) -> bool:
    """'On what date …' is answered by a day ('12 March 2024'), not by a season or a year."""
    if not _ASKS_DATE.search(query.text) or query.kind in {"source", "summary"}:
        return True
    return bool(_STATES_DATE.search(_stated(candidate.text)))


_PERIOD = re.compile(r"\b(?:next|over|past|last|coming|within|following|previous)\s+(?:the\s+)?(\d+|[a-z]+)\s+"
                     r"(years?|months?|decades?)\b", re.I)


def _periods(text: str) -> set[tuple[int, str]]:
    out = set()
    for count, unit in _PERIOD.findall(text):
        number = int(count) if count.isdigit() else WORD_NUMBERS.get(count.lower())
        if number is not None:
            out.add((number, unit.lower().rstrip("s")))
    return out


def _period_met(query: Query, candidate: Candidate) -> bool:
    """A forecast asked 'over the next twenty years' is not one the documents make 'over the next ten years'."""
    asked = _periods(query.text)
    if not asked:
        return True
    stated = _periods(_stated(candidate.text))
    units = {unit for _, unit in asked}
    return not any(unit in units for _, unit in stated) or bool(asked & stated)


# General English for money: what a sum is asked as, and how one is written.
_ASKS_MONEY = re.compile(r"\b(?:cost(?:s|ing)?|price[sd]?|fees?|revenues?|income|turnover|budgets?|spend(?:s|ing)?|spent|"
                         r"worth|money|pa(?:y|id|ys)|earn(?:s|ed|ings)?|profits?|salar(?:y|ies)|wages?|sales|fund(?:s|ed|ing)?|grants?|"
                         r"invest(?:s|ed|ment)?|giv(?:e|es|en)(?!\s+(?:me|us)\b)|gets?(?!\s+(?:me|us)\b)|got|receiv(?:e|es|ed))\b", re.I)
_STATES_MONEY = re.compile(r"[$£€]\s?\d|\b(?:USD|GBP|EUR)\s?\d|\d\s?(?:(?:million|billion|thousand|bn|m|k)\s)?"
                           r"(?:pounds|dollars|euros)\b", re.I)
_ASKS_RATE = re.compile(r"\brates?\b(?!\s+of\s+(?:change|growth))", re.I)
_SHARE_OF_IT = re.compile(r"\bhow much of\b", re.I)  # "how much of the funding went to X": a share
_ASKS_PERCENT = re.compile(r"\b(?:what|which)\s+(?:percentage|per ?cent)\b|\bwhat %|\bhow many per ?cent\b", re.I)
_ASKS_WHAT_IS = re.compile(r"^\W*what(?:['’]s|\s+(?:is|was|are|were))\b", re.I)
_CURRENCIES = {r"\b(?:pounds?|sterling|GBP)\b|£": r"£|\bpounds?\b|\bGBP\b",
               r"\b(?:dollars?|USD)\b|\$": r"\$|\bdollars?\b|\bUSD\b",
               r"\b(?:euros?|EUR)\b|€": r"€|\beuros?\b|\bEUR\b"}


def _amount_met(query: Query, candidate: Candidate) -> bool:
    """'How much does X cost?' or 'what is X's revenue?' is answered by a sum of money, and one asked in a currency
    ('in pounds') by a sum in it: a count, a share or a dollar figure answers neither."""
    asks_amount = query.wants_number or _ASKS_WHAT_IS.match(query.text)
    if not asks_amount or query.kind in {"source", "summary"} or re.search(r"\bhow many\b", query.text, re.I):
        return True
    stated = _stated(candidate.text).strip().split("\n")[0]  # the lead statement (a summary's first point)
    if _ASKS_RATE.search(query.text) and not ASKS_SHARE_OF.search(query.text):
        return bool(STATES_A_SHARE.search(stated))  # "what is the unemployment rate": a rate is a percentage
    if _ASKS_PERCENT.search(query.text):  # "by what percentage did X grow": a change in per cent, stated or worked out
        # (beside what it is of: a summary's other points have others' percentages; a table's rows say whose)
        names = [] if candidate.answerer in {"table", "table_operation", "arithmetic"} else names_in(query.text)
        return any(STATES_A_SHARE.search(line) and all(name_present(n, line) for n in names)
                   for line in _stated(candidate.text).split("\n"))
    if not _ASKS_MONEY.search(query.text) or ASKS_SHARE_OF.search(query.text) or _SHARE_OF_IT.search(query.text):
        return True
    if not _STATES_MONEY.search(stated):
        return False
    asked = [written for named, written in _CURRENCIES.items() if re.search(named, query.text, re.I)]
    return all(re.search(written, stated, re.I) for written in asked)


_WORLDWIDE = re.compile(r"\b(?:internationally|worldwide|globally|across the (?:world|globe)|around the world|"
                        r"in (?:over |more than |around |some )?\d[\d,]* countries)\b", re.I)


# Words that ask for the whole of a body's figure, wherever it is counted (general English).
_ASKS_WHOLE = re.compile(r"\b(?:in total|in all|all told|altogether|overall|worldwide|globally|across the (?:world|globe)|"
                         r"around the world)\b", re.I)


def _scope_met(query: Query, candidate: Candidate) -> bool:
    """A figure asked for a place ("how many of X's staff are in Lyon") is not one a sentence counts worldwide; one
    asked in total ("how many does X employ in total") is not one a sentence counts in one town ("… 480 in Lyon")."""
    if not query.wants_number:
        return True
    stated = _stated(candidate.text)
    if _ASKS_WHOLE.search(query.text) and _counted_in_one_place(query, stated):
        return False
    if not _WORLDWIDE.search(stated):
        return True
    names = active().names  # (stems of the words the documents write as names: a chat's "in lyon" is one)
    places = [m.group(1) for m in _IN_PLACE.finditer(query.text) if stem(m.group(1).lower()) in names]
    # (A place listed among others, "including in Lyon", is one of the many the figure counts, not its place.)
    return not any(_WORLDWIDE.search(sentence) and numbers_in(sentence)
                   and not re.search(rf"(?<!including )(?<!including in )\b{re.escape(place)}", sentence, re.I)
                   for sentence in split_sentences(stated) for place in places)


_IN_PLACE = re.compile(r"\b(?:in|at|within)\s+(?:the\s+)?([A-Za-z][\w'’-]+)", re.I)


_IN_NAMED_PLACE = re.compile(r"\b(?:in|at|within)\s+(?:the\s+)?([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)")


def _counted_in_one_place(query: Query, stated: str) -> bool:
    """Whether every figure stated is counted in a place the question does not name (a town or region written as a
    name; a country's figure may well be the whole one, and the areas the documents keep apart have their rule)."""
    names = active().names
    counted = counted_of(query)  # (of a 'how many', the sentences counting that thing; a summary has others too)
    figures = [sentence for sentence in split_sentences(stated.replace("\n", " "))
               if (counts_beside(sentence, counted) if counted else numbers_in(sentence))]

    def local(sentence: str) -> bool:
        places = [m.group(1) for m in _IN_NAMED_PLACE.finditer(sentence)]  # ('in New Zealand': the whole name)
        return any(stem(p.split()[0].lower()) in names and not country_of(p)
                   and not any(re.search(pattern, p) for pattern in AREA_PATTERNS.values())
                   and not re.search(rf"\b{re.escape(p)}\b", query.text, re.I) for p in places)

    return bool(figures) and all(local(sentence) for sentence in figures)


def _area_met(query: Query, candidate: Candidate) -> bool:
    """A figure asked for one of the areas the documents keep apart (a whole country) is not one they state only for
    another (its mainland alone): an answer naming another area and not the one asked gives the other's figure."""
    if not query.wants_number or not query.areas or candidate.answerer == "source":
        return True
    named = [{area for area, pattern in AREA_PATTERNS.items() if re.search(pattern, f" {sentence} ")}
             for sentence in split_sentences(_stated(candidate.text).replace("\n", " ")) if numbers_in(sentence)]
    return any(areas & set(query.areas) for areas in named) or not any(named)


# Kinds of body whose names say what they are ('University of Lyon', 'Bank of Ruritania'): "which universities
# …" is answered by a name of one, not by a sentence about "academic institutions" or another kind of body.
_NAMED_KINDS = {"universit": r"\bUniversit|\bUniversidad|\bHochschule", "college": r"\bCollege", "school": r"\bSchool",
                "bank": r"\bBank\b", "hospital": r"\bHospital", "ministr": r"\bMinistry|\bMinisterium|\bDepartment"}
_ASKS_KIND = re.compile(r"^\W*(?:which|what|name the|list the)\s+(?:\w+\s+)?(universit(?:y|ies)|colleges?|schools?|banks?|"
                        r"hospitals?|ministr(?:y|ies))\b", re.I)


def _kind_named(query: Query, candidate: Candidate) -> bool:
    asked = _ASKS_KIND.match(query.text)
    if not asked or query.kind in {"source", "summary"}:
        return True
    kind = next(k for k in _NAMED_KINDS if asked.group(1).lower().startswith(k))
    stated = _stated(candidate.text)  # the body named beside what the question names it for, in its own words
    return bool(re.search(_NAMED_KINDS[kind], stated)) and all(
        re.search(rf"\b{re.escape(word)}", stated, re.I) for name in names_in(query.text) for word in name.split())


_ASKS_COUNTRY = re.compile(CLAUSE_OPENS + r"(?:which|what)\s+(?:\w+\s+)?(?:countr(?:y|ies)|nations?)\b", re.I)


def _country_named(query: Query, candidate: Candidate) -> bool:
    """'Which country …' is answered by naming a country the question does not: 'the UK ranked fifth …' does not
    answer 'which country has the same value added as the UK'."""
    if not _ASKS_COUNTRY.search(query.text) or query.kind in {"source", "summary"}:
        return True
    asked = {c for c in (country_of(n) for n in [*names_in(query.text), *query.areas]) if c}
    return any(country not in asked for _, country in countries_in(_stated(candidate.text)))


_ORDINAL = re.compile(r"\b\d+(?:st|nd|rd|th)\b|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                      r"top|bottom|last)\b", re.I)


def _position_met(query: Query, candidate: Candidate) -> bool:
    """'Where does X come in the table?' is answered by X's place, not by its values alone."""
    if candidate.answerer not in {"table", "table_operation"} or not asks_position(query.text):
        return True
    return bool(_ORDINAL.search(_stated(candidate.text)))


def _stated(text: str) -> str:
    """The answer itself, without citation markers and without the sources or notes listed under it."""
    return _MARKER.sub(" ", text).split("\n\n")[0]


_STRUCTURED = {"table", "table_operation", "summary"}  # answers that say whose each figure is


# "Which region has the most businesses": what the ranking is by, the last word after the superlative.
_RANKED_BY = re.compile(r"\b(?:the\s+)?(?:most|highest|largest|greatest|biggest|fewest|lowest|smallest)\s+"
                        r"((?:[\w&'’-]+\s+){0,4}?[\w&'’-]+?)(?=\s*(?:[?.,;]|$|\b(?:in|of|among|across|for|than|by|and)\b))",
                        re.I)


def _ranked_thing_met(query: Query, candidate: Candidate) -> bool:
    """'Which region has the most businesses?' is answered by a sentence about businesses (or firms, or
    enterprises), not by one saying where employment is most concentrated."""
    found = _RANKED_BY.search(query.text)
    if not found or not query.wants_entity or candidate.answerer in _STRUCTURED:
        return True
    word = found.group(1).split()[-1].lower()
    thing = stem(word)
    if not word.endswith("s") or thing in STOPWORDS or thing.isdigit():
        return True  # things counted ('the most firms'); a measure ('the highest concentration') may be worded otherwise
    return bool(expand({thing}) & set(stems(_stated(candidate.text))))


def _owner_met(query: Query, candidate: Candidate) -> bool:
    """A figure asked of a country must be stated of it: 'Peru had 12% … and has overtaken Chile' gives
    no share for Chile (see evidence.stated_of_others). A summary's bullets are such sentences too."""
    if not query.wants_number or candidate.answerer in _STRUCTURED - {"summary"}:
        return True
    asked = {c for c in (country_of(n) for n in [*names_in(query.text), *query.areas]) if c}
    if not asked:
        return True
    return not stated_of_others(_stated(candidate.text), asked)


_COMPARES = re.compile(r"\b(?:compare[sd]?|comparison|versus|vs\.?|against|than)\b", re.I)


def _sides_met(query: Query, evidence: str) -> bool:
    """'How does the UK compare with X on …' needs the UK's side too: a passage about X alone does not compare
    them. (A country like the UK is read as an area, not a name, so the name check does not ask for it.)"""
    if not query.areas or not names_in(query.text) or not _COMPARES.search(query.text):
        return True
    return all(name_present(area, evidence) for area in query.areas)


def _share_met(query: Query, text: str) -> bool:
    """'What share of …' is answered by a share (a percentage, 'a third'), not by an amount: the documents
    giving a country's exports in dollars do not give its share of the world's."""
    if query.kind in {"source", "summary"} or not ASKS_SHARE_OF.search(query.text):
        return True
    return states_a_share(_stated(text))


def _count_met(ctx: AnswerContext, text: str) -> bool:
    """'How many X' is answered by a count of X ('11,500 enterprises'), not by other numbers near the word
    (the ends of a size band, a share): checked only for things the documents count somewhere."""
    counted = counted_of(ctx.query)
    if not counted or ctx.query.kind not in {"figure", "fact"} or not ctx.query.wants_number:
        return True
    if "_countable" not in ctx.__dict__:  # whether any retrieved sentence counts it: worked out once per question
        ctx.__dict__["_countable"] = any(counts_beside(s, counted) for h in ctx.hits for s in split_sentences(h.chunk.text))
    return not ctx.__dict__["_countable"] or counts_beside(text.split("\n\n")[0], counted)


_BEYOND = re.compile(r"\b(after|beyond|post-?|before|prior to)\s*((?:19|20)\d{2})\b", re.I)


def _years_met(query: Query, text: str) -> bool:
    """A figure asked for a year must be stated beside that year: a 2021 value is no answer for 2011."""
    if not query.years or not (query.wants_number or query.kind in {"figure", "compare"}):
        return True
    stated_years = [int(y) for y in YEAR.findall(text)]
    for side, year in _BEYOND.findall(query.text):
        # "after 2028" asks for a time past it: a period ending in 2028 ("2018-2028") is not that time.
        later = side.lower() in {"after", "beyond", "post", "post-"}
        if not any((y > int(year)) if later else (y < int(year)) for y in stated_years):
            return False
    for year in map(str, query.years):
        # "broadly consistent since 2011" dates a trend, not a value: a figure stated "since" a year is not that year's.
        # A rank asked for is a figure too, when stated in words ('ranked fifth … in 2021').
        dated = re.compile(rf"(?<!since )(?<!since the end of ){year}")
        ranks = bool(RANK_WORDS.search(query.text))
        if not any(dated.search(sentence) and (any(n.strip(" ,.;:") != year and not YEAR.fullmatch(n.strip(" ,.;:"))
                                                   for n in numbers_in(sentence)) or ranks and RANKED_AT.search(sentence))
                   for sentence in split_sentences(text)):
            return False
    return True


def _item_names_met(query: Query, candidate: Candidate) -> bool:
    """A figure stated in one item of a passage's list is that item's: "It has a turnover of €5 billion" in the
    item about Acme is no figure for Elbonia Ltd, named in another item of the same list."""
    names = names_in(query.text)
    if not names or not query.wants_number or candidate.answerer in _STRUCTURED:
        return True
    stated = split_sentences(_stated(candidate.text))[:1]
    if not stated or not _REFERS_BACK_OPENING.match(stated[0]):
        return True  # (a sentence naming its own subject is read by the other checks)
    for item in (i for c in candidate.cites.items for i in bullet_items(c.text)):
        if strip_superscripts(stated[0]).strip()[:60] in strip_superscripts(item):
            return all(name_present(n, item) for n in names)
    return True


# Narrower than evidence._REFERS_BACK on purpose: "The …" or "This …" opens many sentences that name their own
# subject; only a pronoun or "the company" leaves the figure to the item's name.
_REFERS_BACK_OPENING = re.compile(r"^\W*(?:it|its|they|their|the (?:company|firm|group|business))\b", re.I)


def _dated_by_passage(query: Query, text: str, cited: list) -> bool:
    """A figure stated without a year in a passage that states one year, the one asked, is that year's
    ('employs around 135,000 people … This represents 6% of all … in 2023')."""
    if YEAR.search(text) or not cited:
        return False
    passage_years = {int(y) for c in cited for y in YEAR.findall(c.text)}
    return bool(query.years) and passage_years == set(query.years)


def pick(candidates: list[Candidate], scores: list[float], threshold: float) -> Candidate:
    """The most probable candidate; the refusal when it is the refusal or too improbable to state."""
    best = int(np.argmax(scores))
    if candidates[best].refused or scores[best] >= threshold:
        return candidates[best]
    return next((c for c in candidates if c.refused), candidates[best])


_ASKS_YES_NO = re.compile(r"^\W*(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.I)


def honest(query: Query, chosen: Candidate) -> Candidate:
    """The chosen answer, or a refusal that quotes it when what it says shows the question has no answer:
    a 'why' whose premise the figures or the text deny, or a passage saying the asked-for data is not available."""
    if chosen.refused:
        return chosen
    answer = chosen.text.split("\n\n")[0]  # the answer itself, not the sources listed under it
    stated = split_sentences(_MARKER.sub("", answer))
    markers = "".join(dict.fromkeys(_MARKER.findall(answer)))
    if ASKS_REASON.match(query.text):
        # "Why did X grow?" when X fell, or when a passage says it did not: no reason can be given.
        denial = next((s for s in stated if denied_change(query.text, s)), None)
        if denial or chosen.text.startswith("No: "):
            text = f"{NO_PREMISE} {denial} {markers}" if denial else f"{NO_PREMISE} {chosen.text.removeprefix('No: ')}"
            return dataclasses.replace(chosen, refused=True, text=text)
    asked = names_in(query.text)
    if (asked or query.areas) and not _ASKS_YES_NO.match(query.text):
        # "How big is X's surplus?" answered by "X has a deficit"; "what makes X the largest?" by "X is the third
        # largest"; "what fee does X charge?" by "X does not charge a fee".
        about = [s for s in stated if all(name_present(n, s) for n in asked)
                 and all(re.search(AREA_PATTERNS[a], f" {s} ") for a in query.areas)]
        clash = next((s for s in about if contradicted(query.text, s) or denies_asked(query.text, s)), None)
        if clash:
            return dataclasses.replace(chosen, refused=True, text=f"{NO_PREMISE} {clash} {markers}")
    if chosen.text.startswith("No: ") and not _ASKS_YES_NO.match(query.text):
        # "How big is the surplus?" of a deficit: 'no' answers a yes-or-no question; any other has a false premise.
        return dataclasses.replace(chosen, refused=True, text=f"{NO_PREMISE} {chosen.text.removeprefix('No: ')}")
    gap = next((s for i, s in enumerate(stated) if NOT_AVAILABLE.search(s)
                and (i == 0 or any(name_present(n, s) for n in asked))), None)
    if gap and not MENTIONS_REASON.search(query.text):  # (why it is missing is an answer, not a refusal)
        return dataclasses.replace(chosen, refused=True, text=f"{NO_ANSWER} this; they note: “{gap}” {markers}")
    return chosen


PREMISE_SENTENCES = 6  # the best sentences read for one that denies a 'why' question's premise


def reversed_premise(ctx: AnswerContext) -> Candidate | None:
    """A refusal quoting the sentence that says the change a 'why' question takes for granted went the other way
    (or did not happen): 'Why did X's share increase?' when the documents say it decreased. The sentence must
    name what the question names and speak of its rarest topic words (the share, not another measure)."""
    query = ctx.query
    if not (ASKS_REASON.match(query.text) or MENTIONS_REASON.search(query.text)):
        return None
    topic = rarest(topic_stems(query) - change_stems(query.text), ctx.loaded.document_frequency)
    asked = names_in(query.text)
    for evidence in ctx.evidence()[:PREMISE_SENTENCES]:
        sentence = evidence.sentence
        if (reverses_change(query.text, sentence) and all(name_present(n, sentence) for n in asked)
                and all(re.search(AREA_PATTERNS[a], f" {sentence} ") for a in query.areas)
                and all(expand({t}) & set(stems(sentence)) for t in topic)):
            cites = Citations(ctx.loaded)
            return Candidate("refusal", f"{NO_PREMISE} {sentence} {cites.cite(evidence.hit.chunk, sentence)}", cites,
                             refused=True)
    return None


def rival_top(ctx: AnswerContext) -> Candidate | None:
    """A refusal quoting the sentence that gives the top a 'why' question grants to what it names to another:
    'Why does Acmeton have the most widget jobs?' when the documents say Elbonia has the highest widget employment."""
    query = ctx.query
    if not (ASKS_REASON.match(query.text) or MENTIONS_REASON.search(query.text)):
        return None
    common = generic()
    # The names asked, typed capitalised or not ("why does acmeton …"): words the documents write as names.
    asked = names_in(query.text) or list(dict.fromkeys(
        w for w in re.findall(r"[A-Za-z][\w'’-]*", query.text)
        if stem(w.lower()) in ctx.loaded.domain.names and stem(w.lower()) not in common | STOPWORDS))
    if len(asked) != 1:
        return None
    for evidence in ctx.evidence()[:PREMISE_SENTENCES]:
        sentence = evidence.sentence
        if (states_a_top_asked(query.text, sentence, common) and not name_present(asked[0], sentence)
                and names_in(sentence)):  # the top is another's
            cites = Citations(ctx.loaded)
            return Candidate("refusal", f"{NO_PREMISE} {sentence} {cites.cite(evidence.hit.chunk, sentence)}", cites,
                             refused=True)
    return None


def compose(query: Query, hits: list[Hit], loaded, settings: Settings, vector: np.ndarray | None = None,
            embed=None, within: set[tuple[str, str]] | None = None) -> Answer:
    """The answer to a question: every answerer proposes, the fitted chooser picks one or refuses.

    `within` limits answers to passages (document title, locator) of the documents or section asked for:
    a candidate citing anything outside (a table of another document, say) is dropped, whatever answered it.
    """
    ctx = AnswerContext(query=query, hits=hits, loaded=loaded, settings=settings, vector=vector, embed=embed)
    candidates = propose(ctx)
    if within is not None:
        candidates = [c for c in candidates if c.refused or all((i.doc, i.locator) in within for i in c.cites.items)]
    chosen = honest(query, choose(ctx, candidates, load_model())[0])
    if not chosen.refused:
        chosen = reversed_premise(ctx) or rival_top(ctx) or chosen
    if chosen.refused:
        related = [h for h in hits[:3]]

        shown = Citations(loaded)
        return Answer(question=query.text, text=chosen.text, refused=True, kind=query.kind,
                      citations=chosen.cites.items,
                      related=[_related(shown, h) for h in related])
    text = chosen.text
    documents = sorted({c.doc for c in chosen.cites.items})
    if documents and documents != [loaded.report_title]:
        # Say which document a figure comes from whenever it is not (only) the bundled report.
        text += "\n\n" + "Documents: " + "; ".join(documents)
    return Answer(question=query.text, text=text, kind=query.kind, citations=chosen.cites.items, figures=chosen.figures)


def _related(cites, hit: Hit):
    from ingest.records import Citation

    chunk = hit.chunk
    return Citation(doc=chunk.doc_title, locator=chunk.locator, page=chunk.page, section=chunk.section,
                    text=chunk.text, sources=cites.sources(chunk))


__all__ = ["ANSWERER_NAMES", "CANDIDATE_FEATURES", "INTENTS", "QUESTION_FEATURES", "choose", "compose",
           "feature_rows", "honest", "load_model"]
