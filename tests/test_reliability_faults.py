"""Faults while the app runs: the index folder deleted, the Chroma server stopped and restarted, the disk full.

Each scenario runs once (a module fixture records what happened) and several tests read the record, so a
library bug in one step (marked xfail) does not hide what the other steps show.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import requests
from servers import ChromaServer
from test_reliability_input import QUESTIONS, notes_settings, serve  # same folder, my helpers

from assistant.service import Assistant, answer_record
from index.builder import build_index
from ingest.errors import StoreError
from ingest.settings import REPO_ROOT

QUESTION = QUESTIONS[0]
ANSWER_START = "The Huddersfield plant makes 420 gearboxes a week"


def ask(client, question: str = QUESTION) -> tuple[str, object]:
    """('ok', record) or ('error', message) for one /ask call through gradio_client."""
    try:
        return "ok", client.predict(question, api_name="/ask")
    except Exception as exc:  # gradio_client raises AppError (or a subclass) carrying the server's message
        return "error", f"{type(exc).__name__}: {exc}"


def client_for(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False)


# -- (a) the index folder deleted while the app runs --------------------------------------------
@pytest.fixture(scope="module")
def deleted_index(tmp_path_factory):
    """Start the app on a small index, delete the index folder, ask, rebuild in-process, ask again."""
    settings = notes_settings(tmp_path_factory.mktemp("deleted-index"))
    build_index(settings)
    app, url = serve(settings)
    client = client_for(url)
    run = {"settings": settings, "before": ask(client)}
    shutil.rmtree(settings.index_dir)
    run["after_delete"] = [ask(client), ask(client)]
    run["config_after_delete"] = requests.get(url + "config", timeout=10).status_code
    try:
        report = build_index(settings)
        run["rebuild"] = ("ok", report.collection)
    except Exception as exc:  # recorded: one of the tests below is about exactly this
        run["rebuild"] = ("error", f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
    run["after_rebuild"] = ask(client)
    run["fresh_client_after_rebuild"] = ask(client_for(url))
    run["config_at_end"] = requests.get(url + "config", timeout=10).status_code
    yield run
    app.close()


def test_app_keeps_serving_after_the_index_folder_is_deleted(deleted_index):
    run = deleted_index
    kind, record = run["before"]
    assert kind == "ok" and record["answer"].startswith(ANSWER_START)
    assert run["config_after_delete"] == 200 and run["config_at_end"] == 200
    for kind, value in [*run["after_delete"], run["after_rebuild"], run["fresh_client_after_rebuild"]]:
        if kind == "ok":
            assert value["question"] == QUESTION and value["answer"]
        else:  # an error reply with a message, never a dropped connection or a server crash
            assert value.strip() and "Connection" not in value


def test_ask_after_the_index_folder_is_deleted_says_so(deleted_index):
    settings = deleted_index["settings"]
    for kind, value in deleted_index["after_delete"]:
        assert kind == "error", f"answered from a deleted index: {value}"
        assert str(settings.index_dir) in value and "ampi ingest" in value


def test_rebuild_after_the_index_folder_is_deleted_answers_again(deleted_index):
    assert deleted_index["rebuild"][0] == "ok", deleted_index["rebuild"]
    for kind, value in (deleted_index["after_rebuild"], deleted_index["fresh_client_after_rebuild"]):
        assert kind == "ok", value
        assert value["answer"].startswith(ANSWER_START)


# -- (b) Chroma server stopped and started again -------------------------------------------------
@pytest.mark.server
def test_chroma_server_down_names_host_and_port_and_the_same_assistant_recovers(tmp_path):
    server = ChromaServer(tmp_path)
    server.start()
    app = None
    try:
        remote = notes_settings(tmp_path).model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": server.port})
        build_index(remote)
        assistant = Assistant(remote)
        app, url = serve(remote, assistant)
        client = client_for(url)
        before = answer_record(assistant.answer(QUESTION))
        assert before["answer"].startswith(ANSWER_START)
        where = f"127.0.0.1:{server.port}"

        server.stop()
        with pytest.raises(StoreError) as error:
            assistant.answer(QUESTION)
        assert where in str(error.value) and "Chroma server" in str(error.value)
        kind, message = ask(client)
        assert kind == "error" and where in message, message
        assert requests.get(url + "config", timeout=10).status_code == 200  # the app itself is still up

        server.start()  # same port, same data folder
        again = answer_record(assistant.answer(QUESTION))  # the same Assistant instance, no restart
        assert (again["answer"], again["citations"]) == (before["answer"], before["citations"])
        kind, record = ask(client)
        assert kind == "ok" and record["answer"] == before["answer"]
    finally:
        if app is not None:
            app.close()
        server.stop()


# -- (c) disk full while ingesting ----------------------------------------------------------------
# The scenario runs in child processes, so a hang cannot freeze pytest: chromadb 1.5.9 can block forever
# (holding the GIL) in a process whose write failed with 'database or disk is full', which is why the app
# ingests uploads in a child process (index.worker). faulthandler's watchdog (a C thread: it needs no GIL)
# prints the stack and ends a child that hangs.
#   app     builds the index and opens an Assistant (the running app), fills the disk, adds a large file
#           the way the app does (fails), asks the same Assistant again; once told to (the disk is freed),
#           adds the same file again and asks the same Assistant once more.
#   restart a new process over the same, still full, disk: what a restarted app serves.
DISK_FULL_SCRIPT = textwrap.dedent("""
    import faulthandler, json, random, shutil, sys
    from pathlib import Path
    from assistant.service import Assistant, answer_record
    from index.builder import build_index
    from index.store import ChromaStore
    from index.worker import build_index_in_child
    from ingest.errors import AmpiError
    from ingest.settings import Settings

    mode, root, mount = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    questions = json.loads(sys.argv[4])
    settings = Settings(corpus_dir=root / "corpus", data_dir=root / "data", index_dir=mount / "index", chroma_host=None)
    big = root / "large-extra.txt"

    def say(step, **fields):
        print(json.dumps({"step": step, **fields}), flush=True)

    def answers(assistant):
        out = []
        for question in questions:
            record = answer_record(assistant.answer(question))
            record.pop("id"), record.pop("latency_ms")
            out.append(record)
        return out

    def guard(seconds):
        faulthandler.cancel_dump_traceback_later()
        faulthandler.dump_traceback_later(seconds, exit=True)

    if mode == "app":
        guard(150)
        built = build_index(settings)
        running = Assistant(settings)
        say("built", collection=built.collection, answers=answers(running))
        free = shutil.disk_usage(mount).free
        with open(mount / "filler", "wb") as handle:  # leave 96 KB: less than the new file alone
            handle.write(bytes(free - 96 * 1024))
        rng = random.Random(3)
        words = ("machine tool robot spindle lathe export import cluster supplier factory automation sensor "
                 "precision grinding milling region skills apprentice university research").split()
        big.write_text("\\n\\n".join(" ".join(rng.choice(words) for _ in range(150)) + "." for _ in range(100)))
        say("filled", free=shutil.disk_usage(mount).free, file_bytes=big.stat().st_size)
        try:
            report = build_index_in_child(settings, paths=[big], timeout_s=90)
            say("ingest", ok=True, skipped=report.skipped, collection=report.collection)
        except Exception as exc:
            say("ingest", ok=False, error=f"{type(exc).__module__}.{type(exc).__name__}: {exc}",
                ampi_error=isinstance(exc, AmpiError))
        say("after_failure", answers=answers(running))
        faulthandler.cancel_dump_traceback_later()
        sys.stdin.readline()  # the parent frees the disk, then says go
        guard(90)  # about 12 s when it works: start a process, load the model, embed and store 100 passages
        report = build_index_in_child(settings, paths=[big], timeout_s=80)
        say("retry", added=[Path(p).name for p in report.added], collection=report.collection,
            answers=answers(running), serving=running.index().name)
    else:
        guard(60)
        store = ChromaStore(settings)
        say("restart", collection=store.current_name(), generations=store.generations(),
            answers=answers(Assistant(settings)))
    faulthandler.cancel_dump_traceback_later()
