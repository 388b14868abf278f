"""Parse tab-separated table blocks into typed records (title, panels, headers, rows, cells)."""

from __future__ import annotations

import re

from ingest.markup import clean_cell
from ingest.records import Cell, Table, TableRow

_NUMBER = re.compile(r"^[−–-]?\s*[$£€]?\s*\d[\d,]*(?:\.\d+)?\s*%?$")
_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
_UNIT_IN_HEADER = re.compile(r"\(([^)]*)\)")
_OMITTED = re.compile(r"^\s*(\.\.\.|…)\s*$")


def parse_number(text: str) -> float | None:
    """A cell's number ('-7.2', '1,200', '0.6%'), or None for words."""
    cleaned = text.replace("−", "-").replace("–", "-").strip()
    if not _NUMBER.match(cleaned):
        return None
    digits = re.sub(r"[^\d.\-]", "", cleaned)
    try:
        return float(digits)
    except ValueError:
        return None


def header_unit(header: str) -> str | None:
    """Unit named by a column header: 'Value added (US$, billion)' → 'US$ billion'."""
    for inner in _UNIT_IN_HEADER.findall(header):
        parts = [p.strip() for p in inner.split(",") if p.strip()]
        if parts and not _YEAR.fullmatch(parts[0]) and not re.match(r"\d{4}\s*-\s*\d{4}", inner):
            return " ".join(parts)
    bare = header.strip()
    if re.fullmatch(r"(USD|US\$|GBP|£|€|EUR)\s*(billion|million|thousand)?", bare):
        return bare
    return None


def header_year(header: str) -> int | None:
    """A single year named by a header ('2011 (USD billion)'); ranges like 2011-2022 give None."""
    years = _YEAR.findall(header)
    if len(years) == 1 and not re.search(r"\d{4}\s*[-–]\s*\d{4}", header):
        return int(years[0])
    return None


def _split_rows(lines: list[str]) -> tuple[list[list[str]], list[bool]]:
    """Cells of each line, and whether the report prints the line in bold (the UK row of Table 2-2)."""
    rows = [[clean_cell(cell) for cell in line.split("\t")] for line in lines]
    bold = [bool(re.search(r"<b>|\*\*", line)) for line in lines]
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows], bold


def _group_labels(row: list[str], next_row: list[str] | None) -> list[tuple[int, str]] | None:
    """Positions of group headers ('Trade balance 2011' over three columns), if this row is one."""
    filled = [(i, c) for i, c in enumerate(row) if c]
    if next_row is None or not filled:
        return None
    next_filled = sum(1 for c in next_row if c)
    if len(filled) < next_filled and all(parse_number(c) is None for _, c in filled):
        return filled
    return None


def _panels(headers: list[str], groups: list[tuple[int, str]] | None) -> list[tuple[str, int, int]]:
    """Column ranges of each panel: side-by-side tables under their own group header."""
    if not groups:
        return [("", 0, len(headers))]
    bounds = [start for start, _ in groups] + [len(headers)]
    return [(label, bounds[i], bounds[i + 1]) for i, (_, label) in enumerate(groups)]


def _row_record(cells: list[str], headers: list[str], panel: str, title_year: int | None,
                highlighted: bool = False) -> TableRow | None:
    if all(not c or _OMITTED.match(c) for c in cells):
        return None
    panel_year = header_year(panel) if panel else None
    label_index = next((i for i, c in enumerate(cells) if c and parse_number(c) is None), None)
    # Label-less rows (UK exports: three numbers) take their subject from the panel name.
    entity = cells[label_index] if label_index is not None else panel
    typed = []
    for header, text in zip(headers, cells, strict=False):
        value = parse_number(text)
        unit = header_unit(header) or ("%" if text.endswith("%") else None)
        year = header_year(header) or panel_year or title_year
        typed.append(Cell(header=header, text=text, value=value, unit=unit, year=year))
    return TableRow(entity=entity, cells=typed, text="\t".join(cells), highlighted=highlighted)


def parse_table_block(locator: str, title: str, lines: list[str], source: str = "") -> list[Table]:
    """One table (or one per panel) from the tab-separated lines printed under a title.

    `lines` may hold several blocks separated by blank lines (Figure 2-2 holds a ranking
    and an exports/imports table); each block, and each side-by-side panel in it, becomes a Table.
    """
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    title_year = header_year(title)
    tables: list[Table] = []
    for block in (b for b in blocks if b):
        rows, bold = _split_rows(block)
        groups = _group_labels(rows[0], rows[1] if len(rows) > 1 else None)
        header_row = rows[1] if groups else rows[0]
        first_data = 2 if groups else 1
        data = list(zip(rows[first_data:], bold[first_data:], strict=True))
        for panel, start, end in _panels(header_row, groups):
            headers = header_row[start:end]
            records = [
                record
                for row, is_bold in data
                if (record := _row_record(row[start:end], headers, panel, title_year, is_bold)) is not None
            ]
            if records:
                year = header_year(panel) if panel else title_year
                tables.append(Table(locator=locator, title=title, panel=panel, headers=headers,
                                    rows=records, source=source, year=year))
    return tables
