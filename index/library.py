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

from ingest.errors import NotRemovable, shown
from ingest.settings import BUNDLED_REPORT, Settings

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


def remembered_paths(settings: Settings, legacy: list[str]) -> list[str]:
    """The added paths: the record when there is one, else `legacy` (what an older index kept in its manifest).

    Once the record exists it alone decides, so a path `ampi remove` took out never comes back from a manifest.
    """
    return sorted(set(added_paths(settings))) if _added_file(settings).exists() else sorted(set(legacy))


def remember_added(settings: Settings, paths: list[str]) -> None:
    """Record the added paths (atomically: a crash leaves the old list or the new one)."""
    path = _added_file(settings)
    if path.exists() and sorted(set(paths)) == sorted(set(added_paths(settings))):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"paths": sorted(set(paths))}, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def document_roots(settings: Settings, added: list[str], new: list[Path]) -> list[Path]:
    """Where documents are looked for, in order: corpus folder, uploads, earlier added paths, new paths."""
    return [settings.corpus_dir, uploads_dir(settings)] + [Path(p) for p in added] + list(new)


def forget_added(settings: Settings, path: Path, legacy: list[str]) -> str:
    """Take a path given to `ampi ingest PATH` out of the added paths; returns it as recorded.

    Raises NotRemovable, saying why and what to do, for anything else: the bundled report, a file in
    the corpus folder or the uploads, a file inside an added folder, a path never added.
    """
    target = Path(os.path.abspath(path)).resolve()
    added = remembered_paths(settings, legacy)
    corpus, uploads = settings.corpus_dir.resolve(), uploads_dir(settings).resolve()
    if str(target) not in added:
        if target.name == BUNDLED_REPORT:
            raise NotRemovable(f"{shown(path)} is the bundled report, which every index holds; it cannot be removed")
        if target == corpus or corpus in target.parents:
            raise NotRemovable(f"{shown(path)} is in the corpus folder {shown(corpus)}, whose files are always indexed; "
                               "move it out of that folder, then run `ampi ingest`")
        if target == uploads or uploads in target.parents:
            raise NotRemovable(f"{shown(path)} was uploaded in the web app; remove it in the app's Documents tab")
    remaining = [p for p in added if p != str(target)]
    folder = next((p for p in remaining if Path(p) in target.parents), None)
    if folder:
        raise NotRemovable(f"{shown(path)} is inside the folder {shown(folder)} added with `ampi ingest`; "
                           "remove that folder with `ampi remove`, or move the file out of it")
    if str(target) not in added:
        raise NotRemovable(f"{shown(path)} was not added with `ampi ingest PATH`; `ampi status` lists the indexed documents")
    remember_added(settings, remaining)
    log.info("forgot the added path %s", target)
    return str(target)


def uploaded_file(settings: Settings, owner: str, name: str) -> Path:
    """The file `name` that the user whose uploads folder is `owner` added in the web app.

    Raises NotRemovable, saying why, for anything else: the bundled report, a file of the corpus folder or of
    another user, a hidden file, a path rather than a name, a file that is not there.
    """
    if name == BUNDLED_REPORT:
        raise NotRemovable(f"{shown(name)} is the bundled report, which every index holds; it cannot be removed")
    folder = (uploads_dir(settings) / owner).resolve()
    path = folder / name
    if not name or name.startswith(".") or "/" in name or "\\" in name or path.resolve().parent != folder:
        raise NotRemovable(f"{shown(name)} is not one of your uploaded documents")
    if not path.is_file():
        raise NotRemovable(f"{shown(name)} is not one of your uploaded documents (it may have been removed already)")
    return path
