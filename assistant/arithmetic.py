"""Arithmetic on figures stated in prose: a total, a difference, a ratio or a percentage change.

"How much did output rise between 2011 and 2021" over a sentence giving £40,000 and £50,000
becomes +£10,000 (+25%), with the sentence quoted and cited, so the arithmetic can be checked.

Each figure is read with the words around it ("c.3,500 corporate members"), so the two figures set
against each other are the two the question names, not the first two of the sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.figures import change_stems
from assistant.text import STOPWORDS, YEAR, stems, strip_superscripts

# A figure as written ('£1.5 billion', '12%'); '9th' is a rank, not a quantity.
_QUANTITY = re.compile(r"(?<![\w,])(?<!\d\.)(?P<cur>[$£€])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)(?!\d|st\b|nd\b|rd\b|th\b)"
                       r"(?:\s?(?P<scale>billion|million|thousand|bn\b|m\b|k\b))?"
                       r"(?:\s?(?P<pct>%|per cent))?", re.I)
_SCALES = {"billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}
# General English for what is asked: add up, or set two figures against each other.
TOTAL = re.compile(r"\b(total|in all|altogether|combined|together|sum|add(?:ed)? up)\b", re.I)
DIFFERENCE = re.compile(r"\b(difference|more|fewer|less|bigger|smaller|larger|higher|lower|gap|rise|rose|risen|increase\w*|"
                        r"grow|grew|grown|growth|fall|fell|fallen|drop\w*|decline\w*|change\w*|times|ratio|compare\w*|"
                        r"versus|vs|by how (?:many|much))\b", re.I)
# ("Which part of Ruritania …" asks a place, not a share.)
SHARE = re.compile(r"\b(what|which) (share|proportion|percentage|fraction)\b|\bhow much of\b|\bper ?cent of\b", re.I)
# One figure set over another ("how many times as large", "the ratio of"); the table operations read it too.
RATIO = re.compile(r"\bhow many times\b|\btimes (?:as|larger|bigger|greater|higher|smaller|more)\b|\bratio\b", re.I)
YEARS_APART = re.compile(r"\bhow (many years|long)\b|\byears (?:separate|apart|between|after|before|later|earlier)\b", re.I)
_RANGE_AFTER = re.compile(r"\s*(?:to|-|–)\s*[$£€]?(\d[\d,]*)")
_RANGE_BEFORE = re.compile(r"(?<![\d,.])(\d[\d,]*)\s*(?:to|-|–)\s*[$£€]?$")
CONTEXT_WORDS = 5  # words either side of a figure that say what it counts
CLOSE_WORDS = 2  # words either side that say it most directly
_CLAUSE_END = re.compile(r"[;:()\[\]–—]|\.\s|,\s(?=and\b|but\b|while\b|whilst\b)")


@dataclass(frozen=True)
class Quantity:
    """A number as stated: value in base units, with its currency, scale word and percent sign."""

    value: float
    text: str
    currency: str
    scale: str
    percent: bool
    context: frozenset[str] = frozenset()  # stems of the words around it, within its clause
    close: frozenset[str] = frozenset()  # stems of the words right beside it ('19,000 employees')
    unit: frozenset[str] = frozenset()  # the one word either side of it: what it counts ('3,500 jobs', 'scores of 2.2')
    year: bool = False  # a year ("founded in 1891"), counted only when the question asks how many years

    def kind(self) -> tuple[str, bool]:
        return self.currency, self.percent


def quantities(sentence: str, with_years: bool = False) -> list[Quantity]:
    """The figures of a sentence, each with the words around it; years (unless asked for) and footnote marks left out."""
    out = []
    text = strip_superscripts(sentence)
    for m in _QUANTITY.finditer(text):
        number = m.group("num").rstrip(",")
        is_year = bool(YEAR.fullmatch(number)) and not (m.group("cur") or m.group("scale") or m.group("pct"))
        if not number or (is_year and not with_years):
            continue
        try:
            value = float(number.replace(",", ""))
        except ValueError:
            continue
        if _in_range(text, m.start(), m.end(), is_year):
            continue  # one end of a range ("10 to 49 employees") is no quantity to add or compare
        scale = (m.group("scale") or "").lower()
        out.append(Quantity(value=value * _SCALES.get(scale, 1.0), text=m.group(0).strip().rstrip(","), currency=m.group("cur") or "",
                            scale=scale, percent=bool(m.group("pct")), context=_context(text, m.start(), m.end()),
                            close=_context(text, m.start(), m.end(), CLOSE_WORDS),
                            unit=_context(text, m.start(), m.end(), 1), year=is_year))
    return out


_CHANGE_FROM = re.compile(r"\bfrom\s*[$£€]?(?:\s*\d[\d,.]*\s*(?:billion|million|thousand|bn|m|k)?\s*(?:to|-|–)\s*[$£€]?)?$",
                          re.I)


def _in_range(text: str, start: int, end: int, is_year: bool) -> bool:
    """One end of a range ("10 to 49 employees", "50-249"): no quantity to add or compare. A year next to a
    figure ("in 2011 to £45,000") makes no range with it, nor does a change "from" one value to another."""
    if _CHANGE_FROM.search(text[max(0, start - 40):start]):
        return False  # "grew from £40,000 to £45,000": a change from one value to another, not a range
    after = _RANGE_AFTER.match(text, end)
    before = _RANGE_BEFORE.search(text[max(0, start - 20):start])
    return any(found and bool(YEAR.fullmatch(found.group(1))) == is_year for found in (after, before))


def _one_per_side(figures: list[Quantity], sides: list[str], question: str) -> dict[Quantity, str]:
    """For each side, the figure stated beside it that the question's words point at most (first stated on a
    tie), in the order of the sides (sides without one left out): figure -> the side it belongs to."""
    out: dict[Quantity, str] = {}
    for side in sides:
        words = set(stems(side))
        near = [q for q in _asked(question, figures) if words and words <= q.context and q not in out]
        if near:
            out[near[0]] = side
    return out


# A name in a clause: capitalised words, joined by "and the"/"of the"/"of" ("Acmeton and the Riverlands").
_NAME_SPAN = re.compile(r"\b[A-Z][\w&'’-]*(?:(?:\s+and the|\s+of the|\s+of)?\s+[A-Z][\w&'’-]*)*")
_BARE_NUMBER = re.compile(r"\d[\d,.]*")
# Words capitalised only because they open a sentence (general English).
_OPENERS = frozenset("""however indeed overall moreover furthermore also conversely similarly together both each all
some most while whilst although though yet still thus hence therefore meanwhile finally first second third""".split())


def _context(text: str, start: int, end: int, width: int = CONTEXT_WORDS) -> frozenset[str]:
    """Stems of the few words before and after a figure, not crossing a clause boundary."""
    before = _CLAUSE_END.split(text[max(0, start - 80):start])[-1]
    after = _CLAUSE_END.split(text[end:end + 80])[0]
    opening = text.rfind("(", 0, start)
    if (width == CONTEXT_WORDS and re.search(r"\brespectively\b", after) and opening >= 0
            and not re.search(r"[A-Za-z]{4,}", text[opening + 1:start])):
        # "X leads Y in employment (12,000 and 10,000 respectively)": the figures count what the clause before
        # the bracket names, however many words it takes to name it, and each belongs to the name in its place
        # (when the clause names as many as the bracket has figures; else to none of them).
        clause = _CLAUSE_END.split(text[:opening])[-1]
        names = [m for m in _NAME_SPAN.finditer(clause) if m.group(0).lower() not in STOPWORDS | _OPENERS]
        close = text.find(")", end)
        figures = _BARE_NUMBER.findall(text[opening + 1:close if close > 0 else len(text)])
        place = len(_BARE_NUMBER.findall(text[opening + 1:start]))
        own = names[place] if len(names) == len(figures) > place else None
        before = clause
        for name in reversed(names):
            if name is not own:
                before = f"{before[:name.start()]} {before[name.end():]}"
        width *= 2
    if width < CONTEXT_WORDS:  # the words right beside a figure stop at the next figure either side
        cut, after = re.split(r"\d", before), re.split(r"\d", after)[0]
        # Words between two figures say what the first counts ('1,200 people across 300 firms'); the
        # second's are after it, unless it has none ('scores of 1.5 and 1.8').
        before = "" if len(cut) > 1 and [w for w in stems(after) if w not in STOPWORDS] else cut[-1]
    words = stems(before)[-width:] + stems(after)[:width]
    return frozenset(w for w in words if w not in STOPWORDS and not w[0].isdigit())


def _asked(question: str, figures: list[Quantity]) -> list[Quantity]:
    """The figures in the order the question points at them: most of its words around them first, then as stated."""
    asked = {w for w in stems(question) if not w[0].isdigit()}
    return sorted(figures, key=lambda q: (-pointed_at(q.context, asked), -pointed_at(q.close, asked)))


def pointed_at(context: frozenset[str], asked: set[str]) -> int:
    """How many asked words stand beside a figure, one word's forms counted as it ('employ', 'employe')."""
    return sum(a in context or (len(a) >= 4 and any(len(c) >= 4 and (c.startswith(a) or a.startswith(c))
                                                     for c in context)) for a in asked)


