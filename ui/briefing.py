"""A per-user briefing of pinned answers, persisted as JSON and exported as Markdown (no Gradio here)."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel, Field

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
    partial = path.with_suffix(".json.part")
    partial.write_text(briefing.model_dump_json(indent=1), encoding="utf-8")
    os.replace(partial, path)


def pin(settings: Settings, user: str | None, answer: Answer, item_id: str) -> Briefing:
    """Add an answer at the end of the briefing (once; pinning it again changes nothing)."""
    with _lock:
        briefing = load_briefing(settings, user)
        if all(item.id != item_id for item in briefing.items):
            # Retrieval diagnostics are not part of a briefing and would bloat the file.
            kept = answer.model_copy(update={"retrieved": []})
            briefing.items.append(BriefingItem(id=item_id, pinned_at=time.strftime("%Y-%m-%dT%H:%M:%S"), answer=kept))
            save_briefing(settings, briefing)
        return briefing


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
    with _lock:
        briefing = load_briefing(settings, user)
        briefing.items = [item for item in briefing.items if item.id != item_id]
        save_briefing(settings, briefing)
        return briefing


def _citation_lines(number: int, citation: Citation, linked: bool = False) -> list[str]:
    text = markdown_links if linked else markdown_text
    where = f"{citation.doc} — {describe_locator(citation.locator, citation.page)}"
    if citation.section:
        where += f" ({citation.section.replace(' > ', ' › ')})"  # '>' would need escaping in Markdown
    quote = describe_row(citation) or _preview(citation, 300)
    lines = [f"- **[{number}]** {markdown_text(where)}", f"  > {markdown_text(quote)}"]
    lines += [f"  - Source: {text(source_text(source))}" for source in citation.sources]
    return lines


def _item_lines(position: int, answer: Answer, report: Collection[tuple[str, str, str]]) -> list[str]:
    lines = [f"## {position}. {markdown_text(_one_line(answer.question))}", "", markdown_text(answer.text.strip()), ""]
    if answer.refused and "don't say" not in answer.text.lower():
        lines += ["_The documents don't say._", ""]
    if answer.refused and answer.related:
        lines += ["Related passages (not an answer):", ""]
        lines += [f"- {markdown_text(f'{c.doc} — {describe_locator(c.locator, c.page)}: {_preview(c)}')}" for c in answer.related]
        lines.append("")
    if answer.figures:
        lines += ["| Item | Value | Unit | Cited |", "|---|---:|---|---|"]
        lines += [f"| {markdown_text(f.label)} | {f.value:,.6g} | {markdown_text(f.unit)} | {markdown_text(f.citation)} |"
                  for f in answer.figures]
        lines.append("")
    if answer.citations:
        lines += ["**Citations**", ""]
        for number, citation in enumerate(answer.citations, 1):
            lines += _citation_lines(number, citation, linked=citation_key(citation) in report)
        lines.append("")
    return lines


def to_markdown(items: list[BriefingItem], user: str | None = None, date: str | None = None,
                title: str = "AMPI briefing", report: Collection[tuple[str, str, str]] = ()) -> str:
    """A briefing a reader who never saw the chat can follow: each answer, its citations, then all sources.

    Document text is written as text; only passages of the bundled report (`report`: their citation_key) keep
    their web addresses as links.
    """
    date = date or time.strftime("%d %B %Y")
    by = f" by {markdown_text(user)}" if user and user != "anonymous" else ""
    lines = [f"# {title}", "",
             f"_Prepared {date}{by} with the AMPI document assistant: {len(items)} "
             f"question{'s' if len(items) != 1 else ''}, each answered "
             "only from the indexed documents. Numbers in brackets, e.g. [1], point to the citations below "
             "each answer._", ""]
    if not items:
        lines += ["Nothing has been pinned yet.", ""]
    sources: dict[str, bool] = {}  # source -> may link (cited by a report passage)
    for position, item in enumerate(items, 1):
        lines += _item_lines(position, item.answer, report)
        for citation in item.answer.citations:
            for source in map(source_text, citation.sources):
                sources[source] = sources.get(source, False) or citation_key(citation) in report
    lines += ["## Sources", ""]
    lines += [f"- {markdown_links(s) if linked else markdown_text(s)}" for s, linked in sources.items()] \
        or ["- No footnoted sources were cited."]
    return "\n".join(lines).rstrip() + "\n"


def export_folder(settings: Settings, user: str | None) -> Path:
    """The folder holding one user's latest exported briefing (served to that user only)."""
    return Path(settings.data_dir) / "exports" / safe_name(user)


def save_export(settings: Settings, user: str | None, items: list[BriefingItem],
                report: Collection[tuple[str, str, str]] = ()) -> Path:
    """Write the user's briefing for download in place of their previous export."""
    folder = export_folder(settings, user)
    for old in folder.glob("ampi-briefing-*.md"):  # one export per user: the folder never grows
        old.unlink(missing_ok=True)
    return write_markdown(items, folder, user=user, report=report)


def export_name(user: str | None) -> str:
    """The file name a downloaded briefing gets: who and when."""
    return f"ampi-briefing-{safe_name(user)}-{time.strftime('%Y-%m-%d')}.md"


def write_markdown(items: list[BriefingItem], folder: Path, user: str | None = None,
                   report: Collection[tuple[str, str, str]] = ()) -> Path:
    """Save the Markdown briefing in `folder` under a dated file name and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / export_name(user)
    path.write_text(to_markdown(items, user=user, report=report), encoding="utf-8")
    return path
