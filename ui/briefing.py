"""A per-user briefing of pinned answers, persisted as JSON and exported as Markdown (no Gradio here)."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
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


def _citation_lines(number: int, citation: Citation) -> list[str]:
    where = f"{citation.doc} — {describe_locator(citation.locator, citation.page)}"
    if citation.section:
        where += f" ({citation.section})"
    quote = describe_row(citation) or _preview(citation, 300)
    lines = [f"- **[{number}]** {where}", f"  > {quote}"]
    lines += [f"  - Source: {source_text(source)}" for source in citation.sources]
    return lines


def _item_lines(position: int, answer: Answer) -> list[str]:
    lines = [f"## {position}. {_one_line(answer.question)}", "", answer.text.strip(), ""]
    if answer.refused and "don't say" not in answer.text.lower():
        lines += ["_The documents don't say._", ""]
    if answer.refused and answer.related:
        lines += ["Related passages (not an answer):", ""]
        lines += [f"- {c.doc} — {describe_locator(c.locator, c.page)}: {_preview(c)}" for c in answer.related]
        lines.append("")
    if answer.figures:
        lines += ["| Item | Value | Unit | Cited |", "|---|---:|---|---|"]
        lines += [f"| {f.label} | {f.value:,.6g} | {f.unit} | {f.citation} |" for f in answer.figures]
        lines.append("")
    if answer.citations:
        lines += ["**Citations**", ""]
        for number, citation in enumerate(answer.citations, 1):
            lines += _citation_lines(number, citation)
        lines.append("")
    return lines


def to_markdown(items: list[BriefingItem], user: str | None = None, date: str | None = None,
                title: str = "AMPI briefing") -> str:
    """A briefing a reader who never saw the chat can follow: each answer, its citations, then all sources."""
    date = date or time.strftime("%d %B %Y")
    by = f" by {user}" if user and user != "anonymous" else ""
    lines = [f"# {title}", "",
             f"_Prepared {date}{by} with the AMPI document assistant: {len(items)} "
             f"question{'s' if len(items) != 1 else ''}, each answered "
             "only from the indexed documents. Numbers in brackets, e.g. [1], point to the citations below "
             "each answer._", ""]
    if not items:
        lines += ["Nothing has been pinned yet.", ""]
    sources: list[str] = []
    for position, item in enumerate(items, 1):
        lines += _item_lines(position, item.answer)
        for citation in item.answer.citations:
            sources += [source_text(s) for s in citation.sources if source_text(s) not in sources]
    lines += ["## Sources", ""]
    lines += [f"- {source}" for source in sources] or ["- No footnoted sources were cited."]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(items: list[BriefingItem], folder: Path, user: str | None = None) -> Path:
    """Save the Markdown briefing in `folder` under a dated file name and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ampi-briefing-{safe_name(user)}-{time.strftime('%Y-%m-%d')}.md"
    path.write_text(to_markdown(items, user=user), encoding="utf-8")
    return path
