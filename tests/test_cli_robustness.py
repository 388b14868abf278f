"""The real `ampi` command on awkward input: bad `--jsonl` lines, refused files, links out of a folder,
`ampi remove`, PDFs without pages and file names with a newline (issue 9, items 11, 12, 14, 15).

Every test runs `.venv/bin/ampi` in a subprocess over a small corpus in tmp_path and a real Chroma folder.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfWriter

from index.builder import build_index
from index.library import added_paths
from index.store import ChromaStore
from ingest.errors import IngestError
from ingest.pdf_loader import load_pdf
from ingest.settings import BUNDLED_REPORT, REPO_ROOT, Settings

AMPI = REPO_ROOT / ".venv" / "bin" / "ampi"
PLANT = "# Plant notes\n\nThe Huddersfield plant makes 420 gearboxes a week for export to Germany.\n"
SECRET = "The launch code for the vault is 7741-ALPHA-ZULU."
QUESTION = "How many gearboxes does the Huddersfield plant make a week?"


def small_settings(root: Path) -> Settings:
    """A corpus of one short note, with data and index folders beside it (nothing indexed yet)."""
    corpus = root / "corpus"
    (corpus / "sources").mkdir(parents=True)
    (corpus / "plant.md").write_text(PLANT, encoding="utf-8")
    return Settings(corpus_dir=corpus, data_dir=root / "data", index_dir=root / "data" / "index", chroma_host=None)


def ampi(settings: Settings, *args: str, stdin: bytes | None = None, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    """Run the real CLI over these settings; stdout and stderr as text (undecodable bytes escaped)."""
    env = {**os.environ, "AMPI_CORPUS_DIR": str(settings.corpus_dir), "AMPI_DATA_DIR": str(settings.data_dir),
           "AMPI_INDEX_DIR": str(settings.index_dir)}
    done = subprocess.run([str(AMPI), *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=300)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "backslashreplace"),
                                       done.stderr.decode("utf-8", "backslashreplace"))


def indexed_text(settings: Settings) -> str:
    return "\n".join(c.text for c in ChromaStore(settings).all_chunks()[0])


def no_pages_pdf(path: Path) -> Path:
    """A well-formed PDF whose page tree is empty (/Count 0), as pypdf writes it."""
    PdfWriter().write(path)
    return path


@pytest.fixture(scope="module")
def notes_index(tmp_path_factory) -> Settings:
    """The one-note corpus, indexed once for the `ask` tests (read only)."""
    settings = small_settings(tmp_path_factory.mktemp("cli-notes"))
    build_index(settings)
    return settings


# -- item 12: bad --jsonl lines ------------------------------------------------------------------
def test_ask_jsonl_answers_every_good_line_and_gives_each_bad_line_one_error(notes_index):
    lines = [
        json.dumps({"id": "first", "question": QUESTION}).encode(),
        b'{"id": "broken", "question": ',                                 # malformed JSON
        b"[1, 2, 3]",                                                    # a list
        b"42",                                                           # a number
        json.dumps({"id": "number", "question": 7}).encode(),             # a non-string question
        json.dumps({"id": "list", "question": ["a", "b"]}).encode(),
        b'{"id": "surrogate", "question": "what about \\ud800 this?"}',  # a lone surrogate
        b'{"id": "latin1", "question": "caf\xe9 output?"}',              # not UTF-8
        json.dumps({"id": "no-question"}).encode(),
        b"",                                                             # blank lines are skipped
        b'{"id": "odd id \\udc80", "question": "Where is the plant?"}',  # an id that cannot be printed as UTF-8
        json.dumps({"id": "last", "question": QUESTION}).encode(),
    ]
    out = ampi(notes_index, "ask", "--jsonl", stdin=b"\n".join(lines) + b"\n")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == len([line for line in lines if line.strip()]), out.stdout
    errors = {i: r for i, r in enumerate(records) if "error" in r}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7, 8], records
    for record in errors.values():
        assert set(record) == {"id", "error"} and record["error"].startswith("line ") and "\n" not in record["error"]
    assert [r["id"] for r in errors.values()] == [None, None, None, "number", "list", "surrogate", None, "no-question"]
    assert "not valid JSON" in errors[1]["error"] and "a list" in errors[2]["error"] and "a number" in errors[3]["error"]
    assert "not a string" in errors[4]["error"] and "lone surrogate" in errors[6]["error"]
    assert "not UTF-8" in errors[7]["error"] and 'no "question"' in errors[8]["error"]
    answered = [records[0], records[9], records[10]]
    assert [r["id"] for r in answered] == ["first", "odd id \udc80", "last"]
    assert "420" in answered[0]["answer"] and "420" in answered[2]["answer"]  # the batch went on to the end


# -- item 14: skipped files are this run's only ------------------------------------------------
def test_a_refused_file_is_reported_in_its_own_run_only(tmp_path):
    settings = small_settings(tmp_path)
    garbage = tmp_path / "elsewhere" / "garbage.pdf"
    garbage.parent.mkdir()
    garbage.write_bytes(b"this is not a PDF at all")

    first = ampi(settings, "ingest", "-q", str(garbage))
    assert first.returncode == 3 and "skipped: garbage.pdf: not a valid PDF" in first.stderr, first.stderr
    assert str(garbage) not in added_paths(settings)  # a refused file is not a document to come back to

    again = ampi(settings, "ingest", "-q")
    assert again.returncode == 0 and "skipped" not in again.stderr, again.stderr

    in_corpus = settings.corpus_dir / "bad.pdf"  # refused in the corpus folder: reported while it is there
    in_corpus.write_bytes(b"%PDF-1.7\nnot really")
    assert ampi(settings, "ingest", "-q").returncode == 3
    in_corpus.unlink()
    garbage.unlink()
    gone = ampi(settings, "ingest", "-q")
    assert gone.returncode == 0 and "skipped" not in gone.stderr, gone.stderr
    status = ampi(settings, "status")
    assert status.returncode == 0 and "skipped" not in status.stdout, status.stdout


# -- item 11: links out of a folder, and `ampi remove` --------------------------------------------
def test_links_out_of_an_ingested_folder_are_skipped_with_a_reason(tmp_path):
    settings = small_settings(tmp_path)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "vault.txt").write_text(SECRET + "\n", encoding="utf-8")
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "memo.md").write_text("# Memo\n\nThe Leeds plant builds 40 lathes a month.\n", encoding="utf-8")
    (folder / "secret.txt").symlink_to(outside / "vault.txt")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "private-folder").symlink_to(outside, target_is_directory=True)
    (folder / "memo-again.md").symlink_to(folder / "memo.md")  # a link that stays inside is fine
    (settings.corpus_dir / "escape.txt").symlink_to(outside / "vault.txt")  # the corpus folder too

    out = ampi(settings, "ingest", "-q", str(folder))
    assert out.returncode == 3, out.stderr
    skipped = [line for line in out.stderr.splitlines() if line.startswith("  skipped: ")]
    for name, what in (("secret.txt", "file"), ("passwd.txt", "file"), ("private-folder", "folder"), ("escape.txt", "file")):
        assert any(line.startswith(f"  skipped: {name}: a link to a {what} outside ") and "not followed" in line
                   for line in skipped), f"{name}: {out.stderr}"
    assert len(skipped) == 4, out.stderr
    text = indexed_text(settings)
    assert "40 lathes" in text and "420 gearboxes" in text
    assert "7741" not in text and "root:" not in text


def test_remove_takes_an_added_file_out_of_the_index_and_the_record(tmp_path):
    settings = small_settings(tmp_path)
    extra = tmp_path / "extra" / "visit.md"
    extra.parent.mkdir()
    extra.write_text("# Visit\n\nThe Bradford visit is on 3 March with six engineers.\n", encoding="utf-8")
    assert ampi(settings, "ingest", "-q", str(extra)).returncode == 0
    assert "Bradford" in indexed_text(settings) and str(extra) in added_paths(settings)

    # A relative path, as typed in the folder holding the file.
    out = ampi(settings, "remove", "visit.md", cwd=extra.parent)
    assert out.returncode == 0, out.stderr
    assert f"removed: {extra}" in out.stdout
    assert "Bradford" not in indexed_text(settings) and "420 gearboxes" in indexed_text(settings)
    assert str(extra) not in added_paths(settings)
    again = ampi(settings, "ingest", "-q")  # a later ingest does not bring it back
    assert again.returncode == 0 and "visit.md" not in again.stdout and "Bradford" not in indexed_text(settings)
    assert ampi(settings, "remove", str(extra)).returncode == 1  # gone already: nothing to remove


def test_remove_explains_what_cannot_be_removed(tmp_path):
    settings = small_settings(tmp_path)
    report = settings.corpus_dir / BUNDLED_REPORT
    report.write_text("# A stand-in for the bundled report\n\nMachinery output rose in 2021.\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "inside.md").write_text("# Inside\n\nThe Wakefield site has 3 presses.\n", encoding="utf-8")
    assert ampi(settings, "ingest", "-q", str(folder)).returncode == 0
    cases = {
        report: "is the bundled report",
        settings.corpus_dir / "plant.md": "is in the corpus folder",
        folder / "inside.md": f"is inside the folder {folder} added with `ampi ingest`",
        tmp_path / "never-added.md": "was not added with `ampi ingest PATH`",
    }
    for path, message in cases.items():
        out = ampi(settings, "remove", str(path))
        assert out.returncode == 1, out
        assert out.stderr.startswith(f"ampi remove: {path} {message}") and out.stderr.count("\n") == 1, out.stderr
        assert "Traceback" not in out.stderr
    text = indexed_text(settings)  # nothing was removed
    assert "Machinery output" in text and "Wakefield" in text and "420 gearboxes" in text


# -- item 15: PDFs without pages, names with a newline ---------------------------------------------
def test_a_pdf_without_pages_says_so(tmp_path):
    pdf = no_pages_pdf(tmp_path / "empty-tree.pdf")
    with pytest.raises(IngestError) as error:
        load_pdf(pdf, Settings())
    assert str(error.value) == "empty-tree.pdf: the PDF has no pages"


def test_reasons_and_names_stay_on_one_line(tmp_path):
    settings = small_settings(tmp_path)
    no_pages_pdf(settings.corpus_dir / "no-pages.pdf")
    (settings.corpus_dir / "bad\nname.pdf").write_bytes(b"not a PDF")
    (settings.corpus_dir / "good\nname.md").write_text("# Good\n\nThe Halifax depot opens at six.\n", encoding="utf-8")
    out = ampi(settings, "ingest", "-q")
    assert out.returncode == 3, out.stderr
    err = out.stderr.splitlines()
    assert "  skipped: no-pages.pdf: the PDF has no pages" in err, out.stderr
    assert "  skipped: 'bad\\nname.pdf': not a valid PDF (no %PDF header)" in err, out.stderr
    added = [line for line in out.stdout.splitlines() if line.startswith("  added: ")]
    newline_name = repr(str(settings.corpus_dir / "good\nname.md"))  # '/…/good\nname.md', on one line
    assert sorted(added) == sorted([f"  added: {newline_name}", f"  added: {settings.corpus_dir / 'plant.md'}"]), out.stdout
    assert not any(line.startswith(("name.pdf", "name.md")) for line in out.stdout.splitlines() + err)


def test_a_setting_that_cannot_be_read_is_named_without_a_traceback(tmp_path):
    settings = small_settings(tmp_path)
    env = {**os.environ, "AMPI_CORPUS_DIR": str(settings.corpus_dir), "AMPI_DATA_DIR": str(settings.data_dir),
           "AMPI_INDEX_DIR": str(settings.index_dir), "AMPI_ONNX_THREADS": "abc"}
    out = subprocess.run([str(AMPI), "status"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "AMPI_ONNX_THREADS='abc' is not valid" in out.stderr and "Traceback" not in out.stderr, out.stderr
