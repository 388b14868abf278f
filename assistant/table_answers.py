"""Answers from the structured table records: exact cells, comparisons, changes over years, rankings."""

from __future__ import annotations

import re

from assistant.crosscheck import caution
from assistant.figures import FigureMatch, column_overview, format_value, lookup, ranked
from assistant.query import Query
from ingest.records import Cell, FigureRow


def _value_line(match: FigureMatch) -> str:
    row, cell = match.row, match.cell
    subject = row.entity
    year = f" ({cell.year})" if cell.year else ""
    header = re.sub(r"\s*\([^)]*\)", "", cell.header).strip() or match.table.panel
    others = [f"{c.header}: {format_value(c)}" for c in row.cells if c is not cell and c.value is not None]
    extra = f" — {'; '.join(others)}" if others else ""
    return f"{subject} — {header or 'value'}{year}: **{format_value(cell)}**{extra}"


def _figure_row(match: FigureMatch) -> FigureRow:
    return FigureRow(label=match.row.entity, value=float(match.cell.value), unit=match.cell.unit or "", citation=match.where)


def _number(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def _amount(value: float, like: Cell) -> str:
    """A computed amount printed in the unit of the cell it came from ('US$26 billion')."""
    return format_value(Cell(header=like.header, text=_number(value), value=value, unit=like.unit))


def _compare_pair(a: FigureMatch, b: FigureMatch) -> str:
    """'Japan 155 vs Germany 132: 23 more (about 1.17x)', from the report's own values."""
    va, vb = a.cell.value, b.cell.value
    name_a, name_b = a.row.entity, b.row.entity
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
            f"{name_high} is larger by {_amount(difference, a.cell)}{ratio}.")


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
            f"{direction} {_amount(abs(change), first)} "
            f"(computed from the two values).")
    rate = next((c for c in match.row.cells if "cagr" in c.header.lower() and c.value is not None), None)
    if rate:
        text += f" {rate.header}: {format_value(rate)}."
    pair = [FigureMatch(match.chunk, match.table, match.row, c, match.score) for c in (first, last)]
    return text, pair


def answer_from_tables(query: Query, loaded, cites) -> tuple[str, list[FigureRow]] | None:
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
        return _with_caution("\n".join(lines) + f" {markers}", [a, b], loaded, cites), [_figure_row(a), _figure_row(b)]
    match = picked[0]
    if len(query.years) >= 2:
        change = _year_change(match, query.years)
        if change:
            text, pair = change
            return _with_caution(f"{text} {cites.cite(match.chunk, match.row.text)}", pair, loaded, cites), \
                [_figure_row(p) for p in pair]
    text = f"{match.where}: {_value_line(match)} {cites.cite(match.chunk, match.row.text)}"
    return _with_caution(text, [match], loaded, cites), [_figure_row(match)]


def _with_caution(text: str, used: list[FigureMatch], loaded, cites) -> str:
    note = caution(used, loaded.chunks, cites)
    return f"{text}\n\n{note}" if note else text


def _plural_entities(query: Query) -> bool:
    return bool(re.search(r"\b(which|what) (\w+ )?(countries|regions|nations|firms|companies)\b|\bacross\b|\blist\b", query.text, re.I))


def _overview_answer(column: list[FigureMatch], cites) -> tuple[str, list[FigureRow]]:
    """All values of one table column, largest first, with the column's citation."""
    first = column[0]
    marker = cites.cite(first.chunk, "\n".join(m.row.text for m in column[:3]))
    header = re.sub(r"\s*\([^)]*\)", "", first.cell.header).strip() or first.table.panel
    year = f" ({first.cell.year})" if first.cell.year else ""
    lines = [f"{first.where} — {header}{year}, largest first {marker}:"]
    lines += [f"{n}. {m.row.entity}: {format_value(m.cell)}" for n, m in enumerate(column, 1)]
    return "\n".join(lines), [_figure_row(m) for m in column]
