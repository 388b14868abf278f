"""Run an ingest in a child process, so whatever goes wrong there never reaches the serving process.

Why not call build_index in the app's own process: after SQLite reports 'database or disk is full',
chromadb 1.5.9's Rust bindings can block forever (holding the GIL) on later calls in that process,
even once space is freed and even through a new client. A child that fails or hangs is simply ended;
the app's own client only ever reads, and the pointer switch keeps the previous index serving.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from pathlib import Path

from index.builder import IngestReport
from ingest.errors import AmpiError, StoreError
from ingest.settings import Settings


def _die_with_parent(parent: int) -> None:
    """End this child when the app that started it dies (`kill -9` included), before it can switch the index.

    PR_SET_PDEATHSIG has the kernel send SIGKILL when the parent goes; the watchdog thread covers a
    parent that died before the call and systems without prctl.
    """
    import ctypes
    import os
    import signal
    import threading

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.2)

    threading.Thread(target=watch, name="ampi-parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _run(settings_json: str, paths: list[str] | None, password: str | None, messages,
         staged: list[tuple[str, str]] | None = None, parent: int | None = None, remove: list[str] | None = None) -> None:
    """Child entry point: build, then send ('done', report) or ('error', exception); progress on the way."""
    if parent is not None:
        _die_with_parent(parent)
    from index.builder import build_index

    settings = Settings.model_validate_json(settings_json)

    def progress(name: str, done: int, total: int) -> None:
        messages.put(("progress", (name, done, total)))

    try:
        report = build_index(settings, paths=[Path(p) for p in paths] if paths is not None else None,
                             password=password, progress=progress,
                             staged=[(Path(a), Path(b)) for a, b in staged] if staged else None,
                             remove=[Path(p) for p in remove] if remove else None)
        messages.put(("done", report.model_dump_json()))
    except AmpiError as exc:
        messages.put(("error", (type(exc).__name__, str(exc))))
    except Exception as exc:  # anything else still reaches the user as a message, never as a dead worker
        messages.put(("error", ("StoreError", f"the ingest failed ({type(exc).__name__}: {exc}); "
                                              "the previous index is unchanged")))


def build_index_in_child(settings: Settings, paths: list[Path] | None = None, password: str | None = None,
                         progress: Callable[[str, int, int], None] | None = None,
                         timeout_s: float | None = None, staged: list[tuple[Path, Path]] | None = None,
                         remove: list[Path] | None = None) -> IngestReport:
    """build_index in a fresh process; same result and errors, and a hang ends after timeout_s.

    The child dies with this process. If it is stopped or dies half-way, a staged upload it had
    swapped in is rolled back here at once, so the file on disk is again the one the index serves.
    """
    import os

    from ingest import errors

    context = multiprocessing.get_context("spawn")  # never fork a process that holds Chroma and torch threads
    messages = context.Queue()
    child = context.Process(target=_run, name="ampi-ingest", daemon=True,
                            args=(settings.model_dump_json(), [str(p) for p in paths] if paths is not None else None,
                                  password, messages, [(str(a), str(b)) for a, b in staged or []], os.getpid(),
                                  [str(p) for p in remove or []]))
    child.start()
    limit = timeout_s or settings.ingest_timeout_s
    named = list(paths or []) + [target for _, target in staged or []] + list(remove or [])
    subject = ", ".join(Path(p).name for p in named) if named else "the corpus folder"
    deadline = time.monotonic() + limit
    finished = False
    try:
        while True:
            if time.monotonic() > deadline:
                raise StoreError(f"{subject}: the ingest did not finish within {limit:g} s and was stopped; "
                                 "the previous index is unchanged (a larger AMPI_INGEST_TIMEOUT_S allows longer)")
            try:
                kind, payload = messages.get(timeout=0.5)
            except queue.Empty:
                if not child.is_alive():
                    raise StoreError(f"{subject}: the ingest process ended unexpectedly (exit code {child.exitcode}); "
                                     "the previous index is unchanged; try adding it again") from None
                continue
            if kind == "progress" and progress:
                progress(*payload)
            elif kind in ("done", "error"):
                finished = True
                if kind == "done":
                    return IngestReport.model_validate_json(payload)
                name, message = payload
                raise getattr(errors, name, StoreError)(message)
    finally:
        if finished:
            child.join(timeout=10)  # it exits right after its last message
        if child.is_alive():
            child.kill()  # stopped before it could switch the pointer: the previous index keeps serving
            child.join()
        messages.close()
        if staged and not finished:
            from index.builder import ingest_lock, recover_interrupted

            with ingest_lock(settings):
                recover_interrupted(settings)
