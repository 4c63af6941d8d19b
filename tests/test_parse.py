"""The parser on the real sample corpus: articles, places, continuations, cut sentences, duplicates."""
from pathlib import Path

import pytest

from rag.parse import paragraph_id, is_terminated, parse_text
from rag.schema import Place

CASES = Path(__file__).resolve().parents[1] / "data" / "cases"


def parse_file(name: str):
    path = next(CASES.glob(f"{name}_*"))
    return parse_text(path.read_text(encoding="utf-8"), path.name)


@pytest.fixture(scope="module")
def docs():
    return {n: parse_file(n) for n in ("000", "001", "002", "003", "004")}


def places(doc):
    return [a.place.name for a in doc.articles]


def body_texts(article):
    return [p.text for p in article.paragraphs if p.kind == "body"]


def find(doc, needle):
    hits = [p for p in doc.paragraphs if needle in p.text]
    assert hits, f"no paragraph contains {needle!r}"
    return hits


def test_articles_and_places_per_file(docs):
    assert places(docs["000"]) == ["岑溪市", "罗定市", "芝罘区"]
    assert places(docs["001"]) == ["汾阳市", "汾阳市"]
    assert places(docs["002"]) == ["莱阳市", "汕头市", "吉州区"]
    assert places(docs["003"]) == ["辽阳市", "龙文区", "罗定市", "殷都区"]
    assert places(docs["004"]) == ["岑溪市"]


def test_place_hierarchy_is_completed_from_the_body(docs):
    cenxi, luoding, zhifu = docs["000"].articles
    assert cenxi.place == Place(province="广西壮族自治区", city="梧州市", county="岑溪市")
    assert luoding.place == Place(province="广东省", city="云浮市", county="罗定市")
    assert zhifu.place == Place(province="山东省", city="烟台市", county="芝罘区")
    assert docs["002"].articles[0].place.full == "山东省烟台市莱阳市"
    assert docs["002"].articles[1].place == Place(province="广东省", city="汕头市")
    assert docs["004"].articles[0].place.full == "广西壮族自治区梧州市岑溪市"


def test_levels_the_text_never_states_come_from_the_national_table(docs):
    # the 汾阳 articles never say 山西 or 吕梁: users asking about 山西 or 中部 still find them
    assert [a.place for a in docs["001"].articles] == [Place(province="山西省", city="吕梁市", county="汾阳市")] * 2


def test_a_name_shared_by_several_places_is_left_as_the_text_gives_it():
    from rag.places import _from_gazetteer, gazetteer
    assert len(gazetteer()["鼓楼区"]) > 1
    assert _from_gazetteer(Place(county="鼓楼区")) == Place(county="鼓楼区")
    assert _from_gazetteer(Place(province="福建省", county="鼓楼区")) == Place(province="福建省", city="福州市", county="鼓楼区")
    assert _from_gazetteer(Place(province="江苏省", county="鼓楼区")) == Place(province="江苏省", county="鼓楼区")  # 南京 or 徐州


def test_titles_bylines_and_kickers(docs):
    a = docs["000"].articles[0]
    assert a.title == "广西壮族自治区岑溪市：探索“党建+文艺”赋能基层治理新路径"
    assert a.byline == "中共岑溪市委组织部"
    first, second = docs["001"].articles
    assert first.title == "汾阳市以党建引领绘就基层治理幸福图景"
    assert first.kicker == "党建扎根基层 服务温暖民心"
    assert first.byline == "武子祺"
    assert second.title == "传非遗之美 赋发展之力——汾阳市委统战部以统战实践擦亮文化名片"
    assert docs["004"].articles[0].title == "岑溪市：“一核五治”赋能社区高效治理"


def test_every_paragraph_carries_its_articles_title_and_place(docs):
    for doc in docs.values():
        for a in doc.articles:
            for p in a.paragraphs:
                assert p.title == a.title and p.place == a.place
                assert p.id == paragraph_id(doc.doc, p.text)  # content-anchored


def test_continuation_after_another_article_belongs_to_luoding(docs):
    doc = docs["000"]
    (p,) = find(doc, "罗定市立足睦邻善治，打造议事平台与互动载体。")
    assert doc.articles[p.article - 1].place.name == "罗定市"
    for needle in ("全市各类邻里议事载体已协商解决“微小事”1.2万余件", "覆盖人群扩大2.3倍",
                   "生江镇生江社区引入社保、户籍等高频事项代办"):
        (p,) = find(doc, needle)
        assert p.place.name == "罗定市", needle
    assert not any("罗定" in t or "议事" in t for t in body_texts(doc.articles[2])[-1:])


