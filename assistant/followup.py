"""Follow-up questions in a chat: each question read against the earlier questions of its conversation.

Chat questions lean on what came before: "and in 2011?", "what about Ruritania?", "why?", "who runs it?",
"what's the source for that?". `read_conversation` decides whether the newest question stands on its own
(it is then answered exactly as asked) and, when it does not, writes the standalone question it stands for:

* the slots the new question gives (a year, a name, a measure, a comparison) replace the same slots of
  the previous resolved question, and whatever it leaves out is carried over;
* pronouns and demonstratives ("it", "its", "that", "that programme", "the second one") are replaced by
  what they point back to: the previous question's main name, its topic, or what its answer named;
* why / how / source questions with no topic of their own get the previous topic.

Whether a question is a follow-up is a scored decision (`FOLLOW_UP`): a leading connective, a reference
with nothing in the question to refer to, no subject of its own, shortness, and whether the documents hold
the question's words together with the previous topic's as well as they hold them alone.

Names are the documents' own: phrases the indexed text writes capitalised mid-sentence, table row labels,
glossary terms, the areas query.py knows, and country names (general knowledge, true of any report).
Which earlier name a new one replaces is scored too: listed in the same table, both countries, named
together in the documents' sentences, the same preposition in front ("in Lyon" → "in Lille").
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant import query as _query
from assistant.arithmetic import pointed_at, quantities
from assistant.figures import COUNTRY_SET, MAX_WORDS, MIN_WORDS, denied_change, denies_asked, generic
from assistant.query import Query, analyse
from assistant.text import YEAR, expand, split_sentences, stem, stems
from assistant.wording import CHAT, english_words
from ingest.records import Answer

# The answerer's own word lists where it has them (general English and country aliases).
AREA_ALIASES: dict[str, str] = getattr(_query, "AREA_ALIASES", {})
FILLERS: set[str] = set(getattr(_query, "FILLERS", ())) | {"back", "then", "now", "again", "exactly", "roughly", "actually"}
ORDINALS: dict[str, int] = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                            "eighth": 8, "ninth": 9, "tenth": 10} | getattr(_query, "ORDINALS", {})

# -- general English (true of any report) ---------------------------------------------------------------
WH = {"what", "which", "who", "whom", "whose", "where", "when", "why", "how"}
AUX = {"is", "are", "was", "were", "be", "been", "do", "does", "did", "has", "have", "had", "can", "could", "will",
       "would", "should", "may", "might", "must", "shall"}
PREPS = {"in", "of", "for", "on", "at", "by", "from", "to", "with", "across", "within", "among", "amongst", "between",
         "over", "under", "than", "into", "about", "per", "since", "during", "versus", "vs", "against", "behind",
         "ahead", "outside", "inside", "through", "via", "like", "as"}
ARTICLES = {"the", "a", "an"}
# After a modal a demonstrative is the subject and the next word its verb ("why might that overstate it").
MODALS = {"might", "could", "would", "should", "can", "will", "may", "must"}
PERSONAL = {"it", "they", "them", "he", "she", "him", "itself", "themselves"}
POSSESSIVE = {"its", "their", "his", "her", "theirs"}
DEMONSTRATIVE = {"that", "this", "those", "these"}
DETERMINERS = ARTICLES | POSSESSIVE | DEMONSTRATIVE | {"there", "we", "you", "i", "our", "your", "my", "any", "some",
                                                       "each", "every", "all", "no", "one"}
CONNECTIVES = ("and what about", "and how about", "and what of", "what about", "how about", "what of", "and also",
               "and then", "and for", "the same for", "same for", "same question for", "likewise for", "and", "but",
               "also", "so", "then", "or", "plus", "ok", "okay", "now")
REQUESTS = {"tell", "give", "show", "list", "summarise", "summarize", "explain", "describe", "compare", "define",
            "name", "find", "outline"}
BARE = {"why", "how", "when", "where", "who", "which", "what", "come", "so", "not", "much", "many", "exactly", "by"}
# Words that say what is wanted about a topic, not what the topic is ("the source", "the reason").
INTENT = {"source", "sources", "reference", "references", "citation", "citations", "cited", "evidence", "reason",
          "reasons", "explanation", "detail", "details", "breakdown", "example", "examples", "link", "links", "come",
          "comes", "came", "based", "backs", "back", "figure", "figures", "number", "numbers", "data", "dataset",
          "datasets"}
COMPARE_HEADS = ("compared with", "compared to", "in comparison with", "in comparison to", "relative to", "versus", "vs",
                 "against", "compare with", "compare to", "next to", "alongside", "beside")
# Nouns a "that …" uses for the previous answer's figure or claim rather than for a named thing.
FIGURE_NOUNS = {"figure", "figures", "number", "numbers", "value", "values", "estimate", "estimates", "statistic",
                "statistics", "data", "total", "share", "amount", "rate", "percentage", "ranking", "rank", "claim",
                "finding", "statement", "answer", "result", "results", "fact", "point", "one", "information", "trend"}
OF_THAT = {"on", "of", "for", "about", "behind", "from"}  # "the growth rate on that": of the previous figure
# "… how big was the gap?", "and the total?": the figure the previous question asked, when nothing follows it.
THE_FIGURE = (FIGURE_NOUNS - {"one", "answer", "point", "fact", "information", "claim", "statement", "finding"}) | {
    "gap", "difference", "change"}
NEGATED = {"is": "isn't", "are": "aren't", "was": "wasn't", "were": "weren't", "does": "doesn't", "do": "don't",
           "did": "didn't", "has": "hasn't", "have": "haven't", "can": "can't", "will": "won't", "could": "couldn't",
           "would": "wouldn't", "should": "shouldn't", "might": "might not", "may": "may not"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
          "december", "spring", "summer", "autumn", "winter", "q1", "q2", "q3", "q4", "fy"}
# Words for a document's own furniture: never a name someone asks about.
FURNITURE = {"figure", "table", "section", "annex", "source", "sources", "chapter", "paragraph", "page", "summary",
             "contents", "note", "notes", "box", "appendix", "introduction", "disclaimer", "ibid", "undated"}
# "It" that stands for no thing: "is it true that …", "was it hard for … to …", "how much does it cost to …".
_ADJECTIVES = (r"true|possible|likely|the case|fair|right|correct|worth|said|clear|known|expected|hard|easy|difficult|"
               r"important|necessary|usual|common|unusual|surprising")
EXPLETIVE_IT = re.compile(rf"\bit\s+(?:is|was|be|has been|seems|seemed)\s+(?:{_ADJECTIVES})\b|"
                          rf"\b(?:is|was|isn't|wasn't)\s+it\s+(?:{_ADJECTIVES})\b|"
                          r"\b(?:does|did|do|will|would|could)\s+it\s+(?:cost|take|matter|suggest|mean|imply|indicate)\b",
                          re.I)
PEOPLE_PRONOUNS = frozenset({"they", "them", "he", "she", "him", "her"})  # who was named, never a figure
# ("Where did that come from?" asks a source; "how many of them come from abroad?" asks where people are from.)
SOURCE_WORDS = re.compile(r"\b(?:come|comes|came)\s+from\s*(?:[?.!]|$)|\bsources?\b|\breferences?\b|\bcited\b|\bcitation|"
                          r"\bwhose\s+(?:data|figures?|numbers?|statistics|analysis)\b|\bdatasets?\b", re.I)
# Nouns a "this …" uses for the document or the chat itself ("this report"), not for an earlier answer.
DOCUMENT_NOUNS = ("report", "document", "study", "paper", "publication", "asses", "analys", "review", "chat",
                  "conversation", "page", "site", "tool", "assistant", "question")
ORDINAL_REF = re.compile(r"\bthe\s+(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|latter|former)"
                         r"(?:\s+(?:one|ones|item|of\s+(?:them|those|these))\b|(?=\s*[?.!,]?\s*$))", re.I)

ORDINAL_WORDS = set(ORDINALS) | {"last", "latter", "former"}
# "a typical one", "the biggest one", "which one": one of the things the previous question asked about.
_ONE_REF = re.compile(r"\b(?:a|an|the|each|every|which|this|that)\s+(?:(?!(?:first|second|third|fourth|fifth|sixth|"
                      r"seventh|eighth|ninth|tenth|last|latter|former|no|any|other|same)\b)[a-z]+\s+)?(one)\b(?!\s+of\b)",
                      re.I)
FOLLOW_UP = 3.0  # score at which a question is read as a follow-up (see `_score`)

_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?%?|[A-Za-z][A-Za-z0-9&\-]*(?:\.[A-Za-z]+)*\.?(?<!\.)|['’](?:s|re|ve|ll|d|m|t)?\b|[^\sA-Za-z0-9]")
# A pronoun followed by a change ("it got worse", "has it grown"): the earlier figure is what changed.
_CHANGE_AFTER = re.compile(r"\s+(?:(?:has|have|had|did|does|do|is|was)\s+)?(?:got|gotten|become|been|really\s+)?\s*"
                           r"(?:worse|better|bigger|smaller|larger|grow\w*|grew|rise\w*|rose|fall\w*|fell|chang\w*|"
                           r"increas\w*|decreas\w*|declin\w*|widen\w*|narrow\w*|improv\w*|shr[iau]nk\w*|drop\w*|"
                           r"go(?:ne)? (?:up|down)|went (?:up|down))\b", re.I)
# Words that set one thing against another without saying on what ("how does X compare", "where does X come").
_RELATIONAL = {stem(w) for w in "compare comparison behind ahead rank ranking come stack fare far position place stand "
               "sit differ versus vs up down bigger larger smaller higher lower greater more less better worse".split()}
_NOW = {"now", "today", "currently", "nowadays", "presently"}
# General nouns for a body or a scheme: "the project" in a follow-up is the one just asked about.
_BODY_NOUNS = {"project", "programme", "program", "scheme", "initiative", "fund", "network", "organisation",
               "organization", "institute", "association", "company", "firm", "centre", "center", "body", "partnership"}
# Words after "is that …" that say something of it, not name a thing ("is that up or down", "is that bigger").
_PREDICATES = {"up", "down", "out", "off", "over", "higher", "lower", "bigger", "smaller", "larger", "more", "less",
               "better", "worse", "right", "true", "correct", "high", "low", "big", "small", "good", "bad", "new", "old"}
# Verbs a "that" standing for the earlier figure or claim takes ("how does that compare", "what does that mean").
_VERBS_OF_A_FIGURE = {stem(w) for w in "compare mean come happen differ include cover stack rank fit look work relate "
                      "match matter".split()}
# "for what year?", "which year is that for?", "when was that?": the time the previous figure or event belongs to
TIME_ASKED = re.compile(r"^(?:(?:and|so|but|ok|okay)\s*,?\s+)?(?:(?:for|in|from|as of)\s+)?(?:what|which)\s+(?:year|date|period|"
                        r"month|time)s?(?:\s+(?:is|was|are|were|does|did)\s+(?:that|this|it|those|these)(?:\s+\w+)?)?(?:\s+for)?"
                        r"\s*[?.!]*$|^(?:(?:and|so|but)\s+)?when\s+(?:is|was|were)\s+(?:that|this|it)(?:\s+from)?\s*[?.!]*$", re.I)
_SINCE_THEN = re.compile(r"\bsince then\b", re.I)
# "What prompted that?", "what was behind it", "how come": the cause of what was just asked (general English).
CAUSE_ASKED = re.compile(r"^(?:(?:and|so|but|ok|okay)\s*,?\s+)?(?:(?:what|which)\s+(?:\w+\s+)?(?:prompted|caused|causes|drove|"
                         r"drives|triggered|led to|leads to|explains?|(?:is|was|lies|lay|are|were) behind|"
                         r"(?:is|was|are|were) (?:driving|causing|prompting|explaining)|(?:is|was|were|are) "
                         r"the (?:reasons?|cause|causes|drivers?) (?:for|of|behind))\s+(?:that|this|it|those|these|them)"
                         r"(?:\s+to\s+(?:do|happen)(?:\s+(?:that|this|so|it))?)?"
                         r"|how come)\s*[?.!]*$", re.I)
# "Why did they go down that route?", "why would it do that": why, of what the previous question asked about.
# "where do those come from?" after figures or findings: where the earlier answer comes from, i.e. its source
# (after "who runs it?" the same words ask where a body is from, so not then: see read()).
WHERE_FROM = re.compile(r"^(?:(?:and|so|but|ok|okay)\s*,?\s+)?where(?:\s+(?:do|does|did)\s+(?:that|this|it|those|these|"
                        r"they|them)\s+(?:come|comes|came)|(?:['’]s|\s+(?:is|are|was|were))\s+(?:that|this|those|"
                        r"these)(?:\s+(?:figure|number|data|stat|statistic|one)s?)?)\s+from\s*[?.!]*$", re.I)
DOING_THAT = re.compile(r"^(?:(?:and|so|but|ok|okay)\s*,?\s+)?why\s+(?:did|do|does|would|might|have|has|had)\s+(?:they|it|he|"
                        r"she|we|you)\s+(?:do|go|take|choose|pick|adopt|make|decide|opt|follow|try)\b(?:\s+\w+){0,2}?\s+"
                        r"(?:that|this|it|so|those|these)(?:\s+(?:route|path|way|approach|step|move|choice|decision))?"
                        r"\s*[?.!]*$", re.I)
_SHORTHAND = re.compile(r"(?<![\w'’&])(?:" + "|".join(re.escape(k) for k in sorted(CHAT, key=len, reverse=True)
                                                       if k.isalpha() and k.islower()) + r")(?![\w'’&])")
_YEAR = re.compile(r"^(1[89]\d{2}|20\d{2})$")
# An attribution after a short question ("why, according to Acme?", "how come, in Elbonia's view?"): who says
# it, not what is asked.
_ATTRIBUTED = re.compile(r"^\s*((?:[\w'’-]+\s*){1,3}?)\s*,?\s+(?:according to|in the view of|in the words of)\s+"
                         r"((?:[\w&'’.-]+\s*){1,6})\s*[?.!]*\s*$", re.I)
# A name put first, then a question about it by pronoun: "and Kent, how is it split?"
_FRONTED = re.compile(r"^\s*(?:(?:and|so|but|ok|okay|now)\s+)?(?:(?:what|how)\s+about\s+)?"
                      r"((?:[\w&'’-]+\s+){0,3}[\w&'’-]+)\s*,\s*"
                      r"(?=(?:what|which|who|where|when|why|how|is|are|was|were|do|does|did|can)\b)"
                      r"(?=(?:[\w'’-]+\s+){0,5}?(?:it|its|that|this|they|them|their)\b)(?:\S+\s*){1,7}$", re.I)


@dataclass
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def word(self) -> bool:
        return self.text[:1].isalnum()


def _participle(token: Token) -> bool:
    """A word in -ed after a demonstrative is a verb ("how many of those involved SMEs?"), not the noun it names."""
    return len(token.low) > 4 and token.low.endswith("ed")


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


@dataclass
class Span:
    """A name, time or run of content words found in a question, as character offsets into it."""

    start: int  # including a leading article
    end: int  # including a trailing possessive
    core: str  # the words themselves, e.g. "Costa Rica"
    key: str = ""  # lowercase form of a name
    article: bool = False
    possessive: str = ""  # "'s", "'" or ""
    prep: str | None = None  # the preposition in front, if any
    first: int = 0  # index of the first token of the core
    last: int = 0  # index of the last token of the core


@dataclass
class Slots:
    """What one question says: names, times, content words, references, and how it is framed."""

    text: str
    toks: list[Token]
    body: int  # index of the first token after a leading connective
    connective: str | None
    frame: bool  # starts (after the connective) with a wh-word or an auxiliary: a whole question
    names: list[Span] = field(default_factory=list)
    times: list[Span] = field(default_factory=list)
    runs: list[Span] = field(default_factory=list)
    refs: list[tuple[int, int, str, str]] = field(default_factory=list)  # start, end, kind, word(s)
    compare: Span | None = None  # "compared with X": the new comparison target


@dataclass
class Reading:
    """How one chat question was read."""

    question: str  # as asked
    resolved: str  # the standalone question answered (the question itself when it stands alone)
    rewritten: bool = False
    score: float = 0.0
    how: list[str] = field(default_factory=list)  # what was carried over or replaced


# -- the documents' names ---------------------------------------------------------------------------------
class Names:
    """Proper names of one index generation, with which ones go together."""

    def __init__(self, chunks, glossary=(), document_frequency: dict[str, int] | None = None):
        capital: Counter = Counter()
        surface: dict[str, Counter] = defaultdict(Counter)
        with_the: Counter = Counter()
        self.tables: dict[str, set[int]] = defaultdict(set)
        sentences: list[list[Token]] = []
        for chunk in chunks:
            if chunk.table is not None:
                for row in chunk.table.rows:
                    label = row.entity.strip()
                    if label and all(w[:1].isupper() or not w[:1].isalpha() for w in label.split()):
                        self.tables[label.lower()].add(hash((chunk.locator, chunk.table.panel)))
                        surface[label.lower()][label] += 3
                        capital[label.lower()] += 1
                continue
            for sentence in split_sentences(chunk.text):
                sentences.append(tokens(sentence))
        for toks in sentences:
            for i in range(len(toks)):
                for n in range(1, 6):
                    part = toks[i:i + n]
                    if len(part) < n or not all(t.word or t.text == "&" for t in part):
                        break
                    # A sentence's first word is capitalised anyway: it counts only as an acronym or a longer name.
                    if not _capitalised(part) or (i == 0 and n == 1 and not _acronym(part[0].text)
                                                  and part[0].low in english_words()):
                        continue  # (a capitalised first word no dictionary holds is a name: "Zentrix is …")
                    key = " ".join(t.low for t in part)
                    capital[key] += 1
                    surface[key][" ".join(t.text for t in part)] += 1
                    if i > 0 and toks[i - 1].low == "the":
                        with_the[key] += 1
        total: Counter = Counter()
        lower: Counter = Counter()  # written in lower case
        for toks in sentences:
            lows = [t.low for t in toks]
            for i in range(len(toks)):
                for n in range(1, min(6, len(toks) - i + 1)):
                    key = " ".join(lows[i:i + n])
                    if i == 0 and n == 1 and lows[0] in english_words():
                        continue  # not counted as capitalised above either: a first word tells nothing
                    if key in capital:
                        total[key] += 1
                        lower[key] += toks[i].text[:1].islower()
        self.proper: dict[str, str] = {}
        self.count: dict[str, int] = {}
        self.the: set[str] = set()
        self.never_lower: set[str] = set()  # names the documents never write in lower case
        for key, n in capital.items():
            words = key.split()
            if (words[0] in CONNECTORS or words[-1] in CONNECTORS or all(w in FUNCTION or w in FURNITURE for w in words)
                    or words[0] in MONTHS or any(w[:1].isdigit() for w in words)):
                continue
            if " and " in key and capital[key.rsplit(" and ", 1)[1].removeprefix("the ")] >= n + 2:
                continue  # "Oxfam and UNICEF": two names listed together, not one name
            if n >= 0.75 * max(total[key], n):
                self.proper[key] = surface[key].most_common(1)[0][0]
                self.count[key] = n
                if with_the[key] >= 0.5 * n:
                    self.the.add(key)
                if not lower[key]:
                    self.never_lower.add(key)
        for entry in glossary:
            for term in (entry.term, getattr(entry, "meaning", "")):
                if term and term.lower() not in self.proper and len(term) < 80:
                    self.proper[term.lower()] = term
                    self.count[term.lower()] = max(self.count.get(term.lower(), 0), 3)
        for alias in AREA_ALIASES:
            self.proper.setdefault(alias, alias.upper() if len(alias) <= 3 else alias.title())
            self.count.setdefault(alias, 3)
        self.longest = max((len(k.split()) for k in self.proper), default=1)
        # Names mentioned in the same sentence: peers (the places of one list, the partners of one project).
        self.together: Counter = Counter()
        for toks in sentences:
            found = sorted({s.key for s in self.find_in(toks, "")})
            for a in range(len(found)):
                for b in range(a + 1, len(found)):
                    self.together[(found[a], found[b])] += 1
        self.document_frequency = document_frequency or {}
        self.chunk_stems = [set(stems(c.search_text())) for c in chunks]

    # A name someone types in lower case counts only if it has several words or the documents never write it so.
    def known(self, key: str, typed: str) -> bool:
        if key in self.proper:
            if typed[:1].isupper() or " " in key or key in self.never_lower or key in AREA_ALIASES:
                return True
        return key in COUNTRY_SET

    def find(self, text: str, skip: int = 0) -> list[Span]:
        return self.find_in(tokens(text), text, skip)

    def find_in(self, toks: list[Token], text: str, skip: int = 0, unknown: bool = False) -> list[Span]:
        """Names in a tokenised text (longest first); `unknown` adds capitalised words the documents lack."""
        out: list[Span] = []
        i = skip
        while i < len(toks):
            match = 0
            for n in range(min(self.longest, len(toks) - i), 0, -1):
                part = toks[i:i + n]
                if not all(t.word or t.text == "&" for t in part):
                    continue
                key = " ".join(t.low for t in part)
                if self.known(key, part[0].text):
                    match = n
                    break
            if not match and unknown and toks[i].word and toks[i].text[:1].isupper() \
                    and (i > skip or _acronym(toks[i].text)) \
                    and toks[i].low not in FUNCTION and toks[i].low not in MONTHS and not toks[i].text[:1].isdigit():
                match = 1
                while i + match < len(toks) and toks[i + match].word and toks[i + match].text[:1].isupper():
                    match += 1
            if match:
                out.append(self._span(toks, i, i + match - 1, text))
                i += match
            else:
                i += 1
        return out

    def _span(self, toks: list[Token], first: int, last: int, text: str) -> Span:
        core = " ".join(t.text for t in toks[first:last + 1])
        start, end = toks[first].start, toks[last].end
        article = first > 0 and toks[first - 1].low == "the"
        if article:
            start = toks[first - 1].start
        possessive = ""
        if last + 1 < len(toks) and toks[last + 1].text in ("'s", "’s", "'", "’"):
            possessive = "'s" if toks[last + 1].text.endswith("s") else "'"
            end = toks[last + 1].end
        elif core.endswith("'") or core.endswith("’"):
            possessive, core = "'", core[:-1]
        prep = _prep_before(toks, first - (1 if article else 0))
        return Span(start=start, end=end, core=core, key=core.lower(), article=article, possessive=possessive, prep=prep,
                    first=first, last=last)

    def is_country(self, key: str) -> bool:
        return key in COUNTRY_SET or key in AREA_ALIASES or bool(self.tables.get(key))

    def peer(self, a: str, b: str) -> float:
        """How alike two names are as things of one kind (0: nothing in common)."""
        score = 0.0
        if self.is_country(a) and self.is_country(b):
            score += 3
        if self.tables.get(a, set()) & self.tables.get(b, set()):
            score += 2
        together = self.together.get((min(a, b), max(a, b)), 0)
        return score + min(together, 3) / 3

    def writes_the(self, key: str) -> bool:
        return key in self.the or key in {"uk", "us", "usa", "united kingdom", "united states", "netherlands"}

    def surface(self, key: str, typed: str) -> str:
        if typed[:1].isupper() or key not in self.proper:
            return typed if typed[:1].isupper() or key not in COUNTRY_SET else typed.title()
        return self.proper[key]

    def coverage(self, wanted: set[str]) -> float:
        """Best share (idf-weighted) of `wanted` that one passage holds together."""
        if not wanted or not self.chunk_stems:
            return 0.0
        n = len(self.chunk_stems)
        weight = {s: math.log(1 + n / (1 + self.document_frequency.get(s, 0))) for s in wanted}
        whole = sum(weight.values())
        return max(sum(weight[s] for s in wanted & have) for have in self.chunk_stems) / whole


CONNECTORS = {"and", "of", "the", "for", "de", "in", "&", "on", "to", "at"}
FUNCTION = (WH | AUX | PREPS | ARTICLES | PERSONAL | POSSESSIVE | DEMONSTRATIVE | DETERMINERS | FILLERS
            | {"and", "or", "but", "not", "no", "also", "so", "then", "more", "most", "less", "least", "many", "much",
               "how", "about", "there", "here", "same", "other", "else", "if", "whether", "please", "tell", "me",
               "give", "show", "us", "i", "we", "you", "ok", "okay", "now", "just", "only", "still", "yet",
               "again", "too", "very", "really", "come", "like", "ever", "one", "ones", "however",
               "what's", "it's", "that's", "there's", "do", "get", "got", "go", "say", "says", "said", "know",
               "think", "reckon", "suppose", "guess",  # "why do you think?": a hedge names nothing
               "stuff", "things", "thing"})  # "and the widget stuff?": a vague noun names nothing either
_CACHE: dict[str, Names] = {}
_CACHE_LOCK = threading.Lock()


def names_for(loaded) -> Names:
    """The Names of a loaded index generation (built once per generation)."""
    with _CACHE_LOCK:
        names = _CACHE.get(loaded.name)
    if names is None:
        names = Names(loaded.chunks, loaded.glossary, loaded.document_frequency)
        with _CACHE_LOCK:
            if len(_CACHE) >= 4:
                _CACHE.clear()
            _CACHE[loaded.name] = names
    return names


def _capitalised(part: list[Token]) -> bool:
    words = [t for t in part if t.low not in CONNECTORS]
    if not words or part[0].low in CONNECTORS or part[-1].low in CONNECTORS:
        return False
    return all(t.text[:1].isupper() or (t.text[:1].isdigit() and len(part) > 1) for t in words) \
        and part[0].text[:1].isupper()


def _acronym(word: str) -> bool:
    """"NASA", "eBay", "AT&T": capitals after the first letter (never just a capitalised word)."""
    return len(word) > 1 and any(c.isupper() for c in word[1:])


def _prep_before(toks: list[Token], index: int, skip: set[int] = frozenset()) -> str | None:
    j = index - 1
    while j >= 0 and (toks[j].low in ARTICLES or toks[j].text in ("'s", "’s", "'", "’") or j in skip):
        j -= 1
    return toks[j].low if j >= 0 and toks[j].low in PREPS else None


# -- reading one question --------------------------------------------------------------------------------
def _normalise(text: str) -> str:
    text = " ".join(text.split())
    text = _SHORTHAND.sub(lambda m: CHAT[m.group(0)] or m.group(0), text)  # "wat about mexico"
    text = re.sub(r"\b(what|who|where|how)s\b", r"\1 is", text, flags=re.I)  # chat spelling: "whats"
    text = re.sub(r"(?<![\w'’])['’]?([2-9]0)s\b", r"19\1s", text)  # "the late 80s": the 1980s
    return re.sub(r"\b(what|who|where|how|it|that|there)['’]s\b", r"\1 is", text, flags=re.I)


def slots(text: str, names: Names, unknown: bool = False) -> Slots:
    """The names, times, content words and references of a question."""
    text = _normalise(text)
    toks = tokens(text)
    lows = [t.low for t in toks]
    connective = next((c for c in CONNECTIVES if lows[:len(c.split())] == c.split()), None)
    body = len(connective.split()) if connective else 0
    while body < len(toks) and not toks[body].word:
        body += 1
    first = toks[body].low if body < len(toks) else ""
    # A whole question: an auxiliary or a request first, or a wh-word anywhere ("jobs in 2010 how many").
    frame = first in AUX or first in REQUESTS or any(t.low in WH for t in toks[body:])
    found = Slots(text=text, toks=toks, body=body, connective=connective, frame=frame)
    taken: set[int] = set()
    # Times: a year, with a month or season in front of it, or a decade ("the late 1980s").
    for i, t in enumerate(toks):
        if _YEAR.match(t.text):
            first_i = i - 1 if i > 0 and toks[i - 1].low in MONTHS else i
            last_i = i + 1 if i + 1 < len(toks) and toks[i + 1].low == "s" and toks[i + 1].start == t.end else i
            if last_i > i:
                first_i -= first_i > 0 and toks[first_i - 1].low in {"early", "late", "mid"}
                first_i -= first_i > 0 and toks[first_i - 1].low == "the"
            found.times.append(Span(start=toks[first_i].start, end=toks[last_i].end,
                                    core=text[toks[first_i].start:toks[last_i].end],
                                    prep=_prep_before(toks, first_i), first=first_i, last=last_i))
            taken |= set(range(first_i, last_i + 1))
    for i, t in enumerate(toks):  # "now", "today": the latest the documents give, in place of a year asked before
        if i >= body and t.low in _NOW and i not in taken:
            found.times.append(Span(start=t.start, end=t.end, core=t.text, prep=None, first=i, last=i))
            taken.add(i)
    for span in names.find_in(toks, text, body, unknown=unknown):
        if not any(k in taken for k in range(span.first, span.last + 1)):
            found.names.append(span)
            taken |= set(range(span.first, span.last + 1))
    # References: pronouns, demonstratives and ordinals with nothing in the question to refer to.
    for m in ORDINAL_REF.finditer(text):
        found.refs.append((m.start(), m.end(), "ordinal", m.group(1).lower()))
    expletive = EXPLETIVE_IT.search(text)

    def said_before(i: int) -> tuple[bool, int]:
        """Whether a name comes before token i in the question, and how many content words do."""
        named = any(n.last < i for n in found.names) or any(
            toks[j].low == "the" and toks[j + 1].word and toks[j + 1].low not in FUNCTION | INTENT
            and toks[j + 1].low not in ORDINAL_WORDS for j in range(body, i - 1))  # "the fourth one - its …" leans back
        # The words right after a wh-word ask what is wanted ("which report identified them?", "how many jobs
        # does it have?"): they are not what the pronoun stands for.
        asked: set[int] = set()
        if body + 1 < i and toks[body].low in {"which", "what", "whose"}:
            asked.add(body + 1)  # "which report …"
        elif body + 2 < i and toks[body].low == "how" and toks[body + 1].low in {"many", "much"}:
            j = body + 2  # "how many installation and repair jobs …"
            while j < i and toks[j].word and (toks[j].low not in FUNCTION or toks[j].low == "and"):
                asked.add(j)
                j += 1
        words = sum(1 for k, t in enumerate(toks[body:i], body) if t.word and t.low not in FUNCTION and t.low not in INTENT
                    and not _YEAR.match(t.text) and k not in asked)
        return named, words

    content_words = sum(1 for t in toks[body:] if t.word and t.low not in FUNCTION | INTENT and not _YEAR.match(t.text))
    # A name a possessive owns ("its own research", "their exports") is what the pronoun's referent has, not the referent.
    free_names = [n for n in found.names if not any(toks[k].low in POSSESSIVE for k in range(max(body, n.first - 2), n.first))]

    for i, t in enumerate(toks):
        if i < body or any(s <= t.start < e for s, e, _, _ in found.refs):
            continue
        named, words = said_before(i)
        ordinal = any(kind == "ordinal" and e <= t.start for _, e, kind, _ in found.refs)
        if (t.low in PERSONAL or t.low in POSSESSIVE) and not ordinal and (
                named or words >= 2 or (free_names and content_words >= 3)):
            continue  # "how big were X's imports than its exports", "after its first years, … X …": said here
        closes = i + 1 >= len(toks) or not toks[i + 1].word  # "… the annual growth rate on that?": the last word
        if t.low in DEMONSTRATIVE and words >= 3 and not (closes and i and toks[i - 1].low in OF_THAT):
            continue  # "a new organisation like this, according to …": said of something in the question
        if t.low in PERSONAL and not (t.low == "it" and expletive):
            found.refs.append((t.start, t.end, "entity", t.low))
        elif t.low in POSSESSIVE:
            found.refs.append((t.start, t.end, "possessive", t.low))
        elif t.low in DEMONSTRATIVE:
            before = toks[i - 1].low if i > 0 else ""
            after = toks[i + 1] if i + 1 < len(toks) else None
            last = after is None or not after.word  # "who reported that?": nothing follows, so it points back
            if before and before not in FUNCTION and before not in WH and before not in REQUESTS and not last:
                continue  # "the claim that …", "countries that have …": a conjunction or relative pronoun
            if any(t2.low.startswith(DOCUMENT_NOUNS) for t2 in toks[i + 1:i + 3]):
                continue  # "this report", "this market study": the document itself
            if named and after is not None and after.word and after.low not in FUNCTION | INTENT:
                continue  # "where does the claim come from that …": a conjunction
            if after is not None and (after.low in DETERMINERS or after.low in PERSONAL
                                      or (after.text[:1].isupper() and after.word)):
                continue  # "… that the UK …": a conjunction
            noun = None
            if after is not None and after.word and after.low not in FUNCTION | _PREDICATES and not _participle(after):
                later = toks[i + 2] if i + 2 < len(toks) else None
                verb_next = before in MODALS or (
                    before in AUX and (later is None or not later.word or later.low in PREPS))
                if not verb_next:
                    noun = after
            end = noun.end if noun else t.end
            found.refs.append((t.start, end, "topic" if noun is None or noun.low in FIGURE_NOUNS else "noun",
                               noun.low if noun else t.low))
            taken |= {i} | ({i + 1} if noun else set())
        elif (t.low == "the" and not found.names and i + 1 < len(toks) and toks[i + 1].low in THE_FIGURE
              and (i + 2 >= len(toks) or not toks[i + 2].word
                   or (toks[i + 2].low in {"in", "for", "by"} and i + 3 < len(toks) and _YEAR.match(toks[i + 3].text)))):
            found.refs.append((t.start, toks[i + 1].end, "topic", toks[i + 1].low))  # "how big was the gap?": that one
        elif (t.low == "there" and not named and not found.names and i > body and toks[i - 1].word
              and toks[i - 1].low not in AUX | WH | PREPS
              and (i + 1 >= len(toks) or not toks[i + 1].word or toks[i + 1].low in PREPS)):
            found.refs.append((t.start, t.end, "place", t.low))  # "how many people work there?" (not "are there …")
        elif t.low == "same" and i > 0 and toks[i - 1].low == "the" and (
                i + 1 >= len(toks) or not toks[i + 1].word or toks[i + 1].low in FUNCTION):  # not "the same board"
            found.refs.append((toks[i - 1].start, t.end, "topic", "the same"))
    if not found.refs and not found.names:
        # "When does the project end?" right after a question about one: that project (a general noun for a body
        # or scheme, with nothing in the question to say which)
        for i, t in enumerate(toks[:-1]):
            if i >= body and t.low == "the" and toks[i + 1].low in _BODY_NOUNS and (
                    i + 2 >= len(toks) or not toks[i + 2].text[:1].isupper()):
                found.refs.append((t.start, toks[i + 1].end, "noun", toks[i + 1].low))
                break
    if not found.names:
        for m in _ONE_REF.finditer(text):  # "how big is a typical one?": one of the things asked about before
            if not any(s <= m.start(1) < e for s, e, _, _ in found.refs):
                found.refs.append((m.start(1), m.end(1), "one", "one"))
    for s, e, _, _ in found.refs:
        taken |= {i for i, t in enumerate(toks) if s <= t.start < e}
    # A comparison target: "compared with Ruritania", "versus Elbonia".
    for head in COMPARE_HEADS:
        m = re.search(rf"\b{head}\s+(.+?)\s*[?.!]*$", text, re.I)
        if m:
            target = next((n for n in found.names if n.start >= m.start(1) - 4), None)
            found.compare = target or Span(start=m.start(1), end=m.end(1), core=m.group(1))
            taken |= {i for i, t in enumerate(toks) if t.start >= m.start()}
            break
    # Content words: what is left once function words, names, times and references are taken out.
    in_names = {i for n in found.names for i in range(n.first, n.last + 1)}
    run: list[int] = []

    def close() -> None:
        while run and toks[run[-1]].low in {"and", "&", ",", "-", "/"}:
            run.pop()
        if run:
            start, end = toks[run[0]].start, toks[run[-1]].end
            found.runs.append(Span(start=start, end=end, core=text[start:end], prep=_prep_before(toks, run[0], in_names),
                                   first=run[0], last=run[-1]))
        run.clear()

    for i, t in enumerate(toks):
        content = i >= body and i not in taken and t.word and t.low not in FUNCTION and not _YEAR.match(t.text) \
            and t.low not in MONTHS
        if content:
            run.append(i)
        elif run and t.low in {"and", "&", ",", "-", "/"} and i + 1 < len(toks) and toks[i + 1].word \
                and toks[i + 1].low not in FUNCTION and (i + 1) not in taken:
            run.append(i)
        else:
            close()
    close()
    found.runs = [_whole_quote(run, text, toks) for run in found.runs]
    return found


# A term in quotes ("'other general purpose widgets'") is one name, its function words included.
_QUOTED = re.compile(r"(?:(?<=\s)|^)['‘\"“]([^'’\"”]{3,}?)['’\"”](?![A-Za-z])")


def _whole_quote(run: Span, text: str, toks: list) -> Span:
    """The run widened to the quotes around it, when it is the content of a quoted term."""
    for quoted in _QUOTED.finditer(text):
        start, end = quoted.span(1)
        if start <= run.start and run.end <= end and (run.start, run.end) != (start, end):
            inside = [i for i, t in enumerate(toks) if start <= t.start < end]
            return dataclasses.replace(run, start=start, end=end, core=text[start:end], first=inside[0], last=inside[-1])
    return run


def _stems_of(span: Span) -> set[str]:
    return set(stems(span.core))


def _key_stems(found: Slots) -> set[str]:
    out: set[str] = set()
    for span in found.runs + found.names:
        out |= _stems_of(span)
    return out


def _replace(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, key=lambda e: -e[0]):
        text = text[:start] + new + text[end:]
    return _tidy(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([?.!,;:'’])(?!\w)", r"\1", " ".join(text.split()))
    text = re.sub(r"\s+(['’]s)\b", r"\1", text)
    text = re.sub(r"\bthe the\b", "the", text, flags=re.I)
    text = text.strip(" ,")
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith(("?", ".", "!")) else text + "?"


def _phrase(name: Span, names: Names) -> str:
    """A new name as the documents write it, with its article and the possessive it was typed with."""
    core = names.surface(name.key, name.core)
    article = name.article or names.writes_the(name.key)
    possessive = ("'" if core.endswith("s") and not core.isupper() else "'s") if name.possessive else ""
    return f"{'the ' if article else ''}{core}{possessive}"


def _noun_phrase(found: Slots, span: Span) -> tuple[int, int]:
    """A name and the content words right after it ("the Lyon wine trade")."""
    following = next((r for r in found.runs if r.first == span.last + 1), None)
    return span.start, following.end if following is not None and _modifies(found, span) else span.end


def _phrase_text(found: Slots, span: Span) -> str:
    start, end = _noun_phrase(found, span)
    return found.text[start:end]


def _modifies(found: Slots, span: Span) -> bool:
    """True when a name qualifies the words after it ("the Lyon office"), not when they are its verb."""
    first = span.first - (1 if span.article else 0)
    after_aux = first > 0 and found.toks[first - 1].low in AUX | WH
    return not span.possessive and not after_aux and any(r.first == span.last + 1 for r in found.runs)


def topic(question: str, drop_times: bool = False) -> str:
    """The previous question as a noun phrase: "What was France's GDP in 2021?" → "France's GDP in 2021".

    `drop_times` leaves its dates out (the follow-up gives its own: "what was it in 2011?").
    """
    text = _normalise(question).rstrip(" ?.!")
    if drop_times:
        text = re.sub(r"\s*\b(?:in|for|during|by|between|from|since|as of)\s+(?:(?:the end of|end of|early|late|mid)\s+)?"
                      r"(?:[A-Za-z]+\s+)?(?:1[89]\d{2}|20\d{2})(?:\s*(?:-|–|to|and)\s*(?:1[89]\d{2}|20\d{2}))?", "", text)
    text = re.sub(r"^(?:(?:and|but|so|also|then)\s+)+", "", text, flags=re.I)
    rules = [
        (r"^(?:show|give|tell|list)(?: me| us)?(?: about)? (.+)$", r"\1"),  # "show me the top 10 …": the top 10 …
        (r"^(?:what|which) (share|proportion|percentage|part) of (.+?) (?:is|are|was|were) (.+)$", r"the \1 of \2 \3"),
        # "what turnover does X have", "what share of exports does X have": X's turnover, X's share of exports
        (r"^(?:what|which) (.+?) (?:do|does|did) (.+?) (?:have|has|had)\b\s*(.*)$", r"\2's \1 \3"),
        (r"^how many (.+?) (?:are|were|is|was) there\b\s*(.*)$", r"the number of \1 \2"),
        (r"^how many (.+?) (?:do|does|did) (.+)$", r"the number of \1 \2"),
        (r"^how many (.+?) (is|are|was|were|has|have|had|will|would|can) (.+)$", r"the number of \1 that \2 \3"),
        (r"^how many (\S+) (.+)$", r"the number of \1 that \2"),
        (r"^(?:what|who) (?:has |have )?happened to (.+)$", r"\1"),  # "what happened to the deficit": the deficit
        (r"^how much (?:do|does|did) (.+)$", r"the amount that \1"),  # "how much did X get from Y"
        (r"^how much ([\w&'’-]+) (?:do|does|did) (.+)$", r"the amount of \1 that \2"),  # "how much oil did X buy"
        (r"^how (?:much|large|big) (?:is|are|was|were|has|have|will) (.+)$", r"\1"),  # "how big was X": X (its size)
        (r"^how (much|large|big) (?:do|does|did) (.+)$", r"how \1 \2"),
        # "what success factors were found for X": the success factors found for X
        (r"^(?:what|which) (.+?) (?:is|are|was|were|has been|have been) ((?!there\b)\w+ (?:for|in|by|at|from|to|on|with|of)\b.*)$",
         r"the \1 \2"),
        (r"^(?:what|which) (?:is|are|was|were|will be) (.+)$", r"\1"),
        (r"^where (?:do|does|did) (.+?) rank\b\s*(.*)$", r"\1's rank \2"),  # "where does X rank": X's rank
        (r"^where (?:do|does|did) (.+?) (?:stand|sit|come)\b\s*(.*)$", r"\1's position \2"),
        (r"^(what|who|where|when|how) (?:do|does|did) (.+)$", r"\1 \2"),
        (r"^(?:what|which) (\S+) (?:is|are|was|were|do|does|did) (.+)$", r"the \1 \2"),
        # "what annual budget share did X get …": the annual budget share that X get …
        (r"^(?:what|which) ((?:[\w&'’-]+ ){1,3}[\w&'’-]+) (?:do|does|did) (.+)$", r"the \1 that \2"),
        (r"^who (.+)$", r"the one who \1"),  # "who had the biggest X": the one who had it (no noun after 'who')
        (r"^(?:what|which) (\S+) (.+)$", r"the \1 that \2"),
        (r"^(?:who|what) (.+)$", r"who or what \1"),
        (r"^(where|when|why|how) (?:is|are|was|were|do|does|did|has|have|will|can) (.+)$", r"\1 \2"),
        (r"^(?:is|are|was|were) there (.+)$", r"\1"),
        (r"^(?:is|are|was|were|do|does|did|has|have|can|will) (.+)$", r"whether \1"),
    ]
    for pattern, replacement in rules:
        m = re.match(pattern, text, re.I)
        if m:
            return " ".join(m.expand(replacement).split())
    return text


# -- the follow-up decision -------------------------------------------------------------------------------
# A comparison that names neither side's other half ("how does the later period compare?", "how do they differ").
_COMPARES_UNSAID = re.compile(r"\b(?:compare|compares|compared|differ|differs|stack up)\s*[?.!]*\s*$", re.I)


def _score(found: Slots, previous: Slots, names: Names, own: set[str]) -> float:
    """How strongly a question leans on the previous one (>= FOLLOW_UP: read as a follow-up)."""
    score = 0.0
    words = [t for t in found.toks if t.word]
    if found.connective:
        score += 3
    if found.refs:
        score += 3
    if not own and not found.names and (found.times or found.refs or found.connective or len(words) <= 3
                                        or all(t.low in BARE or t.low in FUNCTION or t.low in INTENT for t in words)):
        score += 3  # nothing of its own but slots: "and in 2011?", "why?", "what's the source?"
    elif not found.frame and bool(found.names) != bool(own) and len(words) <= 6:
        score += 2  # a fragment with a name or a measure but not both: "Ruritania?", "imports in 2011?"
    place = any(r.prep in {"in", "across", "within", "at"} for r in found.runs[1:])  # "jobs in the north"
    if not found.frame and not found.connective and not found.refs and (found.names or place) and own:
        score -= 3  # a terse question of its own: "<place> jobs 2023"
    if len(words) <= 5:
        score += 1
    whole = found.frame and found.names and len(own) >= 1
    if whole and not found.refs:
        score -= 3  # a whole question with its own subject: "and how many people does Toyota employ?"
    if own and not found.names and all(names.document_frequency.get(s, 0) for s in own):
        # Does the question alone find a passage holding its words, and do they sit with the previous topic's?
        alone = names.coverage(own)
        joint = names.coverage(own | _key_stems(previous))
        if alone > 0 and joint >= 0.75 * alone:
            score += 1
            if alone < 0.9 and joint >= alone:
                score += 1  # better read together than alone
        elif found.frame and not found.refs:
            score -= 2
    if found.frame and len(own) >= 3 and not found.refs:
        score -= 2
    if _COMPARES_UNSAID.search(found.text) and not found.names and found.compare is None:
        score += 3  # "how does the later period compare?": compared with what was asked before
    return score


# -- resolving --------------------------------------------------------------------------------------------
@dataclass
class Context:
    """The previous turn: its resolved question, its slots and (when needed) what its answer named."""

    text: str
    found: Slots
    query: Query
    answer: Callable[[], Answer | None] | None = None


def _previous_answer(context: Context) -> Answer | None:
    """The previous answer, worked out once for all the readings that need it (None when there is none)."""
    if "_answer" not in context.__dict__:
        try:
            context.__dict__["_answer"] = context.answer() if context.answer else None
        except Exception:  # an answer that fails to come back only costs the reference
            context.__dict__["_answer"] = None
    return context.__dict__["_answer"]


def _answer_text(context: Context) -> str:
    """The previous answer's text ('' when there is none)."""
    answer = _previous_answer(context)
    return answer.text if answer is not None else ""


