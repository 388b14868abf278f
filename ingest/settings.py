"""One settings object for every stage, read from `AMPI_*` environment variables at entry points."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where data lives, which models to use and how retrieval and answers behave."""

    # populate_by_name: a field with environment aliases (ui_password_file) is still set by its name in code.
    model_config = SettingsConfigDict(env_prefix="AMPI_", extra="ignore", populate_by_name=True)

    corpus_dir: Path = Field(REPO_ROOT / "corpus", description="Folder of documents ingested by default.")
    data_dir: Path = Field(REPO_ROOT / ".ampi", description="Folder for feedback, briefings and uploads.")
    index_dir: Path = Field(REPO_ROOT / ".ampi" / "index", description="Folder of the embedded Chroma store and keyword index.")
    chroma_host: str | None = Field(None, description="Chroma server host; when set, the server is used instead of the local folder.")
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    collection_prefix: str = Field("ampi", description="Prefix of the Chroma collection names this project owns.")
    embedding_model: str = Field("", description="Folder of a sentence-transformers model; empty means the bundled all-MiniLM-L6-v2.")
    embedding_batch_size: int = Field(32, description="Passages embedded per batch.")
    embedding_backend: str = Field("onnx", description="'onnx' (the bundled model through onnxruntime) or 'sentence-transformers' (torch).")
    model_cache_dir: Path | None = Field(None, description="Folder of the exported ONNX model; empty means <data_dir>/models.")
    onnx_threads: int | None = Field(None, ge=1, description="Threads of one onnxruntime call; empty means the cores, at most 2.")
    pdf_password: str | None = Field(None, description="Password tried for encrypted PDFs.")
    max_file_mb: float = Field(50.0, description="Files larger than this are rejected before they are read.")
    chunk_words: int = Field(220, description="Target words per chunk for documents without numbered paragraphs.")
    chunk_overlap_words: int = Field(30, description="Word overlap between such chunks.")
    top_k: int = Field(10, description="Passages returned by retrieval.")
    candidate_k: int = Field(30, description="Candidates taken from each retriever before fusion.")
    refusal_threshold: float = Field(0.3, description="Minimum evidence support (0-1) below which the answer is 'the documents don't say'.")
    ui_host: str = Field("127.0.0.1", description="Host the web UI binds to.")
    ui_port: int = Field(7860, description="Port of the web UI.")
    ui_users: str | None = Field(None, description="Comma-separated user:password pairs; when set, the UI requires login.")
    ui_password_file: Path | None = Field(None, validation_alias=AliasChoices("AMPI_UI_USERS_FILE", "AMPI_UI_PASSWORD_FILE"),
                                          description="File of user:password or user:hash lines (AMPI_UI_USERS_FILE); when set, the UI requires login.")
    ui_login_free_attempts: int = Field(5, ge=1, description="Failed logins of one user or one client address before each further attempt must wait.")
    ui_login_max_wait_s: float = Field(300.0, gt=0, description="Longest wait between login attempts; it doubles from 1 s with each failure.")
    ui_session_ttl_s: float = Field(3600.0, gt=0, description="A browser session unused this long is forgotten (its answers and selections).")
    visitor_briefing_days: float = Field(30.0, gt=0, description="A briefing of a browser without login, untouched this many days, is deleted with its export.")
    max_upload_mb: float = Field(25.0, description="Largest file accepted by the UI upload.")
    ui_answer_concurrency: int = Field(4, ge=1, description="Questions the UI answers at the same time.")
    generation_grace_s: float = Field(120.0, description="A replaced index generation is kept this long for questions under way.")
    ingest_timeout_s: float = Field(1800.0, description="An ingest started from the UI is stopped after this long.")
    llm_base_url: str | None = Field(None, description="Optional OpenAI-compatible endpoint; never required.")

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is configured."""
        return bool(self.chroma_host)

    @property
    def sources_dir(self) -> Path:
        """Folder holding the cited source documents the user adds."""
        return self.corpus_dir / "sources"


# Environment that keeps Hugging Face, Chroma, onnxruntime and Gradio from reaching for the network.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def offline_environment() -> None:
    """Stop the libraries from reaching for the network (see STACK-NOTES); call at entry points."""
    import os

    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


BUNDLED_REPORT = "ampi-future-state-of-machinery-2025.md"
