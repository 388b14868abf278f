"""Load one file of any supported type into a Document, or raise IngestError naming file and reason."""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.errors import IngestError, shown
from ingest.records import REFERENCE_FIELDS, Document, content_hash
from ingest.report_parser import front_matter, looks_like_numbered_report, parse_report
from ingest.settings import Settings

log = logging.getLogger(__name__)

SUPPORTED = {".pdf", ".md", ".markdown", ".txt"}


def check_file(path: Path, settings: Settings) -> None:
    """Reject unreadable, empty, oversized or unsupported files before reading them."""
    if path.suffix.lower() not in SUPPORTED:
        raise IngestError(f"{shown(path.name)}: unsupported file type '{shown(path.suffix or 'none')}' (use PDF, Markdown or text)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{shown(path.name)}: cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise IngestError(f"{shown(path.name)}: empty file")
    limit = settings.max_file_mb * 1024 * 1024
    if size > limit:
        raise IngestError(f"{shown(path.name)}: {size / 1024 / 1024:.0f} MB exceeds the {settings.max_file_mb:g} MB limit (AMPI_MAX_FILE_MB)")


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (or BOM-marked UTF-16) text, or a clear error for binary or other encodings."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{shown(path.name)}: damaged UTF-16 text (byte {exc.start})") from exc
    if b"\x00" in data[:4096]:
        raise IngestError(f"{shown(path.name)}: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{shown(path.name)}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc


def load_markdown_report(path: Path, text: str, doc_id: str) -> Document:
    """A report with numbered paragraphs, parsed for structure."""
    title, chunks, footnotes = parse_report(text, doc_id, "", str(path))
    if not chunks:
        raise IngestError(f"{shown(path.name)}: no text found")
    cover = front_matter(text)  # how to cite the report: its title page's subtitle, credit line and year
    return Document(id=doc_id, path=str(path), title=title, chunks=chunks, footnotes=footnotes,
                    **{field: cover[field] for field in REFERENCE_FIELDS})


def load_document(path: Path, settings: Settings, password: str | None = None) -> Document:
    """Any supported file as a Document with chunks; raises IngestError with the file and the reason."""
    check_file(path, settings)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from ingest.pdf_loader import load_pdf

        return load_pdf(path, settings, password=password)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{shown(path.name)}: cannot be read ({exc.strerror or exc})") from exc
    text = decode_text(path, data)
    if not text.strip():
        raise IngestError(f"{shown(path.name)}: empty file")
    if suffix in {".md", ".markdown"} and looks_like_numbered_report(text):
        return load_markdown_report(path, text, content_hash(data))
    from ingest.pdf_loader import load_text

    return load_text(path, settings)
