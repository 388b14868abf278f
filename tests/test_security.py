"""Security of the real app: login on every route, users kept apart, uploads kept in data_dir, only indexed passages shown.

The app runs on 127.0.0.1 over a small index of its own (uploads through it are allowed to change that index).
Calls that the page makes (ask in the chat, pin, rate, browse) go through Gradio's own queue protocol with
requests, exactly as the browser sends them, with or without a login cookie.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from pathlib import Path

import pytest
import requests
from test_reliability_input import QUESTIONS, notes_settings, serve  # same folder, my helpers

from assistant.service import Assistant
from index.builder import build_index
from ingest.settings import REPO_ROOT, Settings
from ui import briefing as brief
from ui.app import launch_options
from ui.auth import load_users
from ui.feedback import feedback_path, read_feedback, record_feedback
from ui.render import passage_view
from ui.uploads import UploadRejected, accept_upload, upload_target

USERS = "alice:pw1,bob:pw2"
SECRET = "ALICE-SECRET-4f1c9e"  # only alice ever writes this: in a comment, an upload, a pinned question
ALICE_QUESTION = f"{QUESTIONS[0]} {SECRET}"


def private_note(settings: Settings, user: str, secret: str) -> Path:
    """A note in `user`'s uploads folder (searched by them alone) that answers QUESTIONS[0] with `secret` in it."""
    note = settings.data_dir / "uploads" / user / f"{user}-plan.md"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(f"# Private plan\n\nThe private plan {secret} doubles gearbox output at the Huddersfield plant "
                    "to 840 gearboxes a week next year.\n", encoding="utf-8")
    return note


# -- talking to the app like the browser does --------------------------------------------------
class Browser:
    """One browser session: an optional login cookie and a session hash, calling the app's events by name."""

    def __init__(self, app, url: str, user: str | None = None, password: str | None = None):
        self.app, self.url, self.http, self.session_hash = app, url, requests.Session(), uuid.uuid4().hex[:11]
        if user:
            reply = self.http.post(url + "login", data={"username": user, "password": password}, timeout=10)
            assert reply.ok, (user, reply.status_code, reply.text[:200])

    def fn_index(self, name: str) -> int:
        """The event's index: by function name, or for the passage picker by its input's elem_id."""
        for index, block in self.app.fns.items():
            ids = [getattr(c, "elem_id", None) for c in block.inputs]
            if block.name == name or (name == "pick_item" and ids == ["ampi-items"]):
                return index
        raise KeyError(name)

    def call(self, name: str, *data) -> tuple[int, dict | None, list[str]]:
        """(HTTP status of the join, the process_completed message, warning/info texts shown to the user)."""
        join = self.http.post(self.url + "gradio_api/queue/join", timeout=30,
                              json={"data": list(data), "fn_index": self.fn_index(name), "session_hash": self.session_hash})
        if join.status_code != 200:
            return join.status_code, None, []
        event_id, logs = join.json()["event_id"], []
        with self.http.get(self.url + "gradio_api/queue/data", params={"session_hash": self.session_hash},
                           stream=True, timeout=60) as stream:
            for line in stream.iter_lines():
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "log":
                    logs.append(message.get("log", ""))
                if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                    return 200, message, logs
        return 200, None, logs

    def upload(self, name: str, content: bytes) -> requests.Response:
        return self.http.post(self.url + "gradio_api/upload", files={"files": (name, content)}, timeout=30)


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """The app with AMPI_UI_USERS set, after alice asked, pinned, rated and uploaded a file."""
    root = tmp_path_factory.mktemp("secured")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMPI_UI_USERS", USERS)  # read from the environment, as `ampi serve` does
        base = notes_settings(root)
        settings = Settings(corpus_dir=base.corpus_dir, data_dir=base.data_dir, index_dir=base.index_dir)
    assert settings.ui_users == USERS and load_users(settings) == [("alice", "pw1"), ("bob", "pw2")]
    assert callable(launch_options(settings)["auth"])  # Gradio calls the login guard (ui.auth.LoginGuard)
    # alice's own private note (an upload only she may search) answers her question, so she can pin it:
    # a refusal cannot be pinned.
    private_note(settings, "alice", SECRET)
    build_index(settings)
    assistant = Assistant(settings)
    app, url = serve(settings, assistant)
    alice = Browser(app, url, "alice", "pw1")
    assert alice.call("load_page")[0] == 200
    status, done, _ = alice.call("ask_in_chat", ALICE_QUESTION, [], None)
    assert status == 200 and done["success"], done
    assert alice.call("pin_selected", None, None)[1]["success"]
    assert alice.call("rate_up", None, None, f"Useful {SECRET}")[1]["success"]
    uploaded = alice.upload("alice-notes.md", f"# Alice\n\nPrivate plan {SECRET}.\n".encode())
    assert uploaded.status_code == 200, uploaded.text
    state = {"settings": settings, "assistant": assistant, "app": app, "url": url, "alice": alice,
             "alice_file": uploaded.json()[0]}
    yield state
    app.close()