CLAIM_WORDS = 30  # a statement quoted in a reading is cut to this many words
CLAIM_MIN_WORDS = 7  # shorter "sentences" of an answer are headings
_NOT_A_CLAIM = re.compile(r"^(?:Please|No: |(?:Table|Figure) \d|- )")


def _claim(context: Context) -> str | None:
    """The statement the previous answer quoted from the text, in quotes: "which dataset is that based on?" asks
    where that statement comes from, whatever the earlier question's wording. None when the answer quoted
    none (a refusal, a table row or a list, which answer their source otherwise)."""
    answer = _previous_answer(context)
    if answer is None or answer.refused:
        return None
    text = re.sub(r"\s*\[\d+\]|\*\*|[¹²³⁰⁴-⁹]+", "", answer.text.split("\n\n")[0]).strip()
    if not text or _NOT_A_CLAIM.match(text):
        return None
    # The statement is the sentence with a figure, else the first that says something (a heading shown above
    # the answer, "Current activity in the cluster.", says nothing).
    # Of several with figures, the one whose figure the earlier question's words stand beside ("how many
    # companies": "… by the 128 companies", not the sentence before it about turnover and staff).
    sentences = [x for x in split_sentences(text) if len(x.split()) >= CLAIM_MIN_WORDS]
    asked = set(stems(context.text)) - generic()  # (the documents' subject words stand beside every figure)
    figured = [x for x in sentences if re.search(r"\d", x)]
    sentence = max(figured, key=lambda x: max((pointed_at(q.close, asked) for q in quantities(x)), default=0),
                   default=sentences[0] if sentences else "")
    if not sentence:
        return None
    words = sentence.rstrip(" .").split()
    return "“" + " ".join(words[:CLAIM_WORDS]) + (" …”" if len(words) > CLAIM_WORDS else "”")


