"""Issue 11 against the real app on 127.0.0.1, driven by headless Debian chromium (no mocks): briefings per browser,
pin rules and undo, the actions shown only with an answer, the screen-reader status, uploads (password hint,
stale message, removal), logout, the terminal at start, the section picker and junk PDF titles."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
import requests
from docx import Document as Docx
from test_ui_app import CHROMEDRIVER, CHROMIUM, QUESTION, _ask, _serve, _tab, _text, _wait

from assistant.service import Assistant
from index.builder import build_index
from index.library import uploaded_file
from ingest.errors import NotRemovable
from ingest.pdf_loader import load_pdf
from ingest.settings import BUNDLED_REPORT, Settings
from ui.render import outline_choices
from ui.uploads import ingest_summary

DATA = Path(__file__).parent / "data"
REFUSED = "How many patents did Aachen firms file in 2023?"  # the report never mentions patents
OTHER = "How many advanced machinery enterprises were there in Great Britain in 2023?"


# -- browsers and servers ----------------------------------------------------------------------
def _chromium(profile: Path):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1500"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = str(CHROMIUM)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


@pytest.fixture
def browser(tmp_path):
    driver = _chromium(tmp_path / "profile-a")
    yield driver
    driver.quit()


@pytest.fixture
def other_browser(tmp_path):
    """A second browser with a profile (and so cookies) of its own: another person at another desk."""
    driver = _chromium(tmp_path / "profile-b")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report_app(built_index, tmp_path_factory):
    """(url, settings) of the app over the report, without login, with its own data folder."""
    settings = built_index.model_copy(update={"data_dir": tmp_path_factory.mktemp("issue11-data")})
    app, url = _serve(settings, Assistant(settings))
    yield url, settings
    app.close()


def _open(driver, url: str) -> None:
    """Open the page and wait until its load event has filled the briefing, then return to Ask."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#ampi-question textarea") and d.find_elements(By.ID, "ampi-sources"))
    _tab(driver, "Briefing")
    _wait(driver, lambda d: d.find_elements(By.ID, "ampi-briefing-preview") and (
        "Nothing has been pinned yet" in _text(d, "ampi-briefing-preview") or "Passages cited" in _text(d, "ampi-briefing-preview")))
    _tab(driver, "Ask")
    _wait(driver, lambda d: _shown(d, "ampi-ask"))


def _shown(driver, element_id: str) -> bool:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def _click(driver, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: _shown(d, element_id), timeout=30)
    driver.find_element(By.ID, element_id).click()


def _answered(driver, question: str) -> None:
    _ask(driver, question)
    _wait(driver, lambda d: question in _text(d, "ampi-sources") and "Searching" not in _text(d, "ampi-chat"))


def _toasts(driver) -> str:
    return driver.execute_script("return Array.from(document.querySelectorAll('.toast-body, [data-testid=toast-body]'))"
                                 ".map(e => e.textContent).join(' | ')") or ""


# -- briefings ---------------------------------------------------------------------------------
@pytest.mark.browser
def test_two_browsers_without_login_have_briefings_of_their_own(browser, other_browser, report_app):
    url, settings = report_app
    _open(browser, url)
    assert not _shown(browser, "ampi-pin") and not _shown(browser, "ampi-up") and not _shown(browser, "ampi-comment")
    assert not _shown(browser, "ampi-logout")  # no login, nothing to log out of
    _answered(browser, QUESTION)
    assert _shown(browser, "ampi-up") and _shown(browser, "ampi-down") and _shown(browser, "ampi-comment")
    _click(browser, "ampi-pin")
    _tab(browser, "Briefing")
    _wait(browser, lambda d: QUESTION in _text(d, "ampi-pinned"))

    _open(other_browser, url)  # someone else opens the app: an empty briefing, not the first person's pins
    _tab(other_browser, "Briefing")
    assert "Nothing has been pinned yet" in _text(other_browser, "ampi-briefing-preview")
    assert QUESTION not in _text(other_browser, "ampi-pinned")
    _tab(other_browser, "Ask")
    _answered(other_browser, OTHER)
    _click(other_browser, "ampi-pin")
    _tab(other_browser, "Briefing")
    _wait(other_browser, lambda d: OTHER in _text(d, "ampi-pinned"))
    assert QUESTION not in _text(other_browser, "ampi-pinned")

    browser.refresh()  # the first browser keeps its own briefing for its session, and only that
    _open(browser, url)
    _tab(browser, "Briefing")
    _wait(browser, lambda d: QUESTION in _text(d, "ampi-pinned"))
    assert OTHER not in _text(browser, "ampi-pinned")
    saved = sorted((settings.data_dir / "briefings").glob("anonymous-*.json"))
    assert len(saved) == 2 and not (settings.data_dir / "briefings" / "anonymous.json").exists()