# -- every route refuses without login ---------------------------------------------------------
def test_named_routes_refuse_without_login(secured):
    url, alice_file = secured["url"], secured["alice_file"]
    anonymous = requests.Session()
    refused = {
        "GET /config": anonymous.get(url + "config", timeout=10),
        "GET /gradio_api/info": anonymous.get(url + "gradio_api/info", timeout=10),
        "GET /gradio_api/openapi.json": anonymous.get(url + "gradio_api/openapi.json", timeout=10),
        "POST /gradio_api/call/ask": anonymous.post(url + "gradio_api/call/ask", json={"data": [QUESTIONS[0]]}, timeout=10),
        "POST /gradio_api/run/ask": anonymous.post(url + "gradio_api/run/ask", json={"data": [QUESTIONS[0]]}, timeout=10),
        "POST /gradio_api/queue/join": anonymous.post(url + "gradio_api/queue/join", timeout=10, json={
            "data": [QUESTIONS[0], [], None], "fn_index": secured["alice"].fn_index("ask_in_chat"), "session_hash": "x1"}),
        "POST /gradio_api/upload": anonymous.post(url + "gradio_api/upload", files={"files": ("x.md", b"# x")}, timeout=10),
        "GET /gradio_api/file=": anonymous.get(url + f"gradio_api/file={alice_file}", timeout=10),
        "GET /gradio_api/queue/data": anonymous.get(url + "gradio_api/queue/data",
                                                    params={"session_hash": secured["alice"].session_hash}, timeout=10),
        "GET /monitoring": anonymous.get(url + "monitoring", timeout=10),
    }
    for route, reply in refused.items():
        assert reply.status_code in (401, 403), f"{route}: {reply.status_code} {reply.text[:200]}"
        assert SECRET not in reply.text and "Huddersfield" not in reply.text, route
    # The page itself is only the login form: no components, no documents.
    page = anonymous.get(url, timeout=10)
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert "ampi-question" not in page.text and "Huddersfield" not in page.text and SECRET not in page.text
    # A wrong password or a made-up cookie opens nothing either.
    wrong = requests.Session()
    assert wrong.post(url + "login", data={"username": "alice", "password": "pw2"}, timeout=10).status_code >= 400
    assert wrong.get(url + "config", timeout=10).status_code == 401
    forged = requests.Session()
    forged.cookies.set("access-token", "made-up")
    forged.cookies.set("access-token-unsecure", "made-up")
    assert forged.get(url + "config", timeout=10).status_code == 401
    # With alice's login the same file route works, so the refusals above were about the login, not the path.
    assert secured["alice"].http.get(url + f"gradio_api/file={alice_file}", timeout=10).text.count(SECRET) == 1


def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route the running app serves, Gradio's API router included."""
    found = []

    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):  # how Gradio 6 mounts its /gradio_api router
                walk(route.original_router.routes)
            elif hasattr(route, "routes") and not hasattr(route, "endpoint"):
                walk(route.routes)
            elif getattr(route, "path", None):
                found.extend((m, route.path) for m in sorted(getattr(route, "methods", None) or {"GET"}) if m != "HEAD")

    walk(app.server_app.routes)
    return found


