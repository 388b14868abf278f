"""The real web app on 127.0.0.1: the /ask API, login, and a headless Chromium driving the page."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import requests

from assistant.service import Assistant
from ingest.errors import AmpiError
from ingest.records import Answer, Citation, FigureRow
from ingest.settings import REPO_ROOT, Settings
from ui.app import build_app, launch_options
from ui.auth import load_users
from ui.render import chat_message, figures_frame, passage_view, sources_html
from ui.uploads import UploadRejected, accept_upload, clean_filename

QUESTION = "What was Japan's value added in M&E manufacturing in 2021?"
RECORD_KEYS = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO_ROOT / ".ampi" / "screenshots"


class PacedAssistant(Assistant):
    """The real assistant, optionally slowed down so the 'searching' state can be seen."""

    delay = 0.0

    def answer(self, question, doc=None, section=None, user=None, history=None):
        time.sleep(self.delay)
        return super().answer(question, doc=doc, section=section, user=user, history=history)


def _free_port() -> int:
    from servers import free_port  # outside the ephemeral range (see there)

    return free_port()


def _serve(settings: Settings, assistant: Assistant | None = None):
    app = build_app(settings, assistant)
    port = _free_port()
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **launch_options(settings))
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def ui_settings(built_index, tmp_path_factory) -> Settings:
    """The session's report index (read-only) with feedback, briefings and uploads in a tmp folder."""
    return built_index.model_copy(update={"data_dir": tmp_path_factory.mktemp("ui-data")})


@pytest.fixture(scope="session")
def server(ui_settings):
    """(url, assistant) of the app over the report, without login."""
    assistant = PacedAssistant(ui_settings)
    app, url = _serve(ui_settings, assistant)
    yield url, assistant
    app.close()


@pytest.fixture(scope="session")
def auth_server(ui_settings, tmp_path_factory):
    """URL of the app with two users configured (one inline, one from a password file)."""
    password_file = tmp_path_factory.mktemp("ui-auth") / "users.txt"
    password_file.write_text("# team\nbob:pw-bob\n", encoding="utf-8")
    settings = ui_settings.model_copy(update={"ui_users": "alice:s3cret", "ui_password_file": password_file})
    app, url = _serve(settings)
    yield url
    app.close()


# -- pure pieces -------------------------------------------------------------------------------
def _answer(**changes) -> Answer:
    base = Answer(question="<script>alert(1)</script> Japan?", text="Japan: **US$155 billion** [1] <b>x</b>",
                  citations=[Citation(doc="Report <i>", locator="Table 2-2", section="2. Advanced > UK",
                                      text="Title\nCountry\tValue\nUS\t174\nJapan\t155\nSource: IfM",
                                      quote="Japan\t155", sources=["Source: IfM"])])
    return base.model_copy(update=changes)


def test_sources_panel_escapes_and_highlights():
    panel = sources_html(_answer(), 1, 1)
    assert "<script>" not in panel and "&lt;script&gt;" in panel and "Report &lt;i&gt;" in panel
    assert "<tr class='hit'><td>Japan</td><td>155</td></tr>" in panel
    assert "[1]</span>Table 2-2" in panel and "2. Advanced › UK" in panel and "Source: IfM" in panel
    prose = _answer(citations=[Citation(doc="R", locator="2.7", text="First one.\nSecond <two> here. Third.",
                                        quote="Second <two> here.")])
    assert "<mark>Second &lt;two&gt; here.</mark>" in sources_html(prose) and "paragraph 2.7" in sources_html(prose)


def test_refused_panel_and_chat_text():
    refused = _answer(refused=True, citations=[], text="The documents don't say this.",
                      related=[Citation(doc="R", locator="4.23", text="Key markets include France.")])
    panel = sources_html(refused)
    assert "The documents don't say" in panel and "Related passages (not an answer)" in panel and "paragraph 4.23" in panel
    assert "<b>" not in chat_message(_answer()) and "Cited: [1] Table 2-2" in chat_message(_answer())


def test_figures_frame():
    assert figures_frame(None).empty
    frame = figures_frame(_answer(figures=[FigureRow(label="US", value=174, unit="US$ billion", citation="Table 2-2"),
                                           FigureRow(label="Japan", value=155, unit="US$ billion")]))
    assert list(frame["label"]) == ["US", "Japan"] and list(frame["value"]) == [174, 155]