def test_continuation_right_after_a_page_marker_stays_in_its_article(docs):
    (p,) = find(docs["002"], "法律前置服务、闭环处置销号")
    assert p.place.name == "吉州区"
    assert "问题化解率96.8%。" in p.text


def test_fragment_printed_inside_another_article_is_moved(docs):
    doc = docs["002"]
    (p,) = find(doc, "吉州区建立派出所、司法所、法律服务所")
    assert p.place.name == "吉州区"
    assert "组建“吉先锋”在职党员突击队，建立“平时志愿服务+应急时急处置”双维度评价体系" in p.text
    shantou = doc.articles[1]
    assert not any("吉州" in t for t in body_texts(shantou))
    assert any(h.text == "“三所联动” 筑牢平安防线" for h in doc.articles[2].paragraphs if h.kind == "heading")


@pytest.mark.parametrize(
    "name, joined",
    [
        ("000", "关键是要有一个坚强核心。”岑溪市文旅行业党委书记黄耀强表示。"),
        ("000", "各地名家、本地艺术家的油画"),
        ("000", "将中心城区10个社区党群服务中心科学划分为3个人文型"),
        ("000", "孵化50余项群众性服务项目，开展编程课"),
        ("000", "开展“楼栋有事、邻里互助”行动，实现“小事不出网、大事不出社区”"),
        ("001", "主题为“传统文化与宗教中国化”的座谈会上"),
        ("002", "推动物业费收缴率提升至93%。同步建立由职能部门"),  # across a photo caption
        ("002", "积极探索社区增强“自我造血”功能"),  # across two duplicates and a caption
        ("003", "制发《关于加强基层治理体系和治理能力现代化建设的工作建议》"),
        ("003", "优化服务机制，提升治理效能。提升物业服务水平"),
        ("003", "坚持立制领贤、把稳方向"),
        ("003", "动态“乡贤人才库”。"),  # across a photo caption
        ("004", "居民群众关心的“急难愁盼”问题1200多个。"),  # across a caption without 供图
        ("004", "提供家政、养老等服务3100多次。"),
    ],
)
def test_sentences_cut_by_the_layout_are_rejoined(docs, name, joined):
    (p,) = find(docs[name], joined)
    assert p.kind == "body"
    assert "joined" in p.notes
    assert len(p.spans) >= 2


@pytest.mark.parametrize(
    "name, head, continuation, wrong",
    [
        # a count right after a noun, four blocks later, beats the nearer "等…" tail
        ("002", "服务辖区少年儿童", "服务辖区少年儿童5311人次。打造关爱老年群体“丰彩桑榆”品牌", "等公共空间"),
        # a quotation's speaker cut after the place name: the tail names the speech act
        ("000", "日子过得有滋有味。”新海阳社区", "新海阳社区居民王女士道出了许多人的心声。", "机制创新"),
        # a head ending in "与" takes the short coordinated object, past three other blocks
        ("000", "福泰社区通过空间重塑与", "福泰社区通过空间重塑与机制创新，将功能单一、利用率不高的800平方米活动空间改造为复合型工坊。",
         "的社区志愿者"),
    ],
    ids=["count-after-noun", "quotation-speaker", "coordination-object"],
)
def test_cut_paragraph_gets_its_true_continuation(docs, name, head, continuation, wrong):
    (p,) = find(docs[name], head)
    assert continuation in p.text
    assert wrong not in p.text
    assert "joined" in p.notes and len(p.spans) == 2


def test_tails_whose_head_is_not_on_the_page_stay_alone(docs):
    # the starts of these paragraphs were lost with the page; joining them to any head would be wrong
    (p,) = find(docs["002"], "等公共空间，建成集公共阅读")
    assert p.text.startswith("等公共空间") and p.place.name == "汕头市" and "joined" not in p.notes
    (p,) = find(docs["000"], "的社区志愿者轮流来到厨房")
    assert p.text.startswith("的社区志愿者") and p.place.name == "芝罘区" and "joined" not in p.notes


