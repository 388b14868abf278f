"""Uploads are never lost and a switch never fails a question (issue 9, items 1-4), with real files,
the app's own upload handler, real child processes and a real Chroma folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

from test_index import numbered_markdown  # same folder
from test_reliability_input import app_function, notes_settings

from assistant.retrieve import retrieve
from assistant.service import Assistant
from index.builder import build_index
from index.library import uploads_dir
from index.store import ChromaStore
from ingest.settings import REPO_ROOT, Settings

GOOD = "# Team notes\n\nThe steering group meets every second Tuesday in Halifax to review the pump retrofit.\n"
NEWER = "# Team notes\n\nThe steering group now meets every first Monday in Huddersfield to review the gearbox trial.\n"
BAD = b"# Team notes\n\x00\x01\x02 binary junk that is not text \x00\x00"


def _add(app, source: Path) -> tuple[str, list[str]]:
    """Press Add with `source` chosen, as the browser does; returns (result shown, warnings)."""
    add_document = app_function(app, "add_document")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, _, _ = add_document(str(source), "", 0, None)
    return (result if isinstance(result, str) else ""), [str(w.message) for w in caught]


def _browser_file(root: Path, name: str, content: str | bytes) -> Path:
    """A file as Gradio hands it over: its original name in a cache folder of its own."""
    folder = root / "gradio-cache" / str(time.monotonic_ns())
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _served_text(settings: Settings, name: str) -> str:
    chunks, _ = ChromaStore(settings).all_chunks()
    return " ".join(c.text for c in chunks if Path(c.doc_path).name == name)


def test_a_failed_reupload_keeps_the_stored_original_and_the_index(tmp_path):
    from ui.app import build_app

    settings = notes_settings(tmp_path)
    build_index(settings)
    app = build_app(settings)
    stored = uploads_dir(settings) / "anonymous" / "notes.md"

    result, said = _add(app, _browser_file(tmp_path, "notes.md", GOOD))
    assert result.startswith("**Added:** notes.md"), (result, said)
    assert stored.read_text(encoding="utf-8") == GOOD and "Halifax" in _served_text(settings, "notes.md")

    result, said = _add(app, _browser_file(tmp_path, "notes.md", BAD))
    assert any("notes.md" in s and "binary data" in s for s in said + [result]), (result, said)
    assert stored.read_text(encoding="utf-8") == GOOD, "the failed upload replaced the stored original"
    assert "Halifax" in _served_text(settings, "notes.md")
    assert not list(stored.parent.glob(".staging/*")), "a staged copy was left behind"
    later = build_index(settings)
    assert later.skipped == [] and not later.changed, later

    result, said = _add(app, _browser_file(tmp_path, "notes.md", NEWER))
    assert result.startswith("**Updated:** notes.md"), (result, said)
    assert stored.read_text(encoding="utf-8") == NEWER
    served = _served_text(settings, "notes.md")
    assert "Huddersfield" in served and "Halifax" not in served
    assert sorted(p.name for p in stored.parent.iterdir() if not p.name.startswith(".")) == ["notes.md"]


def test_names_that_clean_alike_never_replace_each_other(tmp_path):
    from ui.app import build_app

    settings = notes_settings(tmp_path)
    build_index(settings)
    app = build_app(settings)
    folder = uploads_dir(settings) / "anonymous"

    _add(app, _browser_file(tmp_path, "plan*v1.md", "# Plan\n\nThe first plan budgets for twelve new lathes.\n"))
    _add(app, _browser_file(tmp_path, "plan?v1.md", "# Plan\n\nThe second plan budgets for four welding robots.\n"))
    stored = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert stored == ["plan_v1 (2).md", "plan_v1.md"], stored
    assert "lathes" in (folder / "plan_v1.md").read_text() and "robots" in (folder / "plan_v1 (2).md").read_text()
    assert "lathes" in _served_text(settings, "plan_v1.md") and "robots" in _served_text(settings, "plan_v1 (2).md")

    # A re-upload under its own original name replaces its own file, never the other one.
    _add(app, _browser_file(tmp_path, "plan?v1.md", "# Plan\n\nThe second plan now budgets for six welding robots.\n"))
    assert "six welding robots" in (folder / "plan_v1 (2).md").read_text()
    assert "lathes" in (folder / "plan_v1.md").read_text()


def test_uploads_and_added_paths_come_back_after_the_index_is_lost(tmp_path):
    import shutil

    from ui.app import build_app

    settings = notes_settings(tmp_path)
    build_index(settings)
    _add(build_app(settings), _browser_file(tmp_path, "notes.md", GOOD))
    extra = tmp_path / "elsewhere" / "extra.md"
    extra.parent.mkdir()
    extra.write_text("# Extra\n\nThe extra file lists the supplier audit dates for Barnsley.\n", encoding="utf-8")
    build_index(settings, paths=[extra])
    before = {Path(d["path"]).name for d in ChromaStore(settings).manifest()["documents"]}
    assert {"notes.md", "extra.md"} <= before

    shutil.rmtree(settings.index_dir)  # the index is lost; the files are still on disk
    rebuilt = build_index(settings)
    assert {Path(p).name for p in rebuilt.added} == before
    assert "Halifax" in _served_text(settings, "notes.md") and "Barnsley" in _served_text(settings, "extra.md")


CHILD_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from index.staging import stage_copy
    from index.worker import build_index_in_child
    from ingest.settings import Settings

    settings = Settings()
    target = Path(sys.argv[1])
    staged = stage_copy(Path(sys.argv[2]), target)

    def progress(name, done, total):
        print("progress", name, flush=True)

    build_index_in_child(settings, staged=[(staged, target)], progress=progress)
    print("finished", flush=True)
""")