""")


def _steps(text: str) -> dict:
    return {line["step"]: line for line in (json.loads(x) for x in text.splitlines() if x.startswith("{"))}


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory):
    """Run the disk-full scenario on a 20 MB tmpfs: ({step: record}, the children's stderr)."""
    if os.geteuid() != 0:
        pytest.skip("the disk-full test mounts a 20 MB tmpfs, which needs root (CAP_SYS_ADMIN); running as uid "
                    f"{os.geteuid()}")
    root = tmp_path_factory.mktemp("disk-full")
    mount = root / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the disk-full test: {mounted.stderr.strip() or mounted.returncode}")
    app = None
    try:
        notes_settings(root)  # root/corpus with the two notes
        command = [sys.executable, "-c", DISK_FULL_SCRIPT]
        where = [str(root), str(mount), json.dumps(QUESTIONS)]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        err_log = root / "app-stderr.txt"
        with err_log.open("w") as err:
            app = subprocess.Popen([*command, "app", *where], cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=err, text=True)
        steps: dict = {}
        for line in app.stdout:  # until the failed ingest is reported (or the child ends)
            steps.update(_steps(line))
            if "after_failure" in steps:
                break
        restart = subprocess.run([*command, "restart", *where], cwd=REPO_ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
        steps.update(_steps(restart.stdout))
        (mount / "filler").unlink(missing_ok=True)
        try:
            rest, _ = app.communicate("go\n", timeout=120)
        except subprocess.TimeoutExpired:
            app.kill()
            rest, _ = app.communicate()
        steps.update(_steps(rest))
        yield steps, f"--- app (exit {app.returncode})\n{err_log.read_text()[-3000:]}\n--- restart\n{restart.stderr[-2000:]}"
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_disk_full_ingest_fails_and_the_previous_index_still_answers(disk_full):
    steps, stderr = disk_full
    assert {"built", "filled", "ingest", "restart"} <= set(steps), stderr
    built, restart = steps["built"], steps["restart"]
    assert built["answers"][0]["answer"].startswith(ANSWER_START)
    assert steps["filled"]["free"] < steps["filled"]["file_bytes"]
    ingest = steps["ingest"]
    assert not ingest["ok"] or ingest["skipped"], f"the ingest neither failed nor reported a problem: {ingest}"
    assert restart["collection"] == built["collection"]
    assert restart["generations"] == [built["collection"]]  # the half-written generation was cleaned up
    assert restart["answers"] == built["answers"]  # nothing lost: the same answers from the same passages


def test_disk_full_is_reported_as_a_clear_store_error(disk_full):
    steps, _ = disk_full
    ingest = steps["ingest"]
    assert ingest.get("ampi_error"), ingest
    assert "disk" in ingest["error"].lower() and "index" in ingest["error"].lower()


def test_adding_the_file_again_once_the_disk_is_freed_completes(disk_full):
    steps, stderr = disk_full
    assert "retry" in steps, f"the ingest after freeing the disk did not finish in 90 s:\n{stderr}"
    retry = steps["retry"]
    assert retry["added"] == ["large-extra.txt"]
    assert retry["serving"] == retry["collection"] != steps["built"]["collection"]  # the running app moved on
    assert retry["answers"][0]["answer"].startswith(ANSWER_START)


def test_the_running_app_answers_as_before_after_the_failed_ingest(disk_full):
    steps, stderr = disk_full
    assert "after_failure" in steps, stderr
    assert steps["after_failure"]["answers"] == steps["built"]["answers"]
