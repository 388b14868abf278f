"""HTML, Markdown and tables for the UI panels, built from answers and the index (no Gradio here).

Every document or user string that goes into HTML is escaped here, and into Markdown goes through
`markdown_text`, so the page never renders document text as markup: no images that fetch a URL, no raw HTML,
and links only from the bundled report.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ingest.errors import AmpiError
from ingest.records import Answer, Citation
from ui import briefing as brief
from ui.briefing import citation_key, markdown_text

if TYPE_CHECKING:  # annotations only: rendering needs no model or index loaded
    from assistant.catalog import GlossaryEntry, OutlineSection
    from assistant.service import Assistant

EMPTY_PANEL = ("<div class='ampi-empty'>Ask a question: the passages each answer rests on appear here, "
               "with the sentence used <mark>highlighted</mark> and the sources the report cites for it.</div>")
# The page's styles, kept beside the markup whose classes they name; ui.app passes them to Blocks.launch.
CSS = """
.ampi-panel {font-size: 0.92rem}
.ampi-head {color: var(--body-text-color-subdued); margin-bottom: .4rem}
.ampi-cite {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .55rem .7rem; margin: .5rem 0}
.ampi-cite-head {font-weight: 600}
.ampi-n {color: var(--color-accent); margin-right: .3rem}
.ampi-section {color: var(--body-text-color-subdued); font-size: .82rem; margin: .15rem 0 .35rem}
.ampi-passage {white-space: pre-line; line-height: 1.45}
.ampi-passage mark {background: #fde68a; color: inherit; padding: 0 .1rem}
.ampi-table {border-collapse: collapse; font-size: .82rem; margin: .3rem 0}
.ampi-table td, .ampi-table th {border: 1px solid var(--border-color-primary); padding: .15rem .4rem}
.ampi-table tr.hit td {background: #fde68a; color: #111}
.ampi-sources {margin: .35rem 0 0 1rem; padding: 0; font-size: .82rem; color: var(--body-text-color-subdued)}
.ampi-refused {background: #fef3c7; color: #78350f; border-radius: 8px; padding: .5rem .7rem; font-weight: 600}
.ampi-empty {color: var(--body-text-color-subdued); padding: 1rem .2rem}
#ampi-figures *, #ampi-documents *, #ampi-glossary * {font-family: var(--font) !important}
.ampi-glossary {max-height: 420px; overflow-y: auto}
.ampi-glossary table {width: 100%}
.ampi-glossary th {text-align: left; position: sticky; top: 0; background: var(--background-fill-secondary)}
"""
ROLES = {"report": "The report", "source": "Cited source", "user": "Uploaded"}
INTRO = """## {title}
*Market Assessment, 2025* — an AMPI report supported by independent research carried out by SQW.
It describes the advanced machinery sector, sizes it in Great Britain and draws lessons from three clusters abroad.
The assistant searches {docs} ({chunks}) and answers only from them.

- **Section 2 — Advanced Machinery and drivers of change:** the global market, UK output, trade and productivity, technology and policy trends.
- **Section 3 — Advanced Machinery in Great Britain:** employment, businesses, productivity and where the sector is concentrated.
- **Section 4 — Learning from elsewhere:** case studies of Aachen (Germany), the Basque Country (Spain) and NGen (Canada).

**How it works.** Type a question in **Ask**. Numbers like [1] point to the passages listed on the right, with the
sentence used highlighted and the sources the report cites. When the documents don't answer a question the assistant
says so. Rate answers as helpful or not, pin good ones and export them from **Briefing**; add your own files in **Documents**.
"""


def _esc(text: str) -> str:
    return html.escape(text or "", quote=True)


_URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:)]")


def html_links(text: str) -> str:
    """Escaped text whose http(s) addresses are links that open in a new tab, for the bundled report's own text."""
    parts = _URL.split(text or "")
    urls = [_esc(url) for url in _URL.findall(text or "")]
    links = [f"<a href='{url}' target='_blank' rel='noopener noreferrer nofollow'>{url}</a>" for url in urls]
    return "".join(_esc(part) + (links[n] if n < len(links) else "") for n, part in enumerate(parts))


def report_passages(assistant: Assistant, citations: list[Citation]) -> set[tuple[str, str, str]]:
    """The citation_key of each of `citations` that is a passage of the bundled report (role 'report').

    Matched on the indexed passage, not the title alone: an upload can take any title it likes.
    """
    wanted = {citation_key(c) for c in citations}
    try:
        loaded = assistant.index()
    except AmpiError:
        return set()
    return {key for chunk in loaded.chunks if chunk.doc_id in loaded.report_ids
            and (key := (chunk.doc_title, chunk.locator, chunk.text)) in wanted}


# -- passages and citations --------------------------------------------------------------------
def highlight(text: str, quote: str) -> str:
    """Escaped passage text with the quoted sentence in <mark>; whitespace differences are tolerated."""
    words = (quote or "").split()
    match = re.search(r"\s+".join(re.escape(w) for w in words), text or "", re.IGNORECASE) if words else None
    if not match:
        return _esc(text)
    return f"{_esc(text[:match.start()])}<mark>{_esc(match.group(0))}</mark>{_esc(text[match.end():])}"


def passage_html(text: str, quote: str = "") -> str:
    """A passage as HTML: tab-separated tables become a table with the quoted rows marked."""
    lines = (text or "").splitlines()
    rows = [line for line in lines if "\t" in line]
    if len(rows) < 2:
        return f"<div class='ampi-passage'>{highlight(text, quote)}</div>"
    wanted = {" ".join(q.split()) for q in (quote or "").splitlines() if q.strip()}
    parts, body = [], []
    for line in lines:
        if "\t" not in line:
            parts.append(f"<div class='ampi-passage'>{_esc(line)}</div>")
            continue
        cls = " class='hit'" if " ".join(line.split()) in wanted else ""
        cells = "".join(f"<td>{_esc(cell)}</td>" for cell in line.split("\t"))
        body.append(f"<tr{cls}>{cells}</tr>")
        if line is rows[-1]:
            parts.append(f"<table class='ampi-table'>{''.join(body)}</table>")
    return "".join(parts)


def citation_html(citation: Citation, number: int | None = None, linked: bool = False) -> str:
    """One citation card: number, locator, document, section path, passage and footnoted sources.

    `linked`: the passage is the bundled report's, so the web addresses of its sources may be clicked.
    """
    label = f"<span class='ampi-n'>[{number}]</span>" if number else ""
    section = _esc(citation.section.replace(" > ", " › "))
    listed = {brief.source_text(s) for s in citation.sources}
    # A table's own 'Source:' line is listed below with the footnotes; showing it twice is noise.
    text = "\n".join(line for line in citation.text.splitlines()
                     if not (line.lower().startswith("source:") and brief.source_text(line) in listed))
    show = html_links if linked else _esc
    sources = "".join(f"<li>Source: {show(brief.source_text(s))}</li>" for s in citation.sources)
    return (f"<div class='ampi-cite'><div class='ampi-cite-head'>{label}"
            f"{_esc(brief.describe_locator(citation.locator, citation.page))}"
            f" <span class='ampi-section'>· {_esc(citation.doc)}</span></div>"
            + (f"<div class='ampi-section'>{section}</div>" if section else "")
            + passage_html(text, citation.quote)
            + (f"<ul class='ampi-sources'>{sources}</ul>" if sources else "") + "</div>")


def passage_view(assistant: Assistant, chunk_id: str | None) -> str:
    """An indexed passage with its footnotes, for the outline browser."""
    chunk = assistant.chunk(chunk_id) if chunk_id else None
    if chunk is None:
        return "<div class='ampi-empty'>Pick a paragraph or table to read it here.</div>"
    notes = [s.label() for s in assistant.footnotes_for(chunk)]
    return citation_html(Citation(doc=chunk.doc_title, locator=chunk.locator, page=chunk.page, section=chunk.section,
                                  text=chunk.text, sources=notes), linked=chunk.doc_id in assistant.index().report_ids)


# -- answers -----------------------------------------------------------------------------------
def sources_html(answer: Answer | None, position: int = 0, total: int = 0,
                 report: Collection[tuple[str, str, str]] = ()) -> str:
    """The sources panel for one answer: its citations, or for a refusal the related passages.

    `report`: citation keys of the bundled report's passages (see report_passages); only their links are live.
    """
    if answer is None:
        return f"<div class='ampi-panel'>{EMPTY_PANEL}</div>"
    head = f"Answer {position} of {total} (click another answer in the chat to see its sources): " if total > 1 else ""
    parts = [f"<div class='ampi-panel'><div class='ampi-head'>{head}<b>{_esc(answer.question)}</b></div>"]
    if answer.refused:
        parts.append("<div class='ampi-refused'>The documents don't say.</div>")
        if answer.related:
            parts.append("<h4>Related passages (not an answer)</h4>")
            parts += [citation_html(c, linked=citation_key(c) in report) for c in answer.related]
    else:
        parts.append("<h4>Citations</h4>")
        parts += [citation_html(c, n, linked=citation_key(c) in report) for n, c in enumerate(answer.citations, 1)]
    return "".join(parts) + "</div>"


def chat_message(answer: Answer) -> str:
    """The answer as chat Markdown, with a one-line key to its citations; the quoted text stays text
    (only the answer's own **emphasis** of the value found is shown as bold)."""
    text = brief.markdown_answer(answer.text)
    if answer.refused:
        return f"{text}\n\n_Related passages are listed on the right; they are not an answer._"
    cited = " · ".join(f"[{n}] {brief.describe_locator(c.locator, c.page)}" for n, c in enumerate(answer.citations, 1))
    return f"{text}\n\n_Cited: {markdown_text(cited)}_" if cited else text


def export_link(files: list[tuple[str, str]]) -> str:
    """The download links shown after a briefing export: (url, file name) for each format."""
    kinds = {".md": "Markdown", ".docx": "Word (DOCX)"}
    links = " · ".join(f"<a href='{_esc(url)}' download='{_esc(name)}'>{_esc(name)}</a> "
                       f"<span class='ampi-section'>({kinds.get(Path(name).suffix, Path(name).suffix)})</span>"
                       for url, name in files)
    return (f"<div class='ampi-export'>Your briefing: {links}"
            "<div class='ampi-section'>Links to your latest export (for you alone); the next export replaces them."
            "</div></div>")


def figures_frame(answer: Answer | None) -> pd.DataFrame:
    """The values behind a figure answer, for the table and the bar chart."""
    rows = [{"label": f.label, "value": f.value, "unit": f.unit, "cited in": f.citation} for f in (answer.figures if answer else [])]
    return pd.DataFrame(rows, columns=["label", "value", "unit", "cited in"])


def capitalize_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names as people read them."""
    return frame.rename(columns=lambda name: name[:1].upper() + name[1:])


# -- what is indexed ---------------------------------------------------------------------------
def documents_frame(assistant: Assistant, user: str | None = None) -> pd.DataFrame:
    """Indexed documents `user` (an uploads folder name) may see, for the status table."""
    try:
        docs = assistant.documents(user)
    except AmpiError:
        docs = []
    rows = [{"title": d.get("title", ""), "file": Path(d.get("path", "")).name, "role": ROLES.get(d.get("role"), d.get("role")),
             "passages": d.get("chunks", 0), "added": d.get("ingested_at", "")} for d in docs]
    return capitalize_columns(pd.DataFrame(rows, columns=["title", "file", "role", "passages", "added"]))


def intro_markdown(docs: list[dict]) -> str:
    """The Start-here introduction: the report's own when it is indexed, else a list of what is."""
    report = next((d for d in docs if d.get("role") == "report"), None)
    chunks = sum(d.get("chunks", 0) for d in docs)
    counts = {"docs": f"{len(docs)} document{'s' if len(docs) != 1 else ''}",
              "chunks": f"{chunks} passage{'s' if chunks != 1 else ''}"}
    if report:
        return INTRO.format(title=markdown_text(report["title"]), **counts)
    if docs:
        return ("## Indexed documents\nThe assistant searches {docs} ({chunks}): ".format(**counts)
                + ", ".join(f"*{markdown_text(d.get('title', ''))}*" for d in docs)
                + ". The AMPI report itself is not indexed yet; run `ampi ingest` to add it.")
    return "## No documents indexed yet\nAdd a file in the **Documents** tab, or run `ampi ingest`."


_NUMBERED = re.compile(r"^\d+(\.\d+)+$")
_CHAPTER = re.compile(r"^(\d+)\.\s")
LABEL_CHARS = 50


def _shorten(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-") + "…"


def outline_choices(sections: list[OutlineSection]) -> list[tuple[str, str]]:
    """Section picker entries, valued by position: '2. A growing global market (2.3–2.6)'.

    A label is the section's own heading (its parent's too when another section has the same heading, as the
    case studies' 'Key success factors' do), after its chapter number, with the numbered paragraphs it holds.
    """
    shown = [(n, s) for n, s in enumerate(sections) if s.items]
    # A heading that continues the one before it ('... with a large percentage of …') reads as its own label.
    leaves = [s.section.split(" > ")[-1].strip().lstrip(".… ") for _, s in shown]
    leaves = [leaf[:1].upper() + leaf[1:] for leaf in leaves]
    entries = []
    for (n, s), leaf in zip(shown, leaves, strict=True):
        parts = s.section.split(" > ")
        name = leaf
        if leaves.count(leaf) > 1 and len(parts) > 1 and not _CHAPTER.match(parts[-2]):
            name = f"{parts[-2]} › {leaf}"  # 'Aachen, Germany › Key success factors'
        chapter = _CHAPTER.match(parts[0]) if len(parts) > 1 else None
        label = f"{chapter.group(1)}. {_shorten(name)}" if chapter else _shorten(name)
        numbered = [i.locator for i in s.items if _NUMBERED.match(i.locator)]
        if numbered:
            label += f" ({numbered[0]}–{numbered[-1]})" if len(numbered) > 1 else f" ({numbered[0]})"
        entries.append((label, str(n)))
    return entries


def outline_items(sections: list[OutlineSection]) -> list[list[tuple[str, str]]]:
    """For each section, its paragraphs and tables as (preview, chunk id) picker entries."""
    return [[(f"{i.locator} — {i.preview}…", i.chunk_id) for i in s.items] for s in sections]


NOT_SPELLED_OUT = "(not spelled out in the documents)"


def glossary_html(entries: list[GlossaryEntry]) -> str:
    """The glossary as one plain table (every row in the page, so the browser's find and screen readers see all)."""
    if not entries:
        return "<div class='ampi-empty'>No abbreviations found in the indexed documents.</div>"
    rows = "".join(f"<tr><td><b>{_esc(g.term)}</b></td><td>{_esc(g.meaning) if g.defined else f'<i>{_esc(NOT_SPELLED_OUT)}</i>'}</td>"
                   f"<td>{_esc(brief.describe_locator(g.locator) if g.defined else 'first used in ' + brief.describe_locator(g.locator))}"
                   f"</td></tr>" for g in entries)
    return ("<div class='ampi-glossary'><table class='ampi-table'><thead><tr><th scope='col'>Term</th>"
            f"<th scope='col'>Meaning</th><th scope='col'>Where</th></tr></thead><tbody>{rows}</tbody></table></div>")