@pytest.mark.parametrize("raw, expected", [
    ("report.pdf", "report.pdf"), ("../../etc/passwd.md", "passwd.md"), ("/abs/dir/notes.TXT", "notes.txt"),
    ("C:\\Users\\x\\Q3 plan.pdf", "Q3 plan.pdf"), ("..", "upload"), ("<script>.md", "script.md"), ("...pdf", "upload.pdf"),
])
def test_clean_filename(raw, expected):
    assert clean_filename(raw) == expected


def test_accept_upload_checks_before_copying(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", max_upload_mb=0.001)
    uploads = tmp_path / "data" / "uploads"
    cases = {"tool.exe": b"MZ", "fake.pdf": b"not a pdf", "big.md": b"x" * 2000, "empty.txt": b""}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UploadRejected):
            accept_upload(settings, "alice", tmp_path / name)
    assert not uploads.exists()
    (tmp_path / "ok.md").write_text("# Notes\nSmall.", encoding="utf-8")
    upload = accept_upload(settings, "../mallory", tmp_path / "ok.md", name="../../../escape.md")
    target = upload.target
    assert target.parent.parent == uploads and target.parent.name.startswith("mallory-") and target.name == "escape.md"
    assert not target.exists(), "the stored file is replaced only once its ingest succeeded"
    assert upload.staged.parent.parent.parent == target.parent and upload.staged.name == "escape.md"
    assert upload.staged.read_text(encoding="utf-8").startswith("# Notes")


def test_load_users(tmp_path):
    assert load_users(Settings()) == []
    users_file = tmp_path / "users"
    users_file.write_text("# comment\ncarol:pw:with:colons\n\nbroken\n", encoding="utf-8")
    settings = Settings(ui_users="alice:a, bob:b", ui_password_file=users_file)
    assert load_users(settings) == [("alice", "a"), ("bob", "b"), ("carol", "pw:with:colons")]
    with pytest.raises(AmpiError):
        load_users(Settings(ui_password_file=tmp_path / "missing"))
    with pytest.raises(AmpiError):
        load_users(Settings(ui_users="nobody"))


def test_outline_passages_show_their_footnotes(ui_settings):
    assistant = Assistant(ui_settings)
    item = next(i for s in assistant.outline() for i in s.items if i.locator == "2.4")
    view = passage_view(assistant, item.chunk_id)
    assert "paragraph 2.4" in view and "Source: footnote 2: UK Innovation Report 2024" in view
    assert "Pick a paragraph" in passage_view(assistant, "no-such-id")


# -- the API -----------------------------------------------------------------------------------
def test_api_ask_returns_the_answer_record(server):
    from gradio_client import Client

    url, _ = server
    record = Client(url, verbose=False, analytics_enabled=False).predict(QUESTION, api_name="/ask")
    assert isinstance(record, dict) and set(record) == RECORD_KEYS
    assert record["question"] == QUESTION and not record["refused"] and "[1]" in record["answer"]
    assert any(c["locator"] == "Table 2-2" for c in record["citations"])
    json.dumps(record)  # plain JSON all the way down


def test_api_requires_login_when_users_are_configured(auth_server):
    from gradio_client import Client

    url = auth_server
    assert requests.get(url + "config", timeout=10).status_code == 401
    call = requests.post(url + "gradio_api/call/ask", json={"data": [QUESTION]}, timeout=10)
    assert call.status_code == 401
    assert requests.post(url + "login", data={"username": "alice", "password": "wrong"}, timeout=10).status_code >= 400
    session = requests.Session()
    assert session.post(url + "login", data={"username": "bob", "password": "pw-bob"}, timeout=10).ok
    assert session.get(url + "config", timeout=10).status_code == 200
    record = Client(url, auth=("alice", "s3cret"), verbose=False, analytics_enabled=False).predict(QUESTION, api_name="/ask")
    assert set(record) == RECORD_KEYS and record["citations"]


# -- the browser -------------------------------------------------------------------------------
@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); "
                    "install them with `apt-get install -y chromium chromium-driver` (the Makefile does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1600"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=60):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # Gradio may re-render an element between finding it and reading it: that poll counts as "not yet".
    return WebDriverWait(driver, timeout, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition(d))


