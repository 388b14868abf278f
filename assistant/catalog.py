"""What is in the index, for people browsing it: documents, outline, glossary, sources."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from ingest.markup import strip_superscripts
from ingest.records import Chunk


class OutlineItem(BaseModel):
    """A paragraph, summary box or table in the outline."""

    chunk_id: str
    locator: str
    kind: str
    preview: str = Field(description="First words of the passage.")


class OutlineSection(BaseModel):
    """One section of a document with the items under it, in reading order."""

    doc: str
    section: str
    items: list[OutlineItem]


class GlossaryEntry(BaseModel):
    """An acronym as the documents spell it out, with the passage that defines it."""

    term: str
    meaning: str
    locator: str
    doc: str


def outline(chunks: list[Chunk]) -> list[OutlineSection]:
    """Sections → paragraphs/tables, in document order (footnotes are reached from paragraphs)."""
    sections: list[OutlineSection] = []
    for chunk in chunks:
        if chunk.kind == "footnote":
            continue
        name = chunk.section or chunk.doc_title
        if not sections or sections[-1].section != name or sections[-1].doc != chunk.doc_title:
            sections.append(OutlineSection(doc=chunk.doc_title, section=name, items=[]))
        if sections[-1].items and sections[-1].items[-1].locator == chunk.locator and chunk.kind == "table":
            continue  # Figure panels share one locator; list the figure once
        preview = " ".join(strip_superscripts(chunk.text).split()[:14])
        sections[-1].items.append(OutlineItem(chunk_id=chunk.id, locator=chunk.locator, kind=chunk.kind, preview=preview))
    return sections


_ACRONYM_IN_PARENS = re.compile(r"\(([A-Z][A-Za-z&]{1,9})\)")
_ACRONYM_THEN_NAME = re.compile(r"\b([A-Z][A-Za-z&]{1,9})(?:,| is| was)\s+the\s+([A-Z][^.;,()]{5,90}?)(?=[.;,(]| and\b| which\b| based\b)")
_FUNCTION_WORDS = {"of", "and", "for", "the", "in", "on", "&"}


def _is_acronym(term: str) -> bool:
    return sum(ch.isupper() for ch in term) >= 2 and not term.isdigit()


def _spelled_out(term: str, words: list[str]) -> str | None:
    """The shortest run of words before '(TERM)' that spells the acronym, or a Title Case name."""
    letters = [ch for ch in term.lower() if ch.isalpha()]
    words = [w.strip("‘’'\"“”") for w in words[-10:]]
    for start in range(len(words) - 1, -1, -1):
        tail = words[start:]
        if not tail[0] or tail[0][0].lower() != letters[0] or tail[0].lower() in _FUNCTION_WORDS | {"is", "was", "are"}:
            continue
        text = " ".join(tail).lower()
        position = 0
        for letter in letters:  # acronym letters appear in order in the phrase
            position = text.find(letter, position)
            if position < 0:
                break
            position += 1
        initials = [w[0].lower() for w in tail if w]
        if position > 0 and sum(1 for ch in letters if ch in initials) >= max(2, len(letters) - 1):
            return " ".join(tail)
    # Foreign acronyms (WZL, AFM): fall back to the Title Case name right before the brackets.
    name: list[str] = []
    for word in reversed(words):
        if word.endswith(("'s", "’s")) or not (word[:1].isupper() or word.lower() in _FUNCTION_WORDS):
            break
        name.insert(0, word)
    while name and name[0].lower() in _FUNCTION_WORDS:
        name.pop(0)
    return " ".join(name) if len(name) >= 2 else None


def glossary(chunks: list[Chunk]) -> list[GlossaryEntry]:
    """Acronyms spelled out in the documents ('Location Quotient (LQ)'), first definition wins."""
    entries: dict[str, GlossaryEntry] = {}

    def add(term: str, meaning: str | None, chunk: Chunk) -> None:
        if meaning and term not in entries and _is_acronym(term):
            entries[term] = GlossaryEntry(term=term, meaning=meaning, locator=chunk.locator, doc=chunk.doc_title)

    # Definitions in prose and footnotes win over chart captions that repeat an acronym.
    priority = {"paragraph": 0, "summary": 0, "footnote": 1, "text": 2, "page": 2, "table": 3}
    for chunk in sorted(chunks, key=lambda c: priority.get(c.kind, 2)):
        text = strip_superscripts(chunk.text)
        for match in _ACRONYM_IN_PARENS.finditer(text):
            before = re.split(r"[.;:()\n]", text[: match.start()])[-1]
            add(match.group(1), _spelled_out(match.group(1), before.split()), chunk)
        for match in _ACRONYM_THEN_NAME.finditer(text):
            add(match.group(1), match.group(2).strip(), chunk)
    return sorted(entries.values(), key=lambda e: e.term.lower())
