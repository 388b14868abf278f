"""Replace a stored file only once its ingest succeeded: a staged copy, a backup and a journal.

An upload is first copied under a hidden `.staging/<token>/` folder beside its target (hidden folders
are never ingested). Under the ingest lock the builder swaps it in, keeping the file it replaces as
a backup, and writes a journal. A successful ingest settles the swap (backup deleted); a failed one
rolls it back. A journal still on disk means an ingest was killed mid-way: the next ingest (or the
app, after a failed child) looks at what the index serves and settles or rolls back accordingly,
so the bytes on disk always match a version that was indexed, and nothing is lost.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

STAGING = ".staging"
JOURNAL = "journal.json"
BACKUP = "previous"
STALE_AFTER_S = 24 * 3600  # a staged copy nobody committed (its app was killed before the ingest)


def stage_copy(source: Path, target: Path) -> Path:
    """Copy `source` to a fresh staging folder beside `target`; returns the staged file."""
    folder = target.parent / STAGING / uuid.uuid4().hex
    folder.mkdir(parents=True)
    staged = folder / target.name
    shutil.copyfile(source, staged)
    return staged


def swap_in(staged: Path, target: Path) -> Path:
    """Move the staged file to `target`, keeping what it replaces as a backup; returns the journal."""
    folder = staged.parent
    journal = folder / JOURNAL
    backup = folder / BACKUP
    _write_json(journal, {"target": str(target), "backup": str(backup) if target.exists() else None})
    if target.exists():
        os.replace(target, backup)
    os.replace(staged, target)
    return journal


def settle(journal: Path) -> None:
    """The new file is indexed: drop the backup and the staging folder."""
    shutil.rmtree(journal.parent, ignore_errors=True)
    _drop_empty(journal.parent.parent)


def roll_back(journal: Path) -> Path:
    """Put back the file the swap replaced (or remove a file that replaced nothing); returns the target."""
    record = json.loads(journal.read_text(encoding="utf-8"))
    target = Path(record["target"])
    backup = Path(record["backup"]) if record["backup"] else None
    if backup is not None and backup.exists():
        os.replace(backup, target)
    elif backup is None:
        target.unlink(missing_ok=True)
    shutil.rmtree(journal.parent, ignore_errors=True)
    _drop_empty(journal.parent.parent)
    return target


def discard(staged: Path) -> None:
    """Forget a staged copy that was never swapped in (its ingest never started)."""
    if not (staged.parent / JOURNAL).exists():
        shutil.rmtree(staged.parent, ignore_errors=True)
        _drop_empty(staged.parent.parent)


def recover(uploads: Path, serving_hash: Callable[[Path], str | None], file_hash: Callable[[Path], str]) -> list[Path]:
    """Settle or roll back swaps left by a killed ingest; call while holding the ingest lock.

    `serving_hash(path)` is the content hash the current index holds for a file (None if it holds
    none): when it matches the file on disk the new version went live and is kept, otherwise the
    previous bytes come back. Returns the targets that were rolled back.
    """
    rolled: list[Path] = []
    if not uploads.is_dir():
        return rolled
    for staging in uploads.glob(f"*/{STAGING}"):
        for folder in staging.iterdir():
            journal = folder / JOURNAL
            if journal.exists():
                target = Path(json.loads(journal.read_text(encoding="utf-8"))["target"])
                live = target.exists() and serving_hash(target) == file_hash(target)
                if live:
                    settle(journal)
                else:
                    rolled.append(roll_back(journal))
                    log.warning("an interrupted ingest of %s was rolled back", target.name)
            elif time.time() - folder.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(folder, ignore_errors=True)
        _drop_empty(staging)
    return rolled


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)


def _drop_empty(folder: Path) -> None:
    try:
        folder.rmdir()  # only succeeds when empty
    except OSError:
        pass
