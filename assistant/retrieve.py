"""Hybrid retrieval: dense (Chroma) and keyword (BM25) results fused by reciprocal rank, then a cheap rerank.

llama-index's QueryFusionRetriever does the same fusion, but it re-embeds the query through its
own wrapper and returns framework nodes; the query vector is needed again for sentence scoring,
so the ten-line fusion is kept here and the BM25 side uses llama-index's BM25Retriever.
"""

from __future__ import annotations

import math
import re

import numpy as np

from assistant.domain import active
from assistant.query import AREA_PATTERNS, Query, dimension_asked
from assistant.text import stems
from index.store import ChromaStore
from ingest.records import Chunk, Hit
from ingest.settings import Settings

RRF_K = 60


def idf(term: str, frequency: dict[str, int], total: int) -> float:
    """Inverse document frequency of a stem; unseen stems weigh most."""
    return math.log(1 + total / (1 + frequency.get(term, 0)))


def coverage(query: Query, text: str, frequency: dict[str, int], total: int) -> float:
    """IDF-weighted share of the question's key stems (or their synonyms) present in a text."""
    have = set(stems(text))
    form = {t for t in dimension_asked(query) if not frequency.get(t)}  # 'how old': no word to find
    weights = {t: idf(t, frequency, total) for t in query.stems if t not in form}
    if not weights:
        return 0.0
    by_acronym = active().covered_by_acronyms(query.stems, have)
    covered = sum(w for t, w in weights.items() if t in have or t in by_acronym or (query.variants(t) - {t}) & have)
    return covered / sum(weights.values())


def _locator_bonus(query: Query, chunk: Chunk) -> float:
    return 1.0 if chunk.locator in query.locators else 0.0


def _area_fit(query: Query, chunk: Chunk) -> float:
    """+ when the chunk names the area asked about (UK vs GB kept apart), − when it names only the other."""
    if not query.areas:
        return 0.0
    text = f" {chunk.text} "
    hits = [a for a in query.areas if re.search(AREA_PATTERNS[a], text)]
    others = [a for a in AREA_PATTERNS if a not in query.areas and re.search(AREA_PATTERNS[a], text)]
    return 0.5 * len(hits) - (0.3 if others and not hits else 0.0)


def exact_nearest(chunks: list, vectors: np.ndarray, vector: np.ndarray, k: int,
                  docs: set[str] | None = None) -> list[tuple[str, float]]:
    """Ids and cosine similarities of the k nearest chunks, ranked exactly over the loaded vectors.

    Written here rather than asking Chroma: its HNSW search is approximate, and its graph differs from one build
    to the next, so the same question over two ingests of the same report got different candidates now and
    then (measured: 1-2 of the exact top 30 missed over the 69 dev questions, differently per build). A
    matrix product over a few thousand chunks costs well under a millisecond."""
    query = vector / max(float(np.linalg.norm(vector)), 1e-12)
    similarity = vectors @ query
    if docs:
        allowed = np.fromiter((c.doc_id in docs for c in chunks), dtype=bool, count=len(chunks))
        similarity = np.where(allowed, similarity, -np.inf)
    order = np.argsort(-similarity, kind="stable")[:k]
    return [(chunks[i].id, float(similarity[i])) for i in order if np.isfinite(similarity[i])]


def retrieve(query: Query, vector: np.ndarray, loaded, store: ChromaStore, settings: Settings,
             docs: set[str] | None = None, section: str | None = None, sides: list[str] = ()) -> list[Hit]:
    """Top passages for a question, best first, optionally within some documents (ids) or a section.

    `sides` are names a comparison sets against each other: each gets its best passage among the top ones."""
    if loaded.vectors is not None and len(loaded.vectors) == len(loaded.chunks):
        dense = exact_nearest(loaded.chunks, loaded.vectors, vector, settings.candidate_k, docs)
    else:
        where = {"doc_id": {"$in": sorted(docs)}} if docs else None
        dense = store.search(loaded.name, vector, settings.candidate_k, where=where)
    keyword = loaded.keyword.search(" ".join([query.search_text] + sorted(query.expanded - query.stems)))
    fused: dict[str, float] = {}
    similarity: dict[str, float] = {}
    for rank, (chunk_id, score) in enumerate(dense):
        fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
        similarity[chunk_id] = score
    for rank, (chunk_id, _) in enumerate(keyword):
        fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    for locator in query.locators:  # "Table 2-2" typed by the user: always a candidate
        for chunk in loaded.chunks:
            if chunk.locator == locator:
                fused.setdefault(chunk.id, 1.0 / RRF_K)
    total = len(loaded.chunks)
    hits = []
    for chunk_id, rrf in fused.items():
        chunk = loaded.by_id.get(chunk_id)
        if chunk is None or (docs and chunk.doc_id not in docs) or (section and section.lower() not in chunk.section.lower()):
            continue
        score = (
            rrf * RRF_K / 2  # 0..1: both retrievers' rank 1 gives 1.0
            + 0.6 * coverage(query, chunk.search_text(), loaded.document_frequency, total)
            + 0.3 * similarity.get(chunk_id, 0.0)
            + 2.0 * _locator_bonus(query, chunk)
            + 0.3 * _area_fit(query, chunk)
            + _kind_prior(query, chunk)
            + _document_prior(query, chunk, loaded.report_ids)
        )
        hits.append(Hit(chunk=chunk, score=score, dense=similarity.get(chunk_id, 0.0)))
    hits.sort(key=lambda h: -h.score)
    top = hits[: max(settings.top_k, 10)]
    for side in sides:
        # "Which is bigger, A or B?": the passages about A can fill the list, and then B's figure is never read.
        if top and not any(_names(side, h.chunk) for h in top):
            best = next((h for h in hits if _names(side, h.chunk)), None)
            if best is not None:
                top = [top[0], best, *top[1:-1]]
    return top


def _names(side: str, chunk: Chunk) -> bool:
    """Whether a passage names a side: each of its words, as words, in the passage."""
    return all(re.search(rf"\b{re.escape(word)}\b", chunk.text, re.I) for word in side.split())


def _document_prior(query: Query, chunk: Chunk, report_ids: set[str]) -> float:
    """Prefer the bundled report when documents overlap, unless the question names the other document."""
    if not report_ids or chunk.doc_id in report_ids:
        return 0.0
    title_words = {w for w in stems(chunk.doc_title) if len(w) > 3}
    return 0.3 if title_words & query.stems else -0.1


def _kind_prior(query: Query, chunk: Chunk) -> float:
    """Footnotes answer source questions; tables answer figure questions; summaries answer summaries."""
    if chunk.kind == "footnote":
        return 0.1 if query.kind in {"source", "definition"} else -0.15
    if chunk.kind == "table":
        return 0.1 if chunk.table and query.kind in {"figure", "compare"} else (-0.2 if not chunk.table else 0.0)
    if chunk.kind == "summary":
        return 0.15 if query.kind == "summary" else 0.0
    if chunk.kind == "text":
        return -0.1
    return 0.0