def _about(context: Context, drop_times: bool = False) -> str:
    """What a question about the source of the previous answer asks about: the statement it quoted, or else
    the previous question as a noun phrase."""
    return _claim(context) or topic(context.text, drop_times=drop_times)


_OWNER = re.compile(r"\b([A-Z][\w&-]*(?:\s+[A-Z][\w&-]*)*)['’]s\b")  # the name a list belongs to ("Acme's")
_ITEM = re.compile(r"^\s*[-•]\s+(.+)$", re.M)
MAX_LABEL_WORDS = 8  # "Growth phase (1960 to 1974): …" is labelled by what comes before its colon


def _answer_items(context: Context) -> list[str]:
    """The items of a list the previous answer gave ("the five stages: - Emergence (…): …"), each by its label:
    "the third one" of a list is its third item, not the third name in it."""
    text = _answer_text(context)
    lines = [re.sub(r"\s*\[\d+\]|\*\*", "", m.group(1)).strip() for m in _ITEM.finditer(text.split("\n\nCitations")[0])]
    if not any(line.endswith(":") for line in lines):
        return []  # a list the documents introduce ("… five stages:"), not lines of figures for named rows
    items = [line for line in lines if not line.endswith(":")]
    labels = []
    for item in items:
        head = item.split(": ", 1)[0]
        labels.append(head if ": " in item and len(head.split()) <= MAX_LABEL_WORDS else split_sentences(item)[0].rstrip("."))
    return labels if len(labels) >= 2 else []


