"""Build the index from files: incremental by content hash, switched in only when complete.

    >>> report = build_index(Settings(), paths=[Path("my.pdf")])
    >>> report.skipped        # [(path, reason)] for files that could not be read
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from index import staging
from index.embedder import get_embedder, model_name
from index.keyword import KeywordIndex
from index.library import document_roots, forget_added, remember_added, remembered_paths, uploads_dir
from index.store import ChromaStore, folder_failure
from ingest.errors import IngestError, StoreError, shown
from ingest.loader import SUPPORTED, check_file, load_document
from ingest.records import REFERENCE_FIELDS, Chunk, Document, content_hash
from ingest.settings import BUNDLED_REPORT, Settings
from ingest.sources import registry_from_manifest

log = logging.getLogger(__name__)

# Bump when parsing or chunking changes what chunks are made: the index is then rebuilt.
CHUNKING_VERSION = "7"


class IngestReport(BaseModel):
    """What an ingest run did."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    duplicates: list[tuple[str, str]] = Field(default_factory=list, description="(file, the file it duplicates)")
    skipped: list[tuple[str, str]] = Field(default_factory=list, description="(file, reason)")
    chunks_total: int = 0
    chunks_embedded: int = 0
    rebuilt: bool = Field(False, description="True when model or chunking settings changed and everything was re-embedded.")
    collection: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)


def settings_key(settings: Settings) -> str:
    """Hash of everything that decides the vectors: a mismatch means a clean rebuild."""
    return content_hash(model_name(settings), settings.embedding_model, CHUNKING_VERSION,
                        str(settings.chunk_words), str(settings.chunk_overlap_words), length=10)


def keyword_dir(settings: Settings, collection: str) -> Path:
    return settings.index_dir / "keyword" / collection


def role_of(path: Path, settings: Settings) -> str:
    """'report' for the bundled report, 'source' under corpus/sources, else 'user'."""
    resolved = path.resolve()
    if settings.sources_dir.resolve() in resolved.parents:
        return "source"
    if resolved.name == BUNDLED_REPORT:
        return "report"
    return "user"


