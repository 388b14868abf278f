"""Words, stems, sentences and numbers: the small text tools the assistant shares."""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.markup import strip_superscripts
from ingest.stemming import english_stemmer

STOPWORDS = set("""
a an the of and or to in on for by with at from as is are was were be been being it its this that these those
what which who whom whose when where why how does do did doing done has have had having will would can could should
may might must shall there their them they than then into over under about across between per each any all some such
me my i we our you your give tell show please according report documents document say says said also much many
number figure value total exact exactly one place decimal what's whats since rather instead whether both either neither
get gets got getting gotten roughly approximately approx around just really actually basically wondering thanks
""".split())  # the last line: chat words that ask nothing ("how many members has it got", "roughly how much")

# Everyday words for general terms of economic reports (any report's own acronyms come from its glossary,
# see assistant/domain.py). Keys and values are stems of words.
SYNONYMS: dict[str, set[str]] = {
    "workforc": {"employ", "employment", "job"}, "job": {"employ", "employment"}, "headcount": {"employ", "employment"},
    "staff": {"employ"}, "work": {"employ", "job"}, "employe": {"employ", "employment"}, "worker": {"employ", "employment"},
    "firm": {"enterpris", "busi", "compani"}, "busi": {"enterpris", "firm"}, "compani": {"enterpris", "firm"},
    "enterpris": {"busi", "firm"},
    "gdp": {"gross"}, "worth": {"valu"}, "spend": {"expenditur"}, "r&d": {"research", "develop"},
    "research": {"r&d"}, "develop": {"r&d"},
    "deficit": {"balanc"}, "surplus": {"balanc"}, "balanc": {"deficit"}, "cagr": {"compound", "growth"},
    "grow": {"growth", "cagr"}, "growth": {"grow", "cagr"}, "rate": {"cagr"}, "rank": {"ranked", "rank"}, "britain": {"gb"}, "gb": {"britain"},
    "product": {"productiv"}, "lead": {"led"}, "led": {"lead"}, "fee": {"charg"}, "fund": {"grant", "fund"}, "grant": {"fund"},
    "add": {"ad"},  # (the stemmer makes 'added' 'ad' but 'adds' 'add')
    # money in and out: what is sold or bought across borders is exported or imported; earnings are turnover
    "money": {"fund", "grant", "financ", "invest"}, "cash": {"fund", "grant", "financ", "invest"},
    "sell": {"export", "turnov", "sale"}, "sold": {"export", "turnov", "sale"}, "sale": {"turnov"},
    "buy": {"import"}, "bought": {"import"}, "purchas": {"import"},
    "revenu": {"turnov", "sale"}, "earn": {"turnov", "revenu"}, "incom": {"turnov", "revenu"}, "turnov": {"revenu", "sale"},
    "govern": {"public"}, "public": {"govern"},
    # making and mending: makers and builders manufacture; fixing is repair
    "maker": {"manufactur"}, "build": {"manufactur"}, "built": {"manufactur"}, "fix": {"repair"},
    # other countries: what is abroad is overseas, foreign, outside the home country
    "attend": {"attract", "visitor", "particip"}, "attende": {"attend", "attract", "visitor", "particip"},
    "visitor": {"attend", "attract"}, "particip": {"attend", "attract", "visitor"},
    "abroad": {"oversea", "foreign", "outsid"}, "oversea": {"abroad", "foreign", "outsid"}, "foreign": {"oversea", "abroad"},
    # what stands in the way: a problem, weakness or hurdle is a challenge
    "problem": {"challeng"}, "weak": {"challeng"}, "difficulti": {"challeng"}, "hurdl": {"challeng"},
    "obstacl": {"challeng", "barrier"}, "challeng": {"problem"},
    # what is aimed at: a target is a goal or an aim
    "target": {"goal", "aim"}, "goal": {"target", "aim"}, "aim": {"target", "goal"},
}

_WORD = re.compile(r"[A-Za-z][A-Za-z&'’-]*|\d[\d,]*(?:\.\d+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?”⁰¹²³⁴⁵⁶⁷⁸⁹])\s+(?=[A-Z“‘(\"-])|\n+")
# A pointer to a part of a document ('Table 1-3', 'section 5.1', 'p. 4'): its numbers are no figures.
LOCATOR_REFERENCE = re.compile(r"\b(?:sections?|paragraphs?|paras?\.?|tables?|figures?|chapters?|footnotes?|pages?|pp?\.)\s*"
                               r"\d+(?:[.\-–]\d+)*", re.I)