def _answer_names(context: Context, names: Names) -> list[str]:
    """Names the previous answer gave that its question did not, best-matching sentence first."""
    text = _answer_text(context)
    asked = {n.key for n in context.found.names}
    # (An acronym the question used, alone or in a longer name, is the name spelled out in the answer.)
    asked_parts = asked | {part for key in asked for part in key.split()}
    # The sentence that says what was asked ("led by …" for "who is leading X?"): by the question's other words,
    # since the names it asked about are in many sentences.
    named = set().union(*(stems(context.found.text[n.start:n.end]) for n in context.found.names))
    asked_words = set(stems(context.text))
    other = expand(asked_words - named)
    sentences = split_sentences(re.sub(r"\[\d+\]|\*\*", "", text))
    given = [[span for span in names.find(sentence) if span.key not in asked and span.key not in FURNITURE
              and not {span.key, _initials(span.core)} & asked_parts] for sentence in sentences]
    # (Of two sentences as like the question, the one naming something it did not answers it.)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(other & set(stems(sentences[i]))), not given[i],
                                                          -len(asked_words & set(stems(sentences[i]))), i))
    order = ranked[:1] + [j for j in range(len(sentences)) if j not in ranked[:1]]
    out: dict[str, str] = {}  # in the order the answer names them, the sentence most like the question first
    for i in order:
        for span in given[i]:
            article = "the " if span.article or names.writes_the(span.key) else ""
            out.setdefault(span.key, article + names.surface(span.key, span.core))
    return list(out.values())


