"""Arithmetic on figures stated in prose: a total, a difference, a ratio or a percentage change.

"How much did productivity rise between 2011 and 2021" over a sentence giving £91,000 and £102,000
becomes +£11,000 (+12%), with the sentence quoted and cited, so the arithmetic can be checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import YEAR, strip_superscripts

_QUANTITY = re.compile(r"(?<![\w.])(?P<cur>[$£€])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)(?:\s?(?P<scale>billion|million|thousand|bn\b|m\b|k\b))?"
                       r"(?:\s?(?P<pct>%|per cent))?", re.I)
_SCALES = {"billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}
# General English for what is asked: add up, or set two figures against each other.
TOTAL = re.compile(r"\b(total|in all|altogether|combined|together|sum|add(?:ed)? up)\b", re.I)
DIFFERENCE = re.compile(r"\b(difference|more|fewer|less|bigger|smaller|larger|higher|lower|gap|rise|rose|risen|increase\w*|"
                        r"grow|grew|grown|growth|fall|fell|fallen|drop\w*|decline\w*|change\w*|times|ratio|compare\w*|"
                        r"versus|vs)\b", re.I)


@dataclass(frozen=True)
class Quantity:
    """A number as stated: value in base units, with its currency, scale word and percent sign."""

    value: float
    text: str
    currency: str
    scale: str
    percent: bool

    def kind(self) -> tuple[str, bool]:
        return self.currency, self.percent


def quantities(sentence: str) -> list[Quantity]:
    """The figures of a sentence, years and footnote marks left out."""
    out = []
    for m in _QUANTITY.finditer(strip_superscripts(sentence)):
        number = m.group("num").rstrip(",")
        if not number or (YEAR.fullmatch(number) and not (m.group("cur") or m.group("scale") or m.group("pct"))):
            continue
        try:
            value = float(number.replace(",", ""))
        except ValueError:
            continue
        scale = (m.group("scale") or "").lower()
        out.append(Quantity(value=value * _SCALES.get(scale, 1.0), text=m.group(0).strip(), currency=m.group("cur") or "",
                            scale=scale, percent=bool(m.group("pct"))))
    return out


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


def compute(question: str, figures: list[Quantity]) -> str | None:
    """The sum or the comparison the question asks for over compatible stated figures, in words."""
    if len(figures) < 2:
        return None
    kind = figures[0].kind()
    same = [q for q in figures if q.kind() == kind]
    if TOTAL.search(question) and len(same) >= 2:
        total = sum(q.value for q in same)
        return f"Together {_format(total, same[0])} ({' + '.join(q.text for q in same)})"
    if not DIFFERENCE.search(question) or len(same) < 2:
        return None
    first, second = same[0], same[1]
    larger, smaller = (first, second) if first.value >= second.value else (second, first)
    difference = larger.value - smaller.value
    parts = [f"{larger.text} is {_format(difference, larger)} more than {smaller.text}"]
    if smaller.value and not larger.percent:
        parts.append(f"{larger.value / smaller.value:.1f} times as much")
        parts.append(f"a change of {(second.value - first.value) / first.value * 100:+.0f}% from {first.text} to {second.text}"
                     if first.value else "")
    return "; ".join(p for p in parts if p)
