"""Documents added in the UI: check and copy an upload, then describe what the ingest made of it (no Gradio here)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import AmpiError
from ingest.settings import Settings
from ui.feedback import safe_name

if TYPE_CHECKING:  # annotation only: the app imports the builder when a file is first added
    from index.builder import IngestReport

UPLOAD_TYPES = (".pdf", ".md", ".txt")


class UploadRejected(AmpiError):
    """An uploaded file was refused before anything was copied or indexed."""


def clean_filename(name: str) -> str:
    """The client's file name reduced to a safe basename: no folders, no '..', no odd characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, suffix = base.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", stem if dot else base).strip(" ._")[:100] or "upload"
    return f"{stem}.{suffix.lower()}" if dot and re.fullmatch(r"[A-Za-z0-9]{1,8}", suffix) else stem


def upload_target(settings: Settings, user: str, name: str) -> Path:
    """Where an upload of that name is kept: data_dir/uploads/<user>/<clean name>."""
    return Path(settings.data_dir) / "uploads" / safe_name(user) / clean_filename(name)


def accept_upload(settings: Settings, user: str, source: Path, name: str | None = None) -> Path:
    """Check type and size, then copy into data_dir/uploads/<user>/; raises UploadRejected."""
    filename = clean_filename(name or source.name)
    if Path(filename).suffix.lower() not in UPLOAD_TYPES:
        raise UploadRejected(f"{filename}: only PDF, Markdown (.md) and text (.txt) files can be added")
    size = source.stat().st_size
    if size == 0:
        raise UploadRejected(f"{filename}: the file is empty")
    if size > settings.max_upload_mb * 1024 * 1024:
        raise UploadRejected(f"{filename}: {size / 1024 / 1024:.1f} MB is over the {settings.max_upload_mb:g} MB upload limit")
    if filename.endswith(".pdf") and source.read_bytes()[:5] != b"%PDF-":
        raise UploadRejected(f"{filename}: this is not a PDF file")
    target = upload_target(settings, user, filename)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def ingest_summary(report: IngestReport, target: Path) -> str:
    """The ingest report in plain words, the uploaded file first."""
    mine = str(target)
    lines = []
    for label, paths in (("Added", report.added), ("Updated", report.updated), ("Already indexed, unchanged", report.unchanged)):
        if mine in paths:
            lines.append(f"**{label}:** {target.name} — {report.chunks_total} passage"
                         f"{'s' if report.chunks_total != 1 else ''} now searchable in all documents.")
    lines += [f"**Not added:** {target.name} has the same content as {Path(o).name}." for p, o in report.duplicates if p == mine]
    lines += [f"**Skipped:** {reason}" for p, reason in report.skipped]
    others = [Path(p).name for p in report.added + report.updated if p != mine]
    if others:
        lines.append(f"Also refreshed: {', '.join(others)}.")
    return "\n\n".join(lines) or "Nothing changed."