def _initials(name: str) -> str:
    """A spelled-out name's acronym ('Institute of Widget Makers' -> 'iwm'): the name the question may have used."""
    return "".join(word[0] for word in name.split() if word[:1].isupper()).lower()


def _main_name(context: Context, names: Names) -> str | None:
    """What "it" points back to: the previous question's first name (with its noun), or its answer's."""
    if context.query.wants_entity:
        given = _answer_names(context, names)
        if given:
            return given[0]
    found = context.found
    candidates = [n for n in found.names if n.key not in FURNITURE]
    if candidates:
        span = candidates[0]
        owned = re.match(r"\s*([A-Z][\w&-]*(?:\s+(?:(?:of|for|and)\s+)?[A-Z][\w&-]*)*(?:\s+[a-z]+\b)?)",
                         found.text[span.end:])
        if span.possessive and owned and owned.group(1).split()[0] not in {o.core for o in found.names}:
            # "Acme's Green Start programme", "Acme's Centre of Excellence on …": it is what Acme owns, a name
            named = owned.group(1).strip()
            if named.split()[-1] in FUNCTION:
                named = named.rsplit(" ", 1)[0]
            return f"{'the ' if span.article else ''}{span.core}{span.possessive} {named}"
        if span.possessive:  # "Japan's GDP": it is Japan
            return f"{'the ' if span.article else ''}{span.core}"
        start, end = _noun_phrase(found, span)
        return found.text[start:end]
    runs = [r for r in found.runs if not r.core.lower().startswith(DOCUMENT_NOUNS)]  # "the report" is no antecedent
    if runs:
        core = runs[0].core
        return core if core[:1].isupper() else "the " + core
    return None


