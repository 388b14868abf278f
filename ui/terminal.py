"""Plain text for the terminal (`ampi ask`, `ampi status`, `ampi sources`): no Markdown, tables in columns.

No Gradio, model or index is loaded here; the CLI hands in what it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the CLI starts without loading pydantic models it does not use
    from ingest.records import Chunk, Citation

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_NUMBER = re.compile(r"^[-+−]?[\d.,]+%?$")


def plain(text: str) -> str:
    """Answer text without Markdown emphasis: '**US$155 billion**' reads 'US$155 billion'."""
    return _BOLD.sub(r"\1", text or "")


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 row', '8 rows', '2 summary boxes'."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def columns(rows: list[list[str]], indent: str = "") -> list[str]:
    """Rows of cells as lines whose columns line up; a column of numbers is right-aligned."""
    rows = [[" ".join(cell.split()) for cell in row] for row in rows if row]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    sizes = [max(len(row[n]) for row in rows) for n in range(width)]
    numeric = [n > 0 and all(_NUMBER.match(row[n]) or not row[n] for row in rows[1:]) for n in range(width)]
    return [indent + "  ".join(cell.rjust(size) if right else cell.ljust(size)
                               for cell, size, right in zip(row, sizes, numeric, strict=True)).rstrip()
            for row in rows]


def quoted_rows(citation: Citation, indent: str = "") -> list[str]:
    """A table citation's quoted rows under the table's column headers, aligned; [] when the quote is prose."""
    quote = citation.quote or ""
    headers = next((line.split("\t") for line in citation.text.splitlines() if "\t" in line), None)
    if "\t" not in quote or headers is None:
        return []
    rows = [line.split("\t") for line in quote.splitlines() if line.strip()]
    return columns([headers, *rows], indent)


def table_summary(chunks: Iterable[Chunk]) -> list[str]:
    """Each table or figure once, in document order, with its rows (per panel for a figure of several)."""
    found: dict[str, list[Chunk]] = {}
    for chunk in sorted(chunks, key=lambda c: c.order):
        if chunk.kind == "table":
            found.setdefault(chunk.locator, []).append(chunk)
    lines = []
    for locator, parts in found.items():
        first = parts[0]
        title = first.table.title if first.table else first.text.splitlines()[0].partition(":")[2].strip()
        tables = [part.table for part in parts if part.table is not None]
        if not tables:
            shape = "a chart, no data rows"
        elif len(tables) == 1 and not tables[0].panel:
            shape = plural(len(tables[0].rows), "row")
        else:
            shape = f"{plural(len(tables), 'panel')}: " + ", ".join(
                f"{table.panel or 'untitled'} ({plural(len(table.rows), 'row')})" for table in tables)
        lines.append(f"{locator}: {title} — {shape}")
    return lines
