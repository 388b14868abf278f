"""Documents added in the UI: check and copy an upload, then describe what the ingest made of it (no Gradio here)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.service import SHARED, shared_names, upload_owner
from index.library import uploads_dir
from index.staging import stage_copy
from ingest.errors import PASSWORD_HINT, AmpiError
from ingest.settings import Settings
from ui.feedback import safe_name

if TYPE_CHECKING:  # annotation only: the app imports the builder when a file is first added
    from index.builder import IngestReport

UPLOAD_TYPES = (".pdf", ".md", ".txt")
PASSWORD_FIELD = "in the “PDF password” field beside the file, then click “Add to the index” again"


class UploadRejected(AmpiError):
    """An uploaded file was refused before anything was copied or indexed."""


def clean_filename(name: str) -> str:
    """The client's file name reduced to a safe basename: no folders, no '..', no odd characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, suffix = base.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", stem if dot else base).strip(" ._")[:100] or "upload"
    return f"{stem}.{suffix.lower()}" if dot and re.fullmatch(r"[A-Za-z0-9]{1,8}", suffix) else stem


NAMES = ".names.json"  # the user's original file names -> stored names (hidden: never ingested)


@dataclass(frozen=True)
class StagedUpload:
    """An accepted upload: a staged copy, and the stored file it becomes once its ingest succeeds."""

    staged: Path
    target: Path
    original: str


def _stored_names(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / NAMES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def user_folder(user: str | None) -> str:
    """The folder (under data_dir/uploads) of a logged-in user's uploads: also who owns them when searching."""
    return safe_name(user)


def upload_target(settings: Settings, user: str, name: str) -> Path:
    """Where an upload of that name is kept: data_dir/uploads/<user>/<stored name>.

    A re-upload of the same original name replaces its own earlier file; a different name that
    cleans to a taken one ('plan?v1.md' after 'plan*v1.md') gets a numbered name of its own.
    """
    folder = uploads_dir(settings) / user_folder(user)
    original = re.split(r"[\\/]", name or "")[-1]
    known = _stored_names(folder)
    if original in known:
        return folder / known[original]
    clean = clean_filename(original)
    if clean == original and clean not in known.values():
        return folder / clean  # the same name as stored (an upload from before names were recorded)
    stem, suffix = Path(clean).stem, Path(clean).suffix
    candidate, number = clean, 2
    while candidate in known.values() or (folder / candidate).exists():
        candidate, number = f"{stem} ({number}){suffix}", number + 1
    return folder / candidate


def remember_name(upload: StagedUpload) -> None:
    """Record which original name the stored file belongs to (after its ingest succeeded)."""
    folder = upload.target.parent
    known = _stored_names(folder)
    if known.get(upload.original) == upload.target.name:
        return
    known[upload.original] = upload.target.name
    temporary = folder / (NAMES + ".tmp")
    temporary.write_text(json.dumps(known, indent=1), encoding="utf-8")
    os.replace(temporary, folder / NAMES)


def remember_sharing(upload: StagedUpload, shared: bool) -> None:
    """Record whether everyone may search the stored file (after its ingest succeeded; the latest upload decides)."""
    folder, name = upload.target.parent, upload.target.name
    names = shared_names(folder)
    if (name in names) == shared:
        return
    names = names | {name} if shared else names - {name}
    temporary = folder / (SHARED + ".tmp")
    temporary.write_text(json.dumps(sorted(names), indent=1), encoding="utf-8")
    os.replace(temporary, folder / SHARED)


def own_uploads(settings: Settings, user: str) -> list[tuple[str, str]]:
    """The user's uploaded files as (name as uploaded, stored name), for the Documents tab's remove picker."""
    folder = uploads_dir(settings) / user_folder(user)
    if not folder.is_dir():
        return []
    original = {stored: name for name, stored in _stored_names(folder).items()}
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return [(original.get(name, name), name) for name in files]


def forget_upload(folder: Path, stored: str) -> None:
    """Drop a removed file from the folder's records of original names and of files shared with everyone."""
    known = _stored_names(folder)
    kept = {name: value for name, value in known.items() if value != stored}
    if kept != known:
        temporary = folder / (NAMES + ".tmp")
        temporary.write_text(json.dumps(kept, indent=1), encoding="utf-8")
        os.replace(temporary, folder / NAMES)
    names = shared_names(folder)
    if stored in names:
        temporary = folder / (SHARED + ".tmp")
        temporary.write_text(json.dumps(sorted(names - {stored}), indent=1), encoding="utf-8")
        os.replace(temporary, folder / SHARED)


def accept_upload(settings: Settings, user: str, source: Path, name: str | None = None) -> StagedUpload:
    """Check type and size, then stage a copy beside its target; raises UploadRejected.

    Nothing stored is touched here: the ingest swaps the staged copy in and keeps it only on success.
    """
    original = re.split(r"[\\/]", name or source.name)[-1]
    filename = clean_filename(original)
    if Path(filename).suffix.lower() not in UPLOAD_TYPES:
        raise UploadRejected(f"{filename}: only PDF, Markdown (.md) and text (.txt) files can be added")
    size = source.stat().st_size
    if size == 0:
        raise UploadRejected(f"{filename}: the file is empty")
    if size > settings.max_upload_mb * 1024 * 1024:
        raise UploadRejected(f"{filename}: {size / 1024 / 1024:.1f} MB is over the {settings.max_upload_mb:g} MB upload limit")
    if filename.endswith(".pdf") and source.read_bytes()[:5] != b"%PDF-":
        raise UploadRejected(f"{filename}: this is not a PDF file")
    target = upload_target(settings, user, original)
    return StagedUpload(staged=stage_copy(source, target), target=target, original=original)


def ingest_summary(report: IngestReport, target: Path, shared: bool = False) -> str:
    """The ingest report in plain words, the uploaded file first; of other files, only those of the uploader.

    The ingest reads every user's uploads: another user's file names and skip reasons are theirs alone.
    """
    mine = str(target)
    root = target.parent.parent.resolve()

    def own(path: str) -> bool:  # the uploader's own uploads (skip reports of anything else are not theirs)
        owner = upload_owner(Path(path), root)
        return owner is not None and owner[0] == target.parent.name

    def shown(path: str) -> bool:  # documents everyone sees, the uploader's, and uploads shared with everyone
        owner = upload_owner(Path(path), root)
        return owner is None or own(path) or owner[1] in shared_names(root / owner[0])

    lines = []
    for label, paths in (("Added", report.added), ("Updated", report.updated), ("Already indexed, unchanged", report.unchanged)):
        if mine in paths:
            lines.append(f"**{label}:** {target.name} — {report.chunks_total} passage"
                         f"{'s' if report.chunks_total != 1 else ''} now searchable in all documents "
                         f"({'by everyone' if shared else 'only by you'}).")
    lines += [f"**Not added:** {target.name} has the same content as "
              f"{Path(o).name if shown(o) else 'a document already indexed'}." for p, o in report.duplicates if p == mine]
    # The ingest's reasons are written for the command line; here the password goes in the field beside the file.
    lines += [f"**Skipped:** {reason.replace(PASSWORD_HINT, PASSWORD_FIELD)}" for p, reason in report.skipped if own(p)]
    others = [Path(p).name for p in report.added + report.updated if p != mine and shown(p)]
    if others:
        lines.append(f"Also refreshed: {', '.join(others)}.")
    return "\n\n".join(lines) or "Nothing changed."