def test_a_count_after_a_noun_outranks_a_nearer_tail_starting_with_deng():
    text = ("# 某市：示例\n\n开展公益课堂120场，服务辖区居民\n\n坚持需求导向，推动服务下沉。\n\n"
            "等公共场所，建成社区书屋3个。\n\n2300人次。打造“银龄”品牌。\n")
    bodies = body_texts(parse_text(text, "q.md").articles[0])
    assert bodies[0] == "开展公益课堂120场，服务辖区居民2300人次。打造“银龄”品牌。"
    assert "等公共场所，建成社区书屋3个。" in bodies


def test_joined_paragraph_spans_point_at_the_source_text(docs):
    for doc in docs.values():
        for p in doc.paragraphs:
            assert "".join(doc.text[s:e] for s, e in p.spans).replace(" ", "") == p.text.replace(" ", "") or (
                p.kind == "caption" or any(n.startswith("credit:") for n in p.notes)
            )


def test_duplicates_are_dropped(docs):
    doc = docs["000"]
    assert len(find(doc, "以前下班后总觉得生活单调")) == 1
    assert sum(p.text == "一堂课点亮新生活 工坊催生治理“内生力”" for p in doc.paragraphs) == 1
    assert len(find(docs["002"], "积极探索社区增强")) == 1
    for d in docs.values():
        texts = [p.text for p in d.paragraphs]
        assert len(texts) == len(set(texts))


def test_photo_captions_are_kept_out_of_the_body(docs):
    captions = {p.text for d in docs.values() for p in d.paragraphs if p.kind == "caption"}
    for needle in ("岑溪市书法家协会党支部在市人民广场", "莱阳市城厢街道盛隆商园党委举办", "梧州市岑溪市开展“党旗领航",
                   "汕头市金砂街道金丰社区创新开设社区食堂", "福建省漳州市龙文区补助新成立乡贤促进会"):
        assert any(needle in c for c in captions), needle
    bodies = [p.text for d in docs.values() for p in d.paragraphs if p.kind == "body"]
    assert not any("供图" in t or "图片由" in t for t in bodies)
    (p,) = find(docs["002"], "没钱办事、没人参与")
    assert p.text.endswith("的困境。")
    assert any(n.startswith("credit:") for n in p.notes)


def test_section_headings_are_kept_and_attached(docs):
    a = docs["000"].articles[0]
    headings = [p.text for p in a.paragraphs if p.kind == "heading"]
    assert headings == ["政治引领 把分散的文艺力量统起来", "精准“滴灌” 把优质的文艺资源沉下去", "搭台赋能 把鲜活的文艺实践融进去"]
    (p,) = find(docs["000"], "岑溪市涌现46名国家级")
    assert p.section == "政治引领 把分散的文艺力量统起来"
    md_headings = [p.text for p in docs["004"].articles[0].paragraphs if p.kind == "heading"]
    assert md_headings[0] == "增强社区党组织战斗力 实现党建力量握指成拳"


def test_body_paragraphs_are_mostly_complete_sentences(docs):
    bodies = [p for d in docs.values() for p in d.paragraphs if p.kind == "body"]
    unfinished = [p.text for p in bodies if not is_terminated(p.text)]
    # every cut head finds its continuation; what OCR lost are heads, whose tails stand alone
    assert unfinished == [], unfinished


def test_paragraph_ids_are_stable(docs):
    again = parse_file("002")
    assert [p.id for p in again.paragraphs] == [p.id for p in docs["002"].paragraphs]
    assert [p.text for p in again.paragraphs] == [p.text for p in docs["002"].paragraphs]


def test_markdown_and_plain_titles_without_byline():
    doc = parse_text("# 北京市朝阳区：接诉即办\n\n朝阳区建立接诉即办机制，群众满意率达95%。\n", "x.md")
    (a,) = doc.articles
    assert a.place.name == "朝阳区" and a.place.province == "北京市"
    plain = parse_text("浙江省杭州市：数字社区\n\n杭州市推行“数字社区”，覆盖200个小区。\n\n\n"
                       "江苏省苏州市：网格治理\n\n苏州市划分网格1200个。\n", "y.txt")
    assert [a.place.name for a in plain.articles] == ["杭州市", "苏州市"]


def test_text_before_any_title_is_kept():
    doc = parse_text("这是一段没有标题的说明文字，介绍了某地社区治理的经验。\n", "z.txt")
    assert doc.articles and doc.articles[0].paragraphs[0].text.startswith("这是一段")