def _click_until(driver, selector: str, index: int, shown, timeout=60):
    """Click the index-th element matching `selector` until `shown` holds. On a loaded machine the chat may still
    be settling the latest answer when the click lands (its last update arrives after it and shows that answer
    again): a second click then shows the one asked for, as it would for a user."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def clicked(d):
        if shown(d):
            return True
        found = d.find_elements(By.CSS_SELECTOR, selector)
        try:
            if len(found) > index:
                found[index].click()
        except (StaleElementReferenceException, ElementClickInterceptedException):
            pass  # re-rendered under the pointer: the next poll clicks the new element
        return False

    _wait(driver, clicked, timeout)


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    # textContent, not .text: Selenium reports no text at all for elements on a hidden tab.
    return driver.find_element(By.ID, element_id).get_attribute("textContent") or ""


def _open(driver, url):
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#ampi-question textarea") and d.find_elements(By.ID, "ampi-sources"))
    time.sleep(1)  # let the page's load event fill the other tabs


def _ask(driver, question: str):
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, "#ampi-question textarea")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ampi-ask").click()


def _tab(driver, name: str):
    from selenium.webdriver.common.by import By

    next(b for b in driver.find_elements(By.CSS_SELECTOR, "button[role=tab]") if b.text.strip() == name).click()


def _shoot(driver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, SCREENSHOTS / path.name)  # for people to look at after the run
    return path


@pytest.mark.browser
def test_ask_pin_and_export_in_the_browser(browser, server, ui_settings, tmp_path):
    from selenium.webdriver.common.by import By

    url, assistant = server
    _open(browser, url)
    _shoot(browser, tmp_path, "ui-0-start")
    assistant.delay = 1.5  # long enough to see the searching state
    try:
        _ask(browser, QUESTION)
        _wait(browser, lambda d: "Searching the documents" in _text(d, "ampi-chat"), timeout=10)
        _shoot(browser, tmp_path, "ui-1-searching")
    finally:
        assistant.delay = 0.0
    _wait(browser, lambda d: "[1]" in _text(d, "ampi-chat") and "Searching" not in _text(d, "ampi-chat"))
    sources = _text(browser, "ampi-sources")
    assert "Table 2-2" in sources and "Citations" in sources and "Japan" in sources
    assert browser.find_elements(By.CSS_SELECTOR, "#ampi-sources tr.hit, #ampi-sources mark")
    _shoot(browser, tmp_path, "ui-2-answer")

    browser.find_element(By.CSS_SELECTOR, "#ampi-comment textarea").send_keys("Clear and cited")
    browser.find_element(By.ID, "ampi-up").click()
    feedback = Path(ui_settings.data_dir) / "feedback" / "anonymous.jsonl"
    _wait(browser, lambda d: feedback.exists() and "Clear and cited" in feedback.read_text(encoding="utf-8"), timeout=15)

    browser.find_element(By.ID, "ampi-pin").click()
    # Without login each browser has a briefing of its own (named from its visitor cookie), never "anonymous".
    briefings = Path(ui_settings.data_dir) / "briefings"
    _wait(browser, lambda d: any(QUESTION in p.read_text(encoding="utf-8") for p in briefings.glob("anonymous-*.json")),
          timeout=15)
    assert not (briefings / "anonymous.json").exists()
    _tab(browser, "Briefing")
    _wait(browser, lambda d: QUESTION in _text(d, "ampi-pinned") and "Table 2-2" in _text(d, "ampi-briefing-preview"))
    browser.find_element(By.ID, "ampi-export").click()
    _wait(browser, lambda d: ".md" in _text(d, "ampi-export-file"), timeout=20)
    _shoot(browser, tmp_path, "ui-3-briefing")

    _tab(browser, "Ask")
    compare = "Compare Japan and Germany M&E value added in 2021"
    _ask(browser, compare)
    _wait(browser, lambda d: compare in _text(d, "ampi-sources"))
    figures = len(assistant.answer(compare).figures)
    charts = [e for e in browser.find_elements(By.ID, "ampi-chart") if e.is_displayed()]
    assert bool(charts) == (figures >= 2)  # a chart only for two or more values
    _shoot(browser, tmp_path, "ui-6-figures")


@pytest.mark.browser
def test_questions_are_escaped_and_suggestions_ask(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    url, _ = server
    _open(browser, url)
    hostile = "<img src=x onerror=\"window.__ampi_xss=1\"><script>window.__ampi_xss=2</script> capital of France?"
    _ask(browser, hostile)
    _wait(browser, lambda d: "capital of France" in _text(d, "ampi-sources"))
    assert browser.execute_script("return window.__ampi_xss === undefined")
    assert "<script>" in _text(browser, "ampi-sources")  # shown as text, never run
    if "The documents don't say" in _text(browser, "ampi-sources"):
        assert "Related passages (not an answer)" in _text(browser, "ampi-sources")

    _tab(browser, "Start here")
    _wait(browser, lambda d: "Future State of Machinery Sector" in d.page_source and "Glossary" in d.page_source)
    assert "Location Quotient" in _text(browser, "ampi-glossary")
    _shoot(browser, tmp_path, "ui-4-start-here")
    suggestion = "What explains the success of the Aachen cluster?"
    next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text.strip() == suggestion).click()
    _wait(browser, lambda d: suggestion in _text(d, "ampi-sources") and "4.9" in _text(d, "ampi-sources"))
    _click_until(browser, "#ampi-chat [data-testid=bot]", 0,  # back to the first answer
                 lambda d: "Answer 1 of 2" in _text(d, "ampi-sources") and "capital of France" in _text(d, "ampi-sources"))


@pytest.mark.browser
def test_upload_adds_a_document(browser, tmp_path):
    from selenium.webdriver.common.by import By

    empty_corpus = tmp_path / "corpus"
    (empty_corpus / "sources").mkdir(parents=True)
    settings = Settings(corpus_dir=empty_corpus, data_dir=tmp_path / "data", index_dir=tmp_path / "data" / "index")
    note = tmp_path / "Team notes (draft).md"
    note.write_text("# Team notes\n\nThe AMPI steering group meets every second Tuesday in Huddersfield.\n",
                    encoding="utf-8")
    fake = tmp_path / "fake.pdf"
    fake.write_text("not really a PDF", encoding="utf-8")
    app, url = _serve(settings)
    try:
        _open(browser, url)
        _tab(browser, "Documents")
        # A refused file: a warning, nothing copied, nothing indexed.
        browser.find_element(By.CSS_SELECTOR, "#ampi-upload input[type=file]").send_keys(str(fake))
        _wait(browser, lambda d: "fake" in _text(d, "ampi-upload"), timeout=20)
        browser.find_element(By.ID, "ampi-add").click()
        _wait(browser, lambda d: "this is not a PDF file" in d.page_source, timeout=20)
        assert not (settings.data_dir / "uploads" / "anonymous" / "fake.pdf").exists()
        assert "fake.pdf" not in _text(browser, "ampi-documents") and not _text(browser, "ampi-ingest-result").strip()
        browser.find_element(By.CSS_SELECTOR, "#ampi-upload button[aria-label='Clear']").click()
        browser.find_element(By.CSS_SELECTOR, "#ampi-upload input[type=file]").send_keys(str(note))
        _wait(browser, lambda d: "Team notes" in _text(d, "ampi-upload"), timeout=20)
        browser.find_element(By.ID, "ampi-add").click()
        _wait(browser, lambda d: "Added:" in _text(d, "ampi-ingest-result"), timeout=90)
        assert "Team notes (draft).md" in _text(browser, "ampi-documents")
        _shoot(browser, tmp_path, "ui-5-documents")
        _tab(browser, "Start here")  # the intro and outline are refreshed after an ingest
        _wait(browser, lambda d: "Indexed documents" in d.page_source and "Team notes" in _text(d, "ampi-passage"))
        assert (settings.data_dir / "uploads" / "anonymous" / "Team notes (draft).md").exists()
    finally:
        app.close()


@pytest.mark.browser
def test_briefings_follow_the_logged_in_user(browser, auth_server, ui_settings):
    from selenium.webdriver.common.by import By

    browser.get(auth_server)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"))
    browser.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys("alice")
    browser.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys("s3cret")
    next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text.strip().lower() == "login").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#ampi-question textarea"))
    _ask(browser, QUESTION)
    _wait(browser, lambda d: "Table 2-2" in _text(d, "ampi-sources"))
    browser.find_element(By.ID, "ampi-pin").click()
    alice = Path(ui_settings.data_dir) / "briefings" / "alice.json"
    _wait(browser, lambda d: alice.exists(), timeout=15)
    assert json.loads(alice.read_text(encoding="utf-8"))["items"][0]["answer"]["question"] == QUESTION