def _descendants(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def test_killing_the_app_mid_upload_ends_its_ingest_child_and_nothing_goes_live(tmp_path):
    settings = notes_settings(tmp_path)
    build_index(settings)
    serving = ChromaStore(settings).current_name()
    target = uploads_dir(settings) / "anonymous" / "large.md"
    target.parent.mkdir(parents=True)
    source = tmp_path / "large.md"
    source.write_text(numbered_markdown("Large upload", 150, 3, words=45), encoding="utf-8")
    env = {**os.environ, "AMPI_CORPUS_DIR": str(settings.corpus_dir), "AMPI_DATA_DIR": str(settings.data_dir),
           "AMPI_INDEX_DIR": str(settings.index_dir)}
    app = subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT, str(target), str(source)], cwd=REPO_ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        children: set[int] = set()
        for line in app.stdout:  # wait until the child is embedding, then kill the "app" with SIGKILL
            children |= _descendants(app.pid)
            if "embedding" in line:
                break
        assert children, "the ingest child never started"
        os.kill(app.pid, signal.SIGKILL)
        app.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in children):
            time.sleep(0.1)
        alive = [pid for pid in children if Path(f"/proc/{pid}/stat").exists()
                 and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
        assert not alive, f"the ingest child {alive} outlived the app"
    finally:
        if app.poll() is None:
            app.kill()
        app.stdout.close()
    time.sleep(1)
    assert ChromaStore(settings).current_name() == serving, "the orphaned ingest switched the index"
    # The next ingest rolls the interrupted swap back: the file the user saw fail never goes live.
    report = build_index(settings)
    assert not target.exists() and "large.md" not in {Path(p).name for p in report.added}
    assert not (target.parent / ".staging").exists()


def test_questions_under_way_survive_an_ingest_switch(tmp_path):
    settings = notes_settings(tmp_path).model_copy(update={"generation_grace_s": 120.0})
    build_index(settings)
    assistant = Assistant(settings)
    question = "When does the steering group meet?"
    from assistant.query import analyse

    query = analyse(question)
    vector = assistant.embedder.embed_query(query.search_text)
    before = assistant.index()  # a question that loaded this generation and has not searched yet

    (settings.corpus_dir / "more.md").write_text("# More\n\nThe plant in Wakefield runs two shifts.\n", encoding="utf-8")
    build_index(settings)
    assert ChromaStore(settings).current_name() != before.name
    hits = retrieve(query, vector, before, assistant.store, settings)  # the replaced generation still answers
    assert hits

    # Many questions while three ingests switch generations: none fails.
    errors: list[str] = []
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        asker = Assistant(settings, embedder=assistant.embedder)
        while not stop.is_set():
            try:
                asker.answer(question)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=ask_in_a_loop)
    thread.start()
    try:
        for n in range(3):
            (settings.corpus_dir / f"extra-{n}.md").write_text(f"# Extra {n}\n\nLine {n} of the shift log.\n",
                                                               encoding="utf-8")
            build_index(settings)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert errors == []
    # Replaced generations are dropped once their grace period is over.
    expired = settings.model_copy(update={"generation_grace_s": 0.0})
    (settings.corpus_dir / "last.md").write_text("# Last\n\nThe final note.\n", encoding="utf-8")
    final = build_index(expired)
    assert ChromaStore(settings).generations() == [final.collection]


def test_document_and_section_limits_apply_to_every_answer_path(settings, report_vectors):
    """`--doc good.md "Japan's value added?"` must not answer from the report's table (issue 9, item 13)."""
    good = settings.corpus_dir / "good.md"
    good.write_text("# Good notes\n\nThe steering group meets every second Tuesday in Halifax.\n", encoding="utf-8")
    build_index(settings)
    assistant = Assistant(settings)
    question = "What was Japan's value added in 2021?"
    unlimited = assistant.answer(question)
    assert not unlimited.refused and "Table 2-2" in [c.locator for c in unlimited.citations]
    limited = assistant.answer(question, doc="good.md")
    assert limited.refused or all(c.doc == "Good notes" for c in limited.citations), limited.text
    assert "155" not in limited.text
    section = assistant.answer(question, section="Learning from elsewhere")
    assert all("Learning from elsewhere" in c.section for c in section.citations), section.text
