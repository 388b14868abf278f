"""The keyword (BM25) side of hybrid retrieval, persisted beside the vectors of each generation."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from ingest.markup import strip_superscripts
from ingest.records import Chunk

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs index building at DEBUG to the console


def _nodes(chunks: list[Chunk]):
    from llama_index.core.schema import TextNode

    return [TextNode(id_=c.id, text=strip_superscripts(c.search_text())) for c in chunks]


class KeywordIndex:
    """llama-index's BM25Retriever (bm25s with English stemming) over the chunks of one generation."""

    def __init__(self, retriever, top_k: int):
        self.retriever = retriever
        self.top_k = top_k

    @classmethod
    def build(cls, chunks: list[Chunk], top_k: int) -> KeywordIndex:
        from llama_index.retrievers.bm25 import BM25Retriever

        return cls(BM25Retriever.from_defaults(nodes=_nodes(chunks), similarity_top_k=min(top_k, max(1, len(chunks)))), top_k)

    def save(self, folder: Path) -> None:
        """Write to a temporary folder first, then rename: a reader never sees half an index."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.retriever.persist(str(tmp), show_progress=False)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load_or_build(cls, folder: Path, chunks: list[Chunk], top_k: int) -> KeywordIndex:
        """The persisted index when present and readable, else one built from the chunks."""
        from llama_index.retrievers.bm25 import BM25Retriever

        if folder.is_dir():
            try:
                retriever = BM25Retriever.from_persist_dir(str(folder), show_progress=False)
                retriever.similarity_top_k = min(top_k, max(1, len(chunks)))
                return cls(retriever, top_k)
            except Exception as exc:  # a damaged cache is rebuilt, never fatal
                log.warning("keyword index at %s unreadable (%s); rebuilding", folder, exc)
        index = cls.build(chunks, top_k)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            index.save(folder)
        except OSError as exc:
            log.warning("could not save keyword index to %s (%s)", folder, exc)
        return index

    def search(self, query: str) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores, best first."""
        if not query.strip():
            return []
        return [(hit.node.node_id, float(hit.score or 0.0)) for hit in self.retriever.retrieve(query)]