def discover(settings: Settings, paths: list[Path], remembered: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to index: the corpus folder, uploads, files ingested by path before (while they exist), new paths."""
    found: dict[str, Path] = {}
    problems: list[tuple[str, str]] = []
    for root in document_roots(settings, remembered, paths):
        if root.is_dir():
            for file in sorted(root.rglob("*")):
                # The folder's own README and hidden files are notes, not documents.
                if file.name.lower() == "readme.md" or any(part.startswith(".") for part in file.relative_to(root).parts):
                    continue
                if _links_outside(file, root):
                    problems.append((str(file), f"{shown(file.name)}: a link to a {'folder' if file.is_dir() else 'file'} "
                                                f"outside {shown(root)}; not followed (copy it into the folder to index it)"))
                elif not file.is_file():
                    continue
                elif file.suffix.lower() in SUPPORTED:
                    found[str(file.resolve())] = file
                else:
                    problems.append((str(file), f"{shown(file.name)}: unsupported file type '{shown(file.suffix or 'none')}' "
                                                "(use PDF, Markdown or text)"))
        elif root.is_file():
            found[str(root.resolve())] = root  # a file named on the command line is read even through a link
        elif root in paths:
            problems.append((str(root), f"{shown(root)}: no such file or folder"))
    return [found[k] for k in sorted(found)], problems


def _links_outside(file: Path, root: Path) -> bool:
    """True for a symbolic link (to a file or folder) that leads out of the folder being ingested.

    Following it would index whatever it points at (`/etc/passwd`) and quote it in answers.
    """
    if not file.is_symlink():
        return False
    target, inside = file.resolve(), root.resolve()
    return target.exists() and target != inside and inside not in target.parents


def _file_hash(path: Path) -> str:
    return content_hash(path.read_bytes())


@contextmanager
def ingest_lock(settings: Settings, progress: Callable[[str, int, int], None] | None = None) -> Iterator[None]:
    """One ingest at a time per index folder: two (a CLI run and an upload) would race on the pointer.

    An flock is released by the kernel when its holder dies, so a killed ingest never leaves it stuck.
    """
    try:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(settings.index_dir / "ingest.lock", "a+")
    except OSError as exc:  # a read-only folder or a full disk: say which, not a traceback
        raise folder_failure(settings.index_dir, exc, "check the AMPI_INDEX_DIR setting") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress:
                progress("waiting for another ingest to finish", 0, 1)
            log.info("another ingest is running on %s; waiting for it", settings.index_dir)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_index(settings: Settings, paths: list[Path] | None = None, password: str | None = None,
                progress: Callable[[str, int, int], None] | None = None,
                staged: list[tuple[Path, Path]] | None = None, remove: list[Path] | None = None) -> IngestReport:
    """Ingest the corpus folder and `paths` into a new generation, then switch queries to it.

    `staged` holds (staged copy, target) pairs of uploads: each replaces its target only if the
    ingest succeeds and the new file is indexed; otherwise the target keeps its previous bytes.
    `remove` holds uploaded files to delete: they are set aside, and deleted once an index without them
    serves; should that ingest fail, they are put back.
    """
    with ingest_lock(settings, progress):
        recover_interrupted(settings)
        if remove:
            return _without(settings, remove, progress)
        if not staged:
            return _build_index(settings, paths, password, progress)
        journals = [staging.swap_in(copy, target) for copy, target in staged]
        targets = [target for _, target in staged]
        try:
            report = _build_index(settings, list(paths or []) + targets, password, progress)
        except BaseException:
            for journal in journals:
                staging.roll_back(journal)
            raise
        refused = {p for p, _ in report.skipped + report.duplicates}
        for journal, target in zip(journals, targets, strict=True):
            if str(target) in refused:
                staging.roll_back(journal)
            else:
                staging.settle(journal)
        if any(str(t) in refused and str(t.resolve()) in report.removed for t in targets):
            # The refused file had replaced an indexed one: index the restored bytes again (vectors are reused).
            _build_index(settings, [], password, None)
        return report


def _without(settings: Settings, files: list[Path], progress: Callable[[str, int, int], None] | None) -> IngestReport:
    """Set uploaded files aside in a hidden folder beside them (never ingested), build, then delete or restore them."""
    moved: list[tuple[Path, Path]] = []
    try:
        for file in files:
            aside = file.parent / ".removing" / uuid.uuid4().hex / file.name
            aside.parent.mkdir(parents=True)
            file.replace(aside)
            moved.append((file, aside))
        report = _build_index(settings, [], None, progress)
    except BaseException:
        for file, aside in moved:
            aside.replace(file)
            shutil.rmtree(aside.parent, ignore_errors=True)
        raise
    for _, aside in moved:
        shutil.rmtree(aside.parent, ignore_errors=True)
        with suppress(OSError):
            aside.parent.parent.rmdir()  # only when empty
    return report


def remove_document(settings: Settings, path: Path) -> tuple[str, IngestReport]:
    """Forget a path given to `ampi ingest PATH`, then switch to a generation without its documents.

    Returns the forgotten path and the report of that ingest (its `removed` lists the documents that left).
    Raises NotRemovable (bundled report, corpus or upload file, file inside an added folder, unknown path).
    """
    with ingest_lock(settings):
        recover_interrupted(settings)
        store = ChromaStore(settings, writable=True)
        current = store.current_name()
        legacy = store.manifest(current).get("explicit_paths", []) if current else []
        forgotten = forget_added(settings, path, legacy)
        if not current:  # nothing indexed yet: forgetting the path is all there is to do
            return forgotten, IngestReport()
        return forgotten, _build_index(settings, [], None, None)


def recover_interrupted(settings: Settings) -> list[Path]:
    """Settle or roll back upload swaps a killed ingest left behind; call while holding the ingest lock."""
    if not uploads_dir(settings).is_dir():
        return []
    try:
        store = ChromaStore(settings)
        current = store.current_name()
        served = {d["path"]: d["doc_id"] for d in store.manifest(current).get("documents", [])} if current else {}
    except StoreError:
        served = {}
    return staging.recover(uploads_dir(settings), lambda p: served.get(str(p.resolve())), _file_hash)


def _build_index(settings: Settings, paths: list[Path] | None, password: str | None,
                 progress: Callable[[str, int, int], None] | None) -> IngestReport:
    started = time.perf_counter()
    paths = [Path(p) for p in (paths or [])]
    report = IngestReport()
    store = ChromaStore(settings, writable=True)
    key = settings_key(settings)
    current = store.current_name()
    old_manifest = store.manifest(current) if current else {}
    reusable = bool(current) and old_manifest.get("settings_key") == key
    report.rebuilt = bool(current) and not reusable
    _drop_abandoned(store, settings, keep=current)

    # Paths added in earlier runs are recorded outside the index (older indexes kept them in the manifest).
    remembered = remembered_paths(settings, old_manifest.get("explicit_paths", []))
    inside = [settings.corpus_dir.resolve(), uploads_dir(settings).resolve()]
    new_paths = {str(p.resolve()) for p in paths
                 if p.exists() and not any(r == p.resolve() or r in p.resolve().parents for r in inside)}
    files, problems = discover(settings, paths, remembered)
    report.skipped.extend(problems)
    old_docs = {d["path"]: d for d in old_manifest.get("documents", [])} if reusable else {}
    # Files already indexed come first, then the corpus folder: a new copy of a document is the
    # duplicate, never the original it copies.
    corpus = settings.corpus_dir.resolve()
    files.sort(key=lambda f: (str(f.resolve()) not in old_docs, corpus not in f.resolve().parents, str(f)))

    old_chunks: dict[str, list[Chunk]] = {}
    old_vectors: dict[str, np.ndarray] = {}
    if reusable:
        chunks, vectors = store.all_chunks(current, with_embeddings=True)
        for i, chunk in enumerate(chunks):
            old_chunks.setdefault(chunk.doc_id, []).append(chunk)
            old_vectors[_vector_key(chunk)] = vectors[i]

    documents: dict[str, Document] = {}
    entries: list[dict] = []
    seen_paths: set[str] = set()
    for n, path in enumerate(files, 1):
        if progress:
            progress(path.name, n, len(files))
        key_path = str(path.resolve())
        previous = old_docs.get(key_path)
        try:
            check_file(path, settings)
            file_id = _file_hash(path)
            if file_id in documents:
                report.duplicates.append((str(path), documents[file_id].path))
                continue
            # An entry from before documents recorded how to cite them is read again (its vectors are reused).
            if previous and previous["doc_id"] == file_id and file_id in old_chunks and _cites_itself(previous):
                doc = Document(id=file_id, path=key_path, title=previous["title"], role=previous["role"],
                               pages=previous.get("pages"), chunks=old_chunks[file_id], **_reference(previous))
                report.unchanged.append(str(path))
            else:
                doc = load_document(path, settings, password=password)
                doc.id, doc.path, doc.role = file_id, key_path, role_of(path, settings)
                for chunk in doc.chunks:
                    chunk.doc_id, chunk.doc_path = file_id, key_path
                    chunk.id = content_hash(file_id, chunk.kind, chunk.locator, str(chunk.order), chunk.text)
                (report.updated if previous else report.added).append(str(path))
        except IngestError as exc:
            report.skipped.append((str(path), str(exc)))
            if previous and previous["doc_id"] in old_chunks:
                # Keep serving the last good version rather than losing the document.
                doc = Document(id=previous["doc_id"], path=key_path, title=previous["title"], role=previous["role"],
                               pages=previous.get("pages"), chunks=old_chunks[previous["doc_id"]], **_reference(previous))
            else:
                continue
        except OSError as exc:
            report.skipped.append((str(path), f"{path.name}: cannot be read ({exc.strerror or exc})"))
            continue
        documents[doc.id] = doc
        seen_paths.add(key_path)
        entries.append(_document_entry(doc, previous))
    report.removed = [p for p in old_docs if p not in seen_paths and not any(p == s[0] for s in report.skipped)]
    explicit = _explicit_paths(set(remembered) | new_paths, {str(Path(s).resolve()) for s, _ in report.skipped}, seen_paths)

    if reusable and not report.changed:
        # Nothing to embed or switch; only refresh what the manifest says about skipped files.
        store.write_manifest(current, {**old_manifest, "skipped": report.skipped, "explicit_paths": explicit})
        remember_added(settings, explicit)
        report.collection = current
        report.chunks_total = sum(len(d.chunks) for d in documents.values())
        report.seconds = time.perf_counter() - started
        return report

    all_chunks = [c for d in documents.values() for c in d.chunks]
    vectors = _vectors_for(all_chunks, old_vectors, settings, report, progress)
    manifest = _manifest(key, settings, explicit, documents, entries, report)
    try:
        name = store.new_generation(key, manifest)
    except Exception as exc:  # chromadb raises its own errors for a full disk or read-only folder
        raise StoreError(f"cannot write a new index ({type(exc).__name__}: {exc}); the previous index is unchanged") from exc
    try:
        store.add(name, all_chunks, vectors, {d.id: d.role for d in documents.values()})
        KeywordIndex.build(all_chunks, settings.candidate_k).save(keyword_dir(settings, name))
        store.mark_complete(name)
    except BaseException as exc:
        store.delete_generation(name)
        shutil.rmtree(keyword_dir(settings, name), ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, StoreError):
            raise StoreError(f"writing the new index failed ({type(exc).__name__}: {exc}); "
                             "the previous index is unchanged") from exc
        raise
    store.switch_to(name)
    _drop_abandoned(store, settings, keep=name)  # the one just replaced stays while questions may still read it
    remember_added(settings, explicit)
    report.collection = name
    report.chunks_total = len(all_chunks)
    report.seconds = time.perf_counter() - started
    return report


def _explicit_paths(paths: set[str], refused: set[str], served: set[str]) -> list[str]:
    """The added paths to remember: all but files refused in this run that serve no earlier version.

    A refused file is not a document: remembering it would report it as skipped on every later
    `ampi ingest`, long after the run that refused it.
    """
    return sorted(p for p in paths if p not in refused or p in served)


def _drop_abandoned(store: ChromaStore, settings: Settings, keep: str | None) -> None:
    """Remove generations left by interrupted ingests, and replaced ones once their grace period is over."""
    retired = store.retired()
    for name in store.generations():
        if name != keep and time.time() - retired.get(name, 0.0) >= settings.generation_grace_s:
            store.delete_generation(name)
            shutil.rmtree(keyword_dir(settings, name), ignore_errors=True)


def _vector_key(chunk: Chunk) -> str:
    """Vectors depend only on the embedded text: an edited file reuses those of its unchanged paragraphs."""
    return content_hash(chunk.search_text())


def _vectors_for(chunks: list[Chunk], known: dict[str, np.ndarray], settings: Settings, report: IngestReport,
                 progress: Callable[[str, int, int], None] | None) -> np.ndarray:
    """Reuse vectors of unchanged text; embed only new text."""
    missing = [i for i, c in enumerate(chunks) if _vector_key(c) not in known]
    # Shortest first: each batch then holds passages of similar length, so little padding is embedded
    # (≈ 15-40 % less CPU for the report, bench/bench_embed.py). Rows are put back in order below.
    missing.sort(key=lambda i: len(chunks[i].search_text()))
    report.chunks_embedded = len(missing)
    if not chunks:
        return np.zeros((0, 1), dtype=np.float32)
    fresh = np.zeros((0, 0), dtype=np.float32)
    if missing:
        embedder = get_embedder(settings)
        texts = [chunks[i].search_text() for i in missing]
        parts = []
        step = max(1, settings.embedding_batch_size)
        for start in range(0, len(texts), step):
            parts.append(embedder.embed(texts[start:start + step]))
            if progress:
                progress("embedding chunks", min(start + step, len(texts)), len(texts))
        fresh = np.vstack(parts)
    dimension = fresh.shape[1] if missing else len(next(iter(known.values())))
    vectors = np.zeros((len(chunks), dimension), dtype=np.float32)
    fresh_rows = {index: row for row, index in enumerate(missing)}
    for i, chunk in enumerate(chunks):
        vectors[i] = fresh[fresh_rows[i]] if i in fresh_rows else known[_vector_key(chunk)]
    return vectors


def _cites_itself(entry: dict) -> bool:
    """True when a manifest entry records how to cite its document (title page or metadata)."""
    return all(field in entry for field in REFERENCE_FIELDS)


def _reference(entry: dict) -> dict:
    """The citing fields of a manifest entry, for a Document rebuilt from it."""
    return {field: entry[field] for field in REFERENCE_FIELDS if entry.get(field) is not None}


def _document_entry(doc: Document, previous: dict | None) -> dict:
    kinds: dict[str, int] = {}
    for chunk in doc.chunks:
        kinds[chunk.kind] = kinds.get(chunk.kind, 0) + 1
    footnotes = [n.model_dump() for n in doc.footnotes] if doc.footnotes else (previous or {}).get("footnotes", [])
    unchanged = previous is not None and previous.get("doc_id") == doc.id
    return {"path": doc.path, "doc_id": doc.id, "title": doc.title, "role": doc.role, "pages": doc.pages,
            "kinds": kinds, "chunks": len(doc.chunks), "footnotes": footnotes,
            "source_lines": sorted({c.table.source for c in doc.chunks if c.table and c.table.source} |
                                   {line.split("Source:", 1)[1].strip() for c in doc.chunks if c.kind == "table"
                                    for line in c.text.splitlines() if line.startswith("Source:")}),
            "ingested_at": previous["ingested_at"] if unchanged else time.strftime("%Y-%m-%d %H:%M:%S"),
            **{field: getattr(doc, field) for field in REFERENCE_FIELDS}}


def _manifest(key: str, settings: Settings, explicit: list[str], documents: dict[str, Document],
              entries: list[dict], report: IngestReport) -> dict:
    manifest = {"settings_key": key, "model": model_name(settings), "chunking_version": CHUNKING_VERSION,
                "created_at": time.strftime("%Y-%m-%d %H:%M:%S"), "explicit_paths": explicit,
                "documents": entries, "skipped": report.skipped}
    manifest["sources"] = [s.model_dump() for s in registry_from_manifest(manifest)]
    return manifest
