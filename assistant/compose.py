"""Compose grounded answers: exact table figures, computed comparisons, cited sentences, summaries, refusals.

Nothing here invents text about the subject: every statement is a table cell, a sentence of a
passage, or arithmetic on values shown beside it.
"""

from __future__ import annotations

import re

from assistant.evidence import Evidence, best_sentences, blocked, has_figure, unknown_counted
from assistant.figures import FigureMatch, column_overview, format_value, lookup, ranked
from assistant.query import Query
from assistant.text import split_sentences
from ingest.markup import superscript_refs
from ingest.records import Answer, Chunk, Citation, FigureRow, Hit
from ingest.settings import Settings

NO_ANSWER = "The documents don't say"
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

    def sources(self, chunk: Chunk, quote: str = "") -> list[str]:
        """Footnoted sources behind a passage: the quote's own footnotes first, else the passage's, else a table's Source line."""
        numbers = superscript_refs(quote) if quote else []
        numbers = numbers or chunk.footnotes
        registry = self.loaded.sources
        out = [registry[n].label() for n in numbers if n in registry]
        if chunk.table and chunk.table.source:
            out.append(f"Source: {chunk.table.source}")
        elif chunk.kind == "table":
            out += [line for line in chunk.text.splitlines() if line.startswith("Source:")]
        return out


def _value_line(match: FigureMatch) -> str:
    row, cell = match.row, match.cell
    subject = row.entity if row.entity != match.table.panel else match.table.panel
    year = f" ({cell.year})" if cell.year else ""
    header = re.sub(r"\s*\([^)]*\)", "", cell.header).strip() or match.table.panel
    others = [f"{c.header}: {format_value(c)}" for c in row.cells if c is not cell and c.value is not None]
    extra = f" — {'; '.join(others)}" if others else ""
    return f"{subject} — {header or 'value'}{year}: **{format_value(cell)}**{extra}"


def _figure_row(match: FigureMatch) -> FigureRow:
    label = match.row.entity if match.row.entity != match.table.panel else match.table.panel
    return FigureRow(label=label, value=float(match.cell.value), unit=match.cell.unit or "", citation=match.where)


