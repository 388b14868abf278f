"""Compose grounded answers: exact table figures, computed comparisons, cited sentences, summaries, refusals.

Nothing here invents text about the subject: every statement is a table cell, a sentence of a
passage, or arithmetic on values shown beside it.
"""

from __future__ import annotations

import re

from assistant.evidence import (
    DEMONSTRATIVE,
    Evidence,
    area_pattern,
    dated,
    has_figure,
    is_citation,
    name_present,
    names_in,
)
from assistant.figures import generic
from assistant.query import Query
from assistant.text import bullet_items, split_sentences, stem, stems
from ingest.markup import superscript_refs
from ingest.records import Chunk, Citation, Hit
from ingest.settings import Settings

NO_ANSWER = "The documents don't say"
# "What training institute was created …", "Which body runs …": the noun the answer must name.
_WH_NOUN = re.compile(r"^(?:what|which)\s+(?:[a-z-]+\s+)?([a-z-]+)\s+(?:was|were|is|are|did|does|do|has|have|had)\b", re.I)
_CONCLUDES = re.compile(r"\b(?:therefore|thus|hence|consequently|as a result|for (?:this|these) reasons?)\b", re.I)
_WHY = re.compile(r"^(?:why|what (?:explains|caused|is the reason|was the reason)|how come)\b", re.I)
# A passage that says the figure does not exist answers honestly, but it is still "the documents don't say".
NOT_AVAILABLE = re.compile(r"\b(?:(?:is|are|was|were) not (?:available|published|collected|recorded|reported)|"
                           r"no (?:consistent |comparable )?data (?:is|are) available|data (?:is|are) unavailable)\b", re.I)
_REFERRING_START = re.compile(r"^(This|These|That|Those|It|Its|They|Their)\b")


class Citations:
    """Numbered citations of one answer; the same passage and quote get the same number."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.items: list[Citation] = []

    def cite(self, chunk: Chunk, quote: str = "") -> str:
        for n, item in enumerate(self.items, 1):
            if item.locator == chunk.locator and item.text == chunk.text:
                return f"[{n}]"
        self.items.append(Citation(doc=chunk.doc_title, locator=chunk.locator, page=chunk.page, section=chunk.section,
                                   text=chunk.text, quote=quote, sources=self.sources(chunk, quote)))
        return f"[{len(self.items)}]"

    def sources(self, chunk: Chunk, quote: str = "", works_only: bool = False) -> list[str]:
        """Footnoted sources behind a passage: the quote's own footnotes first, else the passage's, else a table's
        Source line. `works_only` leaves out explanatory notes ('Consistent data is not available for …'):
        they say nothing about where a figure comes from."""
        numbers = superscript_refs(quote) if quote else []
        numbers = numbers or chunk.footnotes
        registry = self.loaded.sources
        out = [registry[n].label() for n in numbers
               if n in registry and not (works_only and getattr(registry[n], "kind", "work") == "note")]
        if chunk.table and chunk.table.source:
            out.append(f"Source: {chunk.table.source}")
        elif chunk.kind == "table":
            out += [line for line in chunk.text.splitlines() if line.startswith("Source:")]
        return out


def answer_from_sentences(query: Query, evidence: list[Evidence], cites: Citations, settings: Settings) -> str | None:
    """The best supporting sentence (and a second one when it adds a needed figure), cited."""
    if not evidence or evidence[0].support < settings.refusal_threshold:
        return None
    best = evidence[0]
    if query.wants_number and not has_figure(best.sentence):
        return None
    quote = best.sentence
    if best.previous and (_REFERRING_START.match(best.sentence) or DEMONSTRATIVE.search(best.sentence)) \
            and len(best.previous) < 300:
        quote = f"{best.previous} {quote}"  # "This is 60% higher…" needs what "this" is
    if best.following and (not has_figure(best.sentence) or best.sentence.rstrip().endswith(":")) and len(quote) < 300:
        quote = f"{best.sentence} {best.following}"  # a lead-in sentence needs the one that follows it
    if _WHY.match(query.text) and best.previous and best.previous not in quote and _CONCLUDES.search(best.sentence) \
            and len(quote) < 400:
        quote = f"{best.previous} {quote}"  # "… is therefore likely to be lower": the reason is what comes before
    if _WHY.match(query.text) and best.following and best.following not in quote and len(quote) < 400:
        quote = f"{quote} {best.following}"  # a reason often follows the sentence that states what happened
    asked_for = _WH_NOUN.match(query.text)
    if asked_for and best.following and best.following not in quote and len(quote) < 400:
        wanted = stem(asked_for.group(1))
        if wanted not in stems(quote) and wanted in stems(best.following):
            quote = f"{quote} {best.following}"  # "what training institute …": the next sentence names it
    quote = dated(quote, best.hit.chunk)  # "Over the same period, …": which years
    listed = _list_pointed_at(best, cites.loaded)
    # "as demonstrated by the list above": the list is the answer, the sentence what it shows
    block = f"{listed[1]} {cites.cite(listed[0], listed[1])}\n\n" if listed is not None else ""
    parts = [f"{block}{quote.strip()} {cites.cite(best.hit.chunk, quote)}"]
    parts += explanatory_notes(query, quote, cites.loaded)
    if query.kind == "compare":
        sides = _sides(query)
        unnamed = [side for side in sides if not _names(side, quote)]
        second = next((e for e in evidence[1:] if e.sentence != best.sentence and has_figure(e.sentence)
                       and e.support >= settings.refusal_threshold
                       and (not unnamed or any(_names(side, f"{e.previous} {e.sentence}") for side in unnamed))), None)
        # With one side ("how has UK productivity changed"), a second sentence must add figures to a best one that has none.
        if second and (unnamed or (not _numbers_enough(best.sentence) and (len(sides) >= 2 or has_figure(best.sentence)))):
            text = f"{second.previous} {second.sentence}" if second.previous and unnamed else second.sentence
            parts.append(f"{text.strip()} {cites.cite(second.hit.chunk, text)}")
    return " ".join(parts)


_POINTS_AT_LIST = re.compile(r"\b(?:the )?list (?:above|below)\b|\b(?:listed|shown) above\b", re.I)


def _list_pointed_at(best: Evidence, loaded) -> tuple[object, str] | None:
    """The bulleted list a sentence points at ('the list above'): the nearest earlier passage of its section that
    has one, as its lead sentence and each item's first sentence."""
    if not _POINTS_AT_LIST.search(best.sentence):
        return None
    here = best.hit.chunk
    earlier = [c for c in loaded.chunks if c.doc_title == here.doc_title and c.section == here.section
               and c.order < here.order and bullet_items(c.text)]
    if not earlier:
        return None
    chunk = max(earlier, key=lambda c: c.order)
    lead = chunk.text.split("\n- ")[0]
    firsts = [split_sentences(item)[0] for item in bullet_items(chunk.text) if item.strip()]
    return chunk, "\n".join([split_sentences(lead)[-1]] + [f"- {line}" for line in firsts])


