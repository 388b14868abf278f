"""The keyword (BM25) side of hybrid retrieval, persisted beside the vectors of each generation."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from ingest.markup import strip_superscripts
from ingest.records import Chunk
from ingest.stemming import english_stemmer

log = logging.getLogger(__name__)


def _bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # its import sets DEBUG: index building reached the console
    return bm25s


TOKEN_PATTERN = r"(?u)\b\w\w+\b"
RETRIEVER_FILE = "retriever.json"  # llama-index's BM25Retriever wrote one: older index folders have it
CORPUS_FILE = "corpus.jsonl"


class KeywordIndex:
    """BM25 (bm25s, English stop words and stemming) over the chunks of one generation.

    The same index llama-index's BM25Retriever builds (same tokenisation, stop words, stemmer and
    scores), used through bm25s directly: a question then never imports llama-index (≈ 1.3 s). The
    folder format is bm25s' own; older folders written through llama-index load too.
    """

    def __init__(self, bm25, ids: list[str], top_k: int):
        self.bm25 = bm25
        self.ids = ids
        self.top_k = top_k

    @classmethod
    def build(cls, chunks: list[Chunk], top_k: int) -> KeywordIndex:
        bm25s = _bm25s()

        if not chunks:
            raise ValueError("No nodes added to the retriever kindly add more data.")  # as BM25Retriever said
        # Index side as in BM25Retriever: stop words "en", English stemmer, scikit-learn's token pattern.
        tokens = bm25s.tokenize([strip_superscripts(c.search_text()) for c in chunks], stopwords="en",
                                stemmer=english_stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False)
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(bm25, [c.id for c in chunks], top_k)

    def save(self, folder: Path) -> None:
        """Write to a temporary folder first, then rename: a reader never sees half an index."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.bm25.save(str(tmp), corpus=[{"node_id": i} for i in self.ids], show_progress=False)
        (tmp / RETRIEVER_FILE).write_text(json.dumps({"similarity_top_k": self.top_k}))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load_or_build(cls, folder: Path, chunks: list[Chunk], top_k: int) -> KeywordIndex:
        """The persisted index when present and readable, else one built from the chunks."""
        if folder.is_dir():
            try:
                return cls.load(folder, top_k)
            except Exception as exc:  # a damaged cache is rebuilt, never fatal
                log.warning("keyword index at %s unreadable (%s); rebuilding", folder, exc)
        index = cls.build(chunks, top_k)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            index.save(folder)
        except OSError as exc:
            log.warning("could not save keyword index to %s (%s)", folder, exc)
        return index

    @classmethod
    def load(cls, folder: Path, top_k: int) -> KeywordIndex:
        """The index saved in `folder`; raises when it is missing or damaged."""
        bm25s = _bm25s()

        bm25 = bm25s.BM25.load(str(folder), load_corpus=False)
        with open(folder / CORPUS_FILE, encoding="utf-8") as handle:
            ids = [json.loads(line)["node_id"] for line in handle if line.strip()]
        if len(ids) != int(bm25.scores["num_docs"]) or not ids:
            raise ValueError(f"{len(ids)} ids for {bm25.scores['num_docs']} documents")
        return cls(bm25, ids, top_k)

    def search(self, query: str) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores, best first."""
        if not query.strip():
            return []
        bm25s = _bm25s()

        # Query side as in BM25Retriever: bm25s' default (English) stop words, the same stemmer and pattern.
        tokens = bm25s.tokenize(query, stemmer=english_stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False)
        rows, scores = self.bm25.retrieve(tokens, k=min(self.top_k, len(self.ids)), show_progress=False)
        return [(self.ids[int(row)], float(score)) for row, score in zip(rows[0], scores[0], strict=True)]
