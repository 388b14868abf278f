"""Load PDFs and plain text / generic Markdown into Documents of page- or heading-scoped chunks.

Every failure (encryption, damage, no text layer, wrong encoding, size) becomes an IngestError that names
the file and the reason; no pypdf exception reaches the caller.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from llama_index.core.node_parser import SentenceSplitter
from pypdf import PdfReader

from ingest.errors import PASSWORD_HINT, IngestError, shown
from ingest.records import Chunk, Document, content_hash
from ingest.settings import Settings

log = logging.getLogger(__name__)

# Genuine short documents must pass: habibi.pdf (three words of Arabic and Latin) yields 18 characters,
# while a page without a text layer yields none.
MIN_TEXT_CHARS = 10
TOKENS_PER_WORD = 1.4  # SentenceSplitter counts tiktoken tokens; English prose runs at about 1.3-1.5 per word
TITLE_CHARS = 120
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^([-*+•>]\s|\||\d+[.)]\s)")  # list items and table rows keep their own line
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")  # icon-font glyphs with no meaning as text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_BAD_TITLE = re.compile(r"^(untitled.*|document\d*|microsoft (word|powerpoint|excel) - .*|.*\.(docx?|pdf|tex|dvi|rtf|odt|indd))$", re.I)
# What authoring tools leave in /Title instead of a title: a file name ('plant.html', 'Q3_draft.v2.docx'), a path
# or a web address. A title of words with a trailing full stop ('Notes on the plant.') is still a title.
_FILE_NAME = re.compile(r"^[^\s/\\]+\.[A-Za-z][A-Za-z0-9]{1,5}$")
_PATH_OR_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|www\.|[a-z]:\\|/|~/)|[/\\]\S*[/\\]", re.I)


def read_checked(path: Path, settings: Settings) -> bytes:
    """File bytes, after rejecting missing, empty or oversized files before reading a byte."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise IngestError(f"{shown(path.name)}: empty file")
        if size > settings.max_file_mb * 1024 * 1024:
            raise IngestError(f"{shown(path.name)}: {size / 1024 / 1024:.0f} MB exceeds the {settings.max_file_mb:g} MB limit (AMPI_MAX_FILE_MB)")
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{shown(path.name)}: cannot be read ({exc.strerror or exc})") from exc


