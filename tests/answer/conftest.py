"""An answerer over the real index, shared by the answer-side tests (read-only)."""
import pytest


@pytest.fixture(scope="session")
def answerer(real_index):
    from rag.answer.chain import Answerer

    return Answerer(real_index)


@pytest.fixture(scope="session")
def weigh(answerer):
    """weigh(question, docs=None) -> (Question, docs, Evidence): docs retrieved as the chain does
    unless given (synthetic paragraphs are embedded on the fly)."""
    def run(question, docs=None):
        q, _, query = answerer._understand(question, [], [])
        if docs is None:
            cfg = answerer.config
            docs = answerer._retrieve(q, query, cfg.k_places if q.wants_places else cfg.k_compare if q.comparison else cfg.k)
        return q, docs, answerer.weigh(q, docs, query)

    return run