def explanatory_notes(query: Query, quote: str, loaded) -> list[str]:
    """Footnotes of the quoted sentence that explain rather than cite ('Note that 30300 … is excluded …'),
    when they speak to the question: the answer may be in them, and a reader should not have to look."""
    asked = {s for s in query.stems if not s.isdigit()}
    notes = []
    for number in superscript_refs(quote):
        source = loaded.sources.get(number)
        if source is None or source.url or is_citation(source.title):
            continue  # a citation (a URL or "Author (2023) Title"), already listed among the sources
        overlap = asked & set(stems(source.title))
        if asked and len(overlap) >= max(2, len(asked) // 3):
            notes.append(f"(Footnote {number}: {source.title})")
    return notes


def _sides(query: Query) -> list[str]:
    """What a comparison compares: the names and places it mentions ('China', 'UK')."""
    return names_in(query.text) + query.areas


def _names(side: str, text: str) -> bool:
    pattern = area_pattern(side)
    return bool(re.search(pattern, text)) if pattern else name_present(side, text)


def _numbers_enough(sentence: str) -> bool:
    from assistant.text import numbers_in

    return len(numbers_in(sentence)) >= 2


def answer_source(query: Query, evidence: list[Evidence], hits: list[Hit], loaded, cites: Citations,
                  settings: Settings) -> str | None:
    """Which cited source backs a statement: the footnote on the matching sentence, or the table's Source line."""
    top = evidence[0].support if evidence else 0.0
    # Of sentences about as well supported, the one carrying its own footnote marker is the claim the work backs.
    for item in sorted(evidence[:4], key=lambda e: (e.support < top - 0.05, not superscript_refs(e.sentence))):
        if item.support < settings.refusal_threshold * 0.8:
            break
        chunk = item.hit.chunk
        sources = cites.sources(chunk, item.sentence, works_only=True)
        if chunk.kind == "footnote":
            sources = [f"footnote {chunk.locator.split()[-1]}: {chunk.text}"]
        if not sources:
            table = _nearby_table(chunk, loaded.chunks, query, item.sentence)
            if table is not None:
                marker = cites.cite(table, "")
                return (f"{item.sentence} {cites.cite(chunk, item.sentence)}\n\nThe figures come from "
                        f"{table.locator}, whose source is: {_table_source(table)} {marker}")
            continue
        marker = cites.cite(chunk, item.sentence)
        listed = "\n".join(f"- {s}" for s in sources)
        return f"{item.sentence} {marker}\n\nSource cited by the report:\n{listed}"
    return None


def _nearby_table(chunk: Chunk, chunks: list[Chunk], query: Query | None = None, claim: str = "") -> Chunk | None:
    """The table or chart near a passage (within three) that names its source: the one whose title fits the
    question best, then the one the passage points to ('the chart below'), then the closest."""
    asked = (query.stems - generic()) if query else set()
    # A chart without data must be on the topic: the question's, or the claim's when the question names only
    # a figure ("where does the 42,000 come from").
    topic = asked | ((set(stems(claim)) - generic()) if claim else set())
    near = [c for c in chunks if c.doc_id == chunk.doc_id and _table_source(c) and abs(c.order - chunk.order) <= 3
            and (c.table is not None or topic & set(stems(c.text)))]
    if not near:
        return None
    pointing = 1 if re.search(r"\bbelow\b", chunk.text) else -1 if re.search(r"\babove\b", chunk.text) else 0

    def fit(c: Chunk) -> tuple:
        title = set(stems(c.text.splitlines()[0] if c.text else ""))
        direction = pointing and (c.order - chunk.order) * pointing > 0
        return (-len(asked & title), not direction, abs(c.order - chunk.order))

    return min(near, key=fit)


def _table_source(chunk: Chunk) -> str:
    """A table's Source line; charts without data rows keep it only in their text."""
    if chunk.table is not None and chunk.table.source:
        return chunk.table.source
    if chunk.kind != "table":
        return ""
    line = next((x for x in chunk.text.splitlines() if x.startswith("Source:")), "")
    return line.removeprefix("Source:").strip()


def answer_definition(query: Query, loaded, cites: Citations) -> str | None:
    term = (query.term or "").strip().lower()
    for entry in loaded.glossary:
        if term in {entry.term.lower(), entry.meaning.lower()} or term.removeprefix("a ").removeprefix("an ") in {entry.term.lower(), entry.meaning.lower()}:
            chunk = next((c for c in loaded.chunks if c.locator == entry.locator and c.doc_title == entry.doc), None)
            if chunk is None:
                return None
            sentence = next((s for s in split_sentences(chunk.text) if entry.term in s), chunk.text)
            return f"{entry.term} stands for {entry.meaning}. {sentence} {cites.cite(chunk, sentence)}"
    return None


def with_footnotes(hits: list[Hit], loaded, top: int = 8) -> list[Hit]:
    """Top hits plus the footnotes they reference, right after them: footnotes often qualify a figure."""
    notes = {(c.doc_id, c.footnotes[0]): c for c in loaded.chunks if c.kind == "footnote" and c.footnotes}
    out: list[Hit] = []
    seen: set[str] = set()
    for hit in hits[:top]:
        for chunk in [hit.chunk] + [notes[(hit.chunk.doc_id, n)] for n in hit.chunk.footnotes
                                    if (hit.chunk.doc_id, n) in notes and hit.chunk.kind != "footnote"]:
            if chunk.id not in seen:
                seen.add(chunk.id)
                out.append(Hit(chunk=chunk, score=hit.score))
    return out + [h for h in hits[top:] if h.chunk.id not in seen]


def stated_gap(query: Query, hits: list[Hit]) -> tuple[str, Chunk] | None:
    """A sentence saying data is not available for the body or place the question names."""
    sides = _sides(query)
    for hit in hits[:10]:
        for sentence in split_sentences(hit.chunk.text):
            if sides and NOT_AVAILABLE.search(sentence) and all(_names(side, sentence) for side in sides):
                return sentence, hit.chunk
    return None


def why_refused(query: Query, loaded) -> str:
    """Name the year when the documents hold nothing at all for it; otherwise a plain 'this'."""
    missing = [y for y in query.years if str(y) not in loaded.document_frequency]
    return "anything for " + " or ".join(str(y) for y in missing) if missing else "this"
