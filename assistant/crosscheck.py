"""Cross-check a table value against the document's own prose: the report sometimes states a figure
in a paragraph that differs from its table (a paragraph gives Ruritania $42 billion, its table 48).

A briefing must not carry one of them silently, so a figure answer names the other one too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.figures import FigureMatch, mentioned
from assistant.text import YEAR, split_sentences, stems
from ingest.markup import strip_superscripts
from ingest.records import Chunk

SCALES = ("billion", "million", "thousand", "%")
# A number with the scale word that follows it: "$42 billion", "2.6%", "€655 million".
SCALED_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:US\$|\$|£|€)?\s?(\d[\d,]*(?:\.\d+)?)\s?(billion|bn|million|m\b|thousand|%|per\s?cent)", re.I)
HEADER_NOISE = {"us$", "usd", "billion", "million", "thousand", "2011", "2021", "2022", "2023"}


@dataclass
class Disagreement:
    """A sentence of the same document that states another number for the same entity and measure."""

    chunk: Chunk
    sentence: str
    numbers: list[str]


def _scale(unit: str) -> str | None:
    low = unit.lower()
    return next((s for s in SCALES if s in low), None)


def _scaled_numbers(sentence: str, scale: str) -> list[tuple[str, float]]:
    out = []
    for digits, word in SCALED_NUMBER.findall(sentence):
        word = word.lower().replace(" ", "")
        word = {"bn": "billion", "m": "million", "percent": "%"}.get(word, word)
        if word == scale:
            out.append((digits, float(digits.replace(",", ""))))
    return out


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _same(a_text: str, a: float, b_text: str, b: float) -> bool:
    """Equal once both are rounded to the coarser of the two printings (48 and 48.3 agree)."""
    places = min(_decimals(a_text), _decimals(b_text))
    return round(abs(a), places) == round(abs(b), places)  # a deficit is printed as '-7.2' in tables, '$7.2bn' in text


def disagreements(match: FigureMatch, chunks: list[Chunk]) -> list[Disagreement]:
    """Prose sentences near the table that name the entity and the measure but not the table's value."""
    cell = match.cell
    scale = _scale(cell.unit or "")
    if cell.value is None or scale is None:
        return []
    measure = {s for s in stems(re.sub(r"\([^)]*\)", "", cell.header)) if s not in HEADER_NOISE and not s.isdigit()}
    if not measure:
        return []
    found = []
    for chunk in chunks:
        if chunk.table is not None or chunk.doc_id != match.chunk.doc_id or chunk.section != match.chunk.section:
            continue
        for sentence in split_sentences(strip_superscripts(chunk.text)):
            if not mentioned(match.row.entity, sentence) or not measure <= set(stems(sentence)):
                continue
            years = {int(y) for y in YEAR.findall(sentence)}
            if cell.year and years and cell.year not in years:
                continue  # another year's figure, not a disagreement
            numbers = _scaled_numbers(sentence, scale)
            if numbers and not any(_same(text, value, cell.text, cell.value) for text, value in numbers):
                found.append(Disagreement(chunk, sentence, [text for text, _ in numbers]))
    return found


def caution(matches: list[FigureMatch], chunks: list[Chunk], cites) -> str:
    """A note naming every prose statement that disagrees with the table values used, with citations."""
    notes = []
    for match in matches:
        for found in disagreements(match, chunks):
            where = f"paragraph {found.chunk.locator}" if re.match(r"^\d+\.\d+$", found.chunk.locator) else found.chunk.locator
            marker = cites.cite(found.chunk, found.sentence)
            notes.append(f"**Note:** the report's text gives a different figure for {match.row.entity} in {where}: "
                         f"“{found.sentence}” {marker} The value above is the one in {match.table.locator}; "
                         "check which one your briefing should use.")
    return "\n\n".join(dict.fromkeys(notes))
