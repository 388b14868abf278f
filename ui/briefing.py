"""A per-user briefing of pinned answers, persisted as JSON and exported as Markdown (no Gradio here)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from ingest.errors import AmpiError
from ingest.records import Answer, Citation
from ingest.settings import Settings
from ui.feedback import safe_name

log = logging.getLogger(__name__)

_lock = threading.Lock()
_PARAGRAPH = re.compile(r"^\d+(\.\d+)+$")
_PAGE = re.compile(r"^p(?:age|\.)?\s*(\d+)$", re.IGNORECASE)


class BriefingItem(BaseModel):
    """One pinned answer."""

    id: str = Field(description="The answer's id in the chat (pinning twice keeps one copy).")
    pinned_at: str = Field(description="When it was pinned, ISO date and time.")
    answer: Answer


class Briefing(BaseModel):
    """A user's pinned answers in the order they want to present them."""

    user: str
    items: list[BriefingItem] = Field(default_factory=list)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _preview(citation: Citation, limit: int = 200) -> str:
    """A short taste of a passage: a table's title line, or prose cut at a word boundary."""
    text = citation.text.strip()
    if "\t" in text:
        text = text.splitlines()[0]
        if text.startswith(citation.locator):  # 'Table 2-2: Top 10 …' would repeat the locator
            text = text[len(citation.locator):].lstrip(" :—-")
    text = _one_line(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def describe_locator(locator: str, page: int | None = None) -> str:
    """'paragraph 2.7', 'Table 2-2' or 'page 3': how a reader finds the passage in the document."""
    locator = locator.strip()
    page_only = _PAGE.match(locator)
    if page_only:
        return f"page {page_only.group(1)}"
    text = f"paragraph {locator}" if _PARAGRAPH.match(locator) else locator
    return f"{text}, page {page}" if page is not None else text


def describe_row(citation: Citation) -> str:
    """The quoted sentence, or for a table row 'US — Value added (US$, billion): 174; …' using the table's headers."""
    quote = citation.quote or ""
    lines = citation.text.splitlines()
    headers = next((line.split("\t") for line in lines if "\t" in line), [])
    if "\t" not in quote or not headers:
        return _one_line(quote)
    rows = []
    for row in (line.split("\t") for line in quote.splitlines() if line.strip()):
        pairs = [f"{h.strip()}: {v.strip()}" for h, v in zip(headers[1:], row[1:], strict=False) if v.strip()]
        rows.append(f"{row[0].strip()} — {'; '.join(pairs)}" if pairs else _one_line(" ".join(row)))
    return " | ".join(rows)


# Document text goes into Markdown (chat, briefing preview, exported file) and must stay text there: no images that
# fetch a URL, no links, no raw HTML. CommonMark lets a backslash escape any ASCII punctuation; these characters
# start markup, and the rest are left alone so the text stays readable (figures like 'US$ (2021)', 'M&E').
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~])")
# Entities ('&lt;img') would turn back into markup characters; GFM also links bare 'http://', 'www.' and e-mail addresses.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=\bwww)(\.)|(@)")
_URL = re.compile(r"<?(https?://[^\s<>\"]*[^\s<>\".,;:)])>?")


# A citation marker '[2]' stays as it is: with every other bracket escaped there is no link definition it could use.
_MARKER = re.compile(r"(\[\d{1,3}\])(?![:(\[])")


def markdown_text(text: str | None) -> str:
    """Text that a Markdown renderer shows as written: no images, links, raw HTML or emphasis."""
    parts = _MARKER.split(text or "")  # text, marker, text, marker, …
    return "".join(part if n % 2 else _escape_markup(part) for n, part in enumerate(parts))


def _escape_markup(text: str) -> str:
    text = _ENTITY.sub(r"\\&", _MARKUP.sub(r"\\\1", text))
    return _AUTOLINK.sub(lambda m: "\\" + m.group(0), text)


