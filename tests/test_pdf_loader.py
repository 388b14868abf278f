"""PDF and text loading on real sample files: pages, sections, titles, encryption and every refusal."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest.errors import IngestError
from ingest.pdf_loader import load_pdf, load_text, normalise
from ingest.settings import Settings

DATA = Path(__file__).parent / "data"
ENCRYPTED = "libreoffice-writer-password.pdf"
READABLE = sorted(p.name for p in DATA.glob("*.pdf") if p.name != ENCRYPTED)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data", index_dir=tmp_path / "index")


def test_all_samples_present():
    assert len(READABLE) == 9


@pytest.mark.parametrize("name", READABLE)
def test_sample_pdf_loads(name: str, settings: Settings):
    doc = load_pdf(DATA / name, settings)
    assert doc.pages and doc.pages >= 1
    assert doc.chunks and doc.title and doc.role == "user"
    assert [c.order for c in doc.chunks] == list(range(len(doc.chunks)))
    assert len({c.id for c in doc.chunks}) == len(doc.chunks)
    for chunk in doc.chunks:
        assert chunk.kind == "page" and chunk.doc_id == doc.id and chunk.doc_title == doc.title
        assert 1 <= chunk.page <= doc.pages
        assert chunk.locator == f"p. {chunk.page}"
        assert chunk.text.strip() and "  " not in chunk.text and "\n\n" not in chunk.text
        assert chunk.doc_path == str(DATA / name)


def test_four_pages_give_page_locators(settings: Settings):
    doc = load_pdf(DATA / "pdflatex-4-pages.pdf", settings)
    assert doc.pages == 4
    assert sorted({c.page for c in doc.chunks}) == [1, 2, 3, 4]
    assert sorted({c.locator for c in doc.chunks}) == ["p. 1", "p. 2", "p. 3", "p. 4"]
    # several chunks per page, each near the configured size, none crossing a page
    assert len(doc.chunks) > 4
    assert max(len(c.text.split()) for c in doc.chunks) < settings.chunk_words * 1.5
    assert all(c.section == "" for c in doc.chunks)  # no outline in this file


def test_outline_gives_sections(settings: Settings):
    doc = load_pdf(DATA / "pdflatex-outline.pdf", settings)
    first_page = [c for c in doc.chunks if c.page == 1]
    assert first_page and all(c.section == "" for c in first_page)  # contents page, before any section
    later = [c for c in doc.chunks if c.page > 1]
    assert {c.section for c in later} <= {"Foo", "Bar", "Baz"}
    assert later[0].text.startswith("1 Foo") and later[0].section == "Foo"
    bar = next(c for c in later if c.text.startswith("2 Bar"))
    assert bar.section == "Bar"


def test_mistitled_outline_still_names_sections(settings: Settings):
    doc = load_pdf(DATA / "mistitled_outlines_example.pdf", settings)
    sections = {c.section for c in doc.chunks if c.page > 1}
    assert "" not in sections
    # nested outline entries give a path; titles do not match the text, so page-level sections are used
    assert any(" > " in s for s in sections)
    assert "First" in sections


def test_titles(settings: Settings):
    assert load_pdf(DATA / "google-doc-document.pdf", settings).title == "PDF Example Document"
    assert load_pdf(DATA / "habibi.pdf", settings).title == "habibi"
    # empty /Title metadata: the first line of page 1
    assert load_pdf(DATA / "crazyones-pdfa.pdf", settings).title == "The Crazy Ones"
    assert load_pdf(DATA / "multicolumn.pdf", settings).title == "Two-Column Document with Lorem Ipsum"
    long_first_line = load_pdf(DATA / "pdflatex-4-pages.pdf", settings).title
    assert long_first_line.startswith("Hello, here is some text") and len(long_first_line) <= 120


def test_text_is_cleaned(settings: Settings):
    crazy = load_pdf(DATA / "crazyones-pdfa.pdf", settings).chunks[0].text
    assert "misfits" in crazy and "\ufb01" not in crazy  # ligature undone
    multi = " ".join(c.text for c in load_pdf(DATA / "multicolumn.pdf", settings).chunks)
    assert "consectetuer adipiscing elit" in multi and "adip-" not in multi  # hyphenated line break joined
    minimal = load_pdf(DATA / "minimal-document.pdf", settings).chunks[0].text
    assert "takimata" in minimal and not minimal.rstrip().endswith("1")  # page number footer dropped
    arabic = load_pdf(DATA / "habibi.pdf", settings).chunks[0].text
    assert "حَبيبي" in arabic


def test_normalise():
    assert normalise("the manu-\nfacturing sector") == "the manufacturing sector"
    assert normalise("Covid-\n19 and UK-\nBased") == "Covid- 19 and UK- Based"  # not a broken word: keep hyphen
    assert normalise("a   b\t c") == "a b c"
    assert normalise("First para.\n\n\n\nSecond para.") == "First para.\nSecond para."
    assert normalise("- one\n- two\n| a | b |\n|---|---|") == "- one\n- two\n| a | b |\n|---|---|"


def test_encrypted_without_password(settings: Settings):
    with pytest.raises(IngestError, match="password") as err:
        load_pdf(DATA / ENCRYPTED, settings)
    assert ENCRYPTED in str(err.value) and "wrong" not in str(err.value)


def test_encrypted_with_password(settings: Settings):
    doc = load_pdf(DATA / ENCRYPTED, settings, password="openpassword")
    assert doc.pages == 1 and "Lorem ipsum" in doc.chunks[0].text
    from_settings = load_pdf(DATA / ENCRYPTED, settings.model_copy(update={"pdf_password": "openpassword"}))
    assert [c.id for c in from_settings.chunks] == [c.id for c in doc.chunks]
    # a wrong argument falls back to the configured password
    fallback = settings.model_copy(update={"pdf_password": "openpassword"})
    assert load_pdf(DATA / ENCRYPTED, fallback, password="nope").pages == 1


def test_encrypted_wrong_password(settings: Settings):
    with pytest.raises(IngestError, match="wrong password") as err:
        load_pdf(DATA / ENCRYPTED, settings, password="not-it")
    assert ENCRYPTED in str(err.value)


def test_truncated_pdf(tmp_path: Path, settings: Settings):
    data = (DATA / "pdflatex-4-pages.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError, match=r"truncated\.pdf: not a valid PDF"):
        load_pdf(path, settings)


def test_zero_byte_pdf(tmp_path: Path, settings: Settings):
    path = tmp_path / "zero.pdf"
    path.write_bytes(b"")
    with pytest.raises(IngestError, match=r"zero\.pdf: empty file"):
        load_pdf(path, settings)


def test_random_bytes_pdf(tmp_path: Path, settings: Settings):
    path = tmp_path / "noise.pdf"
    path.write_bytes(random.Random(7).randbytes(8192))
    with pytest.raises(IngestError, match=r"noise\.pdf: not a valid PDF"):
        load_pdf(path, settings)


def test_header_only_pdf(tmp_path: Path, settings: Settings):
    path = tmp_path / "header.pdf"
    path.write_bytes(b"%PDF-1.7\n" + random.Random(3).randbytes(4096))
    with pytest.raises(IngestError, match=r"header\.pdf: not a valid PDF"):
        load_pdf(path, settings)


def test_pdf_without_text_layer(tmp_path: Path, settings: Settings):
    path = tmp_path / "blank.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(path)
    with pytest.raises(IngestError, match=r"blank\.pdf: no extractable text \(scanned\?\); run OCR first"):
        load_pdf(path, settings)


def test_size_limit(tmp_path: Path, settings: Settings):
    small = settings.model_copy(update={"max_file_mb": 0.001})
    pdf = tmp_path / "big.pdf"
    shutil.copy(DATA / "minimal-document.pdf", pdf)  # 17 KB
    with pytest.raises(IngestError, match=r"big\.pdf: .*limit"):
        load_pdf(pdf, small)
    text = tmp_path / "big.txt"
    text.write_text("word " * 1000)
    with pytest.raises(IngestError, match=r"big\.txt: .*limit \(AMPI_MAX_FILE_MB\)"):
        load_text(text, small)


def test_missing_file(tmp_path: Path, settings: Settings):
    with pytest.raises(IngestError, match="gone.pdf"):
        load_pdf(tmp_path / "gone.pdf", settings)


def test_ids_stable(tmp_path: Path, settings: Settings):
    first = load_pdf(DATA / "pdflatex-outline.pdf", settings)
    again = load_pdf(DATA / "pdflatex-outline.pdf", settings)
    assert first.id == again.id
    assert [c.id for c in first.chunks] == [c.id for c in again.chunks]
    copy = tmp_path / "renamed.pdf"
    shutil.copy(DATA / "pdflatex-outline.pdf", copy)
    assert [c.id for c in load_pdf(copy, settings).chunks] == [c.id for c in first.chunks]  # ids follow content


MARKDOWN = """# Field guide

