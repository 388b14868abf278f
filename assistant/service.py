"""The assistant as a library: load the index once, answer questions with citations.

    >>> from assistant.service import Assistant
    >>> bot = Assistant(Settings())
    >>> result = bot.answer("What was Japan's value added in 2021?")
    >>> result.text, [c.locator for c in result.citations]
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.catalog import GlossaryEntry, OutlineSection, full_glossary, glossary, outline
from assistant.domain import Domain, activate, build_domain
from index.builder import keyword_dir
from index.embedder import Embedder, get_embedder
from index.keyword import KeywordIndex
from index.library import uploads_dir
from index.store import ChromaStore
from ingest.errors import NoDocument, NoIndex, StoreError
from ingest.records import Answer, Chunk
from ingest.settings import Settings, offline_environment
from ingest.sources import Source, registry_from_manifest

log = logging.getLogger(__name__)

# A chat follow-up is read against this many earlier questions; this many recent answers are kept for it.
HISTORY_TURNS = 6
RECENT_ANSWERS = 128

# In each user's uploads folder: the stored names uploaded as shared with everyone (hidden: never ingested).
SHARED = ".shared.json"


@dataclass
class LoadedIndex:
    """One generation of the index held in memory for fast queries."""

    name: str
    chunks: list[Chunk]
    by_id: dict[str, Chunk]
    keyword: KeywordIndex
    manifest: dict
    sources: dict[int, Source]
    glossary: list[GlossaryEntry]
    document_frequency: dict[str, int]
    report_ids: set[str]
    report_title: str
    words: Counter  # the documents' words and how often they occur (spelling is corrected towards them)
    domain: Domain  # what these documents call things (acronyms, subject words), read from them
    bridge_vocabulary: object = None  # assistant.bridge.Vocabulary, built when a question first needs it
    vectors: np.ndarray | None = None  # the chunks' unit embeddings, in chunk order (exact dense ranking)


class Assistant:
    """Answers questions from the current index generation; reloads when a new ingest switches it."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        offline_environment()
        self.settings = settings
        self._embedder = embedder
        self._store: ChromaStore | None = None
        self._loaded: LoadedIndex | None = None
        self._lock = threading.Lock()
        self._answering = threading.local()  # the generation the answer under way in this thread reads
        self._text_vectors: dict[str, np.ndarray] = {}
        self._recent: OrderedDict[tuple, Answer] = OrderedDict()  # recent answers, for chat follow-ups about them
        self._full_glossary: tuple[str, list[GlossaryEntry]] | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def store(self) -> ChromaStore:
        if self._store is None:
            self._store = ChromaStore(self.settings)
        return self._store

    def index(self) -> LoadedIndex:
        """The serving generation, loaded on first use and whenever the pointer moves.

        Within one answer it is looked up once: each lookup checks the index folder and its pointer
        (about 3 ms), and one answer asks for the index several times."""
        pinned = getattr(self._answering, "loaded", None)
        return pinned if pinned is not None else self._current_index()

    def _current_index(self) -> LoadedIndex:
        try:
            name = self.store.current_name()
        except Exception:
            self._store = None  # a server that went away: reconnect on the next question
            raise
        if not name:
            raise NoIndex(f"no index yet in {self.store.where()}: run `ampi ingest` first")
        with self._lock:
            if self._loaded is None or self._loaded.name != name:
                self._loaded = self._load(name)
            activate(self._loaded.domain)  # questions are read with the vocabulary of the index they are answered from
            return self._loaded

    def _load(self, name: str) -> LoadedIndex:
        from assistant.text import stems
        from assistant.wording import vocabulary

        chunks, vectors = self.store.all_chunks(name, with_embeddings=True)
        if vectors is not None and len(vectors):
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        manifest = self.store.manifest(name)
        keyword = KeywordIndex.load_or_build(keyword_dir(self.settings, name), chunks, self.settings.candidate_k)
        terms = glossary(chunks)
        frequency: dict[str, int] = {}
        for chunk in chunks:
            for item in set(stems(chunk.search_text())):
                frequency[item] = frequency.get(item, 0) + 1
        return LoadedIndex(name=name, chunks=chunks, by_id={c.id: c for c in chunks}, keyword=keyword,
                           manifest=manifest, sources={s.number: s for s in registry_from_manifest(manifest)},
                           glossary=terms, document_frequency=frequency,
                           report_ids={d["doc_id"] for d in manifest.get("documents", []) if d["role"] == "report"},
                           report_title=next((d["title"] for d in manifest.get("documents", []) if d["role"] == "report"), ""),
                           words=vocabulary([c.text for c in chunks]),
                           domain=build_domain(chunks, terms, frequency), vectors=vectors)

    # -- questions ----------------------------------------------------------------------------
    def answer(self, question: str, doc: str | None = None, section: str | None = None, user: str | None = None,
               history: list[str] | None = None) -> Answer:
        """A grounded answer with citations, or a plain 'the documents don't say' with related passages.

        `history` holds the earlier questions of the same chat, oldest first: a follow-up such as "and in
        2011?" is then answered as the standalone question it stands for, given in `Answer.resolved`
        (None when the question was answered as asked; see assistant.followup).

        `doc` limits the search to documents whose title or file name contains it; `section` to
        sections whose path contains it (e.g. "Learning from elsewhere"); `user` (the uploads folder
        of the person asking, see ui.uploads.user_folder; None for the CLI) to what they may see.
        """
        started = time.perf_counter()
        outer = getattr(self._answering, "loaded", None)  # a follow-up may answer an earlier question first
        self._answering.loaded = self._current_index()
        try:
            return self._answer(question, doc, section, user, history, started)
        finally:
            self._answering.loaded = outer

    def _answer(self, question: str, doc: str | None, section: str | None, user: str | None,
                history: list[str] | None, started: float) -> Answer:
        from assistant.chooser import compose
        from assistant.evidence import named_section

        reading = self.read(question, history, doc=doc, section=section, user=user) if history else None
        asked = reading.resolved if reading is not None and reading.rewritten else question
        query = self.understand(asked)
        if query.empty:
            return Answer(question=question, text="Please type a question about the documents.", refused=True,
                          kind="empty", latency_ms=(time.perf_counter() - started) * 1000)
        if section is None:  # "summarise the section on X": keep to that section when the documents have one
            section = named_section(query, self.index().chunks)
        loaded, vector, hits = self.search(query, doc=doc, section=section, user=user)
        within = None
        hidden = self.hidden_documents(user)
        if doc or section or hidden:  # every answer path keeps to the limits, tables included
            docs = self.visible_ids(doc, user, hidden)
            within = {(c.doc_title, c.locator) for c in loaded.chunks if (docs is None or c.doc_id in docs)
                      and (not section or section.lower() in c.section.lower())}
        result = compose(query, hits, loaded, self.settings, vector, self.embed_texts, within)
        result.question = " ".join(question.split())[:2000]  # as asked: analyse() rewrites "what's" for matching
        result.resolved = asked if asked is not question else None
        result.retrieved = hits[: self.settings.top_k]
        result.latency_ms = (time.perf_counter() - started) * 1000
        self._remember((asked, doc, section, user), result)
        return result

    def understand(self, question: str):
        """The question as the answerer reads it (an assistant.query.Query): chat shorthand spelt out, typos
        corrected, and words the documents never use bridged to their nearest term (assistant/bridge.py)."""
        from assistant.query import analyse
        from assistant.wording import normalise

        text = normalise(question, self.index().words)
        self._bridge_unknown_words(text)
        return analyse(text)

    def _bridge_unknown_words(self, text: str) -> None:
        from assistant import bridge

        loaded = self.index()
        unknown = bridge.unknown_words(text, loaded.document_frequency, loaded.domain)
        if not unknown:
            return
        if loaded.bridge_vocabulary is None:
            from index.builder import keyword_dir

            loaded.bridge_vocabulary = bridge.load_or_build(
                [c.text for c in loaded.chunks], loaded.domain.names, self.embed_texts_uncached,
                keyword_dir(self.settings, loaded.name), self.settings.embedding_model or "bundled")
        found = bridge.nearest(unknown, loaded.bridge_vocabulary, self.embed_texts)
        loaded.domain.bridges.update(found)
        loaded.domain.unbridged.update(bridge.stem(w) for w in unknown if bridge.stem(w) not in found)

    def embed_texts_uncached(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.embed(texts))

    def read(self, question: str, history: list[str] | None, doc: str | None = None, section: str | None = None,
             user: str | None = None):
        """How a chat question is read against the earlier questions of its chat (an assistant.followup.Reading)."""
        from assistant.followup import names_for, read_conversation
        from assistant.wording import plain_everyday, spell_out

        loaded = self.index()
        earlier = [" ".join(q.split())[:2000] for q in (history or []) if isinstance(q, str) and q.strip()]
        # Word by word as typed, with shorthand and typos spelt out ("north lincs": North Lincolnshire, a place the
        # reader knows), so "Read as" keeps the asker's wording and shows how each word was read.
        # (Everyday phrasings in plain words too: "how does that stack up against 2011" compares.)
        asked = [spell_out(plain_everyday(q), loaded.words)
                 for q in earlier[-HISTORY_TURNS:] + [" ".join(question.split())[:2000]]]

        def answer_of(resolved: str) -> Answer:  # what an earlier answer named ("which country…?" then "its …")
            return self._recall((resolved, doc, section, user))

        reading = read_conversation(asked, names_for(loaded), answer_of, self.similarity)[-1]
        reading.question = question
        return reading

    def similarity(self, a: str, b: str) -> float:
        """How alike two short phrases are in meaning (cosine of their vectors)."""
        first, second = self.embed_texts([a, b])
        return cosine(first, second)

    def _remember(self, key: tuple, answer: Answer) -> None:
        with self._lock:
            self._recent[key] = answer
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_ANSWERS:
                self._recent.popitem(last=False)

    def _recall(self, key: tuple) -> Answer:
        """The answer to an earlier resolved question of a chat: remembered, or asked again."""
        with self._lock:
            known = self._recent.get(key)
        return known if known is not None else self.answer(key[0], doc=key[1], section=key[2], user=key[3])

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Vectors of answer texts, remembered: the same passages come back for many questions."""
        known = self._text_vectors  # shared by the UI's concurrent questions: read with get(), never index
        vectors = {t: v for t in texts if (v := known.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing), strict=True))
            vectors.update(fresh)
            if len(known) > 20_000:  # bound the memory a long-running server spends on it
                known.clear()
            known.update(fresh)
        return np.stack([vectors[t] for t in texts])

    def search(self, query, doc: str | None = None, section: str | None = None,
               user: str | None = None) -> tuple[LoadedIndex, np.ndarray, list]:
        """The serving index, the question's vector and its retrieved passages (of what `user` may see), best first."""
        from assistant.evidence import names_in
        from assistant.retrieve import retrieve

        loaded = self.index()
        sides = names_in(query.text) if query.kind == "compare" else []
        vector = self.embedder.embed_query(query.search_text)
        docs = self.visible_ids(doc, user, self.hidden_documents(user))
        if doc and not docs:
            raise NoDocument(f"no indexed document matches '{doc}'; `ampi status` lists them")
        try:
            hits = retrieve(query, vector, loaded, self.store, self.settings, docs=docs, section=section, sides=sides)
        except StoreError:
            # An ingest switched generations while this question was under way: ask once more on the new one.
            if self.store.current_name() == loaded.name:
                raise
            loaded = self._current_index()
            if getattr(self._answering, "loaded", None) is not None:
                self._answering.loaded = loaded
            hits = retrieve(query, vector, loaded, self.store, self.settings, docs=docs, section=section, sides=sides)
        return loaded, vector, hits

    def matching_documents(self, name: str, user: str | None = None) -> set[str]:
        """Ids of documents `user` may see whose title or file name contains `name` (case-insensitive)."""
        wanted = name.lower()
        return {d["doc_id"] for d in self.documents(user)
                if wanted in d["title"].lower() or wanted in d["path"].rsplit("/", 1)[-1].lower()}

    def visible_ids(self, doc: str | None, user: str | None, hidden: set[str]) -> set[str] | None:
        """The documents a search may use (None: all): those matching `doc`, less the ones hidden from `user`."""
        if doc:
            return self.matching_documents(doc, user)
        if not hidden:
            return None
        return {d["doc_id"] for d in self.index().manifest.get("documents", [])} - hidden

    def hidden_documents(self, user: str | None) -> set[str]:
        """Ids of other users' uploads that `user` may not see: those not uploaded as shared with everyone.

        The owner of an upload is the user folder it sits in; the corpus folder and paths given to
        `ampi ingest PATH` belong to whoever runs the server, so everyone sees them.
        """
        root = uploads_dir(self.settings).resolve()
        shared: dict[str, set[str]] = {}
        hidden = set()
        for entry in self.index().manifest.get("documents", []):
            owner = upload_owner(Path(entry["path"]), root)
            if owner is None or owner[0] == user:
                continue
            if owner[0] not in shared:
                shared[owner[0]] = shared_names(root / owner[0])
            if owner[1] not in shared[owner[0]]:
                hidden.add(entry["doc_id"])
        return hidden

    # -- browsing -----------------------------------------------------------------------------
    def outline(self) -> list[OutlineSection]:
        return outline(self.index().chunks)

    def glossary(self) -> list[GlossaryEntry]:
        """Every acronym the documents use, spelled out where they spell it out (for people browsing).

        Answers keep to `LoadedIndex.glossary`, the definitions the documents state outright.
        """
        loaded = self.index()
        cached = self._full_glossary
        if cached is None or cached[0] != loaded.name:
            cached = self._full_glossary = (loaded.name, full_glossary(loaded.chunks, loaded.glossary))
        return cached[1]

    def documents(self, user: str | None = None) -> list[dict]:
        """Indexed documents `user` may see (see `answer`), with role, counts and when they were ingested."""
        hidden = self.hidden_documents(user)
        return [d for d in self.index().manifest.get("documents", []) if d["doc_id"] not in hidden]

    def sources(self) -> list[Source]:
        return list(self.index().sources.values())

    def chunk(self, chunk_id: str) -> Chunk | None:
        """An indexed passage by id (only indexed passages can ever be shown)."""
        return self.index().by_id.get(chunk_id)

    def footnotes_for(self, chunk: Chunk) -> list[Source]:
        sources = self.index().sources
        return [sources[n] for n in chunk.footnotes if n in sources]