def markdown_links(text: str | None) -> str:
    """Like markdown_text, but its http(s) addresses become links: only for the bundled report's own text."""
    parts = _URL.split(text or "")  # text, url, text, url, …
    return "".join(f"<{part}>" if n % 2 else markdown_text(part) for n, part in enumerate(parts))


def citation_key(citation: Citation) -> tuple[str, str, str]:
    """What identifies a cited passage in the index: document title, locator and text."""
    return citation.doc, citation.locator, citation.text


def source_text(source: str) -> str:
    """A cited source without the 'Source:' prefix tables carry, so lists never say 'Source: Source:'."""
    return re.sub(r"^\s*source:\s*", "", _one_line(source), flags=re.IGNORECASE)


def briefing_path(settings: Settings, user: str | None) -> Path:
    """The JSON file holding one user's briefing."""
    return Path(settings.data_dir) / "briefings" / f"{safe_name(user)}.json"


def load_briefing(settings: Settings, user: str | None) -> Briefing:
    """The user's briefing; empty when none was saved or the file is unreadable."""
    path = briefing_path(settings, user)
    if path.exists():
        try:
            return Briefing.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            log.warning("%s is not a readable briefing; starting an empty one", path)
    return Briefing(user=user or "anonymous")


def save_briefing(settings: Settings, briefing: Briefing) -> None:
    """Write atomically, so a crash never leaves half a file behind."""
    path = briefing_path(settings, briefing.user)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and VISITOR.match(briefing.user):
        prune_visitor_briefings(settings)  # a new browser's briefing: the abandoned ones go, so the folder stays bounded
    partial = path.with_suffix(".json.part")
    partial.write_text(briefing.model_dump_json(indent=1), encoding="utf-8")
    os.replace(partial, path)


class NotPinnable(AmpiError):
    """An answer that cannot go into a briefing; the message says why."""


REFUSED_PIN = ("This answer can't be pinned: the documents don't answer the question, so there is nothing to brief. "
               "Ask it another way, or pin an answer that cites the documents.")


def asked(answer: Answer) -> str:
    """The question an answer answers: the resolved one for a follow-up ('and in 2022?'), else as asked."""
    return _one_line(getattr(answer, "resolved", None) or answer.question)


def _same_answer(item: BriefingItem, answer: Answer) -> bool:
    """The same question answered the same way (asked twice in the chat, it gets two ids)."""
    return asked(item.answer) == asked(answer) and item.answer.text.strip() == answer.text.strip()


def pin_answer(settings: Settings, user: str | None, answer: Answer, item_id: str) -> tuple[Briefing, bool]:
    """Add an answer at the end of the briefing, once: (briefing, False) when it is there already.

    Raises NotPinnable for a refusal: 'the documents don't say' is not something to brief anyone on.
    """
    if answer.refused:
        raise NotPinnable(REFUSED_PIN)
    with _lock:
        briefing = load_briefing(settings, user)
        if any(item.id == item_id or _same_answer(item, answer) for item in briefing.items):
            return briefing, False
        # Retrieval diagnostics are not part of a briefing and would bloat the file.
        kept = answer.model_copy(update={"retrieved": []})
        briefing.items.append(BriefingItem(id=item_id, pinned_at=time.strftime("%Y-%m-%dT%H:%M:%S"), answer=kept))
        save_briefing(settings, briefing)
        return briefing, True


def pin(settings: Settings, user: str | None, answer: Answer, item_id: str) -> Briefing:
    """Add an answer at the end of the briefing (once; pinning it again changes nothing). See pin_answer."""
    return pin_answer(settings, user, answer, item_id)[0]


def move(settings: Settings, user: str | None, item_id: str, offset: int) -> Briefing:
    """Move an item up (offset -1) or down (+1); at either end it stays put."""
    with _lock:
        briefing = load_briefing(settings, user)
        ids = [item.id for item in briefing.items]
        if item_id in ids:
            old = ids.index(item_id)
            new = min(max(old + offset, 0), len(ids) - 1)
            briefing.items.insert(new, briefing.items.pop(old))
            save_briefing(settings, briefing)
        return briefing