YEAR = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
NUMBER = re.compile(r"(?<![\w])(?<!\d\.)[-−]?[$£€]?\s?\d[\d,]*(?:\.\d+)?\s?(?:%|per cent|billion|million|thousand|bn|m\b|k\b)?")
ABBREVIATIONS = ("c.", "e.g.", "i.e.", "vs.", "approx.", "no.", "St.")


@lru_cache(maxsize=50000)
def stem(word: str) -> str:
    word = word.lower().strip("'’-")
    return english_stemmer().stemWord(word)


def words(text: str) -> list[str]:
    """Word and number tokens as printed."""
    return _WORD.findall(strip_superscripts(text))


def stems(text: str, keep_stopwords: bool = False) -> list[str]:
    """Lower-case stems of the content words of a text."""
    return list(_stems(text, keep_stopwords))


@lru_cache(maxsize=16384)  # bounded: at most a few tens of MB of remembered texts
def _stems(text: str, keep_stopwords: bool) -> tuple[str, ...]:
    # Remembered: the same passages and sentences are read for question after question.
    out = []
    for word in words(text):
        low = word.lower()
        if not keep_stopwords and low in STOPWORDS:
            continue
        out.append(stem(low.replace(",", "")) if not low[0].isdigit() else low.replace(",", ""))
    return tuple(out)


def expand(stem_set: set[str], domain=None) -> set[str]:
    """Stems plus their synonyms: everyday ones, and the acronyms of `domain` (default: the documents being
    answered from, see assistant.domain)."""
    domain = domain or _domain()
    # Remembered: the same words are expanded thousands of times a question. Bridges are only ever added,
    # so their count tells a remembered expansion from a stale one.
    key = (frozenset(stem_set), len(domain.bridges))
    known = _EXPANDED.get(key)
    if known is not None and known[0] is domain:
        return set(known[1])
    out = set(stem_set)
    for item in stem_set:
        out |= SYNONYMS.get(item, set())
    out |= domain.expansions(out)  # 'small firms' is 'small enterprises': their acronym too
    if len(_EXPANDED) > 20_000:
        _EXPANDED.clear()
    _EXPANDED[key] = (domain, frozenset(out))
    return out


_EXPANDED: dict[tuple[frozenset[str], int], tuple[object, frozenset[str]]] = {}


@lru_cache(maxsize=1)
def _active_domain():
    from assistant.domain import active  # the documents' vocabulary imports these text tools

    return active


def _domain():
    return _active_domain()()


def split_sentences(text: str) -> list[str]:
    """Sentences and bullet items of a passage (abbreviations like 'c.' do not end a sentence)."""
    return list(_sentences(text))


@lru_cache(maxsize=4096)  # remembered: every answerer reads the same passages, question after question
def _sentences(text: str) -> tuple[str, ...]:
    protected = text
    for abbr in ABBREVIATIONS:
        protected = protected.replace(abbr + " ", abbr.replace(".", "\u2024") + " ")
    parts = [p.strip().replace("\u2024", ".") for p in _SENTENCE_END.split(protected)]
    return tuple(p.lstrip("- ").strip() for p in parts if p and len(p.strip("- ")) > 1)


# Number words by value, general English: 'about eight times as large', 'over the next twenty years'.
SMALL_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()
WORD_NUMBERS = {w: n for n, w in enumerate(SMALL_NUMBERS)} | {"fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
                                                              "fifty": 50, "hundred": 100}


def bullet_items(text: str) -> list[str]:
    """The items of a passage's bulleted list ('- ' lines), without their bullets."""
    return [line.lstrip()[2:] for line in text.split("\n") if line.lstrip().startswith("- ")]


def numbers_in(text: str) -> list[str]:
    """Numbers as printed in a text (with % or scale words where given)."""
    return [n.strip() for n in NUMBER.findall(strip_superscripts(text)) if any(ch.isdigit() for ch in n)]
