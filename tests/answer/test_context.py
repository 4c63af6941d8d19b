"""The context a generating backend reads, on the real index: the token budget holds (counted with
the local model's own tokenizer), the best evidence is kept, every place or side of a comparison
gets its line, and citation numbers are those of the retrieval list."""
import json
import re

import pytest

from casedata import REPO
from rag.answer.chain import ChainConfig
from rag.answer.context import LOCAL_CONTEXT_TOKENS, build_context, context_numbers, estimate_tokens, short_title
from rag.llm import load_prompt
from rag.answer.question import analyse

QUICK = [json.loads(line)["question"] for line in (REPO / "eval" / "quick.jsonl").read_text(encoding="utf-8").splitlines()
         if line.strip()]


@pytest.fixture(scope="module")
def model_tokens():
    """The local model's tokenizer (vocabulary only: no weights are loaded)."""
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from rag.local_model import MODEL_FILENAME, default_models_dir

    path = default_models_dir() / MODEL_FILENAME
    if not path.is_file():
        pytest.skip(f"the local model is not assembled ({path}); run `rag model`")
    vocab = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def _evidence(index, question):
    from rag.answer.chain import Answerer

    return _WEIGH(Answerer(index), question)


def _WEIGH(answerer, question):
    q, _, query = answerer._understand(question, [], [])
    cfg = answerer.config
    docs = answerer._retrieve(q, query, cfg.k_places if q.wants_places else cfg.k_compare if q.comparison else cfg.k)
    return q, docs, answerer.weigh(q, docs, query)


def _blocks(context):
    """[(header, n, text)] of a budgeted context."""
    out, header = [], None
    for line in context.splitlines():
        if line.startswith("【"):
            header = line
        else:
            m = re.match(r"\[(\d+)\] (.+)", line)
            assert m, f"unexpected line {line!r}"
            out.append((header, int(m.group(1)), m.group(2)))
    return out


def test_budget_holds_and_numbers_are_the_retrieval_lists(real_index, model_tokens):
    checked = 0
    for question in QUICK:
        q, docs, evidence = _evidence(real_index, question)
        if not evidence.answerable:
            continue
        shown = context_numbers(q, evidence, 4)
        context = build_context(docs, shown, evidence, True, LOCAL_CONTEXT_TOKENS, model_tokens, q)
        blocks = _blocks(context)
        assert blocks, question
        if len(blocks) > 1:  # only the single best sentence may exceed the budget
            assert model_tokens(context) <= LOCAL_CONTEXT_TOKENS, (question, context)
        for header, n, text in blocks:
            assert n in shown
            d = docs[n - 1]
            assert header.startswith(f"【{d.metadata['place']}"), (question, header, d.metadata)
            for piece in text.split("…"):
                assert piece.rstrip("，；：") in d.page_content, (question, n, piece)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("question, facts", [
    ("莱阳市推行信托制物业后，物业费收缴率提升到了多少？", ["93%"]),
    ("吉州区2025年问题化解率是多少？", ["96.8%"]),
    ("龙文区一共成立了多少个乡贤促进会？", ["78个"]),
    ("汾阳市“五社联动”里的“五社”指哪五方面？", ["社会组织", "社会工作者", "志愿者", "慈善"]),
])
def test_the_best_evidence_is_kept(real_index, model_tokens, question, facts):
    q, docs, evidence = _evidence(real_index, question)
    shown = context_numbers(q, evidence, 4)
    context = build_context(docs, shown, evidence, True, LOCAL_CONTEXT_TOKENS, model_tokens, q)
    best = next(c for c in evidence.candidates if c.n in shown)
    assert f"[{best.n}] " in context
    for fact in facts:
        assert fact in context, context


@pytest.mark.parametrize("question, places, facts", [
    ("辽阳市和殷都区培训社区干部的规模有什么不同？", ["辽阳市", "殷都区"], ["122", "1045"]),
    ("哪些地方的报道提到了社区治理“小马拉大车”的问题？", ["殷都区", "岑溪市"], []),
])
def test_each_place_gets_its_line(real_index, model_tokens, question, places, facts):
    q, docs, evidence = _evidence(real_index, question)
    shown = context_numbers(q, evidence, 4)
    context = build_context(docs, shown, evidence, True, LOCAL_CONTEXT_TOKENS, model_tokens, q)
    headers = [h for h, _, _ in _blocks(context)]
    for place in places:
        assert any(h.startswith(f"【{place}") for h in headers), context
    for fact in facts:
        assert fact in context, context