Why this guide exists.

## Intro

Machines are maintained on a schedule.

### Detail

```
# not a heading, a shell comment
make all
```

The schedule is set by the manu-
facturer.

## Costs

Costs rose by 4% in 2024.
"""


def test_markdown_sections(tmp_path: Path, settings: Settings):
    path = tmp_path / "guide.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = load_text(path, settings)
    assert doc.title == "Field guide" and doc.pages is None and doc.role == "user"
    by_locator = {c.locator: c for c in doc.chunks}
    assert list(by_locator) == ["Field guide", "Intro", "Detail", "Costs"]
    assert by_locator["Detail"].section == "Field guide > Intro > Detail"
    assert by_locator["Costs"].section == "Field guide > Costs"
    assert "manufacturer" in by_locator["Detail"].text and "make all" in by_locator["Detail"].text
    assert all(c.kind == "text" and c.page is None for c in doc.chunks)
    assert [c.id for c in load_text(path, settings).chunks] == [c.id for c in doc.chunks]


def test_plain_text_parts(tmp_path: Path, settings: Settings):
    path = tmp_path / "notes.txt"
    path.write_text("Plant notes\n\n" + "The press line runs two shifts a day. " * 200, encoding="utf-8")
    doc = load_text(path, settings)
    assert doc.title == "Plant notes"
    assert len(doc.chunks) > 1
    assert [c.locator for c in doc.chunks] == [f"part {n}" for n in range(1, len(doc.chunks) + 1)]
    assert all(c.section == "" for c in doc.chunks)


def test_utf8_bom(tmp_path: Path, settings: Settings):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffCafé notes\nSome text about the café.".encode())
    doc = load_text(path, settings)
    assert doc.title == "Café notes"


def test_cp1252_text(tmp_path: Path, settings: Settings):
    path = tmp_path / "legacy.txt"
    path.write_bytes("Café naïve résumé – costs rose 5 €.".encode("cp1252"))
    doc = load_text(path, settings)
    assert "Café naïve résumé – costs rose 5 €." in doc.chunks[0].text


def test_latin1_text(tmp_path: Path, settings: Settings):
    path = tmp_path / "latin1.md"
    path.write_bytes("# Über uns\n\nDie Maschinenfabrik in München.".encode("latin-1"))
    doc = load_text(path, settings)
    assert doc.title == "Über uns" and "München" in doc.chunks[0].text


@pytest.mark.parametrize("content", [b"", b"   \n\n\t  \r\n"])
def test_empty_text(tmp_path: Path, settings: Settings, content: bytes):
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=r"blank\.txt: empty file"):
        load_text(path, settings)


def test_binary_named_txt(tmp_path: Path, settings: Settings):
    path = tmp_path / "garbage.txt"
    path.write_bytes(random.Random(11).randbytes(4096))
    with pytest.raises(IngestError, match=r"garbage\.txt: not UTF-8 text"):
        load_text(path, settings)


def test_pdf_bytes_named_txt(tmp_path: Path, settings: Settings):
    path = tmp_path / "paper.txt"
    shutil.copy(DATA / "minimal-document.pdf", path)
    with pytest.raises(IngestError, match=r"paper\.txt: not UTF-8 text"):
        load_text(path, settings)