def test_no_route_gives_data_without_login(secured):
    """Every route, with its path parameters filled with real values of alice's, must not leak her data."""
    url, alice = secured["url"], secured["alice"]
    fill = {"path_or_url": secured["alice_file"], "path": secured["alice_file"], "file_path": secured["alice_file"],
            "session_hash": alice.session_hash, "api_name": "ask", "event_id": "0", "size": "192", "key": "k",
            "run": "0", "component_id": "1", "segment_id": "0", "ext": "ts", "id": "1", "environment": "client",
            "type": "index", "file_name": "index.js", "url_path": "x", "endpoint": "ask", "record_id": "1", "asset_id": "1"}
    routes = _routes(secured["app"])
    assert ("POST", "/gradio_api/queue/join") in routes and ("GET", "/config") in routes
    leaks = []
    for method, path in routes:
        target = re.sub(r"\{(\w+)(?::path)?\}", lambda m: fill.get(m.group(1), "x").lstrip("/") if m.group(1) != "path_or_url"
                        else fill["path_or_url"], path)
        # Nothing of alice's in the body: validation errors echo it back, which is no leak.
        body = {"data": ["hello"], "fn_index": 0, "session_hash": alice.session_hash, "event_id": "0",
                "hash": "0", "prompt": "x"}
        try:
            with requests.request(method, url + target.lstrip("/"), json=body if method == "POST" else None,
                                  stream=True, timeout=(5, 2), allow_redirects=False) as reply:
                text = b""
                try:
                    for chunk in reply.iter_content(4096):  # streams (heartbeat, queue data) are cut short
                        text += chunk
                        if len(text) > 256_000:
                            break
                except requests.exceptions.RequestException:
                    pass
        except requests.exceptions.ReadTimeout:
            continue
        content = text.decode("utf-8", "replace")
        if SECRET in content or "Huddersfield" in content or "pw1" in content:
            leaks.append(f"{method} {path} -> {reply.status_code}")
    assert not leaks, leaks


# -- users are kept apart ----------------------------------------------------------------------
def test_alice_briefing_and_feedback_are_not_visible_to_bob_in_the_app(secured):
    settings = secured["settings"]
    bob = Browser(secured["app"], secured["url"], "bob", "pw2")
    status, page, _ = bob.call("load_page")
    assert status == 200 and page["success"]
    assert SECRET not in json.dumps(page)  # bob's page: intro, outline, documents, *his* (empty) briefing
    _, shown, _ = bob.call("show_briefing")
    assert SECRET not in json.dumps(shown) and "Nothing has been pinned yet" in json.dumps(shown)
    _, exported, said = bob.call("export_briefing")
    assert any("Nothing is pinned yet" in s for s in said) and SECRET not in json.dumps(exported)
    _, _, said = bob.call("rate_up", None, None, "bob's comment")  # bob has no answer of his own to rate
    assert any("Ask a question first" in s for s in said)
    # On disk: alice's files hold her data; bob has none of his own and reads nothing of hers.
    assert SECRET in (settings.data_dir / "briefings" / "alice.json").read_text(encoding="utf-8")
    assert SECRET in feedback_path(settings, "alice").read_text(encoding="utf-8")
    assert read_feedback(settings, "bob") == [] and brief.load_briefing(settings, "bob").items == []
    # alice, in another browser, still sees her own briefing.
    _, again, _ = Browser(secured["app"], secured["url"], "alice", "pw1").call("show_briefing")
    assert SECRET in json.dumps(again)


