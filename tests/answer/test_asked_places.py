"""Where a question asks about (rag.answer.asked_places), read through `analyse`: places the
index has, as written or as they sound, regions, places the corpus lacks, places excluded."""
import pytest

from rag.answer.question import analyse


@pytest.fixture(scope="module")
def places(real_index):
    return real_index.places(all_levels=True)


def test_unknown_places_that_jieba_knows(places):
    assert analyse("深圳南山区的社区食堂是怎么运营的？", places).unknown_places == ["南山区"]
    assert analyse("偏远山区的社区怎么治理？", places).unknown_places == []
    q = analyse("广东省有哪些地方推行积分制？", places)
    assert q.places == ["广东省"] and not q.unknown_places


def test_question_words_are_not_places(places):
    assert analyse("哪些地方安排市级领导包联社区？", places).unknown_places == []


def test_a_misspelt_place_with_its_suffix_is_read_not_unknown(places):
    q = analyse("辽杨市社区工作者持证率到多少了", places)
    assert q.places == ["辽阳市"] and q.unknown_places == []


def test_overlapping_place_names_leave_no_piece_behind(places):
    # 青岛市 and 市北区 overlap: blanking one first used to leave 北区 or 青岛 as a term, by set order
    q = analyse("青岛市北区的社区有没有搞类似幸福工坊的东西，带动了多少人就业", places)
    assert set(q.unknown_places) == {"青岛市", "市北区"} and not {"北区", "青岛"} & set(q.terms)


def test_a_zone_of_a_city_the_corpus_lacks_is_an_unknown_place(places):
    assert analyse("苏州工业园区的社区合伙人怎么运作？", places).unknown_places == ["苏州"]


@pytest.mark.parametrize("question, unknown", [
    ("义乌有没有像莱阳那样的信托制物业", ["义乌"]),  # a place of China the corpus lacks, no suffix
    ("顺德的社区基金有多少钱", ["顺德"]),
    ("山西晋中平遥那边有没有让离退休党员当小区支部书记的", ["平遥"]),
    ("粤西有个县级市的社区跟企业合开科技课，合作的是哪家公司？", []),  # 合作市: a word here
    ("岑溪城区的社区后来调成了几个", []),  # 城区 of a place of the corpus
    ("老城区改造后物业费多少", []),
])
def test_places_of_the_national_table_the_corpus_lacks(places, question, unknown):
    q = analyse(question, places)
    assert q.unknown_places == unknown
    if unknown:
        assert "山西省" not in q.places  # 山西 only said where 平遥 is


def test_a_community_is_not_read_as_a_place_that_sounds_alike(places):
    """生江社区: 江社 + 区 is 社区, not a typo for 江西 before an administrative suffix."""
    q = analyse("罗定生江社区设了“红色代办员”，一共配了几个代办员？", places)
    assert q.places == ["罗定市"] and not q.readings[1:]


def test_a_city_right_before_its_district_is_not_excluded_itself(places):
    q = analyse("除烟台芝罘区以外，别的地方有没有幸福工坊？", places)
    assert q.excluded == ["芝罘区"]


def test_a_word_jieba_tags_as_a_place_is_none_without_a_places_context(places):
    q = analyse("有没有地方在社区里弄了四点半课堂？", places, lambda w: False)
    assert not q.unknown_places
    assert analyse("深圳那边有没有四点半课堂？", places, lambda w: False).unknown_places == ["深圳"]


@pytest.mark.parametrize("question, excluded", [
    ("除辽宁省内的辽阳外，哪些地方也建了骑士之家？", ["辽阳市"]),
    ("除了两广交界那个岑溪以外，还有哪里把支部建在小区？", ["岑溪市"]),
    ("除了莱阳和芝罘，还有哪些地方有社区基金？", ["莱阳市", "芝罘区"]),
])
def test_every_place_of_an_exclusion_is_excluded_and_what_says_where_is_not(places, question, excluded):
    q = analyse(question, places)
    assert q.excluded == excluded and not q.places


def test_a_provinces_part_written_out_is_its_region(places):
    q = analyse("除了广东西部那个县级市以外，还有哪些地方用三张清单？", places)
    assert q.excluded == ["云浮市"]
    assert analyse("河南北部那个区是怎么给社区减负的？", places).places == ["安阳市"]


@pytest.mark.parametrize("question, city", [("辽宁大连建了多少个便民服务站？", "大连"), ("山西太原改造了多少个老旧小区？", "太原")])
def test_a_city_jieba_joins_to_its_province_is_the_place_asked_about(places, question, city):
    q = analyse(question, places, lambda w: False)
    assert q.unknown_places == [city] and not q.places
    assert analyse("辽宁辽阳建了多少个便民服务站？", places, lambda w: False).places == ["辽阳市"]


def test_a_locality_suffix_inside_a_word_names_no_locality(real_index, places):
    def in_corpus(word):
        return real_index.bm25.doc_freq(word) > 0

    q = analyse("汾阳现在按每一万城镇人口配几个社区工作者？", places, in_corpus)
    assert "万城" not in q.localities


def test_a_word_that_sounds_like_a_place_is_the_place_when_it_is_excluded(places):
    """山头 (a hilltop) is a word of its own, so it is no typo for 汕头 as such; after 除了 it is."""
    q = analyse("除了山头，还有哪儿也拉商家单位来当社区“合伙”的", places)
    assert q.excluded == ["汕头市"] and "“山头”按汕头市理解" in q.read_as()
    assert not analyse("哪些地方把党支部建到了山头上？", places).readings
