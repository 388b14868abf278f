"""Ingests the app runs in a child process (index.worker) and the lock that keeps two ingests apart."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time

import pytest
from test_reliability_input import notes_settings, snapshot  # same folder

from index.builder import build_index, ingest_lock
from index.worker import build_index_in_child
from ingest.errors import StoreError

ANSWER_START = "The Huddersfield plant makes 420 gearboxes a week"
EXTRA = "# Extra note\n\nThe Leeds site opened a second spindle line in March 2024 with 14 operators.\n"


@pytest.fixture()
def notes(tmp_path):
    """Settings over the two small notes, already indexed in this process."""
    settings = notes_settings(tmp_path)
    build_index(settings)
    return settings


def test_a_child_ingest_adds_the_file_and_the_next_one_embeds_nothing(notes, tmp_path):
    extra = tmp_path / "extra.md"
    extra.write_text(EXTRA, encoding="utf-8")
    seen: list[str] = []
    report = build_index_in_child(notes, paths=[extra], progress=lambda name, done, total: seen.append(name))
    assert report.added == [str(extra)] and report.chunks_embedded >= 1
    assert "embedding chunks" in seen  # progress crossed the process boundary
    assert snapshot(notes)["answers"][0]["answer"].startswith(ANSWER_START)
    again = build_index_in_child(notes, paths=[extra])
    assert again.chunks_embedded == 0 and not again.changed


def test_a_bad_file_in_a_child_ingest_is_reported_by_name(notes, tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    report = build_index_in_child(notes, paths=[empty])
    assert [path for path, _ in report.skipped] == [str(empty)]
    assert re.match(r"empty\.md: .*empty", report.skipped[0][1])


def test_an_ingest_past_its_time_limit_is_stopped_and_the_index_is_unchanged(notes, tmp_path):
    before = snapshot(notes)
    extra = tmp_path / "extra.md"
    extra.write_text(EXTRA, encoding="utf-8")
    with pytest.raises(StoreError, match=r"did not finish within 1 s .*previous index is unchanged"):
        build_index_in_child(notes, paths=[extra], timeout_s=1)  # starting a child alone takes longer
    assert not multiprocessing.active_children()
    assert snapshot(notes) == before


def test_a_killed_child_ingest_is_a_clear_error_and_the_index_is_unchanged(notes, tmp_path):
    before = snapshot(notes)
    extra = tmp_path / "extra.md"
    extra.write_text(EXTRA, encoding="utf-8")

    def kill_while_embedding(name: str, done: int, total: int) -> None:
        if name == "embedding chunks":
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(StoreError, match=r"ended unexpectedly \(exit code -9\)"):
        build_index_in_child(notes, paths=[extra], progress=kill_while_embedding)
    assert snapshot(notes) == before
    assert build_index(notes, paths=[extra]).added == [str(extra)]  # and the next ingest completes


def test_a_second_ingest_waits_for_the_one_running(notes, tmp_path):
    extra = tmp_path / "extra.md"
    extra.write_text(EXTRA, encoding="utf-8")
    seen: list[str] = []
    result: dict = {}

    def second() -> None:
        result["report"] = build_index_in_child(notes, paths=[extra], progress=lambda n, d, t: seen.append(n))

    with ingest_lock(notes):  # the first ingest, as far as the second can tell
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 60
        while "waiting for another ingest to finish" not in seen and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "waiting for another ingest to finish" in seen
        time.sleep(1)
        assert thread.is_alive() and "report" not in result  # still held back
    thread.join(timeout=120)
    assert result["report"].added == [str(extra)]