@pytest.mark.browser
def test_pin_rules_undo_and_the_word_export(browser, report_app):
    url, settings = report_app
    _open(browser, url)
    _answered(browser, REFUSED)
    _click(browser, "ampi-pin")
    _wait(browser, lambda d: "can't be pinned" in _toasts(d), timeout=20)
    _answered(browser, QUESTION)
    _click(browser, "ampi-pin")
    _wait(browser, lambda d: "Pinned to your briefing (1 item)" in _toasts(d), timeout=20)
    _click(browser, "ampi-pin")
    _wait(browser, lambda d: "already in your briefing (1 item)" in _toasts(d), timeout=20)
    _answered(browser, OTHER)
    _click(browser, "ampi-pin")
    _wait(browser, lambda d: "Pinned to your briefing (2 items)" in _toasts(d), timeout=20)

    _tab(browser, "Briefing")
    _wait(browser, lambda d: OTHER in _text(d, "ampi-pinned") and QUESTION in _text(d, "ampi-pinned"))
    assert REFUSED not in _text(browser, "ampi-pinned")
    assert not _shown(browser, "ampi-undo")
    _click(browser, "ampi-remove")  # the selected (first) item goes …
    _wait(browser, lambda d: QUESTION not in _text(d, "ampi-pinned") and _shown(d, "ampi-undo"))
    _click(browser, "ampi-undo")  # … and comes back, first again
    _wait(browser, lambda d: QUESTION in _text(d, "ampi-pinned") and not _shown(d, "ampi-undo"))
    assert _text(browser, "ampi-pinned").index(QUESTION) < _text(browser, "ampi-pinned").index(OTHER)
    _click(browser, "ampi-remove")
    _wait(browser, lambda d: _shown(d, "ampi-undo"))
    _click(browser, "ampi-move-down")  # the next change: the removal can no longer be undone
    _wait(browser, lambda d: QUESTION not in _text(d, "ampi-pinned") and not _shown(d, "ampi-undo"))

    _click(browser, "ampi-export")
    _wait(browser, lambda d: ".docx" in _text(d, "ampi-export-file") and ".md" in _text(d, "ampi-export-file"), timeout=30)
    from selenium.webdriver.common.by import By

    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#ampi-export-file a")}
    word = requests.get(next(href for name, href in links.items() if name.endswith(".docx")), timeout=10)
    assert word.status_code == 200 and "wordprocessingml" in word.headers["Content-Type"]
    doc = Docx(BytesIO(word.content))
    texts = [p.text for p in doc.paragraphs]
    assert OTHER in texts and "Passages cited" in texts and "Sources" in texts and "Reference" in texts
    cited = [t for t in texts if re.match(r"\[\d+\] ", t)]
    assert len(cited) == len(set(cited)) >= 1
    listed = [t for t in texts if re.match(r"S\d+\. ", t)]
    assert len({t.split(". ", 1)[1] for t in listed}) == len(listed)
    reference = texts[texts.index("Reference") + 1]
    assert "(2025)" in reference and "Future State of Machinery Sector" in reference


@pytest.mark.browser
def test_the_screen_reader_status_reads_english(browser, report_app):
    url, _ = report_app
    _open(browser, url)
    browser.execute_script("""window.__said = new Set(); setInterval(() => {
        for (const e of document.querySelectorAll('[role=status]')) { const t = (e.textContent || '').trim(); if (t) window.__said.add(t); }
    }, 5);""")
    _answered(browser, QUESTION)
    said = lambda d: d.execute_script("return Array.from(window.__said)")  # noqa: E731
    _wait(browser, lambda d: [s for s in said(d) if "omplete" in s], timeout=20)  # announced once the event ends
    assert "Complete" in said(browser) and not [s for s in said(browser) if s.startswith("common.")], said(browser)


