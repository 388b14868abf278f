"""Issue 9, items 6, 7, 9 and 10 against the real app on 127.0.0.1 (no mocks).

6: the /ask API keeps no session per call, idle browser sessions expire.
7: document text is shown as text in the chat, the sources panel, the briefing and its export; only the
   bundled report's links are live.
9: a briefing export is served to the user who made it, and no one else, also after a restart.
10: repeated failed logins wait, per user and per client address; a users file takes any password or a hash.
"""

from __future__ import annotations

import http.client
import json
import re
import stat
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from test_reliability_input import QUESTIONS, notes_settings, serve  # same folder: the app on a free port
from test_security import Browser, private_note
from test_ui_app import _ask, _open, _tab, _text, _wait, browser  # noqa: F401  (browser is a fixture)

from assistant.service import Assistant
from index.builder import build_index
from ingest.records import Citation
from ingest.settings import Settings
from ui import briefing as brief
from ui.auth import load_users
from ui.render import chat_message, passage_view, sources_html

SECRET = "ALICE-EXPORT-7d2e41"


def _empty_settings(tmp_path, **changes) -> Settings:
    """Settings over an empty corpus: enough for the login form and the page."""
    corpus = tmp_path / "corpus"
    (corpus / "sources").mkdir(parents=True)
    return Settings(corpus_dir=corpus, data_dir=tmp_path / "data", index_dir=tmp_path / "data" / "index", **changes)


def _ask_over_http(url: str, question: str) -> dict:
    """One /ask call the way a script makes it: POST, then read the result stream (a new Gradio session each time)."""
    join = requests.post(url + "gradio_api/call/ask", json={"data": [question]}, timeout=30)
    join.raise_for_status()
    with requests.get(url + f"gradio_api/call/ask/{join.json()['event_id']}", stream=True, timeout=60) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith(b"data:")]
    return json.loads(lines[-1][5:])[0]


# -- 6: sessions -------------------------------------------------------------------------------
def test_api_calls_keep_no_session_and_idle_sessions_expire(tmp_path):
    from gradio_client import Client

    settings = notes_settings(tmp_path).model_copy(update={"ui_session_ttl_s": 4.0})
    build_index(settings)
    app, url = serve(settings, Assistant(settings))
    try:
        page = Browser(app, url)  # a browser tab: its session holds its answers
        assert page.call("load_page")[1]["success"]
        for n in range(30):
            assert _ask_over_http(url, QUESTIONS[n % 2])["question"] == QUESTIONS[n % 2]
        client = Client(url, verbose=False, analytics_enabled=False)
        for _ in range(3):
            assert client.predict(QUESTIONS[1], api_name="/ask")["citations"]
        _, done, _ = page.call("ask_in_chat", QUESTIONS[0], [], None)
        assert done["success"]
        # 33 API calls left no session behind (Gradio kept one each: 0.1-0.2 MB, until 10,000 existed).
        assert set(app.state_holder.session_data) == {page.session_hash}
        _, pinned, said = page.call("pin_selected", None, None)
        assert pinned["success"] and any("Pinned" in s for s in said)  # the tab's own answer is still there

        deadline = time.monotonic() + 15  # ttl 4 s, checked every second
        while page.session_hash in app.state_holder.session_data and time.monotonic() < deadline:
            time.sleep(0.2)
        assert page.session_hash not in app.state_holder.session_data, "an idle session must expire"
        assert len(app._queue.pending_event_ids_session) <= 1  # nor does the queue keep a list per finished call
        _, again, said = page.call("pin_selected", None, None)  # the tab still works, starting afresh
        assert again["success"] and any("Ask a question first" in s for s in said)
    finally:
        app.close()


