"""A user's uploads are searched for that user alone unless shared with everyone (issue 9, item 8),
against the real app served with two logged-in users, real child-process ingests and a real index."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_reliability_input import app_function, notes_settings, serve  # same folder
from test_security import USERS, Browser

from assistant.service import Assistant, answer_record
from index.builder import build_index
from index.library import uploads_dir
from index.store import ChromaStore
from ingest.errors import NoDocument
from ingest.settings import Settings

SECRET = "ZEPHYR-7731"  # only in alice's private file
PRIVATE = f"# Wakefield pilot\n\nThe Wakefield pilot line will run the {SECRET} controller from March.\n"
PRIVATE_QUESTION = "Which controller will the Wakefield pilot line run?"
SHARED = "# Canteen\n\nThe Leeds canteen serves the KESTREL-2290 soup every Friday.\n"
SHARED_QUESTION = "Which soup does the Leeds canteen serve on Friday?"
BROKEN = "alice-broken.pdf"  # a file of alice's that the ingest skips


def _add(browser: Browser, name: str, content: str, share: bool = False) -> dict:
    """Upload a file and press Add (with the share checkbox as given), as the browser does; returns the completed event."""
    uploaded = browser.upload(name, content.encode())
    assert uploaded.status_code == 200, uploaded.text
    file = {"path": uploaded.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}
    status, done, _ = browser.call("add_document", file, "", 0, share)
    assert status == 200 and done and done["success"], done
    return done


def _ask(browser: Browser, question: str) -> str:
    """Everything the chat shows for one question (answer, sources panel, figures), as JSON text."""
    status, done, _ = browser.call("ask_in_chat", question, [], None)
    assert status == 200 and done and done["success"], done
    return json.dumps(done["output"]["data"])


def _api(browser: Browser, question: str) -> dict:
    """The /ask API's record (answer, citations, retrieved passages) for this browser's user."""
    reply = browser.http.post(browser.url + "gradio_api/call/ask", json={"data": [question]}, timeout=30)
    assert reply.ok, reply.text
    with browser.http.get(browser.url + f"gradio_api/call/ask/{reply.json()['event_id']}", timeout=60) as result:
        lines = [line for line in result.text.splitlines() if line.startswith("data:")]
    return json.loads(lines[-1][5:])[0]


@pytest.fixture(scope="module")
def two_users(tmp_path_factory):
    """The app with alice and bob logged in, after alice added a private file."""
    root = tmp_path_factory.mktemp("privacy")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMPI_UI_USERS", USERS)
        base = notes_settings(root)
        settings = Settings(corpus_dir=base.corpus_dir, data_dir=base.data_dir, index_dir=base.index_dir)
    build_index(settings)
    app, url = serve(settings, Assistant(settings))
    alice, bob = Browser(app, url, "alice", "pw1"), Browser(app, url, "bob", "pw2")
    added = json.dumps(_add(alice, "wakefield-plan.md", PRIVATE)["output"]["data"])
    yield {"settings": settings, "app": app, "alice": alice, "bob": bob, "added": added}
    app.close()


def test_a_private_upload_is_searched_for_its_owner_only(two_users):
    alice, bob = two_users["alice"], two_users["bob"]
    assert "wakefield-plan.md" in two_users["added"] and "only by you" in two_users["added"]
    assert SECRET in _ask(alice, PRIVATE_QUESTION)  # the file is indexed and answers its owner
    assert SECRET in json.dumps(_api(alice, PRIVATE_QUESTION))
    assert SECRET not in _ask(bob, PRIVATE_QUESTION)
    record = _api(bob, PRIVATE_QUESTION)
    assert SECRET not in json.dumps(record)  # answer text, citations and retrieved passages
    assert all(c["doc"] != "Wakefield pilot" for c in record["citations"])
    assert all(h["doc"] != "Wakefield pilot" for h in record["retrieved"])


def test_documents_outline_and_passages_show_only_what_the_user_may_see(two_users):
    alice, bob, settings = two_users["alice"], two_users["bob"], two_users["settings"]
    _, hers, _ = alice.call("load_page")
    assert "wakefield-plan.md" in json.dumps(hers["output"]["data"])
    _, page, _ = bob.call("load_page")
    shown = json.dumps(page["output"]["data"])  # intro, outline, glossary, Documents table
    assert "wakefield-plan.md" not in shown and "Wakefield pilot" not in shown and SECRET not in shown
    assert "plant.md" in shown  # the corpus stays visible to everyone
    # The passage viewer takes an id from the browser: alice's passage id gives bob nothing of hers
    # (Gradio refuses an id outside his outline; the handler itself checks too).
    chunks, _ = ChromaStore(settings).all_chunks()
    secret_id = next(c.id for c in chunks if SECRET in c.text)
    _, viewed, _ = bob.call("pick_item", secret_id)
    assert SECRET not in json.dumps(viewed)
    show_passage = app_function(two_users["app"], "show_passage")
    assert SECRET not in show_passage(secret_id, SimpleNamespace(username="bob"))
    assert SECRET in show_passage(secret_id, SimpleNamespace(username="alice"))


def test_the_cli_sees_no_private_upload(two_users):
    assistant = Assistant(two_users["settings"])
    answer = assistant.answer(PRIVATE_QUESTION)
    assert SECRET not in json.dumps(answer_record(answer))
    assert all("wakefield" not in d["path"] for d in assistant.documents())
    with pytest.raises(NoDocument):
        assistant.answer(PRIVATE_QUESTION, doc="wakefield-plan")
    assert SECRET in assistant.answer(PRIVATE_QUESTION, user="alice").text  # the owner's folder name


def test_an_upload_shared_with_everyone_answers_bob(two_users):
    alice, bob = two_users["alice"], two_users["bob"]
    assert "KESTREL-2290" not in _ask(bob, SHARED_QUESTION)
    added = json.dumps(_add(alice, "canteen.md", SHARED, share=True)["output"]["data"])
    assert "by everyone" in added
    assert "KESTREL-2290" in _ask(bob, SHARED_QUESTION)
    assert "KESTREL-2290" in _api(bob, SHARED_QUESTION)["answer"]
    assert "KESTREL-2290" in Assistant(two_users["settings"]).answer(SHARED_QUESTION).text  # the CLI too
    _, page, _ = bob.call("load_page")
    assert "canteen.md" in json.dumps(page["output"]["data"])
    assert SECRET not in _ask(bob, PRIVATE_QUESTION)  # sharing one file shares only that file


def test_skipped_file_reports_show_only_your_own(two_users):
    alice, bob, settings = two_users["alice"], two_users["bob"], two_users["settings"]
    # A file of alice's the ingest cannot read (put there on disk: a bad upload itself is never kept).
    broken: Path = uploads_dir(settings) / "alice" / BROKEN
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf\n")
    bobs = json.dumps(_add(bob, "bob-notes.md", "# Bob\n\nBob's forklift is serviced in June.\n")["output"]["data"])
    assert "bob-notes.md" in bobs and BROKEN not in bobs and "Skipped" not in bobs
    hers = json.dumps(_add(alice, "alice-more.md", "# More\n\nThe second shift starts at two.\n")["output"]["data"])
    assert BROKEN in hers  # the owner still hears about her own skipped file
    assert "bob-notes.md" not in hers  # and nothing of bob's private upload
