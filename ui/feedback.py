"""Thumbs up/down on answers, kept as append-only JSON lines per user (no Gradio here)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Literal

from ingest.records import Answer
from ingest.settings import Settings

log = logging.getLogger(__name__)

Rating = Literal["up", "down"]
ANONYMOUS = "anonymous"

# One lock per process: two clicks in the same second must not interleave their lines.
_write_lock = threading.Lock()


def safe_name(name: str | None, fallback: str = ANONYMOUS) -> str:
    """A name usable as one path component, distinct for distinct names, never '..' or empty.

    Names that lose characters ('Мария', 'alice.') get a short hash so two users never share a file.
    """
    raw = (name or "").strip()
    if not raw:
        return fallback
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._")[:80]  # leading dots: hidden files or '..'
    if cleaned == raw:
        return cleaned
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]
    return f"{cleaned or 'user'}-{digest}"


def feedback_path(settings: Settings, user: str | None) -> Path:
    """The JSON-lines file holding one user's feedback."""
    return Path(settings.data_dir) / "feedback" / f"{safe_name(user)}.jsonl"


def record_feedback(settings: Settings, user: str | None, answer: Answer, rating: Rating, comment: str = "") -> dict:
    """Append one rating of an answer to the user's feedback file and return the stored entry."""
    if rating not in ("up", "down"):
        raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "user": user or ANONYMOUS,
        "question": answer.question,
        "answer": answer.text,
        "rating": rating,
        "comment": (comment or "").strip(),
        "citations": [c.locator for c in answer.citations],
    }
    path = feedback_path(settings, user)
    with _write_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    log.info("feedback %s from %s on %r", rating, entry["user"], answer.question[:60])
    return entry


def read_feedback(settings: Settings, user: str | None) -> list[dict]:
    """All feedback entries of one user, oldest first; a damaged line is skipped, not fatal."""
    path = feedback_path(settings, user)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("%s line %d is not JSON; skipped", path, number)
    return entries