def upload_owner(path: Path, root: Path) -> tuple[str, str] | None:
    """(user folder, name inside it) of an uploaded file under `root`; None for any other document."""
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return None
    # A file put straight into the uploads folder (by hand, on the server) has no owner: like corpus files.
    return (parts[0], "/".join(parts[1:])) if len(parts) > 1 else None


def shared_names(folder: Path) -> set[str]:
    """Names in one user's uploads folder uploaded as shared with everyone (unreadable: none, so nothing leaks)."""
    try:
        names = json.loads((folder / SHARED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def answer(question: str, settings: Settings) -> Answer:
    """One-off answer (loads the index and model; use Assistant to keep them loaded)."""
    return Assistant(settings).answer(question)


def answer_record(result: Answer, item_id: str | None = None, in_chat: bool = False) -> dict:
    """The JSON object of `ampi ask --json` and the UI's /ask API, with exactly the documented keys.

    `in_chat` (a question asked with a history) adds "resolved": the standalone question answered.
    """
    record = {
        "id": item_id,
        "question": result.question,
        "answer": result.text,
        "refused": result.refused,
        "citations": [{"doc": c.doc, "locator": c.locator, "page": c.page, "section": c.section,
                       "text": c.text, "sources": c.sources} for c in result.citations],
        "retrieved": [{"doc": h.chunk.doc_title, "locator": h.chunk.locator, "page": h.chunk.page,
                       "text": h.chunk.text, "score": round(float(h.score), 4)} for h in result.retrieved[:10]],
        "latency_ms": round(result.latency_ms, 1),
    }
    if in_chat:
        record["resolved"] = result.resolved or result.question
    return record


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))