def _number(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def _compare_pair(a: FigureMatch, b: FigureMatch) -> str:
    """'Japan 155 vs Germany 132: 23 more (about 1.17x)', from the report's own values."""
    va, vb = a.cell.value, b.cell.value
    name_a = a.row.entity if a.row.entity != a.table.panel else a.table.panel
    name_b = b.row.entity if b.row.entity != b.table.panel else b.table.panel
    unit = a.cell.unit or ""
    if va == vb:
        return f"They are the same: {name_a} and {name_b} both have {format_value(a.cell)}."
    high, low = (a, b) if va > vb else (b, a)
    name_high, name_low = (name_a, name_b) if va > vb else (name_b, name_a)
    difference = abs(va - vb)
    if unit == "%":
        return (f"{name_high} {format_value(high.cell)} vs {name_low} {format_value(low.cell)}: "
                f"{name_high} is higher by {_number(difference)} percentage points.")
    ratio = f" (about {high.cell.value / low.cell.value:.2f}x)" if low.cell.value and low.cell.value > 0 else ""
    return (f"{name_high} {format_value(high.cell)} vs {name_low} {format_value(low.cell)}: "
            f"{name_high} is larger by {_number(difference)}{(' ' + unit) if unit else ''}{ratio}.")


def _year_change(match: FigureMatch, years: list[int]) -> tuple[str, list[FigureMatch]] | None:
    """Change in one row between two years ('44.2 in 2011 to 42.0 in 2022: down 2.2')."""
    cells = [c for c in match.row.cells if c.value is not None and c.year in years and c.unit == match.cell.unit]
    if len(cells) < 2:
        return None
    first, last = sorted(cells, key=lambda c: c.year)[:: len(cells) - 1]
    change = last.value - first.value
    direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
    subject = match.row.entity
    text = (f"{subject}: {format_value(first)} in {first.year} and {format_value(last)} in {last.year} — "
            f"{direction} {_number(abs(change))}{(' ' + first.unit) if first.unit else ''} "
            f"(computed from the two values).")
    rate = next((c for c in match.row.cells if "cagr" in c.header.lower() and c.value is not None), None)
    if rate:
        text += f" {rate.header}: {format_value(rate)}."
    pair = [FigureMatch(match.chunk, match.table, match.row, c, match.score) for c in (first, last)]
    return text, pair


def answer_from_tables(query: Query, loaded, cites: Citations) -> tuple[str, list[FigureRow]] | None:
    """Figure and comparison answers from the structured table records, or None."""
    tables = [c for c in loaded.chunks if c.table is not None]
    if not tables:
        return None
    top = ranked(query, tables)
    if top and not _plural_entities(query):
        marker = cites.cite(top.chunk, top.row.text)
        row = top.table.rows
        values = [FigureRow(label=r.entity, value=float(c.value), unit=c.unit or "", citation=top.where)
                  for r in row for c in r.cells if c.header == top.cell.header and c.value is not None]
        return f"{top.row.entity}. {top.where}: {_value_line(top)} {marker}", values
    matches = lookup(query, tables)
    if not matches or (_plural_entities(query) and len({m.row.entity for m in matches}) < 2):
        overview = column_overview(query, tables)
        if overview:
            return _overview_answer(overview, cites)
    if not matches:
        return None
    best = matches[0].score
    matches = [m for m in matches if m.score >= best - 0.5]
    # Keep one match per entity, from the table the best match came from (same measure).
    chosen: dict[str, FigureMatch] = {}
    for m in matches:
        if m.cell.header == matches[0].cell.header or m.table.locator == matches[0].table.locator:
            chosen.setdefault(m.row.entity, m)
    picked = list(chosen.values())
    if len(picked) >= 2 and (query.kind == "compare" or len(query.areas) + len(picked) >= 2):
        a, b = picked[0], picked[1]
        if a.cell.header != b.cell.header or a.cell.unit != b.cell.unit:
            b = next((FigureMatch(b.chunk, b.table, b.row, c, b.score) for c in b.row.cells
                      if c.header == a.cell.header), b)
        markers = cites.cite(a.chunk, a.row.text)
        if b.chunk.id != a.chunk.id:
            markers += cites.cite(b.chunk, b.row.text)
        else:
            cites.items[-1].quote = f"{a.row.text}\n{b.row.text}"
        lines = [_compare_pair(a, b), f"- {_value_line(a)}", f"- {_value_line(b)}"]
        return "\n".join(lines) + f" {markers}", [_figure_row(a), _figure_row(b)]
    match = picked[0]
    if len(query.years) >= 2:
        change = _year_change(match, query.years)
        if change:
            text, pair = change
            return f"{text} {cites.cite(match.chunk, match.row.text)}", [_figure_row(p) for p in pair]
    return (f"{match.where}: {_value_line(match)} {cites.cite(match.chunk, match.row.text)}",
            [_figure_row(match)])


def _plural_entities(query: Query) -> bool:
    return bool(re.search(r"\b(which|what) (\w+ )?(countries|regions|nations|firms|companies)\b|\bacross\b|\blist\b", query.text, re.I))


def _overview_answer(column: list[FigureMatch], cites: Citations) -> tuple[str, list[FigureRow]]:
    """All values of one table column, largest first, with the column's citation."""
    first = column[0]
    marker = cites.cite(first.chunk, "\n".join(m.row.text for m in column[:3]))
    header = re.sub(r"\s*\([^)]*\)", "", first.cell.header).strip() or first.table.panel
    year = f" ({first.cell.year})" if first.cell.year else ""
    lines = [f"{first.where} — {header}{year}, largest first {marker}:"]
    lines += [f"{n}. {m.row.entity}: {format_value(m.cell)}" for n, m in enumerate(column, 1)]
    return "\n".join(lines), [_figure_row(m) for m in column]


def _clean_quote(sentence: str) -> str:
    return sentence.strip()


def answer_from_sentences(query: Query, evidence: list[Evidence], cites: Citations, settings: Settings) -> str | None:
    """The best supporting sentence (and a second one when it adds a needed figure), cited."""
    if not evidence or evidence[0].support < settings.refusal_threshold:
        return None
    best = evidence[0]
    if query.wants_number and not has_figure(best.sentence):
        return None
    quote = best.sentence
    if best.previous and _REFERRING_START.match(best.sentence) and len(best.previous) < 300:
        quote = f"{best.previous} {quote}"  # "This is 60% higher…" needs what "this" is
    if best.following and (not has_figure(best.sentence) or best.sentence.rstrip().endswith(":")) and len(quote) < 300:
        quote = f"{best.sentence} {best.following}"  # a lead-in sentence needs the one that follows it
    parts = [f"{_clean_quote(quote)} {cites.cite(best.hit.chunk, quote)}"]
    if query.kind == "compare":
        second = next((e for e in evidence[1:] if e.hit.chunk.id != best.hit.chunk.id or e.sentence != best.sentence), None)
        if second and second.support >= settings.refusal_threshold and has_figure(second.sentence) \
                and second.sentence != best.sentence and query.kind == "compare" and not _numbers_enough(best.sentence):
            parts.append(f"{_clean_quote(second.sentence)} {cites.cite(second.hit.chunk, second.sentence)}")
    return " ".join(parts)


def _numbers_enough(sentence: str) -> bool:
    from assistant.text import numbers_in

    return len(numbers_in(sentence)) >= 2


def answer_summary(query: Query, hits: list[Hit], loaded, cites: Citations, settings: Settings, evidence: list[Evidence]) -> str | None:
    """Bullet points from the section the best passage belongs to, each with its citation."""
    anchor = next((h.chunk for h in hits[:3] if h.chunk.kind in {"paragraph", "summary"}
                   and not blocked(query, h.chunk, h.chunk.text)), None)
    if anchor is None or not evidence or evidence[0].support < settings.refusal_threshold * 0.8:
        return None
    bullets = _bullets(anchor)
    if len(bullets) >= 2:
        marker = cites.cite(anchor, "")
        intro = split_sentences(anchor.text)[0] if not anchor.text.lstrip().startswith("-") else ""
        lines = [f"{intro} {marker}".strip() if intro else f"From {anchor.locator} {marker}:"]
        lines += [f"- {b} {marker}" for b in bullets]
        return "\n".join(lines)
    run = _section_run(anchor, loaded.chunks)
    lines = []
    for chunk in run[:8]:
        sentences = split_sentences(chunk.text)
        bullets = _bullets(chunk)
        if len(bullets) >= 2:  # a paragraph listing points: its points are the summary
            marker = cites.cite(chunk, "")
            lines.append(f"- {sentences[0]} {marker}")
            lines += [f"  - {b} {marker}" for b in bullets]
            continue
        point = " ".join(sentences[:2]) if len(sentences[0]) < 160 else sentences[0]
        lines.append(f"- {point} {cites.cite(chunk, point)}")
    return "\n".join(lines) if lines else None


def _bullets(chunk: Chunk) -> list[str]:
    items = [line.strip()[2:].strip() for line in chunk.text.splitlines() if line.strip().startswith("- ")]
    out = []
    for item in items:
        sentences = split_sentences(item)
        out.append(sentences[0] if sentences else item)
    return out


def _section_run(anchor: Chunk, chunks: list[Chunk]) -> list[Chunk]:
    """Consecutive numbered paragraphs under the same heading as the anchor, in reading order."""
    same_doc = [c for c in chunks if c.doc_id == anchor.doc_id and c.kind in {"paragraph", "summary", "text", "page"}]
    index = next(i for i, c in enumerate(same_doc) if c.id == anchor.id)
    start = index
    while start > 0 and same_doc[start - 1].section == anchor.section:
        start -= 1
    end = index
    while end + 1 < len(same_doc) and same_doc[end + 1].section == anchor.section:
        end += 1
    return same_doc[start:end + 1]


def answer_source(query: Query, evidence: list[Evidence], hits: list[Hit], loaded, cites: Citations,
                  settings: Settings) -> str | None:
    """Which cited source backs a statement: the footnote on the matching sentence, or the table's Source line."""
    for item in evidence[:4]:
        if item.support < settings.refusal_threshold * 0.8:
            break
        chunk = item.hit.chunk
        sources = cites.sources(chunk, item.sentence)
        if chunk.kind == "footnote":
            sources = [f"footnote {chunk.locator.split()[-1]}: {chunk.text}"]
        if not sources:
            table = _nearby_table(chunk, loaded.chunks)
            if table is not None:
                marker = cites.cite(table, "")
                return (f"{item.sentence} {cites.cite(chunk, item.sentence)}\n\nThe figures come from "
                        f"{table.locator}, whose source is: {table.table.source if table.table else ''} {marker}")
            continue
        marker = cites.cite(chunk, item.sentence)
        listed = "\n".join(f"- {s}" for s in sources)
        return f"{item.sentence} {marker}\n\nSource cited by the report:\n{listed}"
    return None


def _nearby_table(chunk: Chunk, chunks: list[Chunk]) -> Chunk | None:
    near = [c for c in chunks if c.doc_id == chunk.doc_id and c.table is not None and c.table.source
            and abs(c.order - chunk.order) <= 3]
    return min(near, key=lambda c: abs(c.order - chunk.order)) if near else None


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


def refusal(query: Query, hits: list[Hit], cites: Citations, why: str = "") -> Answer:
    related = [Citation(doc=h.chunk.doc_title, locator=h.chunk.locator, page=h.chunk.page, section=h.chunk.section,
                        text=h.chunk.text, sources=cites.sources(h.chunk)) for h in hits[:3]]
    places = ", ".join(c.locator for c in related)
    text = f"{NO_ANSWER} {why or 'this'}." + (f" The closest passages are {places} (shown as related, not as an answer)." if places else "")
    return Answer(question=query.text, text=text, refused=True, kind=query.kind, related=related)


def compose(query: Query, hits: list[Hit], loaded, embedder, settings: Settings) -> Answer:
    """The answer for a question from its retrieved passages and the table records."""
    cites = Citations(loaded)
    total = len(loaded.chunks)
    unknown = unknown_counted(query, loaded.document_frequency)
    if unknown:
        return refusal(query, hits, cites, f"anything about {unknown}: the word does not occur in them")
    # Footnotes qualify figures ("11,950 … in the UK"); for summaries they only crowd out paragraphs.
    candidates = hits if query.kind == "summary" else with_footnotes(hits, loaded)
    evidence = best_sentences(query, candidates, loaded.document_frequency, total, limit=12 if candidates is not hits else 6)
    figures: list[FigureRow] = []
    text: str | None = None
    if query.kind == "definition":
        text = answer_definition(query, loaded, cites)
    if text is None and query.kind == "source":
        text = answer_source(query, evidence, hits, loaded, cites, settings)
    if text is None and query.kind == "summary":
        text = answer_summary(query, hits, loaded, cites, settings, evidence)
    if text is None and query.kind in {"figure", "compare", "fact", "locator"}:
        from_tables = answer_from_tables(query, loaded, cites)
        if from_tables:
            text, figures = from_tables
    if text is None:
        text = answer_from_sentences(query, evidence, cites, settings)
    if text is None:
        return refusal(query, hits, cites, _why(query, loaded))
    documents = {c.doc for c in cites.items}
    if len(documents) > 1 or any(c.doc != loaded.chunks[0].doc_title for c in cites.items):
        text += "\n\n" + "; ".join(sorted(f"from {d}" for d in documents))
    return Answer(question=query.text, text=text, kind=query.kind, citations=cites.items, figures=figures)


def _why(query: Query, loaded) -> str:
    """Name the year when the documents hold nothing at all for it; otherwise a plain 'this'."""
    missing = [y for y in query.years if str(y) not in loaded.document_frequency]
    return "anything for " + " or ".join(str(y) for y in missing) if missing else "this"