def remove(settings: Settings, user: str | None, item_id: str) -> Briefing:
    """Take an item out of the briefing."""
    return take_out(settings, user, item_id)[0]


def take_out(settings: Settings, user: str | None, item_id: str) -> tuple[Briefing, tuple[int, BriefingItem] | None]:
    """Take an item out of the briefing; returns it with its position (None when it was not there), for `put_back`."""
    with _lock:
        briefing = load_briefing(settings, user)
        position = next((n for n, item in enumerate(briefing.items) if item.id == item_id), None)
        if position is None:
            return briefing, None
        removed = briefing.items.pop(position)
        save_briefing(settings, briefing)
        return briefing, (position, removed)


def put_back(settings: Settings, user: str | None, position: int, item: BriefingItem) -> Briefing:
    """Undo `take_out`: the item returns to its place (once, should it be there again already)."""
    with _lock:
        briefing = load_briefing(settings, user)
        if all(existing.id != item.id for existing in briefing.items):
            briefing.items.insert(min(max(position, 0), len(briefing.items)), item)
            save_briefing(settings, briefing)
        return briefing


# -- the exported document ---------------------------------------------------------------------
# A briefing reads as a document: a section per pinned answer headed by its question, the passages cited listed
# once after them (the answers' [n] markers renumbered to match), the sources those passages rest on listed once,
# then how to cite the documents themselves, and the date. Markdown and DOCX are written from the same outline.
VISITOR = re.compile(r"^anonymous-[0-9a-f]{32}$")  # the briefing of a browser without login (see ui.auth)


