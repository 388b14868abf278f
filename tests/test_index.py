"""The incremental index builder against real Chroma: in a tmp folder, and through a real `chroma run` server.

Budget: under two minutes on 2 cores. The bundled report (185 chunks) takes 8-20 s to embed there, so the
builder's embedder is wrapped to remember vectors of texts it has already embedded in this session
(`remember_vectors`): the builder still decides and counts what to embed (`chunks_embedded`), only the
repeated model work is saved. The child processes of the kill test embed for real. Tests that do not
need the report use small synthetic corpora.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from servers import ChromaServer, free_port

import index.builder
from index.builder import build_index, keyword_dir
from index.embedder import get_embedder, model_path
from index.store import ChromaStore
from ingest.errors import StoreError
from ingest.settings import BUNDLED_REPORT, REPO_ROOT, Settings

QUERY = "How large is the UK trade deficit in machinery and equipment?"
DATA = REPO_ROOT / "tests" / "data"
HAS_PDF_LOADER = importlib.util.find_spec("ingest.pdf_loader") is not None
needs_pdf_loader = pytest.mark.skipif(not HAS_PDF_LOADER, reason="ingest/pdf_loader.py has not landed yet: "
                                                                 "build_index cannot read PDFs or plain text")

VOCABULARY = ("machine tool robot spindle lathe export import cluster supplier factory automation sensor precision "
              "grinding milling region skills apprentice university research funding investment productivity energy "
              "digital twin servo gearbox bearing casting welding laser metrology calibration tolerance coolant "
              "controller firmware retrofit maintenance downtime throughput yield batch tooling fixture").split()


_REMEMBERED: dict[tuple[str, str], np.ndarray] = {}


class RememberingEmbedder:
    """The real embedder, answering texts it has already embedded in this session from memory."""

    def __init__(self, real, key: str):
        self.real, self.key, self.dimension = real, key, real.dimension

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if (self.key, t) not in _REMEMBERED]
        if new:
            _REMEMBERED.update({(self.key, t): v for t, v in zip(new, self.real.embed(new), strict=True)})
        if not texts:
            return self.real.embed([])
        return np.vstack([_REMEMBERED[(self.key, t)] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)


@pytest.fixture(autouse=True)
def remember_vectors(monkeypatch, built_index):
    """Wrap the builder's embedder; the report's vectors come from the session's `built_index`."""
    if not _REMEMBERED:
        chunks, vectors = ChromaStore(built_index).all_chunks(with_embeddings=True)
        key = model_path(built_index)
        _REMEMBERED.update({(key, c.search_text()): v for c, v in zip(chunks, vectors, strict=True)})
    monkeypatch.setattr(index.builder, "get_embedder",
                        lambda settings: RememberingEmbedder(get_embedder(settings), model_path(settings)))


def numbered_markdown(title: str, paragraphs: int, seed: int, words: int = 30) -> str:
    """A small report in the bundled report's style (numbered paragraphs), so the report parser reads it."""
    import random

    rng = random.Random(seed)
    lines = [f"# {title}", ""]
    for n in range(paragraphs):
        section, number = 5 + n // 50, 1 + n % 50  # locators have at most two digits after the dot
        if number == 1:
            lines += [f"## {section}. Part {section}", ""]
        lines += [f"**{section}.{number}** " + " ".join(rng.choice(VOCABULARY) for _ in range(words)) + ".", ""]
    return "\n".join(lines)