# -- 7: document text stays text ---------------------------------------------------------------
class _Pixel(BaseHTTPRequestHandler):
    """A tracking pixel: records every request that reaches it."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def pixel():
    """host:port of a tiny HTTP server on 127.0.0.1 and the list of paths it was asked for."""
    hits: list[str] = []
    handler = type("Pixel", (_Pixel,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def _unescaped_markup(markdown: str) -> list[str]:
    """What in `markdown` would start an image, a link, raw HTML or an autolink: each must be backslash-escaped."""
    patterns = (r"\[(?!\d{1,3}\])", r"\]\(", "<", "://", r"www\.", "@")  # a '[2]' citation marker is plain text
    return [found.group(0) for p in patterns for found in re.finditer(r"(?<!\\)" + p, markdown)]


def _hostile_note(host: str) -> str:
    return (f"# Pump notes ![t](http://{host}/title.png?from=intro)\n\n"
            "The Brighouse pump station replaces its impeller seals every 14 months "
            f"![x](http://{host}/pixel.png?from=chat) and records it <img src=\"http://{host}/raw.png?from=html\"> "
            f"in the [plant register](http://{host}/phish?from=link), see http://{host}/bare?from=autolink "
            "or www.example.invalid.\n")


@pytest.mark.browser
def test_uploaded_markup_never_fetches_or_links_anything(browser, pixel, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    host, hits = pixel
    settings = _empty_settings(tmp_path)
    note = tmp_path / "pump-notes.md"
    note.write_text(_hostile_note(host), encoding="utf-8")
    app, url = serve(settings)
    try:
        _open(browser, url)
        _tab(browser, "Documents")
        browser.find_element(By.CSS_SELECTOR, "#ampi-upload input[type=file]").send_keys(str(note))
        _wait(browser, lambda d: "pump-notes" in _text(d, "ampi-upload"), timeout=20)
        browser.find_element(By.ID, "ampi-add").click()
        _wait(browser, lambda d: "Added:" in _text(d, "ampi-ingest-result"), timeout=120)
        _tab(browser, "Ask")
        _ask(browser, "How often does the Brighouse pump station replace its impeller seals?")
        _wait(browser, lambda d: "impeller seals" in _text(d, "ampi-sources") and "Searching" not in _text(d, "ampi-chat"))
        time.sleep(1.0)  # time for the page to fetch what it renders
        assert hits == [], f"the chat or the panel fetched from the upload's host: {hits}"
        chat, panel = _text(browser, "ampi-chat"), _text(browser, "ampi-sources")
        for shown in (chat, panel):  # the markup is there to read, as text
            assert "![x](http://" in shown and "pixel.png" in shown and '<img src="http://' in shown
        browser.find_element(By.ID, "ampi-pin").click()
        _tab(browser, "Briefing")
        _wait(browser, lambda d: "impeller seals" in _text(d, "ampi-briefing-preview"), timeout=20)
        assert "![x](http://" in _text(browser, "ampi-briefing-preview")
        browser.find_element(By.ID, "ampi-export").click()
        _wait(browser, lambda d: ".md" in _text(d, "ampi-export-file"), timeout=20)
        link = browser.find_element(By.CSS_SELECTOR, "#ampi-export-file a").get_attribute("href")
        exported = requests.get(link, timeout=10).text  # no login configured: the anonymous user's own export
        assert "impeller seals" in exported and r"!\[x\](http\://" in exported  # escaped: a Markdown viewer shows text
        assert not _unescaped_markup(exported)
        _tab(browser, "Start here")
        _wait(browser, lambda d: "Indexed documents" in d.page_source)
        time.sleep(1.5)  # time for any stray fetch to arrive
        reachable = browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href], img[src], iframe[src], source[src]'))"
            ".map(e => e.href || e.src)")
        assert not [target for target in reachable if host in target], "a link or image from the upload is live"
        assert hits == [], f"the page fetched from the upload's host: {hits}"
    finally:
        app.close()


def test_markup_in_answers_is_escaped_for_markdown(tmp_path):
    from ingest.records import Answer

    text = "Seals every 14 months [1] ![x](http://h/p.png) <img src=x> [a](http://h) http://h/b www.h.example m@h.example"
    message = chat_message(Answer(question="q", text=text, citations=[Citation(doc="d", locator="p. 1", text="t")]))
    assert "[1]" in message  # citation markers stay readable
    assert not _unescaped_markup(message), message
    assert r"!\[x\](http\://h/p.png)" in message  # and the text reads as it was written


def test_only_the_bundled_reports_links_are_live(built_index):
    from ui.render import report_passages

    assistant = Assistant(built_index)
    chunk = next(c for c in assistant.index().chunks if c.locator == "2.4")
    notes = [s.label() for s in assistant.footnotes_for(chunk)]
    url = re.search(r"https?://\S+?(?=>|\s|$)", " ".join(notes)).group(0)
    real = Citation(doc=chunk.doc_title, locator="2.4", text=chunk.text, sources=notes)
    forged = real.model_copy(update={"text": chunk.text + " (an upload calling itself the report)"})
    report = report_passages(assistant, [real, forged])
    assert report == {brief.citation_key(real)}
    from ingest.records import Answer

    panel = sources_html(Answer(question="q", text="t [1] [2]", citations=[real, forged]), 1, 1, report)
    assert panel.count(f"href='{url}'") == 1 and "rel='noopener noreferrer nofollow'" in panel
    assert f"href='{url}'" in passage_view(assistant, chunk.id)
    item = brief.BriefingItem(id="a", pinned_at="now", answer=Answer(question="q", text="t", citations=[forged]))
    assert f"<{url}>" not in brief.to_markdown([item])
    assert f"<{url}>" in brief.to_markdown([item.model_copy(update={"answer": item.answer.model_copy(
        update={"citations": [real]})})], report={brief.citation_key(real)})


# -- 9: exports for their owner only -----------------------------------------------------------
def _download_path(update) -> str:
    """Where the export output points, whatever the component: a file's url, or the link's href."""
    value = update.get("value", update) if isinstance(update, dict) else update
    if isinstance(value, dict):
        target = value.get("url") or value["path"]
    else:
        target = re.search(r"href=['\"]([^'\"]+)['\"]", value).group(1)
    return urllib.parse.urlsplit(target).path.lstrip("/") if "://" in target else target.lstrip("/")


def test_briefing_export_is_served_to_its_owner_only_even_after_a_restart(tmp_path, monkeypatch):
    monkeypatch.setenv("AMPI_UI_USERS", "alice:pw1,bob:pw2")
    base = notes_settings(tmp_path)
    settings = Settings(corpus_dir=base.corpus_dir, data_dir=base.data_dir, index_dir=base.index_dir)
    private_note(settings, "alice", SECRET)  # answers her question: a refusal cannot be pinned
    build_index(settings)
    app, url = serve(settings, Assistant(settings))
    try:
        alice = Browser(app, url, "alice", "pw1")
        assert alice.call("ask_in_chat", f"{QUESTIONS[0]} {SECRET}", [], None)[1]["success"]
        assert alice.call("pin_selected", None, None)[1]["success"]
        _, exported, _ = alice.call("export_briefing")
        path = _download_path(exported["output"]["data"][0])
        assert SECRET in alice.http.get(url + path, timeout=10).text
        bob = Browser(app, url, "bob", "pw2")
        assert bob.call("pin_selected", None, None)[1]["success"]  # bob has a briefing of his own, nothing pinned
        for reply in (bob.http.get(url + path, timeout=10), requests.get(url + path, timeout=10)):
            assert reply.status_code in (401, 403, 404) and SECRET not in reply.text, reply.status_code
    finally:
        app.close()
    app, url = serve(settings, Assistant(settings))  # a restart: new process state, same data folder
    try:
        reply = Browser(app, url, "bob", "pw2").http.get(url + path, timeout=10)
        assert reply.status_code in (401, 403, 404) and SECRET not in reply.text
        assert requests.get(url + path, timeout=10).status_code in (401, 403)
        mine = Browser(app, url, "alice", "pw1").http.get(url + path, timeout=10)
        assert mine.status_code == 200 and SECRET in mine.text
        assert mine.headers["Cache-Control"] == "private, no-store"
    finally:
        app.close()


# -- 10: login throttling and the users file ---------------------------------------------------
def _login(url: str, user: str, password: str, source: str = "127.0.0.1") -> tuple[int, str | None]:
    """(status, Retry-After) of the login form POSTed from a given loopback address (Linux answers on 127.0.0.0/8)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", "/login", body=urllib.parse.urlencode({"username": user, "password": password}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply.getheader("Retry-After")
    finally:
        connection.close()


