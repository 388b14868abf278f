"""The Chroma wrapper: one client (embedded folder or server), generations of collections, one pointer.

Every ingest writes a new *generation* (a fresh collection plus a small manifest collection) and
only then moves the pointer to it, so a failed or killed ingest leaves the previous generation
serving. The same code works against a local folder and a `chroma run` server.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import numpy as np

from ingest.errors import NoIndex, StoreError
from ingest.records import Chunk, Table
from ingest.settings import Settings

log = logging.getLogger(__name__)

POINTER = "pointer"
MANIFEST_ID = "manifest"


def open_client(settings: Settings):
    """A Chroma client for the settings: HttpClient when a host is set, else a PersistentClient."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.server_mode:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises ValueError/ConnectError variants on connect
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc})") from exc
    folder = settings.index_dir / "chroma"
    if not (folder / "chroma.sqlite3").exists():
        # chromadb caches one client per path; after the folder was deleted that client still holds
        # the old database open, so start from a fresh system.
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"the index folder {settings.index_dir} cannot be opened ({exc}); run `ampi ingest` to rebuild it") from exc


def chunk_metadata(chunk: Chunk, role: str) -> dict[str, Any]:
    """Flat metadata Chroma can store (scalars only)."""
    return {
        "doc_id": chunk.doc_id, "doc_title": chunk.doc_title, "doc_path": chunk.doc_path, "role": role,
        "kind": chunk.kind, "locator": chunk.locator, "page": chunk.page if chunk.page is not None else -1,
        "section": chunk.section, "heading": chunk.heading, "order": chunk.order,
        "footnotes": ",".join(str(n) for n in chunk.footnotes),
        "table_json": chunk.table.model_dump_json() if chunk.table else "",
    }


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """Rebuild a Chunk from what Chroma returns."""
    return Chunk(
        id=chunk_id, doc_id=meta["doc_id"], doc_title=meta["doc_title"], doc_path=meta["doc_path"],
        kind=meta["kind"], locator=meta["locator"], page=None if meta.get("page", -1) < 0 else meta["page"],
        section=meta.get("section", ""), heading=meta.get("heading", ""), text=text, order=meta.get("order", 0),
        footnotes=[int(n) for n in str(meta.get("footnotes", "")).split(",") if n],
        table=Table.model_validate_json(meta["table_json"]) if meta.get("table_json") else None,
    )


class ChromaStore:
    """Generations of chunk collections in one Chroma client, switched atomically by a pointer."""

    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.client = client or open_client(settings)
        self.prefix = settings.collection_prefix

    def where(self) -> str:
        """The index's location as people know it: a folder or a server address."""
        if self.settings.server_mode:
            return f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
        return f"the index folder {self.settings.index_dir}"

    def _describe(self, exc: Exception) -> StoreError:
        if self.settings.server_mode:
            return StoreError(f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port} is not "
                              f"answering ({type(exc).__name__}: {exc}); check that it is running")
        return StoreError(f"the index folder {self.settings.index_dir} is not usable ({type(exc).__name__}: {exc}); "
                          "run `ampi ingest` to rebuild it")

    # -- pointer ------------------------------------------------------------------------------
    def _pointer(self):
        return self.client.get_or_create_collection(f"{self.prefix}_{POINTER}", embedding_function=None,
                                                    metadata={"current": ""})

    def current_name(self) -> str | None:
        """Name of the collection that currently serves queries, if any."""
        if not self.settings.server_mode and not (self.settings.index_dir / "chroma" / "chroma.sqlite3").exists():
            raise NoIndex(f"the index folder {self.settings.index_dir} is missing; run `ampi ingest` to build it")
        try:
            name = (self._pointer().metadata or {}).get("current") or None
        except Exception as exc:
            raise self._describe(exc) from exc
        return name

    def switch_to(self, name: str) -> None:
        """Point queries at a complete generation (one metadata write: all or nothing).

        The generation it replaces is recorded as retired, with the time: questions already under way
        still read it, so it is deleted only by a later ingest, after `generation_grace_s`.
        """
        pointer = self._pointer()
        meta = pointer.metadata or {}
        now = time.time()
        retired = {n: t for n, t in self.retired().items() if n in self.generations()}
        if meta.get("current") and meta["current"] != name:
            retired[meta["current"]] = now
        pointer.modify(metadata={"current": name, "switched_at": now, "retired": json.dumps(retired)})

    def retired(self) -> dict[str, float]:
        """Replaced generations and when they were replaced."""
        try:
            return json.loads((self._pointer().metadata or {}).get("retired") or "{}")
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
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n for n in names if n.startswith(f"{self.prefix}_") and not n.endswith("_meta")
                      and n != f"{self.prefix}_{POINTER}")