def small_settings(root: Path, **files: str) -> Settings:
    """Settings over a corpus of the given Markdown files (no report: fast to embed)."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Settings(corpus_dir=corpus, data_dir=root / "data", index_dir=root / "data" / "index", chroma_host=None)


def names(paths: list[str]) -> list[str]:
    return sorted(Path(p).name for p in paths)


def top_hit(settings: Settings) -> tuple[str, str]:
    """(serving collection, id of the best chunk for QUERY)."""
    store = ChromaStore(settings)
    name = store.current_name()
    hits = store.search(name, get_embedder(settings).embed_query(QUERY), 1)
    assert hits, f"{name} returned nothing"
    return name, hits[0][0]


def collection_names(store: ChromaStore) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in store.client.list_collections()}


def test_fixtures_keep_everything_in_tmp(isolated_env, built_index):
    assert Settings().data_dir == isolated_env / "ampi-data"
    assert Settings().index_dir == isolated_env / "ampi-data" / "index"
    assert Settings().chroma_host is None
    assert REPO_ROOT not in built_index.index_dir.parents
    assert [p.name for p in built_index.corpus_dir.iterdir() if p.is_file()] == [BUNDLED_REPORT]
    store = ChromaStore(built_index)
    assert store.count() > 150
    assert store.manifest()["documents"][0]["role"] == "report"


# -- (a) first build, then an unchanged re-run -------------------------------------------------------


def test_first_build_embeds_everything_and_unchanged_rerun_embeds_nothing(settings):
    first = build_index(settings)
    assert names(first.added) == [BUNDLED_REPORT]
    assert first.chunks_total == first.chunks_embedded > 150
    assert not first.rebuilt and not first.skipped
    store = ChromaStore(settings)
    assert store.current_name() == first.collection
    assert store.generations() == [first.collection]
    assert store.count() == first.chunks_total

    manifest = store.manifest()
    (entry,) = manifest["documents"]
    assert entry["role"] == "report" and entry["title"] == "Future State of Machinery Sector"
    assert len(manifest["sources"]) == 66
    assert manifest["sources"][1]["title"].startswith("UK Innovation Report 2024 (Institute for Manufacturing)")
    _, best = top_hit(settings)
    chunks = {c.id: c for c in store.all_chunks()[0]}
    assert chunks[best].locator in {"2.7", "Figure 2-2", "2.8", "Summary (Section 2)"}, chunks[best].locator

    second = build_index(settings)
    assert second.chunks_embedded == 0
    assert second.collection == first.collection
    assert names(second.unchanged) == [BUNDLED_REPORT]
    assert not (second.added or second.updated or second.removed or second.rebuilt or second.changed)
    assert second.chunks_total == first.chunks_total
    assert ChromaStore(settings).generations() == [first.collection]
    assert top_hit(settings) == (first.collection, best)


# -- (b) one edited paragraph --------------------------------------------------------------------------


def test_edited_paragraph_reembeds_only_changed_chunks(settings):
    first = build_index(settings)
    report = settings.corpus_dir / BUNDLED_REPORT
    text = report.read_text(encoding="utf-8")
    old = "The same report also analyses UN trade data for the M&E sector"
    assert text.count(old) == 1
    report.write_text(text.replace(old, "The same report also examines United Nations trade data for the M&E sector"),
                      encoding="utf-8")

    second = build_index(settings)
    assert names(second.updated) == [BUNDLED_REPORT]
    assert not (second.added or second.removed or second.rebuilt)
    assert second.chunks_total == first.chunks_total
    assert second.collection != first.collection
    store = ChromaStore(settings)
    assert store.generations() == [second.collection]
    edited = [c for c in store.all_chunks()[0] if c.locator == "2.7"]
    assert len(edited) == 1 and "examines United Nations trade data" in edited[0].text
    assert 0 < second.chunks_embedded <= 3


# -- (c) a removed file -------------------------------------------------------------------------------


def test_removed_file_removes_its_chunks(tmp_path):
    settings = small_settings(tmp_path, **{"keep.md": numbered_markdown("Keep", 8, 1),
                                           "drop.md": numbered_markdown("Drop", 6, 2)})
    first = build_index(settings)
    assert names(first.added) == ["drop.md", "keep.md"]
    store = ChromaStore(settings)
    assert {Path(c.doc_path).name for c in store.all_chunks()[0]} == {"drop.md", "keep.md"}

    (settings.corpus_dir / "drop.md").unlink()
    second = build_index(settings)
    assert names(second.removed) == ["drop.md"]
    assert names(second.unchanged) == ["keep.md"]
    assert second.chunks_embedded == 0
    chunks = ChromaStore(settings).all_chunks()[0]
    assert {Path(c.doc_path).name for c in chunks} == {"keep.md"}
    assert len(chunks) == second.chunks_total == ChromaStore(settings).count()
    assert [Path(d["path"]).name for d in ChromaStore(settings).manifest()["documents"]] == ["keep.md"]


# -- (d) bad files ---------------------------------------------------------------------------------------


@needs_pdf_loader
def test_bad_files_are_skipped_with_a_reason_and_the_rest_ingests(settings, tmp_path):
    corpus = settings.corpus_dir
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    (corpus / "empty.md").write_bytes(b"")
    shutil.copy(DATA / "libreoffice-writer-password.pdf", corpus / "locked.pdf")
    shutil.copy(DATA / "pdflatex-4-pages.pdf", corpus / "four-pages.pdf")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "memo.docx").write_bytes(b"PK\x03\x04 not really a Word file")

    report = build_index(settings, paths=[outside / "memo.docx"])
    skipped = {Path(path).name: reason for path, reason in report.skipped}
    assert sorted(skipped) == ["corrupt.pdf", "empty.md", "locked.pdf", "memo.docx"]
    assert skipped["corrupt.pdf"].startswith("corrupt.pdf: ") and "not a valid PDF" in skipped["corrupt.pdf"]
    assert skipped["empty.md"] == "empty.md: empty file"
    assert skipped["locked.pdf"].startswith("locked.pdf: ") and "password" in skipped["locked.pdf"]
    assert skipped["memo.docx"].startswith("memo.docx: ") and "unsupported file type '.docx'" in skipped["memo.docx"]
    assert names(report.added) == [BUNDLED_REPORT, "four-pages.pdf"]

    store = ChromaStore(settings)
    chunks = store.all_chunks()[0]
    by_file: dict[str, list] = {}
    for chunk in chunks:
        by_file.setdefault(Path(chunk.doc_path).name, []).append(chunk)
    assert sorted(by_file) == [BUNDLED_REPORT, "four-pages.pdf"]
    assert len([c for c in by_file[BUNDLED_REPORT] if c.kind == "paragraph"]) == 94
    assert sorted({c.page for c in by_file["four-pages.pdf"]}) == [1, 2, 3, 4]
    assert {c.locator for c in by_file["four-pages.pdf"]} == {"p. 1", "p. 2", "p. 3", "p. 4"}
    assert sorted(Path(p).name for p, _ in store.manifest()["skipped"]) == sorted(skipped)

    # A re-run reports the problems still in the corpus folder and embeds nothing; the refused .docx, given
    # once by path, is not remembered as a document (issue 9, item 14), so it is not reported again.
    again = build_index(settings)
    assert sorted(Path(p).name for p, _ in again.skipped) == sorted(set(skipped) - {"memo.docx"})
    assert again.chunks_embedded == 0 and again.collection == report.collection


def test_unsupported_file_in_corpus_folder_is_reported(tmp_path):
    settings = small_settings(tmp_path, **{"notes.md": numbered_markdown("Notes", 6, 3)})
    (settings.corpus_dir / "memo.docx").write_bytes(b"PK\x03\x04 not really a Word file")
    report = build_index(settings)
    assert names(report.added) == ["notes.md"]
    assert [Path(p).name for p, _ in report.skipped] == ["memo.docx"]


def test_missing_explicit_path_is_skipped(tmp_path):
    settings = small_settings(tmp_path, **{"notes.md": numbered_markdown("Notes", 6, 3)})
    report = build_index(settings, paths=[tmp_path / "nowhere.pdf"])
    missing = str(tmp_path / "nowhere.pdf")
    assert report.skipped == [(missing, f"{missing}: no such file or folder")]  # the reason names the path
    assert names(report.added) == ["notes.md"]


# -- (e) model or chunking settings change -----------------------------------------------------------------


@pytest.mark.parametrize("change", ["chunk_words", "embedding_model"])
def test_settings_change_rebuilds_everything_and_drops_old_generation(tmp_path, change):
    settings = small_settings(tmp_path, **{"a.md": numbered_markdown("A", 7, 4), "b.md": numbered_markdown("B", 5, 5)})
    first = build_index(settings)
    # The same bundled model named by its folder still counts as a different embedding setting.
    update = {"chunk_words": 120} if change == "chunk_words" else {"embedding_model": model_path(settings)}
    changed = settings.model_copy(update=update)

    second = build_index(changed)
    assert second.rebuilt
    assert second.chunks_embedded == second.chunks_total == first.chunks_total
    assert second.collection != first.collection
    store = ChromaStore(changed)
    assert store.current_name() == second.collection
    assert store.generations() == [second.collection]
    remaining = collection_names(store)
    assert first.collection not in remaining and f"{first.collection}_meta" not in remaining
    assert not keyword_dir(settings, first.collection).exists()
    assert keyword_dir(settings, second.collection).is_dir()

    third = build_index(changed)
    assert not third.rebuilt and third.chunks_embedded == 0 and third.collection == second.collection


# -- (f) an ingest killed part way -------------------------------------------------------------------------

# Runs build_index in a child process and says where it is, so the test can kill -9 it at chosen moments.
CHILD = r"""
import sys, time
from index import builder
from index.store import ChromaStore
from ingest.settings import Settings