def splitter(settings: Settings) -> SentenceSplitter:
    """A sentence-aware splitter sized in words via an approximate token ratio."""
    size = max(32, round(settings.chunk_words * TOKENS_PER_WORD))
    overlap = min(round(settings.chunk_overlap_words * TOKENS_PER_WORD), size // 2)
    # paragraph_separator "\n" because normalise() leaves exactly one newline between paragraphs
    return SentenceSplitter(chunk_size=size, chunk_overlap=max(0, overlap), paragraph_separator="\n")


def normalise(text: str) -> str:
    """Join wrapped lines into paragraphs (one newline apart), undo hyphenation, collapse spaces."""
    text = _PRIVATE_USE.sub("", text.translate(_LIGATURES)).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text):
        lines = [" ".join(line.split()) for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        # lines that stop well short of the usual width end a paragraph (or are headings / list items)
        full = sorted(len(line) for line in lines)[int(0.8 * (len(lines) - 1))]
        current = lines[0]
        for prev, line in zip(lines, lines[1:], strict=False):
            if re.search(r"[^\W\d_]-$", prev) and line[0].islower():
                current = current[:-1] + line  # "manu-" + "facturing": a word broken by wrapping
            elif len(prev) < 0.75 * full or _LIST_ITEM.match(line):
                paragraphs.append(current)
                current = line
            else:
                current += " " + line
        paragraphs.append(current)
    return "\n".join(paragraphs)


def _strip_page_number(text: str) -> str:
    """Page text without a bare page number as its first or last line."""
    return re.sub(r"^\s*\d{1,4}[ \t]*\n(?=.*\S)|\n[ \t]*\d{1,4}\s*$", "", text.strip(), flags=re.S)


def _chunk(doc_id: str, title: str, path: Path, order: int, locator: str, text: str, **fields) -> Chunk:
    """A chunk whose id changes only when its document, place or text does."""
    return Chunk(id=content_hash(doc_id, locator, str(order), text), doc_id=doc_id, doc_title=title,
                 doc_path=str(path), locator=locator, text=text, order=order, **fields)


def _short(line: str) -> str:
    """A line cut at a word boundary to the title length."""
    line = " ".join(line.split())
    if len(line) <= TITLE_CHARS:
        return line
    return line[: TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _outline_sections(reader: PdfReader) -> list[tuple[int, str]]:
    """(0-based page, 'Parent > Child' title path) for each outline entry, in document order."""
    entries: list[tuple[int, str]] = []

    def walk(items: list, parents: list[str]) -> None:
        last = ""
        for item in items:
            if isinstance(item, list):
                walk(item, [*parents, last] if last else parents)
                continue
            last = " ".join(str(item.title or "").split())
            page = reader.get_destination_page_number(item)
            if last and page is not None and page >= 0:
                entries.append((page, " > ".join([*parents, last])))

    try:
        walk(reader.outline, [])
    except Exception as exc:  # a broken outline costs section names, not the document
        log.warning("outline unreadable, sections left empty: %s", exc)
        return []
    return entries


def _section_at(entries: list[tuple[int, str]], page: int, text: str, offset: int) -> str:
    """Outline section covering a chunk at text offset on a 0-based page: the last heading found up to there."""
    before = [title for start, title in entries if start < page]
    on_page = [title for start, title in entries if start == page]
    section, pos = before[-1] if before else (on_page[0] if on_page else ""), 0
    for title in on_page:
        leaf = re.escape(title.rsplit(" > ", 1)[-1])
        # headings stand at a line start, perhaps numbered ("2.1 Bar"); mistitled entries are never found
        found = re.compile(rf"^(\d+(\.\d+)*\.?\s+)?{leaf}\b", re.M).search(text, pos)
        if found and found.start() > offset:
            break  # outline entries are in page order, so the rest start later still
        if found:
            section, pos = title, found.end()
    return section


def junk_title(title: str) -> bool:
    """True for a metadata title that names a file, a path or nothing ('plant.html', 'Untitled', 'C:\\x\\a.doc')."""
    title = title.strip()
    return (not re.search(r"[^\W\d_]", title) or bool(_BAD_TITLE.match(title))
            or bool(_FILE_NAME.match(title)) or bool(_PATH_OR_URL.search(title)))


def _pdf_title(reader: PdfReader, first_page: str, path: Path) -> str:
    """Metadata title if sensible, else the first line of page 1, else the file stem."""
    try:
        meta = " ".join(str((reader.metadata or {}).get("/Title") or "").split())
    except Exception:  # unreadable metadata is no reason to reject the file
        meta = ""
    if 3 <= len(meta) <= 200 and re.search(r"[^\W\d_]", meta) and not junk_title(meta):
        return _short(meta)
    line = next((line for line in first_page.splitlines() if line.strip()), "")
    return _short(line) if line else path.stem


def _open_pdf(path: Path, data: bytes, settings: Settings, password: str | None) -> PdfReader:
    """A readable (decrypted) PdfReader, or IngestError naming the reason."""
    if b"%PDF-" not in data[:1024]:  # the spec allows a little junk before the header
        raise IngestError(f"{shown(path.name)}: not a valid PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise IngestError(f"{shown(path.name)}: not a valid PDF ({exc or type(exc).__name__})") from exc
    if not encrypted:
        return reader
    given = [p for p in (password, settings.pdf_password) if p]
    for candidate in [*dict.fromkeys(given), ""]:
        try:
            if reader.decrypt(candidate):
                return reader
        except Exception as exc:  # e.g. an unsupported cipher or a missing crypto library
            raise IngestError(f"{shown(path.name)}: encrypted PDF cannot be opened ({exc})") from exc
    if given:
        raise IngestError(f"{shown(path.name)}: wrong password for encrypted PDF; give the right one {PASSWORD_HINT}")
    raise IngestError(f"{shown(path.name)}: encrypted PDF; give the password {PASSWORD_HINT}")


def load_pdf(path: Path, settings: Settings, password: str | None = None) -> Document:
    """A PDF as a Document with page chunks; raises IngestError naming the file and the reason."""
    data = read_checked(path, settings)
    reader = _open_pdf(path, data, settings, password)
    try:
        pages = reader.pages
        count = len(pages)
    except Exception as exc:
        raise IngestError(f"{shown(path.name)}: not a valid PDF ({exc or type(exc).__name__})") from exc
    if count == 0:  # nothing to OCR either: the "scanned?" advice below would send people the wrong way
        raise IngestError(f"{shown(path.name)}: the PDF has no pages")
    raw: list[str] = []
    failures = 0
    for number in range(count):
        try:
            raw.append(pages[number].extract_text() or "")
        except Exception as exc:  # one damaged page should not cost the rest of the document
            failures += 1
            log.warning("%s: page %d text not extracted: %s", path.name, number + 1, exc)
            raw.append("")
    if failures == count:
        raise IngestError(f"{shown(path.name)}: not a valid PDF (no page could be read)")
    if sum(len("".join(text.split())) for text in raw) < MIN_TEXT_CHARS:
        raise IngestError(f"{shown(path.name)}: no extractable text (scanned?); run OCR first")

    doc_id = content_hash(data)
    title = _pdf_title(reader, _strip_page_number(raw[0]), path)
    entries = _outline_sections(reader)
    split = splitter(settings)
    chunks: list[Chunk] = []
    for index, page_text in enumerate(raw):
        text = normalise(_strip_page_number(page_text))
        if not text:
            continue
        pos = 0
        for piece in split.split_text(text):
            # overlap means a piece can start before the previous one ended; search from just after its start
            start = text.find(piece[:40], pos)
            pos = start + 1 if start >= 0 else pos
            locator = f"p. {index + 1}"
            section = _section_at(entries, index, text, max(start, 0))
            chunks.append(_chunk(doc_id, title, path, len(chunks), locator, piece, kind="page", page=index + 1, section=section))
    log.info("%s: %d pages, %d chunks, %d outline entries", path.name, count, len(chunks), len(entries))
    return Document(id=doc_id, path=str(path), title=title, role="user", pages=count, chunks=chunks, **_pdf_credits(reader))


def _pdf_credits(reader: PdfReader) -> dict:
    """Author and year from the PDF's metadata, for citing it (nothing when they are missing or junk)."""
    try:
        meta = reader.metadata or {}
        author = " ".join(str(meta.get("/Author") or "").split())
        created = str(meta.get("/CreationDate") or "")
    except Exception:  # unreadable metadata is no reason to reject the file
        return {}
    year = re.match(r"^(?:D:)?((?:19|20)\d{2})", created)
    return {"authors": author if re.search(r"[^\W\d_]", author) and not junk_title(author) else "",
            "year": int(year.group(1)) if year else None}


def decode(path: Path, data: bytes) -> str:
    """Text from UTF-8 (BOM optional), UTF-16 with BOM, or Windows-1252; binary data is refused."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))  # what Windows Notepad calls "Unicode"
    # cp1252 maps almost every byte, so binary data shows up as control characters rather than an error
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _CONTROL.search(text):
            return text
        break
    raise IngestError(f"{shown(path.name)}: not UTF-8 text")


def _blocks(text: str) -> list[tuple[list[str], int, str]]:
    """(heading path, heading level, body) blocks of Markdown split at headings, ignoring code fences."""
    blocks: list[tuple[list[str], int, str]] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        match = None if fence else _HEADING.match(line)
        if not match:
            body.append(line)
            continue
        blocks.append(([h for _, h in stack], stack[-1][0] if stack else 0, "\n".join(body)))
        level = len(match.group(1))
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, match.group(2))]
        body = []
    blocks.append(([h for _, h in stack], stack[-1][0] if stack else 0, "\n".join(body)))
    return blocks


def load_text(path: Path, settings: Settings) -> Document:
    """A text or generic Markdown file as a Document chunked under its headings."""
    data = read_checked(path, settings)
    text = decode(path, data)
    if not text.strip():
        raise IngestError(f"{shown(path.name)}: empty file")
    blocks = _blocks(text)
    headings = sorted((level, order, trail[-1]) for order, (trail, level, _) in enumerate(blocks) if trail)
    first_line = next(line for line in text.splitlines() if line.strip())
    title = _short(headings[0][2] if headings else first_line)  # the first top-level heading

    doc_id = content_hash(data)
    split = splitter(settings)
    chunks: list[Chunk] = []
    part = 0
    for trail, _, body in blocks:
        clean = normalise(body)
        if not clean:
            continue
        for piece in split.split_text(clean):
            part += not trail
            locator = trail[-1] if trail else f"part {part}"
            chunks.append(_chunk(doc_id, title, path, len(chunks), locator, piece, kind="text", section=" > ".join(trail)))
    if not chunks:  # e.g. a Markdown file of headings only
        raise IngestError(f"{shown(path.name)}: no text found")
    log.info("%s: %d chunks", path.name, len(chunks))
    return Document(id=doc_id, path=str(path), title=title, role="user", chunks=chunks)