def test_section_labels_are_short_and_clean(built_index):
    labels = [label for label, _ in outline_choices(Assistant(built_index).outline())]
    assert "2. Summary" in labels and "4. Summary" in labels
    assert not [label for label in labels if "Summary (" in label or "  (" in label or len(label) > 80]
    assert "1. Introduction (1.1–1.4)" in labels
    assert "4. Aachen, Germany › Key success factors (4.9–4.11)" in labels  # a repeated heading keeps its parent
    assert len(labels) == len(set(labels))


# -- uploads -----------------------------------------------------------------------------------
def _empty_settings(root: Path, **changes) -> Settings:
    """A corpus of one short note (an index of nothing at all cannot be built)."""
    corpus = root / "corpus"
    (corpus / "sources").mkdir(parents=True)
    (corpus / "site.md").write_text("# Site notes\n\nThe Huddersfield site opens at seven every weekday.\n", encoding="utf-8")
    return Settings(corpus_dir=corpus, data_dir=root / "data", index_dir=root / "data" / "index", chroma_host=None, **changes)


def _choose_file(driver, path: Path, expect: str) -> None:
    from selenium.webdriver.common.by import By

    clear = driver.find_elements(By.CSS_SELECTOR, "#ampi-upload button[aria-label='Clear']")
    if clear:
        clear[0].click()
        _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#ampi-upload input[type=file]"), timeout=20)
    driver.find_element(By.CSS_SELECTOR, "#ampi-upload input[type=file]").send_keys(str(path))
    _wait(driver, lambda d: expect in _text(d, "ampi-upload"), timeout=20)


