"""The Chroma wrapper: one client (embedded folder or server), generations of collections, one pointer.

Every ingest writes a new *generation* (a fresh collection plus a small manifest collection) and
only then moves the pointer to it, so a failed or killed ingest leaves the previous generation
serving. The same code works against a local folder and a `chroma run` server.

Reading never writes the index folder. Chroma writes to every folder it opens, even to read (a lock
row in chroma.sqlite3 and the HNSW length files), so a reader opens a private copy of the folder
(`IndexCopy`) and takes a new one when an ingest has changed the folder: questions work on a
read-only folder or a full disk, and never change the index.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import NoIndex, StoreError
from ingest.records import Chunk, Table
from ingest.settings import Settings

log = logging.getLogger(__name__)

POINTER = "pointer"
MANIFEST_ID = "manifest"
COPY_PREFIX = "ampi-index-copy-"
COPY_ATTEMPTS = 8  # an ingest writing the folder while it is copied: copy again once it has paused


def failure_kind(exc: BaseException) -> str | None:
    """'read-only' or 'full' when an error comes from a read-only folder or a full disk, else None."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(
            s in text for s in ("readonly database", "read-only file system", "permission denied")):
        return "read-only"
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "no space left" in text:
        return "full"
    return None


def folder_failure(folder: Path, exc: BaseException, otherwise: str, setting: str = "AMPI_INDEX_DIR") -> StoreError:
    """One sentence for a folder that cannot be used: why (read-only, disk full, other) and what to do."""
    detail = f"{type(exc).__name__}: {exc}"
    kind = failure_kind(exc)
    if kind == "read-only":
        return StoreError(f"the folder {folder} is read-only ({detail}); make it writable or set {setting} "
                          "to a folder you can write to")
    if kind == "full":
        return StoreError(f"the disk holding {folder} is full ({detail}); free some space there or set {setting} "
                          "to a folder on another disk, then run the command again")
    return StoreError(f"the folder {folder} is not usable ({detail}); {otherwise}")


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_client(settings: Settings):
    """A Chroma client for the settings that may write: HttpClient when a host is set, else a PersistentClient."""
    import chromadb

    if settings.server_mode:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=_chroma_settings())
        except Exception as exc:  # chromadb raises ValueError/ConnectError variants on connect
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc})") from exc
    folder = settings.index_dir / "chroma"
    if not (folder / "chroma.sqlite3").exists():
        # chromadb caches one client per path; after the folder was deleted that client still holds
        # the old database open, so start from a fresh system.
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    try:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(folder), settings=_chroma_settings())
    except Exception as exc:
        raise folder_failure(settings.index_dir, exc, "run `ampi ingest` to rebuild it") from exc


# -- reading from a private copy -------------------------------------------------------------------
def temp_root() -> Path:
    """Where copies go: Python's temporary folder (TMPDIR, else /tmp, ...), or TMPDIR as set when none is usable."""
    try:
        return Path(tempfile.gettempdir())
    except OSError:  # "no usable temporary directory": name the one the user would expect
        return Path(os.environ.get("TMPDIR") or "/tmp")


def _temp_failure(exc: BaseException) -> StoreError:
    return folder_failure(temp_root(), exc, "set TMPDIR to another folder", "TMPDIR")


def folder_signature(folder: Path) -> tuple:
    """What changes whenever Chroma writes the folder: each file's size and time, and SQLite's commit counter."""
    files = []
    for parent, _dirs, names in os.walk(folder):  # os.walk skips what an ingest deletes meanwhile
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                info = os.stat(os.path.join(parent, name))
                files.append((os.path.relpath(os.path.join(parent, name), folder), info.st_size, info.st_mtime_ns))
    counter = b""
    with contextlib.suppress(OSError), open(folder / "chroma.sqlite3", "rb") as handle:
        handle.seek(24)  # file times can be too coarse to tell two quick writes apart; this counter cannot
        counter = handle.read(4)
    return tuple(sorted(files)), counter