def _first_key(context: Context) -> str:
    return next((n.key for n in context.found.names if n.key not in FURNITURE), "")


def _head_noun(context: Context) -> str | None:
    """The thing the previous question asked about, in the singular ("Acme's widget projects" → "widget
    project"): its last plural run of content words, with the name right before it."""
    found = context.found
    for run in reversed(found.runs):
        last = run.core.split()[-1]
        if len(last) > 3 and last.lower().endswith("s") and not last.lower().endswith("ss"):
            name = next((n for n in found.names if n.last + 1 == run.first), None)
            phrase = f"{name.core} {run.core}" if name else run.core
            return re.sub(r"ies$", "y", phrase) if phrase.endswith("ies") else phrase[:-1]
    return None


def _possessive(text: str) -> str:
    return text + ("'" if text.endswith("s") and not text.split()[-1].isupper() else "'s")


def _resolve_references(found: Slots, context: Context, names: Names, how: list[str]) -> str:
    edits = []
    picked = None  # the item an ordinal points at, which the question's other pronouns then mean too
    for start, end, kind, word in found.refs:
        if kind == "ordinal":
            items = (_answer_items(context) or _answer_names(context, names)) if context.answer else []
            position = {"last": len(items), "latter": len(items), "former": 1}.get(word, ORDINALS.get(word, 0))
            if items and 0 < position <= len(items):
                item = items[position - 1]
                # "What are Acme's two main activities?" then "tell me more about the first": Acme's, not anyone's
                owner = _OWNER.search(context.query.text) if context.query else None
                if owner and owner.group(1).lower() not in item.lower():
                    item = f"{owner.group(1)}'s {item}"
                edits.append((start, end, item))
                how.append("ordinal")
                picked = item
            continue
        if kind == "one":
            thing = _head_noun(context)
            if thing:
                edits.append((start, end, thing))
                how.append("pronoun")
            continue
        if picked and kind in ("entity", "possessive"):  # "the fourth one - what was its figure?": the fourth's
            edits.append((start, end, _possessive(picked) if kind == "possessive" else picked))
            continue
        i = next(k for k, t in enumerate(found.toks) if t.start == start)
        opening = [t.low for t in found.toks[found.body:i]]
        # "what was it …", "how big was it …": it is the earlier figure
        copula = ((len(opening) == 2 and opening[0] == "what") or (len(opening) == 3 and opening[0] == "how")) \
            and opening[-1] in {"is", "was", "are", "were"}
        # "why has it got worse since then?", "did it grow?": what changes is the earlier figure, not its owner
        changing = bool(_CHANGE_AFTER.match(found.text[end:]))
        # (after "who runs X?", "where do they come from?" asks where the answer's body is from: its name, below)
        source_of_figure = SOURCE_WORDS.search(found.text) and not (context.query.wants_entity and word in PEOPLE_PRONOUNS)
        if kind == "entity" and copula and context.query.wants_entity and not (found.times or changing or source_of_figure):
            # "who leads X?" then "what is it exactly?": it is whoever the answer named
            name = _main_name(context, names)
            if name:
                edits.append((start, end, name))
                how.append("pronoun")
                continue
        if kind == "entity" and source_of_figure and not (copula or changing):
            edits.append((start, end, _about(context, drop_times=bool(found.times))))  # "where's it from?"
            how.append("topic")
            continue
        if kind == "entity" and (copula or changing or source_of_figure):
            # "what was it in 2011?", "where does it come from?": the earlier figure, not the earlier name
            edits.append((start, end, topic(context.text, drop_times=bool(found.times) or changing)))
            how.append("topic")
            continue
        counted = context.query.counted or ""
        if word in {"they", "them", "their"} and counted.endswith("s") and " " not in counted:
            # "how many members did X have?" then "how many of them …": X's members
            owner = _main_name(context, names)
            if owner and set(stems(owner)) & set(stems(counted)):
                owner = None  # "how many sub-sectors …?" then "how are they split?": the sub-sectors, not theirs
            phrase = f"{_possessive(owner)} {counted}" if owner else f"the {counted}"
            edits.append((start, end, _possessive(phrase) if kind == "possessive" else phrase))
            how.append("pronoun")
            continue
        if word in {"they", "them", "their"} and re.match(r"^(?:(?:what|which)\s+\w+s|(?:what|which|who)\s+(?:are|were))\b",
                                                         context.text, re.I):
            # "what challenges did … face?" then "which report identified them?": the things asked about
            phrase = topic(context.text, drop_times=bool(found.times))
            edits.append((start, end, _possessive(phrase) if kind == "possessive" else phrase))
            how.append("topic")
            continue
        if kind == "place":  # "there": at the body, or in the place, the previous question named
            name = _main_name(context, names)
            if name:
                place = name.lower().removeprefix("the ") in COUNTRY_SET | set(AREA_ALIASES)
                edits.append((start, end, f"{'in' if place else 'at'} {name}"))
                how.append("pronoun")
            continue
        if kind in ("entity", "possessive"):
            name = _main_name(context, names)
            if kind == "entity" and name and any(names.peer(n.key, _first_key(context)) >= 2 for n in found.names):
                edits.append((start, end, topic(context.text)))  # "how does it compare with Sweden's?": its figure
                how.append("topic")
                continue
            if name:
                edits.append((start, end, _possessive(name) if kind == "possessive" else name))
                how.append("pronoun")
            continue
        if kind == "noun":  # "that programme": the earlier name or phrase that goes with the noun
            wanted = stem(word)
            before = context.found
            named = next((n for n in before.names if wanted in set(stems(_phrase_text(before, n)))), None)
            holder = next((r for r in before.runs if wanted in _stems_of(r)), None)
            if named is not None and not named.possessive:
                s, e = _noun_phrase(before, named)
                edits.append((start, end, before.text[s:e]))
            elif holder is not None:
                edits.append((start, end, "the " + holder.core))
            elif (name := _main_name(context, names)) is not None and word not in _BODY_NOUNS:
                edits.append((start, end, f"the {word} of {name}"))  # "that definition": the definition of X
            elif name is not None:
                definite = found.text[start:end].lower().startswith("the ")
                place = name.lower().removeprefix("the ") in COUNTRY_SET | set(AREA_ALIASES)
                if not (definite and place):  # "the project" after a question about Acme: the Acme project
                    edits.append((start, end, f"the {name} {word}" if definite and len(name.split()) <= 3 else name))
            how.append("demonstrative")
            continue
        phrase = topic(context.text, drop_times=bool(found.times))  # "that", "this", "the same"
        if word in FIGURE_NOUNS - {"one", "answer", "point", "fact", "trend"}:  # "that figure": the figure for …
            phrase = f"the {word} for {phrase}"
        after = next((t for t in found.toks if t.start >= end), None)
        ahead = next((t for t in reversed(found.toks) if t.end <= start), None)  # (after a modal "that" is a subject)
        if (word in DEMONSTRATIVE and after is not None and not (ahead is not None and ahead.low in MODALS)
                and after.word and after.low not in FUNCTION | INTENT | _PREDICATES
                and not _participle(after)
                and stem(after.low) not in set(stems(context.text)) | _VERBS_OF_A_FIGURE and not after.text[:1].isupper()
                and not _CHANGE_AFTER.match(found.text[end:])):
            # "who did that evaluation?": the evaluation of what was asked, not a word stuck on its end
            edits.append((start, after.end, f"the {after.text} of {phrase}"))
            how.append("topic")
            continue
        if word in DEMONSTRATIVE | {"the same"} and SOURCE_WORDS.search(found.text):
            phrase = _about(context, drop_times=bool(found.times))  # "which dataset is that based on?"
        elif phrase.startswith("the number of ") and re.search(r"\bof\s*$", found.text[:start]):
            phrase = "the " + phrase.removeprefix("the number of ")  # "how many of those …": of the things counted
        edits.append((start, end, phrase))
        how.append("topic")
    years = sorted(set(YEAR.findall(context.text)))
    for match in _SINCE_THEN.finditer(found.text):  # "since then": since the year the earlier question asked about
        if len(years) == 1:
            edits.append((match.start(), match.end(), f"since {years[0]}"))
    start = found.toks[found.body].start if found.body < len(found.toks) else 0
    resolved = _replace(found.text[start:], [(s - start, e - start, new) for s, e, new in sorted(edits)])
    if picked:
        # "Peru - what was Peru's figure?": the question after the dash, about what was asked before
        head = re.match(rf"^\s*{re.escape(picked)}\s*[-–—:,]\s*(.+)$", resolved, re.I)
        if head:
            rest = head.group(1)
            said = {t.low for t in tokens(rest) if t.word} - FUNCTION - INTENT - FIGURE_NOUNS - set(
                w.lower() for w in re.findall(r"[\w&'’-]+", picked)) - {"s"}
            resolved = rest if said else f"{rest.rstrip('?.! ')} ({topic(context.text)})?"
    return resolved


