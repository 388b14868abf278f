"""Typed records that flow between the stages: document → chunk / table / footnote → hit → answer."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

ChunkKind = Literal["paragraph", "summary", "table", "footnote", "text", "page"]


def content_hash(*parts: str | bytes, length: int = 24) -> str:
    """Stable id from content: unchanged text gives an unchanged id."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:length]


class Footnote(BaseModel):
    """One footnote of a document: the report's record of a cited source."""

    number: int = Field(description="Footnote number as printed, e.g. 2.")
    text: str = Field(description="Footnote text with Markdown links reduced to their words.")
    url: str | None = Field(None, description="First URL in the footnote, where present.")

    @property
    def label(self) -> str:
        return f"footnote {self.number}: {self.text}"


class Cell(BaseModel):
    """One table cell, typed."""

    header: str = Field(description="Full column header, including any group header above it.")
    text: str = Field(description="Cell text as printed, markup removed.")
    value: float | None = Field(None, description="Numeric value, when the cell is a number.")
    unit: str | None = Field(None, description="Unit from the header or the cell, e.g. 'US$ billion' or '%'.")
    year: int | None = Field(None, description="Year from the header, panel or table title.")


class TableRow(BaseModel):
    """One row of a table with its label (the entity it describes) and typed cells."""

    entity: str = Field(description="Row label, e.g. a country; for label-less rows the group header's subject.")
    cells: list[Cell] = Field(description="Cells in column order, including the label cell.")
    text: str = Field(description="The row as printed (tab separated).")
    highlighted: bool = Field(False, description="True when the report prints the row in bold.")


class Table(BaseModel):
    """A table (or one panel of a figure) as structured records."""

    locator: str = Field(description="Citable locator, e.g. 'Table 2-2' or 'Figure 2-2'.")
    title: str = Field(description="Title as printed, without the locator prefix.")
    panel: str = Field("", description="Panel name when a figure holds several tables, e.g. 'Trade balance 2011'.")
    headers: list[str] = Field(description="Column headers.")
    rows: list[TableRow] = Field(description="Data rows; '...' rows for omitted ranks are dropped.")
    source: str = Field("", description="The table's 'Source:' line.")
    year: int | None = Field(None, description="Year the whole table refers to, from its title or panel.")

    def as_text(self) -> str:
        """The table as readable text for embedding and keyword search."""
        head = f"{self.locator}: {self.title}" + (f" — {self.panel}" if self.panel else "")
        lines = [head, "\t".join(self.headers)] + [row.text for row in self.rows]
        if self.source:
            lines.append(f"Source: {self.source}")
        return "\n".join(lines)


class Chunk(BaseModel):
    """A citable unit of text: one numbered paragraph, summary box, table, footnote or page passage."""

    id: str = Field(description="Content hash of document id, locator and text.")
    doc_id: str = Field(description="Content hash of the document file.")
    doc_title: str = Field(description="Document title.")
    doc_path: str = Field(description="File the document was read from.")
    kind: ChunkKind = Field(description="What sort of unit this is.")
    locator: str = Field(description="Where to find it: '2.7', 'Table 2-2', 'footnote 12', 'p. 3'.")
    page: int | None = Field(None, description="Page number, where the source has pages.")
    section: str = Field("", description="Section path, e.g. '2. Advanced Machinery… > Trends and drivers of change'.")
    heading: str = Field("", description="Nearest sub-heading above the chunk (often a headline finding).")
    text: str = Field(description="Clean passage text as shown to people.")
    footnotes: list[int] = Field(default_factory=list, description="Footnote numbers referenced by this chunk.")
    order: int = Field(0, description="Position of the chunk in its document.")
    table: Table | None = Field(None, description="Structured table, for table chunks.")
    continues: str = Field("", description="The sentence an opening back-reference ('Over the same period, …') "
                                           "points to: the previous paragraph's last.")

    def search_text(self) -> str:
        """Text given to the embedder and the keyword index: context first, then the passage."""
        context = " > ".join(part for part in (self.section, self.heading, self.continues) if part)
        return f"{context}\n{self.text}" if context else self.text


class Document(BaseModel):
    """One ingested file and everything extracted from it."""

    id: str = Field(description="Content hash of the file bytes.")
    path: str = Field(description="File path.")
    title: str = Field(description="Title from the document, else the file name.")
    role: Literal["report", "source", "user"] = Field("user", description="Bundled report, cited source, or a user's document.")
    pages: int | None = Field(None, description="Page count for paged formats.")
    chunks: list[Chunk] = Field(default_factory=list)
    footnotes: list[Footnote] = Field(default_factory=list)
    matched_footnote: int | None = Field(None, description="For a cited source: the report footnote it matches.")
    # How to cite the document itself, read from its title page or metadata (empty when it does not say).
    subtitle: str = Field("", description="Subtitle from the title page, e.g. 'Market Assessment'.")
    authors: str = Field("", description="Who wrote it, as the title page or metadata credits them.")
    publisher: str = Field("", description="Who it was written for or published by, when the title page says.")
    year: int | None = Field(None, description="Year of publication, from the title page or metadata.")
    credit: str = Field("", description="The title page's credit line, as printed.")


# The Document fields an index keeps about each document for citing it (see index.builder's manifest).
REFERENCE_FIELDS = ("subtitle", "authors", "publisher", "year", "credit")


class Hit(BaseModel):
    """A retrieved chunk with its fused score."""

    chunk: Chunk
    score: float = Field(description="Retrieval score after fusion and rerank; higher is better.")
    dense: float = Field(0.0, description="Cosine similarity of question and passage (0 when only keyword search found it).")


class Citation(BaseModel):
    """A passage an answer rests on, with the sources the report cites for it."""

    doc: str = Field(description="Document title.")
    locator: str
    page: int | None = None
    section: str = ""
    text: str = Field(description="The passage text.")
    quote: str = Field("", description="The sentence or row used, to highlight within the passage.")
    sources: list[str] = Field(default_factory=list, description="Footnoted sources behind the passage.")


class FigureRow(BaseModel):
    """A value used by an answer, for tables and charts in the UI."""

    label: str
    value: float
    unit: str = ""
    citation: str = Field("", description="Locator of the value.")


class Answer(BaseModel):
    """What the assistant says, and exactly what it rests on."""

    question: str
    resolved: str | None = Field(None, description="The standalone question answered when a chat follow-up was "
                                                   "rewritten (\"and in 2011?\"); None when answered as asked.")
    text: str = Field(description="The answer as shown to people, with [n] citation markers.")
    refused: bool = Field(False, description="True when the documents don't answer the question.")
    kind: str = Field("fact", description="Question type the assistant recognised.")
    citations: list[Citation] = Field(default_factory=list)
    related: list[Citation] = Field(default_factory=list, description="Closest passages when refused.")
    figures: list[FigureRow] = Field(default_factory=list, description="Values behind figure/comparison answers.")
    retrieved: list[Hit] = Field(default_factory=list, description="Top retrieved passages in rank order.")
    latency_ms: float = 0.0
