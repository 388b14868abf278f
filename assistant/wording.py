"""Chat wording read as plain English: common abbreviations spelt out, typos corrected towards the documents' words.

The abbreviation table is general chat English (it holds for any report). Spelling is corrected only
towards words the indexed documents use, weighted by how often they use them, so a new report brings
its own vocabulary with it. Only the text used for matching changes; the question is shown as asked.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import get_close_matches

from assistant.domain import active
from assistant.glosses import name_measures
from assistant.text import stem

# General chat shorthand (not one report's vocabulary).
CHAT = {
    "ppl": "people", "pple": "people", "approx": "approximately", "aprox": "approximately", "govt": "government",
    "gov": "government", "govts": "governments", "rn": "now", "yr": "year", "yrs": "years", "num": "number",
    "nums": "numbers", "no.": "number", "bc": "because", "b/c": "because", "coz": "because", "cuz": "because",
    "tho": "though", "thru": "through", "w/": "with", "w/o": "without", "wat": "what", "wot": "what",
    "whats": "what is", "hows": "how is", "wheres": "where is", "whos": "who is", "whys": "why is", "u": "you",
    "ur": "your", "r": "are", "pls": "please", "plz": "please", "thx": "thanks", "info": "information",
    "mfg": "manufacturing", "mfr": "manufacturer", "mfrs": "manufacturers", "mgmt": "management",
    "dept": "department", "intl": "international", "natl": "national", "avg": "average", "pct": "per cent",
    "bn": "billion", "mn": "million", "mil": "million", "stats": "statistics", "biz": "business",
    "diff": "difference", "vs": "versus", "v": "versus", "abt": "about", "esp": "especially", "aka": "also known as",
    "yoy": "year on year", "tbh": "", "btw": "", "lol": "", "pls.": "please", "im": "I am", "dont": "do not",
    "doesnt": "does not", "didnt": "did not", "isnt": "is not", "arent": "are not", "cant": "cannot",
}
# A word on its own: the letters of "R&D" or "Q&A" are not words ("r" is chat for "are" only alone).
# Ways of asking for plain words that say nothing about the subject ("English" here is no place).
PLAIN_WORDS = re.compile(r"\b(?:in (?:plain|simple|everyday|layman'?s'?|lay) (?:english|terms|words|language)|"
                         r"in a nutshell|explain like i'?m (?:five|5)|eli5)\b[,:]?", re.I)
# Who the answer is for, said before the question ("For a briefing note: how many …"): not what it is about.
FRAMING = re.compile(r"^\s*(?:(?:for|in) (?:a|my|the|our|an upcoming) (?:briefing|brief|slide|slides|deck|presentation|memo|"
                     r"board paper|paper|note|email|report)(?: note| paper| pack| deck)?|briefing(?: note)?(?: please)?|"
                     r"quick (?:question|q)|question|exact figure(?: please)?|need (?:a|the) (?:number|figure))\s*[:,–—-]\s*",
                     re.I)
_TOKEN = re.compile(r"(?<![\w&])(?:[A-Za-z][A-Za-z'/.]*[A-Za-z/.]|[A-Za-z])(?![\w&])")
MIN_TYPO_LENGTH = 6  # shorter words have too many neighbours one letter away ("stand" is not "stands")


def vocabulary(texts: list[str]) -> Counter:
    """How often the documents use each lowercase word."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]+", text))
    return counts


def correct(word: str, words: Counter) -> str:
    """The documents' most used word within one or two typos of `word`, or the word itself."""
    low = word.lower()
    if low not in words and low.endswith("s") and low[:-1] in words and stem(low[:-1]) in active().names:
        return word[:-1] + "'s"  # "germanys" typed for "Germany's" (a name of the documents', not "caveats")
    if len(low) < MIN_TYPO_LENGTH or low in words or stem(low) in _stems(words):
        return word  # another form of a word the documents use ("compare" for "compared") is no typo
    near = get_close_matches(low, [w for w in words if abs(len(w) - len(low)) <= 2 and w[0] == low[0]], n=3, cutoff=0.84)
    return max(near, key=lambda w: words[w]) if near else word


_STEMS: dict[int, tuple[Counter, set[str]]] = {}


def _stems(words: Counter) -> set[str]:
    """Stems of the documents' words (worked out once per vocabulary)."""
    known = _STEMS.get(id(words))
    if known is None or known[0] is not words:
        known = (words, {stem(w) for w in words})
        _STEMS.clear()
        _STEMS[id(words)] = known
    return known[1]


def normalise(question: str, words: Counter | None = None) -> str:
    """The question with chat shorthand spelt out and typos corrected (towards `words`, when given)."""

    def replace(match: re.Match) -> str:
        token = match.group(0)
        low = token.lower().rstrip(".") if token.lower() not in CHAT else token.lower()
        if low in CHAT:
            return CHAT[low]
        if words is not None and token.isalpha() and not token.isupper():
            return correct(token, words)
        return token

    text = " ".join(_TOKEN.sub(replace, PLAIN_WORDS.sub(" ", FRAMING.sub("", question))).split())
    return name_measures(text, words) if words is not None else text