def _answered_no(previous: Context) -> bool:
    """Whether the previous question asked if something changed or was done ("was there a big drop …?", "does X
    charge a fee?") and its answer said it did not: "how come?" then asks why not."""
    first = previous.text.split(" ", 1)[0].lower()
    if first not in AUX or previous.answer is None:
        return False
    answer = _answer_text(previous)
    return answer.startswith("No: ") or denied_change(previous.text, answer) or denies_asked(previous.text, answer)


def _why(previous: str, negated: bool) -> str:
    """'Why' put in front of the previous question: "How did X change?" → "Why did X change?"."""
    text = _normalise(previous).rstrip(" ?.!")
    text = re.sub(r"^(?:(?:and|but|so|also|then)\s+)+", "", text, flags=re.I)
    first, _, rest = text.partition(" ")
    if first.lower() in AUX:
        aux = NEGATED.get(first.lower(), first.lower()) if negated else first.lower()
        return f"Why {aux} {rest}?"
    changed = re.match(r"^what\s+(?:has\s+|have\s+)?happened\s+to\s+(.+)$", text, re.I)
    if changed:  # "What happened to X?": why X changed as it did
        return f"Why did {changed.group(1)} {'not ' if negated else ''}change?"
    m = re.match(r"^(?:how|when|where)\s+(is|are|was|were|do|does|did|has|have|had|can|will)\s+(.+)$", text, re.I)
    if m:
        aux = NEGATED.get(m.group(1).lower(), m.group(1).lower()) if negated else m.group(1).lower()
        return f"Why {aux} {m.group(2)}?"
    return f"{text} — why{' not' if negated else ''}?"


def _pick(new: Span, olds: list[Span], similar: Callable[[str, str], float] | None, score) -> Span | None:
    best, best_score = None, -1e9
    for n, old in enumerate(olds):
        value = score(new, old) - 0.01 * n
        if similar is not None:
            value += similar(new.core, old.core)
        if value > best_score:
            best, best_score = old, value
    return best


def _closest_part(new: Span, old: Span, before: Slots, similar) -> Span:
    """The words of an earlier measure that a new one stands in for ("exports" of "exports worth" for "imports")."""
    if similar is None or old.last <= old.first:
        return old
    toks = before.toks
    parts = [Span(start=toks[i].start, end=toks[j].end, core=before.text[toks[i].start:toks[j].end], first=i, last=j)
             for i in range(old.first, old.last + 1) for j in range(i, old.last + 1)
             if toks[i].word and toks[j].word and toks[i].low not in CONNECTORS and toks[j].low not in CONNECTORS]
    # A part must be close in meaning, and clearly closer than the whole measure, to be all that is replaced.
    scored = [(similar(new.core, p.core) - 0.2 * (old.last - old.first - (p.last - p.first)), p) for p in parts]
    value, best = max(scored, key=lambda pair: pair[0])
    return best if best.last - best.first == old.last - old.first or value + 0.2 * (old.last - best.last + best.first - old.first) >= 0.5 else old


def _aligned_part(new: Span, old: Span, before: Slots) -> Span:
    """The words of an earlier run that a new one sharing some of them stands in for, lined up on the shared
    words: "plastics widgets" for "mining widgets employment" replaces "mining widgets", not the whole run."""
    new_stems = [set(stems(t.text)) for t in tokens(new.core) if t.word]
    shared_new = [i for i, s in enumerate(new_stems) if s & _stems_of(old)]
    shared_old = [j for j in range(old.first, old.last + 1) if set(stems(before.toks[j].text)) & _stems_of(new)]
    if not shared_new or not shared_old:
        return old
    first = max(old.first, shared_old[0] - shared_new[0])
    last = min(old.last, shared_old[-1] + len(new_stems) - 1 - shared_new[-1])
    toks = before.toks
    return Span(start=toks[first].start, end=toks[last].end, core=before.text[toks[first].start:toks[last].end],
                first=first, last=last)


def _substitute(found: Slots, context: Context, names: Names, similar, how: list[str]) -> str:
    """A fragment ("and in 2011?", "what about Ruritania?", "and imports?") put into the previous question."""
    before = context.found
    text = before.text
    edits: list[tuple[int, int, str]] = []
    tail: list[str] = []
    # Times replace times; a question that had none gets one.
    def span_of(old: Span, new: Span) -> tuple[int, int, str]:
        if new.core.lower() in _NOW:  # "in 2011" becomes "now", not "in now"
            lead = re.search(r"\b(?:in|by|for|during|as of|at|since)\s+$", text[:old.start], re.I)
            return (lead.start() if lead else old.start, old.end, new.core)
        return (old.start, old.end, new.core)

    if found.times:
        olds = before.times
        if len(found.times) == len(olds):
            edits += [span_of(o, n) for o, n in zip(olds, found.times, strict=True)]
        elif olds:
            edits.append(span_of(olds[-1], found.times[-1]))
        else:
            tail += [f"{found.times[0].prep or 'in'} {found.times[0].core}"]
        how.append("year")
    # Names replace the earlier name most like them.
    used: set[int] = set()
    for name in found.names:
        if any(name.key == o.key for o in before.names) or name is found.compare:
            continue  # (what a question is compared with is added below, not put in place of a name)
        olds = [o for i, o in enumerate(before.names) if i not in used and o.key not in FURNITURE]

        def name_score(new: Span, old: Span) -> float:
            value = names.peer(new.key, old.key)
            if (new.prep or None) == (old.prep or None) or (new.possessive and old.possessive):
                # the same place in the sentence; worth less between names of nothing in common (a region
                # does not replace a measure's name because neither has a preposition)
                value += 1.5 if value > 0 else 0.5
            return value

        old = _pick(name, olds, None, name_score)
        if old is None:
            tail.append(f"{name.prep or 'in'} {_phrase(name, names)}")
        else:
            used.add(before.names.index(old))
            modifier = _modifies(before, old)
            core = names.surface(name.key, name.core)
            after = re.match(r"\s+([\w&]+)", text[old.end:])
            # ("does ACME employ": after "do" or a modal the name is a verb's subject, not a noun's modifier)
            subject = re.search(r"\b(?:do|does|did|can|could|will|would|should|may|might)\s+$",
                                text[:old.start], re.I)
            if (not old.article and not old.possessive and old.core.isupper() and not core.isupper() and after
                    and not subject and after.group(1).lower() not in FUNCTION and not YEAR.fullmatch(after.group(1))):
                replacement = _possessive(core)  # "US car sales" for Peru: "Peru's car sales"
            elif modifier:
                replacement = f"{'the ' if old.article else ''}{core}"
            else:
                article = name.article or names.writes_the(name.key)
                possessive = ""
                if old.possessive or name.possessive:
                    possessive = "'" if core.endswith("s") and not core.isupper() else "'s"
                replacement = f"{'the ' if article else ''}{core}{possessive}"
            edits.append((old.start, old.end, replacement))
        how.append("name")
    # A measure replaces the earlier measure it is most like (shared words, the same preposition, meaning).
    previous_stems = set(stems(text))
    taken_runs: set[int] = set()
    for run in found.runs:
        words = _stems_of(run)
        held = next((i for i, o in enumerate(before.runs) if words and words <= _stems_of(o)), None)
        if held is not None and held > 0 and not found.names:
            # "what was France's rank by GDP?" then "and its GDP?": that becomes the measure
            old, subject = before.runs[held], before.runs[0]
            cut = before.toks[old.first - 1].start if old.first > 0 else old.start
            j = old.first - 1
            while j > subject.last and before.toks[j].low not in PREPS:
                j -= 1
            if j > subject.last and not any(subject.last < t.first < old.first for t in before.times):
                cut = before.toks[j].start
                edits += [(subject.start, subject.end, old.core), (cut, old.end, "")]
                how.append("measure")
            continue
        if not words or words <= previous_stems:
            continue
        olds = [o for i, o in enumerate(before.runs) if i not in taken_runs]

        def run_score(new: Span, old: Span) -> float:
            shared = len(_stems_of(new) & _stems_of(old)) / max(1, len(_stems_of(new)))
            return 3 * shared + (1.5 if (new.prep or None) == (old.prep or None) else 0)

        old = _pick(run, olds, similar, run_score)
        if old is None:
            tail.append(run.core)
        else:
            taken_runs.add(before.runs.index(old))
            part = (_aligned_part(run, old, before) if words & _stems_of(old)
                    else _closest_part(run, old, before, similar))
            edits.append((part.start, part.end, run.core))
        how.append("measure")
    if found.compare is not None:
        target = found.compare
        phrase = _phrase(target, names) if target.key else target.core
        m = re.search(r"\b(?:than|compared (?:with|to)|versus|vs\.?)\s+(.+?)\s*[?.!]*$", text, re.I)
        if m:
            edits.append((m.start(1), m.end(1), phrase))
        else:
            tail.append(f", compared with {phrase}")
        how.append("compare")
    resolved = _replace(text, edits)
    if tail:
        resolved = resolved.rstrip("?.! ") + "".join(t if t.startswith(",") else " " + t for t in tail)
        resolved = _tidy(resolved)
    return resolved


