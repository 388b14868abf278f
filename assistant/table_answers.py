"""Answers from the structured table records: exact cells, comparisons, changes over years, rankings."""

from __future__ import annotations

import dataclasses
import re

from assistant.crosscheck import caution
from assistant.figures import (
    NEGATIVE_NOUNS,
    FigureMatch,
    column_overview,
    format_value,
    is_rank,
    lookup,
    moved,
    plain_number,
    premise,
    ranked,
    sign_premise,
)
from assistant.query import Query
from assistant.table_ops import asks_filter, asks_total, top_n
from assistant.text import SMALL_NUMBERS
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


def _amount(value: float, like: Cell) -> str:
    """A computed amount printed in the unit of the cell it came from ('US$26 billion')."""
    return format_value(Cell(header=like.header, text=plain_number(value), value=value, unit=like.unit))




def _times(ratio: float) -> str:
    """'about 1.17x'; a multiple of two or more also in the words a report would use ('about eight times as large')."""
    whole = round(ratio)
    if ratio < 1.95:
        return f"about {ratio:.2f}x"
    said = SMALL_NUMBERS[whole] + " times" if whole < len(SMALL_NUMBERS) else f"{whole} times"
    return f"about {'twice' if whole == 2 else said} as large, {ratio:.2f}x"


def _compare_pair(a: FigureMatch, b: FigureMatch) -> str:
    """'Ruritania 155 vs Elbonia 132: 23 more (about 1.17x)', from the report's own values."""
    va, vb = a.cell.value, b.cell.value
    name_a, name_b = a.row.entity, b.row.entity
    unit = a.cell.unit or ""
    if va == vb:
        return f"They are the same: {name_a} and {name_b} both have {format_value(a.cell)}."
    both_negative = va < 0 and vb < 0  # two deficits: the larger is the more negative one
    first_larger = (abs(va) > abs(vb)) if both_negative else va > vb
    high, low = (a, b) if first_larger else (b, a)
    name_high, name_low = (name_a, name_b) if first_larger else (name_b, name_a)
    difference = abs(va - vb)
    if unit == "%":
        return (f"{name_high} {format_value(high.cell)} vs {name_low} {format_value(low.cell)}: "
                f"{name_high} is higher by {plain_number(difference)} percentage points.")
    if both_negative:
        ratio = f" (about {abs(high.cell.value) / abs(low.cell.value):.1f} times as large)"
        return (f"{name_high} {format_value(high.cell)} vs {name_low} {format_value(low.cell)}: "
                f"{name_high}'s is the larger deficit, by {_amount(difference, a.cell)}{ratio}.")
    ratio = f" ({_times(high.cell.value / low.cell.value)})" if low.cell.value and low.cell.value > 0 else ""
    return (f"{name_high} {format_value(high.cell)} vs {name_low} {format_value(low.cell)}: "
            f"{name_high} is larger by {_amount(difference, a.cell)}{ratio}.")


def _year_change(match: FigureMatch, years: list[int], others: list[FigureMatch] = (),
                 query_text: str = "") -> tuple[str, list[FigureMatch]] | None:
    """Change between two years ('10.5 in 2015 to 9.1 in 2020: down 1.4'): in one row, or across the
    year panels of one figure (a figure with a '2015' and a '2020' panel)."""
    cells = [c for c in match.row.cells if c.value is not None and c.year in years and c.unit == match.cell.unit]
    dated = [c for c in match.row.cells if c.value is not None and c.year in years]
    if len({c.year for c in cells}) < 2 and len({c.year for c in dated}) >= 2 and len({c.unit for c in dated}) == 1:
        cells = dated  # the row's rate ('grow' matched its CAGR) has no year: the change is in its dated values
    places = {id(c): match for c in cells}
    if len({c.year for c in cells}) < 2:
        across = [m for m in others if m.row.entity == match.row.entity and m.table.locator == match.table.locator
                  and m.cell.unit == match.cell.unit and m.cell.year in years]
        cells = list({m.cell.year: m.cell for m in across}.values())
        places = {id(m.cell): m for m in across}
    if len(cells) < 2:
        return None
    first, last = sorted(cells, key=lambda c: c.year)[:: len(cells) - 1]
    change = last.value - first.value
    direction = moved(change)
    if first.value < 0 and last.value < 0 and change:  # a negative balance is a deficit: say how it moved
        direction = "the deficit widened by" if change < 0 else "the deficit narrowed by"
    if is_rank(first) and change:  # a higher rank number is a lower place
        direction = "fell by" if change > 0 else "rose by"
    subject = match.row.entity
    amount = f"{plain_number(abs(change))} place{'s' if abs(change) != 1 else ''}" if is_rank(first) else _amount(abs(change), first)
    # The way the question means: a place falls as its number grows, a deficit grows as its value falls.
    meant = -change if is_rank(first) or (first.value < 0 and last.value < 0 and NEGATIVE_NOUNS.search(query_text)) else change
    text = (f"{premise(query_text, meant)}{subject}: {format_value(first)} in {first.year} and {format_value(last)} in {last.year} — "
            f"{direction} {amount if change else ''}".rstrip() + " (computed from the two values).")
    if is_rank(first):  # a place in a ranking is read with the values that ranked it
        rows = [places[id(c)].row for c in (first, last)]
        values = [next((c for c in row.cells if c.value is not None and not is_rank(c) and c.text != row.entity), None)
                  for row in rows]
        if all(values) and values[0].unit == values[1].unit:
            shift = values[1].value - values[0].value
            measure = re.sub(r"\b(?:19|20)\d{2}\b", "", places[id(first)].table.panel).strip() or "Value"
            text += (f" {measure}: {format_value(values[0])} in {first.year} and {format_value(values[1])} in {last.year}"
                     f" — {moved(shift)} {_amount(abs(shift), values[0]) if shift else ''}".rstrip() + ".")
    rate = next((c for c in match.row.cells if "cagr" in c.header.lower() and c.value is not None), None)
    if rate:
        text += f" {rate.header}: {format_value(rate)}."
    pair = [FigureMatch(places[id(c)].chunk, places[id(c)].table, places[id(c)].row, c, match.score) for c in (first, last)]
    return text, pair