def _format(value: float, like: Quantity) -> str:
    """A computed value written the way its operands are ('$266 million', '11,000', '4.6', '12%')."""
    if like.percent:
        return f"{value:,.1f}".rstrip("0").rstrip(".") + " percentage points"
    scale = _SCALES.get(like.scale, 1.0)
    shown = value / scale
    digits = 0 if float(shown).is_integer() or abs(shown) >= 100 else 1 if abs(shown) >= 10 else 2
    number = f"{shown:,.{digits}f}"
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    word = {"bn": " billion", "m": " million", "k": " thousand"}.get(like.scale, f" {like.scale}" if like.scale else "")
    return f"{like.currency}{number}{word}"


# "more A than B things": two kinds of one thing (in lower case, the thing named after them)
_MORE_THAN = re.compile(r"\b(?:more|fewer|less)\s+([a-z]+)\s+than\s+([a-z]+)\s+[a-z]+")


def contrasted(question: str) -> list[str]:
    """The two kinds a question sets against each other in words: 'how many more industrial than electronics
    engineers' -> ['industrial', 'electronics'] (each figure must be stated beside its own)."""
    found = _MORE_THAN.search(question)
    if not found or any(w.lower() in STOPWORDS for w in found.groups()):
        return []
    return list(found.groups())


