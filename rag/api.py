"""The few calls a Python user needs; `import rag` exposes them (see README, "Python API")."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .config import Settings, get_settings


def open_index(index_dir: str | Path | None = None, *, embedding: str | None = None,
               settings: Settings | None = None):
    """The index in `index_dir` (default: Settings.index_dir); empty if none was built there yet."""
    s = settings or get_settings()
    if index_dir is not None or embedding is not None:
        s = s.model_copy(update={k: v for k, v in (("index_dir", Path(index_dir) if index_dir else None),
                                                   ("embedding", embedding)) if v is not None})
    return s.open_index()


def build_index(paths: Iterable[str | Path], index_dir: str | Path | None = None, *,
                embedding: str | None = None, settings: Settings | None = None):
    """Ingest files or folders (only what changed is embedded again) and return the index, loaded."""
    s = settings or get_settings()
    index = open_index(index_dir, embedding=embedding, settings=s)
    report = index.ingest(list(paths))
    index = open_index(index.root, embedding=embedding, settings=s)
    index.last_report = report
    return index


def answerer(index=None, *, settings: Settings | None = None, **options):
    """An Answerer (a LangChain Runnable) on `index` (default: the Settings' index), configured by
    the Settings and any ChainConfig field given here: backend, k, place, llm_url, llm_model, …"""
    from .answer.chain import Answerer

    s = settings or get_settings()
    return Answerer(index if index is not None else s.open_index(), s.chain_config(**options))
