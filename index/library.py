"""The set of documents: the files on disk, recorded outside the index.

The corpus folder, the uploads folder and every path given to `ampi ingest PATH` make up the
documents. The added paths are kept in `data_dir/added-paths.json`, not in the index's manifest, so
a lost or rebuilt index brings every document back with a plain `ampi ingest`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ingest.settings import Settings

log = logging.getLogger(__name__)


def uploads_dir(settings: Settings) -> Path:
    """Files added in the web app: data_dir/uploads/<user>/<file>."""
    return settings.data_dir / "uploads"


def _added_file(settings: Settings) -> Path:
    return settings.data_dir / "added-paths.json"


def added_paths(settings: Settings) -> list[str]:
    """Paths (files or folders) given to `ampi ingest` in earlier runs, as absolute strings."""
    path = _added_file(settings)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be read (%s); only the corpus folder and uploads are ingested", path, exc)
        return []
    return [str(p) for p in data.get("paths", []) if isinstance(p, str)]


def remember_added(settings: Settings, paths: list[str]) -> None:
    """Record the added paths (atomically: a crash leaves the old list or the new one)."""
    path = _added_file(settings)
    if sorted(set(paths)) == sorted(set(added_paths(settings))):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"paths": sorted(set(paths))}, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def document_roots(settings: Settings, added: list[str], new: list[Path]) -> list[Path]:
    """Where documents are looked for, in order: corpus folder, uploads, earlier added paths, new paths."""
    return [settings.corpus_dir, uploads_dir(settings)] + [Path(p) for p in added] + list(new)