def _copy_folder(folder: Path, target: Path) -> None:
    """Copy the files of `folder` into `target`; errors say whether reading the index or writing the copy failed."""
    for parent, _dirs, names in os.walk(folder):
        here = target / os.path.relpath(parent, folder)
        for name in names:
            try:
                source = open(os.path.join(parent, name), "rb")  # opened apart from the copy: its errors mean the index
            except FileNotFoundError:
                continue  # deleted by an ingest meanwhile: the signature check copies again
            except OSError as exc:
                raise StoreError(f"the index folder {folder.parent} cannot be read ({type(exc).__name__}: {exc}); "
                                 "give this user read access to it") from exc
            with source:
                try:
                    here.mkdir(parents=True, exist_ok=True)
                    with open(here / name, "wb") as copy:
                        shutil.copyfileobj(source, copy)
                except OSError as exc:
                    raise _temp_failure(exc) from exc


def _discard(client, path: Path) -> None:
    with contextlib.suppress(Exception):  # already closed, or half-opened: only the files are left to remove
        client.close()  # stops Chroma's system for this path, so its memory is returned
    shutil.rmtree(path, ignore_errors=True)


def drop_stale_copies() -> None:
    """Remove copies left by processes that were killed before they could clean up."""
    for path in temp_root().glob(f"{COPY_PREFIX}*"):
        pid = path.name.removeprefix(COPY_PREFIX).split("-", 1)[0]
        try:
            os.kill(int(pid), 0)  # signal 0 only asks whether the process exists
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, PermissionError):  # not our name, or another user's live process
            continue


class IndexCopy:
    """A private copy of a Chroma folder, opened read-write by Chroma; removed when no longer referenced."""

    def __init__(self, folder: Path):
        import chromadb

        drop_stale_copies()
        for attempt in range(COPY_ATTEMPTS):
            self.signature = folder_signature(folder)
            try:
                self.path = Path(tempfile.mkdtemp(prefix=f"{COPY_PREFIX}{os.getpid()}-"))
                _copy_folder(folder, self.path / "chroma")
            except OSError as exc:  # from mkdtemp: _copy_folder raises StoreError itself
                raise _temp_failure(exc) from exc
            except BaseException:
                shutil.rmtree(self.path, ignore_errors=True)
                raise
            if folder_signature(folder) == self.signature:
                break
            shutil.rmtree(self.path, ignore_errors=True)
            time.sleep(0.05 * (attempt + 1))
        else:
            raise StoreError(f"the index folder {folder.parent} kept changing while it was read (an ingest is writing "
                             "it); ask again in a moment")
        try:
            self.client = chromadb.PersistentClient(path=str(self.path / "chroma"), settings=_chroma_settings())
        except Exception as exc:
            shutil.rmtree(self.path, ignore_errors=True)
            raise (_temp_failure(exc) if failure_kind(exc) else StoreError(
                f"the index folder {folder.parent} cannot be read ({type(exc).__name__}: {exc}); "
                "run `ampi ingest` to rebuild it")) from exc
        self._finalizer = weakref.finalize(self, _discard, self.client, self.path)

    def close(self) -> None:
        """Close the copy's client and delete its files."""
        self._finalizer()


def chunk_metadata(chunk: Chunk, role: str) -> dict[str, Any]:
    """Flat metadata Chroma can store (scalars only)."""
    return {
        "doc_id": chunk.doc_id, "doc_title": chunk.doc_title, "doc_path": chunk.doc_path, "role": role,
        "kind": chunk.kind, "locator": chunk.locator, "page": chunk.page if chunk.page is not None else -1,
        "section": chunk.section, "heading": chunk.heading, "order": chunk.order, "continues": chunk.continues,
        "footnotes": ",".join(str(n) for n in chunk.footnotes),
        "table_json": chunk.table.model_dump_json() if chunk.table else "",
    }


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """Rebuild a Chunk from what Chroma returns."""
    return Chunk(
        id=chunk_id, doc_id=meta["doc_id"], doc_title=meta["doc_title"], doc_path=meta["doc_path"],
        kind=meta["kind"], locator=meta["locator"], page=None if meta.get("page", -1) < 0 else meta["page"],
        section=meta.get("section", ""), heading=meta.get("heading", ""), text=text, order=meta.get("order", 0),
        continues=meta.get("continues", ""),
        footnotes=[int(n) for n in str(meta.get("footnotes", "")).split(",") if n],
        table=Table.model_validate_json(meta["table_json"]) if meta.get("table_json") else None,
    )