def test_a_burst_of_wrong_passwords_is_mostly_refused_unchecked(tmp_path, caplog):
    app, url = serve(_empty_settings(tmp_path, ui_users="alice:right-pw"))
    try:
        codes = [_login(url, "alice", f"guess-{n}")[0] for n in range(100)]
        # Before: 100 passwords checked in 0.21 s. Now 5, then one more per wait (1 s, 2 s, …) while the burst lasts.
        assert codes[:5] == [400] * 5 and codes[5] == 429 and codes.count(400) <= 7, codes
        assert set(codes) == {400, 429}
        assert "failed login 5 for 'alice'" in caplog.text and "must wait" in caplog.text
    finally:
        app.close()


def test_the_wait_applies_per_user_and_per_address(tmp_path):
    app, url = serve(_empty_settings(tmp_path, ui_users="alice:right-pw,bob:pw-bob"))
    try:
        assert [_login(url, "alice", f"guess-{n}")[0] for n in range(5)] == [400] * 5
        status, retry_after = _login(url, "alice", "right-pw", source="127.0.0.2")  # alice waits, from any address
        assert status == 429 and int(retry_after) >= 1
        assert _login(url, "bob", "pw-bob", source="127.0.0.2")[0] == 200  # another user, another address: fine
        assert _login(url, "bob", "pw-bob")[0] == 429  # this address made 5 failures: it waits too
        time.sleep(int(retry_after) + 0.3)
        assert _login(url, "alice", "right-pw")[0] == 200
        assert _login(url, "alice", "wrong-again", source="127.0.0.3")[0] == 400  # a success starts alice afresh
    finally:
        app.close()