def _modified(path: Path) -> float:
    """When a file last changed; infinitely recent when it has just gone (another thread removed it)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")


def prune_visitor_briefings(settings: Settings, now: float | None = None) -> list[str]:
    """Delete the briefings (and exports) of browsers without login untouched for settings.visitor_briefing_days.

    Their visitor cookie ends with the browser session, so nobody can open them again; without this they
    would pile up for ever. Briefings of logged-in users are kept. Returns the owners removed.
    """
    cutoff = (now or time.time()) - settings.visitor_briefing_days * 86400
    removed = []
    for path in (Path(settings.data_dir) / "briefings").glob("anonymous-*.json"):
        owner = path.stem
        exports = export_folder(settings, owner)
        if not VISITOR.match(owner) or max(map(_modified, [path, *exports.glob("*")])) >= cutoff:
            continue
        for file in [*exports.glob("*"), path]:
            file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            exports.rmdir()
        removed.append(owner)
    if removed:
        log.info("removed %d briefing(s) of browsers without login unused for %g days", len(removed),
                 settings.visitor_briefing_days)
    return removed
_MARKER_NUMBER = re.compile(r"\[(\d{1,3})\](?![:(\[])")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_WORD = re.compile(r"[^\W\d_][\w'’&-]*")


@dataclass
class Passage:
    """A cited passage, listed once however many answers cite it."""

    number: int
    citation: Citation
    quotes: list[str]
    sources: list[int]
    linked: bool  # a passage of the bundled report: its sources' web addresses may be links


@dataclass
class Section:
    """One pinned answer."""

    heading: str
    text: str  # the answer, its markers renumbered to the passages list
    refused: bool
    related: list[Citation]
    figures: list[tuple[str, str, str, str]]  # label, value, unit, the passage it comes from ('[1] Table 2-2')


@dataclass
class BriefingDocument:
    title: str
    date: str
    by: str
    sections: list[Section]
    passages: list[Passage]
    sources: list[tuple[str, bool]]  # (source, may link), numbered S1, S2, … in this order
    references: list[str]  # how to cite each document, as plain text with the title between underscores


# Words that start sentences without being names; everything else the documents capitalise is taken as a name.
_SENTENCE_STARTERS = {"a", "an", "the", "this", "that", "these", "those", "it", "its", "there", "here", "in", "on", "at",
                      "by", "for", "from", "of", "to", "with", "as", "and", "but", "or", "if", "when", "where", "what",
                      "which", "who", "why", "how", "is", "was", "are", "were", "data", "source", "table", "figure", "note"}


def _base(word: str) -> tuple[str, str]:
    """('Japan', "'s") for "Japan's": a word and its possessive ending."""
    found = re.match(r"^(.*?)(['’][sS])?$", word)
    return found.group(1), found.group(2) or ""


def _proper_words(texts: list[str]) -> dict[str, str]:
    """Names and acronyms as the documents write them ('Japan', 'M&E'), by lower case, for headings.

    A word counts when the documents capitalise it and never write it in lower case; at the start of a
    sentence only when it is not a word that often starts one.
    """
    capital: dict[str, str] = {}
    lower: set[str] = set()
    for text in texts:
        for sentence in re.split(r"(?<=[.!?:])\s+|\n|\t", text):
            for n, word in enumerate(_WORD.findall(sentence)):
                base = _base(word)[0]
                if base.islower():
                    lower.add(base)
                elif base[:1].isupper() and (n or base.lower() not in _SENTENCE_STARTERS):
                    capital.setdefault(base.lower(), base)
    return {key: word for key, word in capital.items() if key not in lower}


def sentence_case(question: str, context: list[str] = ()) -> str:
    """A question as a heading in sentence case: a capital first letter, acronyms kept, other words as typed.

    A question typed in capitals or in Title Case is lowered, and words are given the capitals the documents
    (`context`: the answer and its passages) always give them ('japan' → 'Japan', 'm&e' → 'M&E').
    """
    text = _one_line(question)
    words = _WORD.findall(text)
    if not words:
        return text
    proper = _proper_words(list(context))
    letters = [ch for word in words for ch in word if ch.isalpha()]
    shouting = len(words) > 2 and sum(ch.isupper() for ch in letters) > 0.8 * len(letters)
    titled = len(words) > 3 and sum(word[:1].isupper() for word in words) > 0.8 * len(words)

    def fix(match: re.Match) -> str:
        word = match.group(0)
        base, ending = _base(word)
        if base.lower() in proper:
            return proper[base.lower()] + ending.lower()
        if sum(ch.isupper() for ch in base) >= 2 and not shouting or re.search(r"[&\d]", base):
            return word  # an acronym as typed ('SMEs', 'M&E')
        return word.lower() if shouting or (titled and base[1:].islower()) else word

    text = _WORD.sub(fix, text)
    first = re.search(r"[^\W\d_]", text)
    return text[:first.start()] + text[first.start()].upper() + text[first.start() + 1:] if first else text


def reference_text(entry: dict) -> str:
    """How to cite an indexed document (a manifest entry), from what it says about itself (title page or metadata):
    'Authors for Publisher (Year). _Title — Subtitle_. Credit line.'"""
    authors, publisher, year = (entry.get("authors") or "").strip(), (entry.get("publisher") or "").strip(), entry.get("year")
    who = f"{authors} for {publisher}" if authors and publisher else authors or publisher
    name = " — ".join(part for part in (entry.get("title", "").strip(), (entry.get("subtitle") or "").strip()) if part)
    lead = f"{who} ({year}). " if who and year else f"{who}. " if who else f"({year}). " if year else ""
    credit = (entry.get("credit") or "").strip().rstrip(".")
    tail = f" {credit}." if credit else ""
    if entry.get("role") == "user":
        tail += f" Uploaded document ({Path(entry.get('path', '')).name})."
    elif entry.get("role") == "source":
        tail += " Copy of a source the report cites."
    return f"{lead}_{name}_.{tail}"


def _without_listed_notes(text: str, listed: Collection[str]) -> str:
    """The answer without its '(Footnote 14: …)' asides whose footnote the sources list holds: each once."""
    numbers = {int(m.group(1)) for source in listed if (m := re.match(r"footnote (\d+):", source))}
    out, position = [], 0
    for match in re.finditer(r"\s*\(Footnote (\d+): ", text):
        if match.start() < position or int(match.group(1)) not in numbers:
            continue
        depth, end = 1, match.end()
        while end < len(text) and depth:  # the aside may hold brackets of its own: '(Enterprises)'
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if depth == 0:
            out.append(text[position:match.start()])
            position = end
    return "".join(out) + text[position:]


def _numbered(text: str, numbers: dict[int, int]) -> str:
    """An answer's [n] markers renumbered to the briefing's passages list."""
    return _MARKER_NUMBER.sub(lambda m: f"[{numbers.get(int(m.group(1)), int(m.group(1)))}]", text)


def build_document(items: list[BriefingItem], user: str | None = None, date: str | None = None,
                   title: str = "AMPI briefing", report: Collection[tuple[str, str, str]] = (),
                   documents: Collection[dict] = ()) -> BriefingDocument:
    """The outline both exports are written from (see the module's note on what a briefing holds).

    `report`: citation keys of the bundled report's passages (their sources may be links); `documents`: manifest
    entries of the indexed documents, for the references (the report's always, others' when cited).
    """
    passages: dict[tuple[str, str, str], Passage] = {}
    sources: dict[str, int] = {}
    linked: dict[str, bool] = {}
    sections: list[Section] = []
    for item in items:
        answer, numbers = item.answer, {}
        for n, citation in enumerate(answer.citations, 1):
            key = citation_key(citation)
            passage = passages.get(key)
            if passage is None:
                passage = passages[key] = Passage(len(passages) + 1, citation, [], [], key in report)
            numbers[n] = passage.number
            quote = describe_row(citation) or _preview(citation, 300)
            if quote and quote not in passage.quotes:
                passage.quotes.append(quote)
            for source in map(source_text, citation.sources):
                number = sources.setdefault(source, len(sources) + 1)
                linked[source] = linked.get(source, False) or passage.linked
                if number not in passage.sources:
                    passage.sources.append(number)
        by_locator = {c.locator: numbers[n] for n, c in reversed(list(enumerate(answer.citations, 1)))}
        figures = [(f.label, f"{f.value:,.6g}", f.unit,
                    f"[{by_locator[f.citation]}] {describe_locator(f.citation)}" if f.citation in by_locator
                    else describe_locator(f.citation) if f.citation else "")
                   for f in answer.figures]
        context = [answer.text] + [c.text for c in answer.citations + answer.related]
        text = _without_listed_notes(answer.text.strip(), sources)
        sections.append(Section(heading=sentence_case(asked(answer), context), text=_numbered(text, numbers),
                                refused=answer.refused, related=list(answer.related), figures=figures))
    cited = {p.citation.doc for p in passages.values()}
    kept = [d for d in documents if d.get("role") == "report"] + \
           [d for d in documents if d.get("role") != "report" and d.get("title") in cited]
    return BriefingDocument(title=title, date=date or today(),
                            by=user if user and user != "anonymous" and not VISITOR.match(user) else "",
                            sections=sections, passages=sorted(passages.values(), key=lambda p: p.number),
                            sources=[(s, linked[s]) for s in sources], references=[reference_text(d) for d in kept])


def today() -> str:
    """'1 December 2026' (no leading zero)."""
    now = time.localtime()
    return f"{now.tm_mday} {time.strftime('%B %Y', now)}"


def _where(citation: Citation) -> str:
    where = f"{citation.doc} — {describe_locator(citation.locator, citation.page)}"
    return where + (f" ({citation.section.replace(' > ', ' › ')})" if citation.section else "")


def _intro(doc: BriefingDocument) -> str:
    count = len(doc.sections)
    return (f"Prepared {doc.date}{' by ' + doc.by if doc.by else ''} with the AMPI document assistant: {count} "
            f"question{'s' if count != 1 else ''}, each answered only from the indexed documents. Numbers in "
            "brackets, e.g. [1], point to the passages cited, listed after the answers with the sources they rest on.")


def markdown_answer(text: str) -> str:
    """Answer text as Markdown text, keeping the answer's own **bold** (document text stays text)."""
    parts = _BOLD.split(text)  # text, bold, text, bold, …
    return "".join(f"**{markdown_text(part)}**" if n % 2 else markdown_text(part) for n, part in enumerate(parts))


def to_markdown(items: list[BriefingItem], user: str | None = None, date: str | None = None,
                title: str = "AMPI briefing", report: Collection[tuple[str, str, str]] = (),
                documents: Collection[dict] = ()) -> str:
    """A briefing a reader who never saw the chat can follow (see build_document).

    Document text is written as text; only passages of the bundled report (`report`: their citation_key) keep
    their sources' web addresses as links.
    """
    doc = build_document(items, user, date, title, report, documents)
    lines = [f"# {markdown_text(doc.title)}", "", f"_{markdown_text(_intro(doc))}_", ""]
    if not doc.sections:
        lines += ["Nothing has been pinned yet.", ""]
    for section in doc.sections:
        lines += [f"## {markdown_text(section.heading)}", "", markdown_answer(section.text), ""]
        if section.refused and "don't say" not in section.text.lower():
            lines += ["_The documents don't say._", ""]
        if section.refused and section.related:
            lines += ["Related passages (not an answer):", ""]
            lines += [f"- {markdown_text(f'{c.doc} — {describe_locator(c.locator, c.page)}: {_preview(c)}')}"
                      for c in section.related]
            lines.append("")
        if section.figures:
            lines += ["| Item | Value | Unit | Cited in |", "|---|---:|---|---|"]
            lines += [f"| {' | '.join(markdown_text(cell) for cell in row)} |" for row in section.figures]
            lines.append("")
    if doc.passages:
        lines += ["## Passages cited", ""]
        for passage in doc.passages:
            lines.append(f"- **[{passage.number}]** {markdown_text(_where(passage.citation))}")
            lines += [f"  > {markdown_text(quote)}" for quote in passage.quotes]
            if passage.sources:
                lines.append(f"  - Sources: {', '.join(f'S{n}' for n in passage.sources)}")
        lines.append("")
    lines += ["## Sources", ""]
    lines += [f"- S{n}. {markdown_links(s) if link else markdown_text(s)}" for n, (s, link) in enumerate(doc.sources, 1)] \
        or ["- No footnoted sources were cited."]
    lines.append("")
    if doc.references:
        lines += ["## Reference" if len(doc.references) == 1 else "## References", ""]
        lines += [f"- {_markdown_reference(text)}" for text in doc.references]
        lines.append("")
    lines.append(f"_Briefing exported {markdown_text(doc.date)}._")
    return "\n".join(lines).rstrip() + "\n"


def _markdown_reference(text: str) -> str:
    """A reference_text with its _title_ in italics and everything else as text."""
    before, _, rest = text.partition("_")
    name, _, after = rest.rpartition("_")
    return f"{markdown_text(before)}_{markdown_text(name)}_{markdown_text(after)}" if name else markdown_text(text)


def to_docx(items: list[BriefingItem], path: Path, user: str | None = None, date: str | None = None,
            title: str = "AMPI briefing", report: Collection[tuple[str, str, str]] = (),
            documents: Collection[dict] = ()) -> Path:
    """The same briefing as a Word document (python-docx), written to `path`."""
    from docx import Document as Docx
    from docx.shared import Pt

    doc = build_document(items, user, date, title, report, documents)
    out = Docx()
    out.core_properties.title = doc.title
    out.core_properties.author = doc.by or "AMPI document assistant"
    out.add_heading(doc.title, 0)
    out.add_paragraph().add_run(_intro(doc)).italic = True
    if not doc.sections:
        out.add_paragraph("Nothing has been pinned yet.")
    for section in doc.sections:
        out.add_heading(section.heading, level=1)
        paragraph = out.add_paragraph()
        for n, part in enumerate(_BOLD.split(section.text)):
            paragraph.add_run(part).bold = bool(n % 2)
        if section.refused and "don't say" not in section.text.lower():
            out.add_paragraph().add_run("The documents don't say.").italic = True
        if section.refused and section.related:
            out.add_paragraph("Related passages (not an answer):")
            for c in section.related:
                out.add_paragraph(f"{c.doc} — {describe_locator(c.locator, c.page)}: {_preview(c)}", style="List Bullet")
        if section.figures:
            table = out.add_table(rows=1, cols=4)
            table.style = "Table Grid"
            for cell, name in zip(table.rows[0].cells, ("Item", "Value", "Unit", "Cited in"), strict=True):
                cell.paragraphs[0].add_run(name).bold = True
            for row in section.figures:
                for cell, value in zip(table.add_row().cells, row, strict=True):
                    cell.text = value
    if doc.passages:
        out.add_heading("Passages cited", level=1)
        for passage in doc.passages:
            paragraph = out.add_paragraph()
            paragraph.add_run(f"[{passage.number}] ").bold = True
            paragraph.add_run(_where(passage.citation))
            for quote in passage.quotes:
                out.add_paragraph(quote, style="Quote")
            if passage.sources:
                out.add_paragraph(f"Sources: {', '.join(f'S{n}' for n in passage.sources)}").runs[0].font.size = Pt(9)
    out.add_heading("Sources", level=1)
    for n, (source, _) in enumerate(doc.sources, 1):
        out.add_paragraph(f"S{n}. {source}")
    if not doc.sources:
        out.add_paragraph("No footnoted sources were cited.")
    if doc.references:
        out.add_heading("Reference" if len(doc.references) == 1 else "References", level=1)
        for text in doc.references:
            before, _, rest = text.partition("_")
            name, _, after = rest.rpartition("_")
            paragraph = out.add_paragraph(before if name else text)
            if name:
                paragraph.add_run(name).italic = True
                paragraph.add_run(after)
    out.add_paragraph().add_run(f"Briefing exported {doc.date}.").italic = True
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(str(path))
    return path


def export_folder(settings: Settings, user: str | None) -> Path:
    """The folder holding one user's latest exported briefing (served to that user only)."""
    return Path(settings.data_dir) / "exports" / safe_name(user)


EXPORT_SUFFIXES = (".md", ".docx")


def save_export(settings: Settings, user: str | None, items: list[BriefingItem],
                report: Collection[tuple[str, str, str]] = (), documents: Collection[dict] = ()) -> list[Path]:
    """Write the user's briefing for download, as Markdown and as DOCX, in place of their previous export."""
    folder = export_folder(settings, user)
    for suffix in EXPORT_SUFFIXES:  # one export per user: the folder never grows
        for old in folder.glob(f"ampi-briefing-*{suffix}"):
            old.unlink(missing_ok=True)
    markdown = write_markdown(items, folder, user=user, report=report, documents=documents)
    return [markdown, to_docx(items, folder / export_name(user, ".docx"), user=user, report=report, documents=documents)]


def export_name(user: str | None, suffix: str = ".md") -> str:
    """The file name a downloaded briefing gets: who (a logged-in user) and when."""
    who = "" if not user or user == "anonymous" or VISITOR.match(user) else f"{safe_name(user)}-"
    return f"ampi-briefing-{who}{time.strftime('%Y-%m-%d')}{suffix}"


def write_markdown(items: list[BriefingItem], folder: Path, user: str | None = None,
                   report: Collection[tuple[str, str, str]] = (), documents: Collection[dict] = ()) -> Path:
    """Save the Markdown briefing in `folder` under a dated file name and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / export_name(user)
    path.write_text(to_markdown(items, user=user, report=report, documents=documents), encoding="utf-8")
    return path
