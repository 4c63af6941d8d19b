"""The chat view's HTML, without a browser."""
from __future__ import annotations

from rag.schema import AnswerResult, Citation, SentenceCheck
from rag.ui import render

PARAGRAPH = ("创新明路筑平台。以信托制物业为关键突破，在古城、梨园等3个小区成功导入“幸福信托制”物业服务模式，"
             "推动物业费收缴率提升至93%。同步建立“五方监察人”制度。")
ANSWER = "文档中有相关做法的地方：\n- 莱阳市：以信托制物业为关键突破，推动物业费收缴率提升至93%[1]。"


def citation(n: int = 1, text: str = PARAGRAPH) -> Citation:
    return Citation(n=n, id=f"a.txt:1:{n}", doc="a.txt", article=1, paragraph=11, place="莱阳市",
                    place_full="山东省烟台市莱阳市", title="山东省莱阳市：实施“幸福共营”工程", text=text)


def result(**overrides) -> AnswerResult:
    data = dict(
        question="哪些地方用信托制物业?", answer=ANSWER, citations=[citation()],
        sentences=[
            SentenceCheck(text="文档中有相关做法的地方：", original="文档中有相关做法的地方：", citations=[],
                          verdict="no_claim", supported=True),
            SentenceCheck(text="- 莱阳市：以信托制物业为关键突破，推动物业费收缴率提升至93%[1]。",
                          original="- 莱阳市：以信托制物业为关键突破，推动物业费收缴率提升至93%[1]。",
                          citations=[1], verdict="supported", supported=True),
        ],
        backend="extractive", timings_ms={"retrieve": 40.0, "total": 1500.0}, index={"version": "v000001"},
    )
    data.update(overrides)
    return AnswerResult(**data)


def test_markers_link_to_their_sources():
    html = render.turn_html(2, result())
    assert '<a class="cite" href="#src-2-1" data-target="src-2-1"' in html
    assert "<ul><li>" in html  # the place list stays a list
    assert 'class="sent v-ok"' in html
    sources = render.sources_html([result(), result()])
    assert 'id="src-2-1"' in sources and 'id="src-1-1"' in sources
    assert '<details class="src-turn" id="srcs-1">' in sources  # the earlier answer folded
    assert "山东省烟台市莱阳市" in sources and "a.txt · 第1篇 第11段" in sources and "《山东省莱阳市" in sources


def test_supporting_sentence_is_highlighted():
    card = render.source_card(1, citation(), render.claims_for(result(), 1))
    assert "<mark>以信托制物业为关键突破，在古城" in card
    assert "<mark>创新明路筑平台。" not in card
    assert "推动物业费收缴率提升至93%。</mark>" in card


def test_paraphrase_highlights_the_closest_sentence():
    spans = render.supporting_spans(PARAGRAPH, ["莱阳建立了五方监察人制度[1]。"])
    assert [PARAGRAPH[s:e] for s, e in spans] == ["同步建立“五方监察人”制度。"]


def test_removed_and_recited_sentences_and_notes_are_shown():
    r = result(
        answer="莱阳市物业费收缴率提升至93%[1]。",
        sentences=[
            SentenceCheck(text="莱阳市物业费收缴率提升至93%[1]。", original="莱阳市物业费收缴率提升至93%[2]。",
                          citations=[1], verdict="recited", supported=True, reason="改引到 [1]"),
            SentenceCheck(text="", original="莱阳市还获得了全国文明城市称号[1]。", citations=[], verdict="removed",
                          supported=False, reason="关键词覆盖不足"),
        ],
        notes=["openai 后端出错（APIConnectionError: Connection error.），已改用摘录式回答", "引用核查：1 句改引，1 句因无依据删除"],
        backend="openai→extractive",
    )
    html = render.turn_html(1, r)
    assert '<details class="checks problem" open>' in html
    assert "<del>莱阳市还获得了全国文明城市称号[1]。</del>" in html and "关键词覆盖不足" in html
    assert "无依据，已删除" in html and "已改引" in html
    assert 'class="sent v-warn"' in html
    assert '<div class="note warn">⚠ OpenAI 兼容接口连接或运行出错，已改用摘录式回答' in html
    assert "APIConnectionError" not in html
    assert "OpenAI 兼容接口 → 摘录式（无需大模型）" in html


def test_text_is_escaped():
    r = result(question="<script>alert(1)</script>", answer="<b>粗</b>[1]", sentences=[],
               citations=[citation(text="<img src=x onerror=alert(1)>")])
    html = render.turn_html(1, r) + render.sources_html([r])
    assert "<script>" not in html and "<img" not in html and "<b>粗" not in html
    assert "&lt;script&gt;" in html


def test_refusal_lists_the_nearest_paragraphs_without_anchors():
    r = result(answer="在已导入的文档中没有找到能回答这个问题的内容。", refused=True, citations=[], sentences=[],
               retrieved=[citation(1), citation(2)])
    assert "未能回答" in render.turn_html(1, r)
    sources = render.sources_html([r])
    assert "不足以回答" in sources and 'id="src-' not in sources


def test_streaming_markers_are_not_links_yet():
    html = render.pending_html(1, "问题", "生成中…", "莱阳市[3]")
    assert 'class="cite pending">[3]' in html and "href" not in html and "生成中…" in html


def test_durations():
    assert render.duration(54.2) == "54 毫秒"
    assert render.duration(2345) == "2.3 秒"


def test_messages_for_users_have_no_exception_names_or_commands():
    cases = {
        "openai 后端不可用（OpenAI 兼容接口需要设置地址和模型名：--llm-url、--llm-model（或 RAG_LLM_URL、RAG_LLM_MODEL）），已改用摘录式回答":
            "OpenAI 兼容接口暂不可用，已改用摘录式回答。如需使用OpenAI 兼容接口，请联系管理员。",
        "local 后端不可用（本地模型需要 llama-cpp-python：pip install 'policy-case-rag[llm]'（从源码编译约 7 分钟）），已改用摘录式回答":
            "本地模型暂不可用，已改用摘录式回答。如需使用本地模型，请联系管理员。",
        "还没有索引。请在「文档管理」页上传文档，或在命令行运行：rag ingest data/cases": "还没有索引。请在「文档管理」页上传文档。",
        "找不到本地模型文件 /m/x.gguf。先运行：rag model（从 PyPI 分片包拼装模型）": "找不到本地模型文件 /m/x.gguf。请联系管理员处理。",
        "问题是空的，请输入问题。": "问题是空的，请输入问题。",
    }
    for message, expected in cases.items():
        assert render.for_users(message) == expected
    assert "ValueError" not in render.status_html("ValueError: 出错了", "error")


def test_rewrite_label_only_for_a_rewritten_follow_up():
    assert render.rewrite_label(result()) == ""
    assert render.rewrite_label(result(standalone_question="哪些地方用信托制物业?")) == ""
    label = render.rewrite_label(result(question="它的收缴率呢？", standalone_question="莱阳市的物业费收缴率是多少？"))
    assert "追问已结合上文理解" in label and "莱阳市的物业费收缴率是多少？" in label
    html = render.turn_html(2, result(question="它的收缴率呢？", standalone_question="莱阳市的物业费收缴率是多少？",
                                      notes=["追问已结合上文理解为：莱阳市的物业费收缴率是多少？"]))
    assert html.count("追问已结合上文理解") == 1  # the label, not the chain's note as well
