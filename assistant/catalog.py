"""What is in the index, for people browsing it: documents, outline, glossary, sources."""

from __future__ import annotations

import re
from functools import lru_cache

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
    defined: bool = Field(True, description="False when the documents use the term without spelling it out "
                                            "(meaning is then empty and locator is where it is first used).")


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
    # Foreign acronyms (from a name in another language): fall back to the Title Case name right before the brackets.
    name: list[str] = []
    for word in reversed(words):
        if word.endswith(("'s", "’s")) or not (word[:1].isupper() or word.lower() in _FUNCTION_WORDS):
            break
        name.insert(0, word)
    while name and name[0].lower() in _FUNCTION_WORDS:
        name.pop(0)
    return " ".join(name) if len(name) >= 2 else None


def glossary(chunks: list[Chunk]) -> list[GlossaryEntry]:
    """Acronyms spelled out in the documents ('Net Present Value (NPV)'), first definition wins."""
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


# -- every acronym the documents use -----------------------------------------------------------
# An acronym as printed: capitals (digits and '&' inside allowed, 'R&D', 'CO2'), perhaps with a plural 's' ('PCBs').
_ACRONYM_WORD = re.compile(r"(?<![\w&$])([A-Z][A-Z0-9&]*[A-Z0-9])(s?)(?![\w&])")
_ROMAN = re.compile(r"^[IVXL]+$")
# 'ABC (Full Name)': the acronym first, its words in brackets after it.
_ACRONYM_THEN_PARENS = re.compile(r"(?<![\w&])([A-Z][A-Z0-9&]*[A-Z0-9])s?\s*\(([^()]{4,90})\)")
_BREAK = re.compile(r"[.;:()\n\[\]“”\"]")


def _letters(term: str) -> list[str]:
    return [ch for ch in term.lower() if ch.isalnum()]


def _word_letters(word: str) -> list[str]:
    """What a word gives an acronym: an acronym its letters ('UK' → u, k), any other word its initial."""
    word = word.strip("‘’'\"“”,")
    if len(word) > 1 and word.replace("&", "").isupper() and word.replace("&", "").isalpha():
        return [ch.lower() for ch in word if ch.isalpha()]
    return [word[0].lower()] if word else []


def _content(word: str) -> bool:
    return word.lower().strip(",") not in _FUNCTION_WORDS


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _spells(term: str, words: list[str]) -> bool:
    """True when the content words' initials spell the acronym exactly ('North Sea' → NS)."""
    letters = _letters(term)
    initials = [ch for word in words if _content(word) for ch in _word_letters(word)]
    return bool(words) and initials == letters and _content(words[0]) and _content(words[-1])


def _runs_spelling(term: str, text: str, near: bool) -> str | None:
    """Words in `text` whose initials spell `term`, as printed.

    Where the passage also uses the acronym (`near`) the run may hold commas and lower-case words inside
    ('Institute for research on Public Policy'); elsewhere it must be capitalised words standing on their own
    (no capitalised word either side, no comma, no possessive), and the acronym at least three letters long.
    """
    letters = _letters(term)
    if not near and len(letters) < 3:
        return None
    for words in _segments(text):
        for start, first in enumerate(words):
            if not _capitalised(first) or not _content(first) or _word_letters(first)[:1] != letters[:1]:
                continue
            taken, end = 0, start
            while end < len(words) and taken < len(letters):
                word = words[end]
                if (word == "," and near) or (word != "," and not _content(word)):
                    end += 1
                    continue
                given = _word_letters(word) if word != "," else []
                if not given or given != letters[taken:taken + len(given)]:
                    break
                taken, end = taken + len(given), end + 1
            run = list(words[start:end])
            while run and (run[-1] == "," or not _content(run[-1])):
                run.pop()
            content = [w for w in run if w != "," and _content(w)]
            if taken != len(letters) or len(content) < 2 or not _spells(term, [w for w in run if w != ","]):
                continue
            if any(re.search(r"['’]s$", w) for w in run[:-1]):
                continue  # "ACME's Tool Shop": a possessive ends a name, it is not inside one
            before = next((w for w in reversed(words[:start]) if w != ","), "")
            after = words[end] if end < len(words) else ""
            whole = not (_capitalised(before) and _content(before)) and not (_capitalised(after) and _content(after))
            if all(_capitalised(w) for w in content) and whole or near and _capitalised(content[-1]) and (
                    whole or _close_to(term, [w for w in run if w != ","], text)):
                return " ".join(run).replace(" , ", ", ")
    return None