def say(message):
    print(message, flush=True)

original_add = ChromaStore.add

def add(self, name, *args, **kwargs):
    say("adding " + name)
    original_add(self, name, *args, **kwargs)

def switch_to(self, name):
    say("switching " + name)  # complete but not yet serving: wait here to be killed
    time.sleep(120)

def progress(what, done, total):
    if what == "embedding chunks":
        say(f"embedding {done}/{total}")

ChromaStore.add, ChromaStore.switch_to = add, switch_to
say("started")
builder.build_index(Settings(), progress=progress)
say("finished")
"""


def run_and_kill(settings: Settings, moment: str, log: Path) -> str:
    """Start the child ingest, kill -9 it at `moment` (seconds as text, or a line prefix); returns what it said."""
    env = {**os.environ, "AMPI_CORPUS_DIR": str(settings.corpus_dir), "AMPI_INDEX_DIR": str(settings.index_dir),
           "AMPI_DATA_DIR": str(settings.data_dir)}
    with log.open("w") as errors:
        child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=errors, text=True)
        watchdog = threading.Timer(120, child.kill)
        watchdog.start()
        said = ""
        try:
            if moment[0].isdigit():
                time.sleep(float(moment))
            else:
                for line in child.stdout:
                    said = line.strip()
                    if said.startswith(moment):
                        break
        finally:
            child.kill()  # SIGKILL: no cleanup handlers run
            child.wait()
            watchdog.cancel()
            child.stdout.close()
    assert moment[0].isdigit() or said.startswith(moment), f"child never reached {moment!r}: {log.read_text()[-2000:]}"
    assert child.returncode == -9
    return said


def test_killed_ingest_leaves_previous_index_serving(settings, tmp_path):
    base = build_index(settings)
    serving, best = top_hit(settings)
    count = ChromaStore(settings).count()
    # 100 extra chunks: embedding them takes several seconds, so there is time to kill the child mid-way.
    (settings.corpus_dir / "large.md").write_text(numbered_markdown("Large notes", 100, 6, words=45), encoding="utf-8")

    for moment in ["1.0", "embedding", "adding", "switching"]:
        said = run_and_kill(settings, moment, tmp_path / f"child-{moment}.log")
        store = ChromaStore(settings)
        assert top_hit(settings) == (serving, best), f"after a kill at {moment!r}"
        assert store.count(serving) == count
        assert store.manifest()["documents"][0]["path"].endswith(BUNDLED_REPORT)
        if moment in ("adding", "switching"):
            # The kill came after the new generation was created: it exists but does not serve.
            abandoned = said.split()[1]
            assert store.generations() == sorted([serving, abandoned])
        else:
            assert store.generations() == [serving]

    # A fresh process sees the same thing (nothing is only right in this process's Chroma cache).
    vector = json.dumps(get_embedder(settings).embed_query(QUERY).tolist())
    check = subprocess.run(
        [sys.executable, "-c", "import json, sys, numpy; from ingest.settings import Settings; "
         "from index.store import ChromaStore; s = ChromaStore(Settings()); n = s.current_name(); "
         "print(n, s.search(n, numpy.array(json.loads(sys.stdin.read())), 1)[0][0])"],
        input=vector, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
        env={**os.environ, "AMPI_INDEX_DIR": str(settings.index_dir), "AMPI_CORPUS_DIR": str(settings.corpus_dir)})
    assert check.stdout.split() == [serving, best], check.stderr[-2000:]

    final = build_index(settings)
    assert names(final.added) == ["large.md"] and names(final.unchanged) == [BUNDLED_REPORT]
    assert final.chunks_embedded == final.chunks_total - base.chunks_total == 100
    store = ChromaStore(settings)
    assert store.current_name() == final.collection
    assert store.generations() == [final.collection]
    assert sorted(p.name for p in (settings.index_dir / "keyword").iterdir()) == [final.collection]
    assert {n for n in collection_names(store) if n.endswith("_meta")} == {f"{final.collection}_meta"}


# -- (g) duplicates -----------------------------------------------------------------------------------------


def test_same_file_under_two_names_is_stored_once(tmp_path):
    text = numbered_markdown("Twice", 6, 7)
    settings = small_settings(tmp_path, **{"a-original.md": text, "b-copy.md": text})
    report = build_index(settings)
    assert [(Path(dup).name, Path(of).name) for dup, of in report.duplicates] == [("b-copy.md", "a-original.md")]
    assert names(report.added) == ["a-original.md"]
    store = ChromaStore(settings)
    chunks = store.all_chunks()[0]
    assert len(chunks) == report.chunks_total == report.chunks_embedded == 6
    assert {Path(c.doc_path).name for c in chunks} == {"a-original.md"}
    assert len(store.manifest()["documents"]) == 1

    again = build_index(settings)
    assert len(again.duplicates) == 1 and again.chunks_embedded == 0 and again.collection == report.collection


# -- (h) server mode ----------------------------------------------------------------------------------------


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.server
def test_server_mode_builds_and_queries(settings, chroma_server):
    remote = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma_server.port})
    first = build_index(remote)
    assert names(first.added) == [BUNDLED_REPORT] and first.chunks_embedded == first.chunks_total > 150
    assert not (remote.index_dir / "chroma").exists()  # nothing went to a local Chroma folder

    store = ChromaStore(remote)
    assert store.current_name() == first.collection
    assert store.count() == first.chunks_total
    _, best = top_hit(remote)
    by_id = {c.id: c for c in store.all_chunks()[0]}
    assert by_id[best].locator in {"2.7", "Figure 2-2", "2.8", "Summary (Section 2)"}

    again = build_index(remote)
    assert again.chunks_embedded == 0 and again.collection == first.collection

    chroma_server.stop()
    for attempt in (lambda: store.current_name(), lambda: ChromaStore(remote).current_name()):
        with pytest.raises(StoreError) as error:
            attempt()
        assert f"127.0.0.1:{chroma_server.port}" in str(error.value)


def test_unreachable_server_names_host_and_port(settings):
    port = free_port()  # nothing listens there
    remote = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port})
    with pytest.raises(StoreError) as error:
        ChromaStore(remote).current_name()
    assert "127.0.0.1" in str(error.value) and str(port) in str(error.value)
    with pytest.raises(StoreError):
        build_index(remote)
