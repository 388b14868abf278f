"""Parse a report converted from PDF to Markdown into numbered paragraphs, summary boxes, tables and footnotes.

The converter writes numbered paragraphs in several ways (`**2.7**`, `- 2.9**`, `- **3.2**`),
breaks paragraphs at page ends with footnotes in between, and prints photo captions as short
lines. Generic Markdown splitters would cut across all of this, so the structure is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.markup import clean, first_url, footnote_refs
from ingest.records import Chunk, Footnote, Table, content_hash
from ingest.tables import parse_table_block

PARAGRAPH = re.compile(r"^\s*(?:[-▶*]\s*)*\*{0,2}\s*(\d{1,2}\.\d{1,2})\s*\*{2}\s*(.*)$")
FOOTNOTE = re.compile(r"^\s*<sup>\s*(\d+)\s*</sup>\s*(.*)$")
TABLE_TITLE = re.compile(r"^\s*\*{0,2}\s*((?:Table|Figure)\s+\d+-\d+)\s*:\s*(.*?)\s*\*{0,2}\s*$")
HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")
BOLD_LINE = re.compile(r"^\s*\*\*(.+)\*\*\s*$")
BULLET = re.compile(r"^(\s*)[-*▶]\s+(?:▶\s*)?(.*)$")
SECTION_NUMBER = re.compile(r"^(\d+)\.\s+\S")
TERMINAL = ("." , ":", "?", "!", "”", '"', "’", ";")
MIN_REPORT_PARAGRAPHS = 5
BACK_MATTER = {"about us", "contact", "contacts", "references", "acknowledgements", "bibliography"}


def looks_like_numbered_report(markdown: str) -> bool:
    """True when the Markdown carries numbered paragraphs this parser understands."""
    return sum(1 for line in markdown.splitlines() if PARAGRAPH.match(line)) >= MIN_REPORT_PARAGRAPHS


@dataclass
class _Open:
    """The unit being collected: a numbered paragraph or an unnumbered block under a heading."""

    kind: str
    locator: str
    section: str
    heading: str
    lines: list[str] = field(default_factory=list)

    def ended(self) -> bool:
        last = re.sub(r"(\s*<sup>\s*\d+\s*</sup>)+$", "", self.lines[-1].rstrip()) if self.lines else ""
        return last.endswith(TERMINAL) or last.endswith("**")


@dataclass
class ParsedReport:
    """What the parser found: citable chunks (without document fields yet), tables and footnotes."""

    title: str
    units: list[tuple[str, str, str, str, str, list[int], Table | None]]  # kind, locator, section, heading, text, footnotes, table
    footnotes: list[Footnote]


class ReportParser:
    """Walks the Markdown line by line, keeping the heading path and the unit being collected."""

    def __init__(self, markdown: str):
        self.lines = markdown.splitlines()
        self.units: list[tuple[str, str, str, str, str, list[int], Table | None]] = []
        self.footnotes: dict[int, Footnote] = {}
        self.headings: list[tuple[int, str]] = []
        self.section_number = ""
        self.current: _Open | None = None
        self.title = ""

    # -- heading path -------------------------------------------------------------------------
    def section_path(self) -> str:
        return " > ".join(text for _, text in self.headings)

    def _enter_heading(self, level: int, text: str) -> None:
        number = SECTION_NUMBER.match(text)
        if number:
            # Numbered chapter headings are printed at '#' or '##'; both restart the path.
            self.section_number = number.group(1)
            self.headings = [(1, text)]
            return
        if not self.title and level == 1:
            self.title = text
        if text.lower() in BACK_MATTER:
            self.section_number = ""  # 'About us', 'Contact': not part of the last chapter
            self.headings = [(1, text)]
            return
        if self.section_number:
            level = max(level, 2)  # unnumbered '#' headings inside a chapter still sit under it
            if text.lower() in self.repeated and level == 2 and len(self.headings) >= 2:
                # The converter prints "Key success factors" of each case study at the case study's own
                # level; a heading that recurs within a chapter is a sub-heading of the one before it.
                level = 3
        self.headings = [(lvl, t) for lvl, t in self.headings if lvl < level or (lvl == 1 and level > 1)]
        if self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, text))

    # -- units --------------------------------------------------------------------------------
    def _close(self) -> None:
        unit, self.current = self.current, None
        if unit is None or not unit.lines:
            return
        raw = "".join(unit.lines).strip()
        text = clean(raw)
        if not text or (unit.kind == "text" and len(text.split()) < 4):
            return
        self.units.append((unit.kind, unit.locator, unit.section, unit.heading, text, footnote_refs(raw), None))

    def _heading_text(self) -> str:
        return self.headings[-1][1] if self.headings else ""

    def _open_unnumbered(self) -> _Open:
        heading = self._heading_text()
        if heading.lower() == "summary" and self.section_number:
            return _Open("summary", f"Summary (Section {self.section_number})", self.section_path(), heading)
        return _Open("text", heading or "Front matter", self.section_path(), heading)

    def _repeated_headings(self) -> set[str]:
        """Headings whose text occurs more than once within one chapter."""
        seen: dict[tuple[str, str], int] = {}
        chapter = ""
        for line in self.lines:
            heading = HEADING.match(line)
            if not heading:
                continue
            text = clean(heading.group(2))
            if SECTION_NUMBER.match(text):
                chapter = text
                continue
            seen[(chapter, text.lower())] = seen.get((chapter, text.lower()), 0) + 1
        return {text for (_, text), count in seen.items() if count > 1}

    def parse(self) -> ParsedReport:
        self.repeated = self._repeated_headings()
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            stripped = line.strip()
            if footnote := FOOTNOTE.match(line):
                number = int(footnote.group(1))
                self.footnotes[number] = Footnote(number=number, text=clean(footnote.group(2)), url=first_url(footnote.group(2)))
            elif heading := HEADING.match(line):
                self._close()
                self._enter_heading(len(heading.group(1)), clean(heading.group(2)))
            elif title := TABLE_TITLE.match(line):
                self._close()
                i = self._read_table(i, title.group(1), clean(title.group(2)))
                continue
            elif paragraph := PARAGRAPH.match(line):
                self._close()
                if self.headings and self.headings[-1][1].lower() == "summary":
                    self.headings.pop()  # the summary box ends where numbered paragraphs begin
                self.current = _Open("paragraph", paragraph.group(1), self.section_path(), self._heading_text())
                self.current.lines.append(paragraph.group(2).strip())
            elif not stripped or stripped in {"---", "***"} or stripped.startswith("Source:"):
                pass
            elif BOLD_LINE.match(line) and not BULLET.match(line):
                # Pull quotes and photo captions printed in bold: not part of any paragraph.
                pass
            elif bullet := BULLET.match(line):
                if self.current is None:
                    self.current = self._open_unnumbered()
                indent = "  " if bullet.group(1) else ""
                self.current.lines.append(f"\n{indent}- {bullet.group(2)}")
            else:
                self._plain_line(stripped)
            i += 1
        self._close()
        units = self.units
        return ParsedReport(title=self.title or "Untitled report", units=units,
                            footnotes=[self.footnotes[n] for n in sorted(self.footnotes)])

    def _plain_line(self, stripped: str) -> None:
        if self.current is not None and not self.current.ended():
            self.current.lines.append(" " + stripped)  # a paragraph resuming after a page break
        elif not stripped.endswith(TERMINAL):
            pass  # a photo caption ("Bilbao, Spain", "Grinding head on a … machine")
        elif self.current is not None and self.current.kind == "paragraph" and len(stripped.split()) >= 8:
            self.current.lines.append("\n" + stripped)  # a paragraph resuming after a figure
        else:
            if self.current is None or self.current.kind == "paragraph":
                self._close()
                self.current = self._open_unnumbered()
            self.current.lines.append("\n" + stripped)

    def _read_table(self, start: int, locator: str, title: str) -> int:
        """Collect the tab-separated lines and the Source line under a table title."""
        lines: list[str] = []
        source = ""
        i = start + 1
        while i < len(self.lines):
            line = self.lines[i]
            stripped = line.strip()
            if stripped.startswith("Source:"):
                source = clean(stripped[len("Source:"):])
                i += 1
                break
            if "\t" in line or not stripped:
                lines.append(line)
                i += 1
                continue
            break
        tables = parse_table_block(locator, title, lines, source)
        section, heading = self.section_path(), self._heading_text()
        for table in tables:
            self.units.append(("table", locator, section, heading, table.as_text(), [], table))
        if not tables:
            # Charts and graphics: the title and source still tell a reader where a number lives.
            text = f"{locator}: {title}" + (f"\nSource: {source}" if source else "")
            self.units.append(("table", locator, section, heading, text, [], None))
        return i


_YEAR_LINE = re.compile(r"^(?:19|20)\d{2}$")
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
# Who a title page credits: '... carried out by SQW', 'Prepared by A and B', 'Written by C for D'.
_BY = re.compile(r"\b(?:carried out|prepared|written|produced|researched|authored|compiled|undertaken|report)\s+by\s+"
                 r"(.+?)(?:\s+(?:for|on behalf of)\s+(.+?))?\s*\.?$", re.IGNORECASE)
# Whose report it is: 'An AMPI report ...', '... for the Example Institute', 'Commissioned by ...'.
_FOR = re.compile(r"^(?:an?|the)\s+(.+?)\s+(?:report|study|paper|publication)\b|\b(?:commissioned by|on behalf of)\s+(.+?)\s*\.?$",
                  re.IGNORECASE)


def front_matter(markdown: str) -> dict:
    """What the title page says about the report: title, subtitle, year, credit line, authors and publisher.

    The title page is everything before the contents or the first numbered chapter or paragraph.
    """
    title, subtitle, year, credit = "", "", None, []
    for line in markdown.splitlines()[:80]:
        stripped = clean(line.strip().lstrip("#").strip()) if line.strip() else ""
        heading = HEADING.match(line)
        if PARAGRAPH.match(line) or TABLE_TITLE.match(line) or FOOTNOTE.match(line):
            break
        if heading and title and (len(heading.group(1)) == 1 or SECTION_NUMBER.match(stripped)
                                  or stripped.lower() in {"contents", "table of contents", "summary", "executive summary"}):
            break
        if not stripped:
            if credit and credit[-1]:
                credit.append("")  # a blank line ends a credit sentence
            continue
        if heading and not title:
            title = stripped
        elif heading and not subtitle:
            subtitle = stripped
        elif _YEAR_LINE.match(stripped) and year is None:
            year = int(stripped)
        elif title and not heading:
            if credit:
                credit[-1] = f"{credit[-1]} {stripped}".strip()  # a credit sentence wrapped over lines
            else:
                credit.append(stripped)
    statement = next((c for c in credit if c), "")
    if year is None and (found := _YEAR.search(" ".join([subtitle, *credit]))):
        year = int(found.group(1))
    authors = publisher = ""
    if by := _BY.search(statement):
        authors, publisher = by.group(1).strip(" ,.;"), (by.group(2) or "").strip(" ,.;")
    if not publisher and (owner := _FOR.search(statement)):
        publisher = (owner.group(1) or owner.group(2) or "").strip(" ,.;")
    return {"title": title, "subtitle": subtitle, "year": year, "credit": statement,
            "authors": authors, "publisher": publisher}


def parse_report(markdown: str, doc_id: str, doc_title: str, doc_path: str) -> tuple[str, list[Chunk], list[Footnote]]:
    """Chunks (paragraphs, summary boxes, tables, footnotes) and the footnote registry of a report."""
    parsed = ReportParser(markdown).parse()
    chunks: list[Chunk] = []
    for order, (kind, locator, section, heading, text, refs, table) in enumerate(parsed.units):
        chunk_id = content_hash(doc_id, kind, locator, str(order), text)
        chunks.append(Chunk(id=chunk_id, doc_id=doc_id, doc_title=doc_title or parsed.title, doc_path=doc_path,
                            kind=kind, locator=locator, section=section, heading=heading, text=text,
                            footnotes=refs, order=order, table=table))
    link_continuations(chunks)
    for note in parsed.footnotes:
        order = len(chunks)
        chunks.append(Chunk(id=content_hash(doc_id, "footnote", str(note.number), note.text), doc_id=doc_id,
                            doc_title=doc_title or parsed.title, doc_path=doc_path, kind="footnote",
                            locator=f"footnote {note.number}", text=note.text + (f" {note.url}" if note.url and note.url not in note.text else ""),
                            footnotes=[note.number], order=order))
    return parsed.title, chunks, parsed.footnotes


# A paragraph that opens by pointing back at a time ("Over the same period, productivity grew …") states figures
# for the period the paragraph before it names: without that sentence, its years are nowhere in it.
_CONTINUES = re.compile(r"^(?:(?:Over|In|During|Across|For|Within)\s+(?:the\s+same|this|that|the\s+same\s+time)\s+"
                        r"(?:period|time|timeframe|time\s+frame|years?|decade)|At\s+the\s+same\s+time)\b")


def link_continuations(chunks: list[Chunk]) -> None:
    """Give each paragraph that opens by pointing back at a period the sentence of the paragraph before it that
    names one (its last with a year)."""
    for previous, chunk in zip(chunks, chunks[1:], strict=False):
        if (chunk.kind == "paragraph" and previous.kind == "paragraph" and previous.section == chunk.section
                and _CONTINUES.match(chunk.text.lstrip("*- "))):
            sentences = re.split(r"(?<=[.!?])[⁰¹²³⁴⁵⁶⁷⁸⁹]*\s+(?=[A-Z])", previous.text.strip())
            dated = [s for s in sentences if re.search(r"\b(?:19|20)\d{2}\b", s)]
            chunk.continues = (dated or sentences)[-1]  # the period is named by the latest sentence with a year