def test_session_hash_of_alice_gives_bob_nothing(secured):
    """Knowing alice's session hash, bob can neither read her queue nor use her chat state."""
    bob = Browser(secured["app"], secured["url"], "bob", "pw2")
    bob.session_hash = secured["alice"].session_hash
    _, pinned, said = bob.call("pin_selected", None, None)  # uses the session's answers: must not be alice's
    mine = secured["settings"].data_dir / "briefings" / "bob.json"
    assert SECRET not in json.dumps(pinned) and (not mine.exists() or SECRET not in mine.read_text(encoding="utf-8"))
    assert ALICE_QUESTION not in json.dumps(pinned)
    bob.call("rate_down", None, None, "bob was here")  # rates the session's selected answer: must not be alice's
    assert all(ALICE_QUESTION not in json.dumps(entry) for entry in read_feedback(secured["settings"], "bob"))
    # alice's own session still works with the same hash
    _, hers, _ = secured["alice"].call("pin_selected", None, None)
    assert hers["success"] and ALICE_QUESTION in json.dumps(hers)


def test_feedback_and_briefings_are_per_user_in_the_library(tmp_path):
    from ingest.records import Answer

    settings = Settings(data_dir=tmp_path / "data")
    answer = Answer(question=ALICE_QUESTION, text="420 gearboxes a week [1].")
    record_feedback(settings, "alice", answer, "up", SECRET)
    brief.pin(settings, "alice", answer, "a1")
    for other in ("bob", "anonymous", "ALICE", "alice2", "../../data/feedback/alice"):
        assert read_feedback(settings, other) == [] and brief.load_briefing(settings, other).items == [], other
    assert [e["comment"] for e in read_feedback(settings, "alice")] == [SECRET]


@pytest.mark.parametrize("first, second", [("Мария", "Иван"), ("alice", "alice.")])
def test_distinct_user_names_never_share_feedback_or_briefings(first, second, tmp_path):
    from ingest.records import Answer

    settings = Settings(data_dir=tmp_path / "data")
    assert load_users(Settings(ui_users=f"{first}:pw1,{second}:pw2")) == [(first, "pw1"), (second, "pw2")]
    brief.pin(settings, first, Answer(question=f"{first}'s private question", text="x"), "p1")
    assert feedback_path(settings, first) != feedback_path(settings, second)
    assert brief.load_briefing(settings, second).items == []


# -- uploads never leave data_dir --------------------------------------------------------------
HOSTILE_NAMES = ["../../../../tmp/evil.md", "/etc/cron.d/evil.md", "..\\..\\..\\evil.md", "C:\\Windows\\evil.md",
                 "a/../../b.md", "%2e%2e%2fevil.md", "....//....//evil.md", "evil.md\x00.pdf", "\x00.md", ".md", "..",
                 ".", "", "~/.bashrc.md", "x" * 500 + ".md", "ünïcødé ☃.md", "-rf .md", "CON.md", "\n\r.md"]
HOSTILE_USERS = ["alice", "../../etc", "/root", "..", ".", "", None, "alice/../bob", "..\\..\\x", "~", "a" * 300]


def test_hostile_upload_names_and_users_stay_inside_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "data" / "ampi", index_dir=tmp_path / "data" / "index")
    uploads = (settings.data_dir / "uploads").resolve()
    source = tmp_path / "source.md"
    source.write_text("# Notes\n\nA small note.\n", encoding="utf-8")
    outside_before = {p for p in tmp_path.rglob("*")}
    for user in HOSTILE_USERS:
        for name in HOSTILE_NAMES:
            target = upload_target(settings, user, name)
            assert uploads in target.resolve().parents, (user, name, target)
            assert len(target.resolve().relative_to(uploads).parts) == 2, (user, name, target)  # <user>/<file>
            try:
                upload = accept_upload(settings, user, source, name=name)
            except UploadRejected:  # refused with a message (an OSError here would fail the test)
                continue
            assert upload.target.resolve().parent.parent == uploads
            assert uploads in upload.staged.resolve().parents
            assert upload.staged.read_text(encoding="utf-8").startswith("# Notes")
    created = {p for p in tmp_path.rglob("*")} - outside_before
    assert all(uploads == p.resolve() or uploads in p.resolve().parents or p.resolve() in uploads.parents for p in created)