def _pick(driver, element_id: str, option: str) -> None:
    """Choose an option of a Gradio dropdown the way a person does: open it, click the entry."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"#{element_id} input").click()
    _wait(driver, lambda d: [li for li in d.find_elements(By.CSS_SELECTOR, f"#{element_id} li") if option in li.text], timeout=20)
    next(li for li in driver.find_elements(By.CSS_SELECTOR, f"#{element_id} li") if option in li.text).click()


@pytest.mark.browser
def test_uploads_password_hint_stale_message_and_removal(browser, tmp_path):
    settings = _empty_settings(tmp_path)
    locked = tmp_path / "locked.pdf"
    shutil.copy2(DATA / "libreoffice-writer-password.pdf", locked)
    note = tmp_path / "Pump notes.md"
    note.write_text("# Pump notes\n\nThe Brighouse pump station replaces its impeller seals every 14 months.\n", encoding="utf-8")
    app, url = _serve(settings)
    try:
        _open(browser, url)
        _tab(browser, "Documents")
        assert not _shown(browser, "ampi-own-box")  # nothing of theirs to remove yet
        _choose_file(browser, locked, "locked")
        _click(browser, "ampi-add")
        _wait(browser, lambda d: "Skipped:" in _text(d, "ampi-ingest-result"), timeout=120)
        result = _text(browser, "ampi-ingest-result")
        assert "encrypted PDF" in result and "PDF password" in result and "beside the file" in result
        assert "--password" not in result and "AMPI_PDF_PASSWORD" not in result
        _choose_file(browser, note, "Pump notes")  # a new upload: the last file's report goes
        _wait(browser, lambda d: not _text(d, "ampi-ingest-result").strip(), timeout=20)
        _click(browser, "ampi-add")
        _wait(browser, lambda d: "Added:" in _text(d, "ampi-ingest-result"), timeout=120)
        _wait(browser, lambda d: "Pump notes.md" in _text(d, "ampi-documents"))
        assert any(d["title"] == "Pump notes" for d in Assistant(settings).documents("anonymous"))

        _pick(browser, "ampi-own-files", "Pump notes.md")
        _click(browser, "ampi-remove-file")
        _wait(browser, lambda d: "Removed:" in _text(d, "ampi-ingest-result"), timeout=120)
        _wait(browser, lambda d: "Pump notes" not in _text(d, "ampi-documents") and not _shown(d, "ampi-own-box"))
        assert not any(d["title"] == "Pump notes" for d in Assistant(settings).documents("anonymous"))
        assert not (settings.data_dir / "uploads" / "anonymous" / "Pump notes.md").exists()
        assert not list((settings.data_dir / "uploads" / "anonymous").glob(".removing/*/*"))
    finally:
        app.close()


def test_encrypted_upload_report_points_to_the_password_field(tmp_path):
    settings = _empty_settings(tmp_path)
    target = settings.data_dir / "uploads" / "anonymous" / "locked.pdf"
    target.parent.mkdir(parents=True)
    shutil.copy2(DATA / "libreoffice-writer-password.pdf", target)
    report = build_index(settings)
    reason = dict(report.skipped)[str(target)]
    assert "--password" in reason  # the library's reason is written for the command line …
    shown = ingest_summary(report, target)
    assert "PDF password" in shown and "--password" not in shown  # … the web app names its own field


def test_only_the_users_own_uploads_can_be_removed(tmp_path):
    settings = _empty_settings(tmp_path)
    mine = settings.data_dir / "uploads" / "alice" / "plan.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("# Plan\n\nText.\n", encoding="utf-8")
    (settings.data_dir / "uploads" / "bob").mkdir()
    (settings.data_dir / "uploads" / "bob" / "notes.md").write_text("# Notes\n\nText.\n", encoding="utf-8")
    assert uploaded_file(settings, "alice", "plan.md") == mine.resolve()
    for name in (BUNDLED_REPORT, "../bob/notes.md", "notes.md", ".names.json", "", "missing.md"):
        with pytest.raises(NotRemovable):
            uploaded_file(settings, "alice", name)
    with pytest.raises(NotRemovable, match="bundled report"):
        uploaded_file(settings, "alice", BUNDLED_REPORT)


@pytest.mark.parametrize("junk", ["plant.html", "C:\\Users\\me\\draft.docx", "/tmp/x/report", "Untitled-3", "   ",
                                  "http://intranet/plant", "Microsoft Word - notes.doc"])
def test_a_junk_metadata_title_gives_way_to_the_first_heading(junk, tmp_path, settings):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "crazyones-pdfa.pdf"))
    writer.add_metadata({"/Title": junk, "/Author": "Jane Roe"})
    path = tmp_path / "upload.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    document = load_pdf(path, settings)
    assert document.title == "The Crazy Ones" and document.authors == "Jane Roe"


def test_a_real_metadata_title_is_kept(tmp_path, settings):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "crazyones-pdfa.pdf"))
    writer.add_metadata({"/Title": "Here's to the crazy ones"})
    path = tmp_path / "upload.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert load_pdf(path, settings).title == "Here's to the crazy ones"


# -- login -------------------------------------------------------------------------------------
@pytest.mark.browser
def test_logout_button_when_login_is_on(browser, tmp_path):
    from selenium.webdriver.common.by import By

    app, url = _serve(_empty_settings(tmp_path, ui_users="alice:s3cret"))
    try:
        browser.get(url)
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"))
        browser.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys("alice")
        browser.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys("s3cret")
        next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text.strip().lower() == "login").click()
        _wait(browser, lambda d: _shown(d, "ampi-logout"))
        _click(browser, "ampi-logout")
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"))  # back at the login form
        assert requests.get(url + "config", cookies={c["name"]: c["value"] for c in browser.get_cookies()},
                            timeout=10).status_code == 401
    finally:
        app.close()


def test_the_terminal_at_start(built_index, tmp_path):
    """`ampi serve` says whether login is on and where to open the app; no Gradio share hint, no DEBUG lines."""
    from test_ui_app import _free_port

    ampi = Path(sys.executable).parent / "ampi"
    if not ampi.exists():
        pytest.skip("the ampi entry point is not installed")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPI_")}
    env.update(AMPI_CORPUS_DIR=str(built_index.corpus_dir), AMPI_INDEX_DIR=str(built_index.index_dir),
               AMPI_DATA_DIR=str(tmp_path / "data"), AMPI_UI_USERS="alice:a1,bob:b2", PYTHONUNBUFFERED="1")
    child = subprocess.Popen([str(ampi), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        watch = selectors.DefaultSelector()
        watch.register(child.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any(line.startswith("Open http") for line in lines):
            if watch.select(timeout=1.0):
                line = child.stdout.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
        assert any(line.startswith("Open http") for line in lines), lines
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
    finally:
        child.terminate()
        rest, _ = child.communicate(timeout=60)
    lines += rest.splitlines()
    text = "\n".join(lines)
    assert "login required (2 users)" in text
    assert f"Open http://127.0.0.1:{port}" in text
    assert "share=True" not in text and "Running on local URL" not in text
    assert not re.search(r"\bDEBUG\b", text), text