def compute(question: str, figures: list[Quantity], sides: list[str] = ()) -> str | None:
    """The sum, share, gap in years or comparison the question asks for over compatible stated figures, in words.

    `sides`: the names the question sets against each other ('the North', 'the South'); with two or
    more, the two figures compared must each be stated beside a different one of them."""
    owner: dict[Quantity, str] = {}
    if len(sides) < 2:
        sides = contrasted(question)
    if len(sides) >= 2 and DIFFERENCE.search(question) and not TOTAL.search(question):
        owner = _one_per_side(figures, sides, question)
        figures = list(owner)
        if len(figures) < 2:
            return None
    if YEARS_APART.search(question):
        years = sorted({int(q.value) for q in _asked(question, [q for q in figures if q.year])[:2]})
        return f"{years[1] - years[0]} years (from {years[0]} to {years[1]})" if len(years) == 2 else None
    figures = [q for q in figures if not q.year]
    if len(figures) < 2:
        return None
    kind = _asked(question, figures)[0].kind()
    same = [q for q in figures if q.kind() == kind]
    if (TOTAL.search(question) or SHARE.search(question)) and len(same) >= 2:
        # Only figures of the thing asked add up or make a share: "3,500 jobs and scores of 2.2 and 2.3" holds one
        # count of jobs.
        asked = {w for w in stems(question) if not w[0].isdigit()}
        if any(pointed_at(q.unit, asked) for q in same):
            same = [q for q in same if pointed_at(q.unit, asked)]
    if TOTAL.search(question) and len(same) >= 2:
        total = sum(q.value for q in same)
        return f"Together {_format(total, same[0])} ({' + '.join(q.text for q in same)})"
    # ("By what percentage did X grow": a change in per cent, not one figure's share of another.)
    if SHARE.search(question) and len(same) >= 2 and not kind[1] and not change_stems(question):
        part, whole = sorted(_asked(question, same)[:2], key=lambda q: q.value)
        return f"{part.text} of {whole.text} is {part.value / whole.value * 100:.1f}%" if whole.value else None
    if not DIFFERENCE.search(question) or len(same) < 2:
        return None
    first, second = sorted(_asked(question, same)[:2], key=same.index)  # in the order stated
    larger, smaller = (first, second) if first.value >= second.value else (second, first)
    difference = larger.value - smaller.value
    if owner.get(larger) and owner.get(smaller):  # the names set against each other, each with its figure
        parts = [f"{owner[larger]} ({larger.text}) is {_format(difference, larger)} more than "
                 f"{owner[smaller]} ({smaller.text})"]
    else:
        parts = [f"{larger.text} is {_format(difference, larger)} more than {smaller.text}"]
    if smaller.value and (not larger.percent or RATIO.search(question)):  # shares set against each other: when asked
        parts.append(f"{larger.value / smaller.value:.1f} times as much")
    if smaller.value and not larger.percent and not owner:  # a change runs from one time to another, not between names
        parts.append(f"a change of {(second.value - first.value) / first.value * 100:+.0f}% from {first.text} to {second.text}"
                     if first.value else "")
    return "; ".join(p for p in parts if p)
