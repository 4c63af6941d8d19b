"""The evidence test and the extractive answer, on paragraphs of the real index."""
import pytest
from langchain_core.documents import Document

from rag import extractive
from rag.questions import analyse


@pytest.fixture(scope="module")
def places(real_index):
    return real_index.places(all_levels=True)


def _doc(text, place="汕头市", title="标题", article=1, doc="a.txt"):
    return Document(page_content=text, metadata={"place": place, "place_full": place, "title": title,
                                                 "article": article, "doc": doc, "id": f"{doc}:{article}"})


def test_rare_terms_weigh_more_than_common_ones(real_index, places):
    rarity = real_index.bm25.rarity
    assert rarity("骑手") > 2 * rarity("社区")
    assert rarity("社区") == pytest.approx(1.0, abs=0.2)
    q = analyse("哪些地方为外卖骑手等新就业群体提供服务？", places)
    weights = extractive._weights(q, rarity)
    assert weights[("外卖骑手", "新就业群体")] > weights["服务"]


def test_any_alternative_answers(real_index, places):
    q = analyse("哪些地方建了长者食堂、长者饭堂或老年食堂？", places)
    docs = [_doc("设立老年食堂、“四点半课堂”46个。", place="辽阳市"),
            _doc("建成社区食堂（长者饭堂）和老年大学学习点。", place="汕头市"),
            _doc("建成社区食堂和老年大学学习点。", place="罗定市")]
    evidence = extractive.assess(q, docs, real_index.bm25.rarity)
    answer = extractive.compose(q, evidence)
    assert "辽阳市" in answer and "汕头市" in answer
    assert "罗定市" not in answer  # 社区食堂 is none of the three


def test_a_named_practice_may_be_set_earlier_in_the_paragraph(real_index, places):
    q = analyse("汕头市金丰社区“丰彩桑榆”品牌2025年以来服务老年人多少人次？", places)
    text = "打造关爱老年群体“丰彩桑榆”品牌，开展助老活动。2025年以来开展活动163场次，服务覆盖老年人4522人次。"
    evidence = extractive.assess(q, [_doc(text)], real_index.bm25.rarity)
    assert evidence.answerable
    assert "4522" in extractive.compose(q, evidence)


def test_comparison_names_each_place_and_each_report_by_title(real_index, places):
    q = analyse("罗定市的两篇报道分别聚焦什么工作？", places)
    docs = [_doc("聚焦群众需求提供特色服务。", place="罗定市", title="广东省罗定市：推动党群服务中心提质增效", doc="a.txt"),
            _doc("罗定市积极构建议事协商工作载体。", place="罗定市", title="广东省罗定市：深化“大工委”机制", doc="b.txt")]
    answer = extractive.compose(q, extractive.assess(q, docs, real_index.bm25.rarity))
    lines = answer.splitlines()
    assert len(lines) == 2
    assert "《推动党群服务中心提质增效》" in lines[0] and "[1]" in lines[0]
    assert "《深化“大工委”机制》" in lines[1] and "[2]" in lines[1]


def test_listing_the_places_of_a_region(real_index, places):
    q = analyse("这些报道里有哪些广东省的地方？", places)
    docs = [_doc("段落一。", place="罗定市", title="广东省罗定市：标题一", doc="a.txt"),
            _doc("段落二。", place="汕头市", title="广东省汕头市：标题二", doc="b.txt")]
    for d in docs:
        d.metadata["place_full"] = "广东省" + d.metadata["place"]
    evidence = extractive.assess(q, docs, real_index.bm25.rarity)
    assert evidence.answerable and evidence.listing
    answer = extractive.compose(q, evidence)
    assert "罗定市" in answer and "汕头市" in answer and "《标题一》[1]" in answer