_COUNT_WORDS = {w: n for n, w in enumerate("a two three four five six seven eight nine ten eleven twelve".split(), 1)}
_COUNT_WORDS.update({"an": 1, "one": 1, "fifteen": 15, "twenty": 20})
_RELATIVE_TIME = re.compile(
    r"\b(?:(?P<count>\d{1,2}|" + "|".join(_COUNT_WORDS) + r")\s+(?P<unit>years?|decades?)|the\s+(?P<the>year|decade))\s+"
    r"(?P<way>earlier|before|previously|prior|later|after|on)\b|\bthe\s+(?P<side>previous|preceding|prior|following|next)"
    r"\s+(?P<unit2>year|decade)\b", re.I)


def _shift_time(question: str, previous: str) -> str:
    """"And ten years earlier?" after a question about 2021: "And in 2011?" (the question as it is otherwise)."""
    found = _RELATIVE_TIME.search(question)
    years = YEAR.findall(previous)
    if not found or not years:
        return question
    count = found.group("count")
    steps = 1 if not count else int(count) if count.isdigit() else _COUNT_WORDS[count.lower()]
    unit = (found.group("unit") or found.group("the") or found.group("unit2")).lower()
    back = (found.group("way") or found.group("side")).lower() in {"earlier", "before", "previously", "prior",
                                                                     "previous", "preceding"}
    year = int(years[-1]) + (-1 if back else 1) * steps * (10 if unit.startswith("decade") else 1)
    return f"{question[:found.start()]}in {year}{question[found.end():]}"


def _asked_extreme(query: Query) -> bool:
    """A question asking which one is first, last or at a rank ("which country tops X?")."""
    return query.wants_entity and bool(query.ordinal or MAX_WORDS.search(query.text) or MIN_WORDS.search(query.text))


def read(question: str, previous: Context | None, names: Names, similar=None) -> Reading:
    """Read one question against the previous turn (None: the first question of a conversation)."""
    reading = Reading(question=question, resolved=question)
    if previous is None or not question.strip():
        return reading
    shifted = _shift_time(question, previous.text)
    if shifted != question:
        reading = read(shifted, previous, names, similar)
        reading.question = question
        return reading
    attributed = _ATTRIBUTED.match(_normalise(question))
    if attributed:
        # "why, according to Acme?": the question before the attribution, read as any other, then attributed
        inner = read(attributed.group(1) + "?", previous, names, similar)
        if inner.rewritten:
            inner.question = question
            inner.resolved = f"{inner.resolved.rstrip('?.! ')}, according to {attributed.group(2).rstrip('?.! ')}?"
            return inner
    dislocated = _FRONTED.match(_normalise(question))
    fronted_words = dislocated.group(1).lower().split() if dislocated else []
    if fronted_words and not (WH | PREPS) & set(fronted_words) and not re.search(r"\d", dislocated.group(1)):
        # "And Kent, how is it split?", "and X, what's that": the name put first is what changes.
        fronted = read(f"what about {dislocated.group(1)}?", previous, names, similar)
        if fronted.rewritten:
            fronted.question = question
            return fronted
    found = slots(question, names, unknown=True)
    said = {stem(w) for r in found.runs for w in r.core.split()} - _RELATIONAL - {stem(w) for w in INTENT}
    new_names = [n for n in found.names if n.key not in {o.key for o in previous.found.names}]
    if found.frame and len(new_names) == 1 and len(found.names) == 1 and not said and not found.times \
            and not found.refs and {stem(t.low) for t in found.toks} & _RELATIONAL:
        # "How does Kent compare?", "where does Peru come", "how far behind is X": X against what was asked
        against = read(f"how does that compare with {_phrase(new_names[0], names)}?", previous, names, similar)
        if against.rewritten:
            against.question = question
            return against
    if (not found.frame and len(new_names) == 1 and len(found.names) == 1 and not said and not found.times
            and not found.refs and _asked_extreme(previous.query)):
        # "which country tops X?" then "what about Ruritania?": Ruritania against the one that tops X
        reading = Reading(question=question, resolved=_tidy(
            f"How does {_phrase(new_names[0], names)} compare with {topic(previous.text)}?"), rewritten=True,
            how=["compare"])
        return reading
    if WHERE_FROM.match(found.text) and not previous.query.wants_entity:
        reading.resolved, reading.rewritten, reading.how = f"What is the source for {_about(previous)}?", True, ["topic"]
        return reading
    if TIME_ASKED.match(found.text.strip()):
        reading.resolved, reading.rewritten, reading.how = f"{previous.text.rstrip('?.! ')} — when?", True, ["topic"]
        return reading
    if CAUSE_ASKED.match(found.text) or DOING_THAT.match(found.text):  # "what prompted that?": why, of the previous
        reading.resolved, reading.rewritten, reading.how = _tidy(_why(previous.text, _answered_no(previous))), True, ["why"]
        return reading
    intent = {stem(w) for w in INTENT}
    own = {s for r in found.runs for s in _stems_of(r)} - intent
    reading.score = _score(found, previous.found, names, own)
    if reading.score < FOLLOW_UP:
        return reading
    how: list[str] = []
    asked = analyse(found.text)
    words = [t for t in found.toks[found.body:] if t.word]
    bare = all(t.low in BARE or t.low in FUNCTION for t in words) and not found.names and not found.times
    if found.refs:
        resolved = _resolve_references(found, previous, names, how)
        ranked = _ranking_of_figure(found, previous)
        if found.connective and not found.frame and ranked:  # "and its global rank?" after a figure
            resolved = ranked
            how.append("topic")
        elif found.connective and not found.frame:  # "and its labour productivity?": a fragment after all
            resolved = _substitute(found, previous, names, similar, how)
        elif found.times and not own - _RELATIONAL - _VERBS_OF_A_FIGURE and all(
                kind == "entity" or (kind == "noun" and stem(word) in set(stems(previous.text)))
                for _, _, kind, word in found.refs):
            # "and in 2011 where did it sit?": the same question for another year ('sit' asks what 'rank' did);
            # so is "how did that split look in 2015?" after a question asking how X was split
            plain = dataclasses.replace(found, runs=[r for r in found.runs
                                                     if _stems_of(r) - _RELATIONAL - _VERBS_OF_A_FIGURE])
            resolved = _substitute(plain, previous, names, similar, how)
        elif (_asked_extreme(previous.query) and found.names and how == ["pronoun"]
              and not own & set(stems(previous.text))):
            # "by how much did they beat Ruritania?" after "who had the biggest X?": beat it on X
            resolved = f"{resolved.rstrip('?.! ')} ({topic(previous.text)})?"
    elif bare and words and words[0].low == "why":
        resolved = _why(previous.text, negated=any(t.low == "not" for t in words) or _answered_no(previous))
        how.append("why")
    elif asked.kind == "source" and not found.names:
        body = _tidy(found.text[found.toks[found.body].start:] if found.body < len(found.toks) else found.text)
        resolved = f"{body.rstrip('?.! ')} for {_about(previous)}?"
        how.append("topic")
    elif found.frame and (found.names or found.times) and own and not (
            found.times and not found.names and own <= set(stems(previous.text))):
        return reading  # a question of its own that happens to follow another (not the same one for a new time)
    elif found.frame and (bare or not (found.names or found.times)):
        body = _tidy(found.text[found.toks[found.body].start:])
        resolved = f"{body.rstrip('?.! ')} with {topic(previous.text)}?" if _COMPARES_UNSAID.search(body) and not bare \
            else f"{body.rstrip('?.! ')} ({topic(previous.text)})?" if not bare else \
            f"{previous.text.rstrip('?.! ')} — {body[0].lower() + body[1:]}"
        how.append("topic")
    else:
        resolved = _substitute(found, previous, names, similar, how)
    resolved = _tidy(resolved)
    if resolved.rstrip("?").lower() == _tidy(question).rstrip("?").lower() or not how:
        return reading
    reading.resolved, reading.rewritten, reading.how = resolved, True, how
    return reading


_RANKING_NOUNS = {stem(w) for w in "rank ranking position place standing".split()}


def _ranking_of_figure(found: Slots, previous: Context) -> str | None:
    """'And its global rank?' after a figure asks the rank of that figure ('the global rank of Ruritania's widget
    exports in 2022'), not for a rank in place of it."""
    if found.names or found.times or len(found.runs) != 1 or any(kind != "possessive" for _, _, kind, _ in found.refs):
        return None
    if not (previous.query.wants_number or previous.query.kind in {"figure", "compare"}):
        return None
    run = found.runs[0]
    if stem(run.core.split()[-1].lower()) not in _RANKING_NOUNS:
        return None
    return f"What is the {run.core} of {topic(previous.text)}?"


def _has_content(question: str, names: Names) -> bool:
    found = slots(question, names, unknown=True)
    return bool(found.names or found.times or found.runs)


def read_conversation(questions: Sequence[str], names: Names, answer_of: Callable[[str], Answer] | None = None,
                      similar: Callable[[str, str], float] | None = None) -> list[Reading]:
    """Each question of a conversation (oldest first) read against the turn before it.

    `answer_of(resolved)` gives the answer to an earlier resolved question (asked only when a
    question points at what an answer named: "which country…?" then "what was its balance?").
    `similar(a, b)` (0..1) tells how alike two phrases are in meaning; it helps choose which earlier
    measure a new one replaces.
    """
    readings: list[Reading] = []
    context: Context | None = None
    for question in questions:
        reading = read(question, context, names, similar)
        readings.append(reading)
        resolved = reading.resolved
        if context is not None and not reading.rewritten and not _has_content(resolved, names):
            continue  # "why?" with nothing to lean on: the next question still leans on the last real one
        fetch = (lambda q=resolved: answer_of(q)) if answer_of is not None else None
        context = Context(text=resolved, found=slots(resolved, names, unknown=True), query=analyse(_normalise(resolved)),
                          answer=fetch)
    return readings