@lru_cache(maxsize=4096)
def _segments(text: str) -> tuple[tuple[str, ...], ...]:
    """The text's stretches between sentence breaks and brackets, as words (a comma is a word of its own)."""
    return tuple(tuple(segment.replace(",", " , ").split()) for segment in _BREAK.split(text))


def _close_to(term: str, words: list[str], text: str, reach: int = 60) -> bool:
    """True when the acronym is printed in the same sentence as these words, within `reach` characters."""
    found = re.search(r"[\s,]+".join(map(re.escape, words)), text)
    if not found:
        return False
    start = max([0] + [m.end() for m in re.finditer(r"[.!?;]\s", text[: found.start()])])
    stop = next((found.end() + m.start() for m in re.finditer(r"[.!?;](\s|$)", text[found.end():])), len(text))
    window = text[max(start, found.start() - reach): min(stop, found.end() + reach)]
    return bool(re.search(rf"(?<![\w&]){re.escape(term)}s?(?![\w&])", window))


def acronyms_used(chunks: list[Chunk]) -> dict[str, Chunk]:
    """Every acronym the documents use, with the first passage (in document order) that uses it."""
    first: dict[str, Chunk] = {}
    for chunk in sorted(chunks, key=lambda c: (c.doc_title, c.order)):
        for match in _ACRONYM_WORD.finditer(strip_superscripts(chunk.text)):
            term = match.group(1)
            # At most one digit: 'CO2' is an acronym, 'FY2025' or a code like 'SIC28' is not.
            if (sum(ch.isupper() for ch in term) >= 2 and sum(ch.isdigit() for ch in term) <= 1
                    and not _ROMAN.match(term) and len(term) <= 10):
                first.setdefault(term, chunk)
    return first


def full_glossary(chunks: list[Chunk], defined: list[GlossaryEntry] | None = None) -> list[GlossaryEntry]:
    """Every acronym the documents use, spelled out where they spell it out.

    Definitions, in order of trust: 'Full Name (ABC)' and 'ABC is the Full Name' (see `glossary`), 'ABC (Full
    Name)', then capitalised words elsewhere whose initials spell it ('North Sea' for NS). An acronym the
    documents never spell out is listed with where it is first used.
    """
    entries = {e.term: e for e in (glossary(chunks) if defined is None else defined)}
    used = acronyms_used(chunks)
    texts = [(chunk, strip_superscripts(chunk.text)) for chunk in sorted(chunks, key=lambda c: (c.doc_title, c.order))]
    for chunk, text in texts:
        for match in _ACRONYM_THEN_PARENS.finditer(text):
            term, words = match.group(1), match.group(2).split()
            if term not in entries and term in used and _spells(term, words):
                entries[term] = GlossaryEntry(term=term, meaning=" ".join(words), locator=chunk.locator, doc=chunk.doc_title)
    for term in sorted(set(used) - set(entries)):
        mentions = re.compile(rf"(?<![\w&]){re.escape(term)}s?(?![\w&])")
        near = [(chunk, text) for chunk, text in texts if mentions.search(text)]
        # Passages that use the acronym first: a name there is the likeliest to be what it stands for.
        found = next(((chunk, meaning) for chunk, text in near if (meaning := _runs_spelling(term, text, near=True))), None) \
            or next(((chunk, meaning) for chunk, text in texts if (meaning := _runs_spelling(term, text, near=False))), None)
        if found:
            entries[term] = GlossaryEntry(term=term, meaning=found[1], locator=found[0].locator, doc=found[0].doc_title)
        else:
            chunk = used[term]
            entries[term] = GlossaryEntry(term=term, meaning="", locator=chunk.locator, doc=chunk.doc_title, defined=False)
    return sorted(entries.values(), key=lambda e: e.term.lower())