def test_hostile_names_through_the_real_upload_and_add_routes(secured):
    """Gradio's upload route keeps any name in its cache; the Add button then copies into data_dir/uploads/alice."""
    alice, settings = secured["alice"], secured["settings"]
    escape = Path(tempfile.gettempdir()) / f"ampi-escape-{uuid.uuid4().hex[:8]}.md"
    reply = alice.upload(f"../../../../../..{escape}", b"# Escape\n\nThe escape note mentions Rotherham.\n")
    assert reply.status_code == 200, reply.text
    cached = Path(reply.json()[0])
    assert not escape.exists() and cached.exists() and cached.name == escape.name
    cache_root = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()
    assert cache_root in cached.resolve().parents
    status, done, said = alice.call("add_document", {"path": str(cached), "meta": {"_type": "gradio.FileData"},
                                                     "orig_name": f"../../{escape.name}"}, "", 0, False)
    assert status == 200 and done["success"], (done, said)
    assert "Added" in json.dumps(done["output"]["data"][0])
    kept = settings.data_dir / "uploads" / "alice" / escape.name
    assert kept.exists() and not escape.exists()
    # A payload naming a file outside Gradio's cache is refused before the handler runs.
    secret = settings.data_dir.parent / "server-only.md"
    secret.write_text(f"# Server only\n\n{SECRET} server file.\n", encoding="utf-8")
    status, done, _ = alice.call("add_document", {"path": str(secret), "meta": {"_type": "gradio.FileData"}}, "", 0, False)
    assert status == 200 and not done["success"], done
    assert "was not uploaded by a user" in done["output"]["error"], done  # Gradio refuses it
    assert not (settings.data_dir / "uploads" / "alice" / "server-only.md").exists()
    assert all("server-only" not in d.get("path", "") for d in secured["assistant"].documents())


def test_file_route_serves_no_server_files_even_when_logged_in(secured):
    settings, bob = secured["settings"], Browser(secured["app"], secured["url"], "bob", "pw2")
    chroma = next((settings.index_dir / "chroma").glob("*.sqlite3"))
    for path in ["/etc/passwd", feedback_path(settings, "alice"), settings.data_dir / "briefings" / "alice.json",
                 chroma, REPO_ROOT / "pyproject.toml", "../../../../etc/passwd", settings.corpus_dir / "plant.md"]:
        reply = bob.http.get(secured["url"] + f"gradio_api/file={path}", timeout=10)
        assert reply.status_code in (403, 404), (path, reply.status_code)
        assert "root:" not in reply.text and SECRET not in reply.text and "Huddersfield" not in reply.text


# -- the citation viewer only shows indexed passages -------------------------------------------
def test_citation_viewer_shows_only_indexed_passages(secured):
    assistant = secured["assistant"]
    for wanted in ["no-such-id", "../../etc/passwd", "/etc/passwd", str(REPO_ROOT / "pyproject.toml"), "' OR 1=1 --"]:
        assert assistant.chunk(wanted) is None
        view = passage_view(assistant, wanted)
        assert "Pick a paragraph" in view and "root:" not in view and "[project]" not in view
    real = assistant.index().chunks[0]
    assert real.text.split()[0] in passage_view(assistant, real.id)

    bob = Browser(secured["app"], secured["url"], "bob", "pw2")
    _, page, _ = bob.call("load_page")
    assert page["success"]
    for name, data in [("pick_item", ["../../etc/passwd"]), ("pick_section", ["../../etc/passwd", None]),
                       ("pick_item", [str(REPO_ROOT / "pyproject.toml")])]:
        status, done, _ = bob.call(name, *data)
        assert status == 200 and done is not None, name
        text = json.dumps(done)
        assert "root:" not in text and "[project]" not in text
        assert not done["success"] or "Pick a paragraph" in text  # refused as not a choice, or shown as nothing
    _, shown, _ = bob.call("pick_item", real.id)  # a real choice still works
    assert shown["success"] and real.text.split()[0] in json.dumps(shown)