def answer_from_tables(query: Query, loaded, cites) -> tuple[str, list[FigureRow]] | None:
    """Figure and comparison answers from the structured table records, or None."""
    tables = [c for c in loaded.chunks if c.table is not None]
    if not tables:
        return None
    top = ranked(query, tables)
    # "top 5", "dropped out of the top 10" ask about a group of rows, not the one at the top (table_ops)
    one_per_year = len(query.years) > 1 and top_n(query.text) is None
    each = [ranked(dataclasses.replace(query, years=[year]), tables) for year in query.years] if one_per_year else []
    if top and len(each) > 1 and all(each) and len({m.chunk.id for m in each}) == len(each):
        # "Which was at the bottom in 2011, and which in 2022?": the same question for each year's panel
        lines = [f"{m.table.year or year}: {m.row.entity}. {m.where}: {_value_line(m)} {cites.cite(m.chunk, m.row.text)}"
                 for m, year in zip(each, query.years, strict=True)]
        return "\n".join(lines), []
    if top and not _plural_entities(query):
        marker = cites.cite(top.chunk, top.row.text)
        row = top.table.rows
        values = [FigureRow(label=r.entity, value=float(c.value), unit=c.unit or "", citation=top.where)
                  for r in row for c in r.cells if c.header == top.cell.header and c.value is not None]
        return f"{top.row.entity}. {top.where}: {_value_line(top)} {marker}", values
    matches = lookup(query, tables)
    if not matches or (_plural_entities(query) and len({m.row.entity for m in matches}) < 2):
        # rows above or below a limit are the table operation's answer, not every row of the column
        overview = column_overview(query, tables) if not (asks_filter(query.text) or asks_total(query.text)) else []
        if overview:
            return _overview_answer(overview, cites)
    if not matches:
        return None
    if asks_filter(query.text) and (query.counted or _plural_entities(query)) and len({m.row.entity for m in matches}) < 2:
        return None  # "how many countries are above the UK": its row is what the others are set against, no answer
    best = matches[0].score
    all_matches = matches
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
        change = _year_change(match, query.years, all_matches, query.text)
        if change:
            text, pair = change
            markers = "".join(dict.fromkeys(cites.cite(p.chunk, p.row.text) for p in pair))
            return _with_caution(f"{text} {markers}", pair, loaded, cites), [_figure_row(p) for p in pair]
    found_years = {m.cell.year for m in all_matches if m.row.entity == match.row.entity}
    if len(query.years) >= 2 and any(y not in found_years and y != match.cell.year for y in query.years):
        return None  # a change over a period the table does not span: the refusal says which years it gives
    text = f"{match.where}: {_value_line(match)} {cites.cite(match.chunk, match.row.text)}"
    text = sign_premise(query.text, match.cell.value or 0.0) + text
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
    order = "smallest first" if len(column) > 1 and column[0].cell.value < column[-1].cell.value else "largest first"
    lines = [f"{first.where} — {header}{year}, {order} {marker}:"]
    lines += [f"{n}. {m.row.entity}: {format_value(m.cell)}" for n, m in enumerate(column, 1)]
    return "\n".join(lines), [_figure_row(m) for m in column]