class ChromaStore:
    """Generations of chunk collections in one Chroma client, switched atomically by a pointer."""

    def __init__(self, settings: Settings, client=None, writable: bool = False):
        """`writable` for an ingest: Chroma opens the folder itself. Otherwise a local folder is read from a copy."""
        self.settings = settings
        self.prefix = settings.collection_prefix
        self._in_place = client is not None or writable or settings.server_mode
        self._client = client or (open_client(settings) if self._in_place else None)
        self._copies: list[IndexCopy] = []  # the newest last; the one before it may still serve a question under way
        self._lock = threading.Lock()

    @property
    def client(self):
        """The Chroma client: the folder or server itself, or (reading a local folder) the newest copy."""
        if self._client is None:
            self.refresh()
        return self._client

    def refresh(self) -> None:
        """Reading a local folder: take a new copy when an ingest changed the folder since the last one."""
        if self._in_place:
            return
        folder = self.settings.index_dir / "chroma"
        if not (folder / "chroma.sqlite3").exists():
            raise NoIndex(f"the index folder {self.settings.index_dir} is missing; run `ampi ingest` to build it")
        with self._lock:
            if self._copies and self._copies[-1].signature == folder_signature(folder):
                return
            copy = IndexCopy(folder)
            for old in self._copies[:-1]:
                old.close()
            self._copies = [*self._copies[-1:], copy]
            self._client = copy.client

    def where(self) -> str:
        """The index's location as people know it: a folder or a server address."""
        if self.settings.server_mode:
            return f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
        return f"the index folder {self.settings.index_dir}"

    def _describe(self, exc: Exception) -> StoreError:
        if isinstance(exc, StoreError):
            return exc
        if not self._in_place and failure_kind(exc):  # a reader writes only to its copy
            return _temp_failure(exc)
        if self.settings.server_mode:
            return StoreError(f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port} is not "
                              f"answering ({type(exc).__name__}: {exc}); check that it is running")
        return folder_failure(self.settings.index_dir, exc, "run `ampi ingest` to rebuild it")

    # -- pointer ------------------------------------------------------------------------------
    def _pointer_metadata(self) -> dict[str, Any]:
        """The pointer's metadata; empty until an ingest has switched one in (reading never creates it)."""
        from chromadb.errors import NotFoundError

        try:
            return self.client.get_collection(f"{self.prefix}_{POINTER}", embedding_function=None).metadata or {}
        except NotFoundError:
            return {}

    def current_name(self) -> str | None:
        """Name of the collection that currently serves queries, if any."""
        if not self.settings.server_mode and not (self.settings.index_dir / "chroma" / "chroma.sqlite3").exists():
            raise NoIndex(f"the index folder {self.settings.index_dir} is missing; run `ampi ingest` to build it")
        try:
            self.refresh()
            return self._pointer_metadata().get("current") or None
        except Exception as exc:
            raise self._describe(exc) from exc

    def switch_to(self, name: str) -> None:
        """Point queries at a complete generation (one metadata write: all or nothing).

        The generation it replaces is recorded as retired, with the time: questions already under way
        still read it, so it is deleted only by a later ingest, after `generation_grace_s`.
        """
        pointer = self.client.get_or_create_collection(f"{self.prefix}_{POINTER}", embedding_function=None,
                                                       metadata={"current": ""})
        meta = pointer.metadata or {}
        now = time.time()
        retired = {n: t for n, t in self.retired().items() if n in self.generations()}
        if meta.get("current") and meta["current"] != name:
            retired[meta["current"]] = now
        pointer.modify(metadata={"current": name, "switched_at": now, "retired": json.dumps(retired)})

    def retired(self) -> dict[str, float]:
        """Replaced generations and when they were replaced."""
        try:
            return json.loads(self._pointer_metadata().get("retired") or "{}")
        except ValueError:
            return {}

    # -- generations --------------------------------------------------------------------------
    def new_generation(self, settings_key: str, manifest: dict[str, Any]) -> str:
        """Create an empty collection pair for a new generation; returns its name."""
        name = f"{self.prefix}_{settings_key}_{int(time.time() * 1000)}"
        self.client.create_collection(name, embedding_function=None,
                                      metadata={"hnsw:space": "cosine", "settings_key": settings_key, "complete": False})
        self.write_manifest(name, manifest)
        return name

    def write_manifest(self, name: str, manifest: dict[str, Any]) -> None:
        meta = self.client.get_or_create_collection(f"{name}_meta", embedding_function=None)
        meta.upsert(ids=[MANIFEST_ID], documents=[json.dumps(manifest)], embeddings=[[0.0]])

    def manifest(self, name: str | None = None) -> dict[str, Any]:
        """The manifest of a generation (documents, skipped files, settings), current by default."""
        name = name or self.current_name()
        if not name:
            raise NoIndex(f"no index yet in {self.where()}: run `ampi ingest` first")
        try:
            got = self.client.get_collection(f"{name}_meta", embedding_function=None).get(ids=[MANIFEST_ID])
        except Exception as exc:
            raise self._describe(exc) from exc
        if not got["documents"]:
            raise StoreError(f"the index {name} has no manifest; run `ampi ingest` to rebuild it")
        return json.loads(got["documents"][0])

    def add(self, name: str, chunks: list[Chunk], embeddings: np.ndarray, roles: dict[str, str], batch: int = 256) -> None:
        """Add chunks with precomputed vectors (Chroma never embeds anything itself)."""
        collection = self.client.get_collection(name, embedding_function=None)
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            collection.add(ids=[c.id for c in part], documents=[c.text for c in part],
                           embeddings=embeddings[start:start + batch].tolist(),
                           metadatas=[chunk_metadata(c, roles.get(c.doc_id, "user")) for c in part])

    def mark_complete(self, name: str) -> None:
        collection = self.client.get_collection(name, embedding_function=None)
        meta = dict(collection.metadata or {})
        meta.pop("hnsw:space", None)  # the distance function cannot be modified after creation
        collection.modify(metadata={**meta, "complete": True})

    def all_chunks(self, name: str | None = None, with_embeddings: bool = False) -> tuple[list[Chunk], np.ndarray | None]:
        """Every chunk of a generation (current by default), in document order."""
        name = name or self.current_name()
        if not name:
            raise NoIndex(f"no index yet in {self.where()}: run `ampi ingest` first")
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        try:
            got = self.client.get_collection(name, embedding_function=None).get(include=include)
        except Exception as exc:
            raise self._describe(exc) from exc
        chunks = [chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=False)]
        order = sorted(range(len(chunks)), key=lambda k: (chunks[k].doc_path, chunks[k].order))
        vectors = np.asarray(got["embeddings"], dtype=np.float32)[order] if with_embeddings and chunks else None
        return [chunks[k] for k in order], vectors

    def search(self, name: str, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the k nearest chunks."""
        try:
            collection = self.client.get_collection(name, embedding_function=None)
            got = collection.query(query_embeddings=[vector.tolist()], n_results=k, where=where or None,
                                   include=["distances"])
        except Exception as exc:
            raise self._describe(exc) from exc
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=False)]

    def count(self, name: str | None = None) -> int:
        name = name or self.current_name()
        return self.client.get_collection(name, embedding_function=None).count() if name else 0

    def delete_generation(self, name: str) -> None:
        for collection in (name, f"{name}_meta"):
            try:
                self.client.delete_collection(collection)
            except Exception:  # already gone: nothing to clean
                log.debug("collection %s already removed", collection)

    def generations(self) -> list[str]:
        """Names of all generation collections this project owns (complete or not)."""
        self.refresh()
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n for n in names if n.startswith(f"{self.prefix}_") and not n.endswith("_meta")
                      and n != f"{self.prefix}_{POINTER}")