def test_a_tiny_budget_still_gives_the_best_sentence(real_index, model_tokens):
    q, docs, evidence = _evidence(real_index, "莱阳市推行信托制物业后，物业费收缴率提升到了多少？")
    shown = context_numbers(q, evidence, 4)
    blocks = _blocks(build_context(docs, shown, evidence, True, 5, model_tokens, q))
    best = next(c for c in evidence.candidates if c.n in shown)
    assert [(n, text) for _, n, text in blocks] == [(best.n, best.sentence)]


def test_without_a_budget_the_context_is_as_before(real_index):
    q, docs, evidence = _evidence(real_index, "莱阳市推行信托制物业后，物业费收缴率提升到了多少？")
    shown = context_numbers(q, evidence, 4)
    context = build_context(docs, shown, evidence, True)
    first = docs[shown[0] - 1].metadata
    assert context.startswith(f"[{shown[0]}] 地点：{first['place_full']}｜文章：{first['title']}\n")
    full = build_context(docs, shown, evidence, False)
    assert all(docs[n - 1].page_content in full for n in shown)


def test_the_estimate_is_close_to_the_model_tokenizer_and_errs_high(real_index, model_tokens):
    texts = [d.page_content for d in real_index.store.docs]
    assert len(texts) > 100
    real, est = [model_tokens(t) for t in texts], [estimate_tokens(t) for t in texts]
    assert sum(real) <= sum(est) <= 1.2 * sum(real)
    ratios = [e / r for e, r in zip(est, real)]
    assert 0.8 <= min(ratios) and max(ratios) <= 1.4, (min(ratios), max(ratios))


def test_short_titles_drop_the_place_and_keep_the_first_phrase():
    assert short_title("山东省莱阳市：实施“幸福共营”工程 推动治理水平跃升", "莱阳市") == "实施“幸福共营”工程"
    assert short_title("广西壮族自治区岑溪市：探索“党建+文艺”赋能基层治理新路径", "岑溪市") == "探索“党建+文艺”赋能基层治理新"
    assert short_title("汾阳市以党建引领绘就基层治理幸福图景", "汾阳市") == "以党建引领绘就基层治理幸福图景"
    assert short_title("传非遗之美 赋发展之力——汾阳市委统战部以统战实践擦亮文化名片", "汾阳市") == "传非遗之美"
    assert short_title("", "汾阳市") == ""


def test_both_answer_prompts_share_one_system_message():
    """llama.cpp reuses the KV cache of the longest common token prefix with the previous prompt:
    with one system message for both prompts, switching between a place list and another question
    does not make the model read the system message again."""
    answer, places = load_prompt("answer"), load_prompt("answer_places")
    system = answer.messages[0].prompt.template
    assert system == places.messages[0].prompt.template
    assert "【地点｜文章】" in system  # the rule matches the context's header format
    human = answer.messages[1].prompt.template
    fenced = "资料：\n<资料>\n{context}\n</资料>"  # documents are data, fenced (tests/faults/test_injection.py)
    assert human.startswith(fenced) and places.messages[1].prompt.template.startswith(fenced)


@pytest.mark.parametrize("question", ["莱阳市和汕头市在物业管理上有什么不同？", "罗定市和殷都区的“大工委”“大党委”做法有什么不同？"])
def test_every_side_of_a_comparison_is_in_the_budgeted_context(real_index, model_tokens, question):
    from rag.answer.chain import Answerer

    answerer = Answerer(real_index)
    q = analyse(question, answerer.known_places)
    docs = answerer._retrieve(q, q.text, ChainConfig().k_compare)
    evidence = answerer.weigh(q, docs, q.text)
    context = build_context(docs, context_numbers(q, evidence, 4), evidence, True, LOCAL_CONTEXT_TOKENS,
                            model_tokens, q)
    headers = [h for h, _, _ in _blocks(context)]
    for place in q.places:
        assert any(place in h for h in headers), (place, context)