def test_failures_spread_over_many_names_still_slow_the_address(tmp_path):
    app, url = serve(_empty_settings(tmp_path, ui_users="alice:right-pw"))
    try:
        assert [_login(url, f"user{n}", "x")[0] for n in range(5)] == [400] * 5
        status, retry_after = _login(url, "alice", "right-pw")
        assert status == 429
        time.sleep(int(retry_after) + 0.3)
        assert _login(url, "alice", "right-pw")[0] == 200
    finally:
        app.close()


def test_users_file_takes_commas_and_hashes_and_warns_when_others_can_read_it(tmp_path, monkeypatch, caplog):
    from ui.auth import hash_password

    users = tmp_path / "users.txt"
    users.write_text(f"# team\ncarol:pa,ss:word\ndave:{hash_password('d4ve-secret', iterations=2000)}\n", encoding="utf-8")
    users.chmod(stat.S_IRUSR | stat.S_IWUSR)
    monkeypatch.setenv("AMPI_UI_USERS_FILE", str(users))  # the name from the issue; AMPI_UI_PASSWORD_FILE still works
    settings = Settings(corpus_dir=_empty_settings(tmp_path).corpus_dir)
    assert settings.ui_password_file == users
    assert [user for user, _ in load_users(settings)] == ["carol", "dave"]
    assert "can be read by other accounts" not in caplog.text
    app, url = serve(settings)
    try:
        assert _login(url, "carol", "pa,ss:word")[0] == 200
        assert _login(url, "dave", "d4ve-secret")[0] == 200
        assert _login(url, "dave", load_users(settings)[1][1])[0] == 400  # the hash itself is not a password
    finally:
        app.close()
    users.chmod(0o644)
    load_users(settings)
    assert "can be read by other accounts" in caplog.text and "chmod 600" in caplog.text
    monkeypatch.delenv("AMPI_UI_USERS_FILE")
    monkeypatch.setenv("AMPI_UI_PASSWORD_FILE", str(users))
    assert Settings().ui_password_file == users
