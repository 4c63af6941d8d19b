"""Evidence and the extractive answer, on the real index and its fitted evidence model."""
import json

import pytest
from langchain_core.documents import Document

from rag.answer.compose import compose
from rag.answer.evidence import FEATURES, MODEL_FILE, QUESTION_FEATURES, EvidenceModel, Shown, coverage, term_weights
from rag.answer.question import analyse


@pytest.fixture(scope="module")
def places(real_index):
    return real_index.places(all_levels=True)


def _doc(text, place="汕头市", title="标题", article=1, doc="a.txt"):
    return Document(page_content=text, metadata={"place": place, "place_full": place, "title": title,
                                                 "article": article, "doc": doc, "id": f"{doc}:{article}"})


def test_the_fitted_model_is_readable_and_says_where_it_came_from():
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert set(data["sentence"]["weights"]) == set(FEATURES)
    assert set(data["question"]["weights"]) == set(QUESTION_FEATURES)
    assert data["fitted"]["by"] == "python eval/fit.py" and "paraphrase_train.jsonl" in data["fitted"]["training_sets"]
    model = EvidenceModel.load()
    assert 0 < model.answer_threshold < 1 and 0 < model.place_threshold < 1
    assert model.shown.floor == data["thresholds"]["sentence"] and 0 < model.shown.floor < 1
    assert model.shown.how == data["thresholds"]["how_sentences"] >= model.shown.fact == data["thresholds"]["fact_sentences"] >= 1


def test_rare_terms_weigh_more_than_common_ones(real_index, places):
    rarity = real_index.bm25.rarity
    assert rarity("骑手") > 2 * rarity("社区")
    assert rarity("社区") == pytest.approx(1.0, abs=0.2)
    q = analyse("哪些地方为外卖骑手等新就业群体提供服务？", places)
    weights = term_weights(q, rarity)
    assert weights[("外卖骑手", "新就业群体")] > weights["服务"]


def test_an_alternative_holds_by_its_rarest_word(real_index, places):
    """A report's 长者食堂 is what "社区食堂或者助餐服务" asks for; a word most paragraphs use (服务 of
    社区服务) and the kind of an "X等Y" (新就业群体's 就业) do not stand for their phrase."""
    rarity = real_index.bm25.rarity
    q = analyse("哪些地方给老人搞了社区食堂或者助餐服务？", places)
    weights = term_weights(q, rarity)
    group = next(t for t in weights if isinstance(t, tuple))
    assert set(group) == {"社区食堂", "助餐服务", "食堂", "助餐"}
    assert coverage(weights, "建设长者食堂，打造舌尖上的幸福晚年") > 0
    q = analyse("哪些地方把非遗融到社区治理或者社区服务里了？", places)
    group = next(t for t in term_weights(q, rarity) if isinstance(t, tuple))
    assert "社区治理" in group and not {"社区", "治理", "服务"} & set(group)
    q = analyse("哪些地方为外卖骑手等新就业群体提供服务？", places)
    assert set(next(t for t in term_weights(q, rarity) if isinstance(t, tuple))) == {"外卖骑手", "新就业群体"}


def test_a_paraphrase_with_no_shared_word_is_answered(weigh):
    """送外卖的人 are the reports' 新就业群体 and 骑手: the sentence vectors see it."""
    q, _, evidence = weigh("汕头给送外卖的人提供了啥服务")
    assert evidence.answerable
    assert any("骑手" in c.sentence or "新就业群体" in c.sentence for c in evidence.candidates[:3])


def test_a_named_practice_may_be_set_earlier_in_the_paragraph(weigh):
    """"打造“丰彩桑榆”品牌…。2025年以来…服务覆盖老年人4522人次。": the figure's sentence
    does not repeat the name, the paragraph sets it earlier."""
    q, docs, evidence = weigh("汕头市金丰社区“丰彩桑榆”品牌2025年以来服务老年人多少人次？")
    assert evidence.answerable
    answer = compose(q, evidence)
    assert answer.startswith("4522人次[")  # a figure question leads with the figure


def test_a_figure_of_another_kind_does_not_answer(weigh):
    """多少钱 is not answered by a count, 日均 not by a total, 一平米 not by a sum."""
    docs = [_doc("社区食堂累计服务居民超3万人次，建成2个社区食堂。", place="汾阳市")]
    for question in ("汾阳市社区食堂一顿饭多少钱？", "汾阳市社区食堂日均服务多少人次？"):
        q, _, evidence = weigh(question, docs)
        assert not evidence.answerable, question
    docs = [_doc("社区食堂每年租金12万元，面积500平方米。", place="汾阳市")]
    assert weigh("汾阳社区食堂每年租金多少钱？", docs)[2].answerable
    assert not weigh("汾阳社区食堂租金一平米多少钱？", docs)[2].answerable


def test_comparison_names_each_report_by_title(weigh):
    docs = [_doc("聚焦群众需求提供特色服务。", place="罗定市", title="广东省罗定市：推动党群服务中心提质增效", doc="a.txt"),
            _doc("罗定市积极构建议事协商工作载体。", place="罗定市", title="广东省罗定市：深化“大工委”机制", doc="b.txt")]
    q, _, evidence = weigh("罗定市的两篇报道分别聚焦什么工作？", docs)
    lines = compose(q, evidence).splitlines()
    assert len(lines) == 2
    assert "《推动党群服务中心提质增效》" in lines[0] and "[1]" in lines[0]
    assert "《深化“大工委”机制》" in lines[1] and "[2]" in lines[1]


def test_listing_the_places_of_a_region(weigh):
    docs = [_doc("段落一。", place="罗定市", title="广东省罗定市：标题一", doc="a.txt"),
            _doc("段落二。", place="汕头市", title="广东省汕头市：标题二", doc="b.txt")]
    for d in docs:
        d.metadata["place_full"] = "广东省" + d.metadata["place"]
    q, _, evidence = weigh("这些报道里有哪些广东省的地方？", docs)
    assert evidence.answerable and evidence.listing
    answer = compose(q, evidence)
    assert "罗定市" in answer and "汕头市" in answer and "《标题一》[1]" in answer


def test_a_place_list_considers_every_place_and_excludes_what_is_excluded(weigh):
    q, _, evidence = weigh("除了莱阳，还有哪些地方在搞“幸福工坊”？")
    listed = {c.place for c in evidence.places}
    assert "芝罘区" in listed and "莱阳市" not in listed
    assert "莱阳市" not in compose(q, evidence, evidence.places)


def test_a_person_is_named_by_office():
    from rag.answer.evidence import person_named

    assert person_named("岑溪市文旅行业党委书记黄耀强表示。") == "黄耀强"
    assert person_named("由社区党委书记担任法人") == ""
    assert person_named("岑溪市推动成立城市社区党工委") == ""  # jieba tags 岑溪市 "nr"


def test_the_figure_a_change_arrives_at(places):
    from rag.answer.compose import figure_for
    from rag.answer.evidence import changed_to

    q = analyse("城区的社区后来调整成了几个？", places)
    sentence = "将城区原有的11个社区科学优化调整为19个，每个社区管辖人口从3万多人变为1万人左右"
    assert figure_for(q, sentence) == "19个"
    assert changed_to(q, sentence) == "19个"
    assert changed_to(q, "这些常住人口由城区原有的11个社区管辖") == ""


@pytest.mark.parametrize("question, sentence, figure", [
    ("莱阳清收了多大的公共用房？", "累计清收公共用房5000余平方米，追缴公共收益12万余元", "5000余平方米"),
    ("金丰社区食堂一天接待多少人？", "日均服务群众800多人次", "800多人次"),
    ("区屋社区服务半径有多远？", "服务半径延伸至1.5公里，覆盖人群扩大2.3倍", "1.5公里"),
    ("今年化解了多少纠纷？", "今年以来共化解矛盾纠纷112起", "112起"),
    ("健康基金筹集了多少资金？", "由街道、村股份经济合作社、乡贤多方筹集资金80余万元", "80余万元"),
])
def test_a_figure_is_shown_with_its_unit(places, question, sentence, figure):
    from rag.answer.compose import figure_for

    assert figure_for(analyse(question, places), sentence) == figure


def test_a_bare_number_does_not_lead_an_answer(places):
    """"多久开一回会" is not answered by the "1" of "配备1至2名副书记": no figure leads."""
    from rag.answer.compose import _lead
    from rag.answer.evidence import Candidate

    q = analyse("罗定的大工委大党委多久开一回会", places)
    best = Candidate(1, Document(page_content=""), "配备1至2名副书记、4至8名委员", {}, 1.0)
    assert _lead(q, best) == ""


def test_a_year_does_not_lead_a_figure_answer(places):
    from rag.answer.compose import figure_for

    q = analyse("芝罘幸福工坊反哺给社区的有多少万", places)
    assert figure_for(q, "2025年以来，烟台市出台《工作指引》，以市场化运作反哺社区。") == ""
    assert figure_for(q, "2025年社区公司实现营业收入6.4万元") == "6.4万元"


_POINTS = ("制定《金丰社区积分制管理工作制度》，将志愿服务等8类社区事务量化赋分，动员“社区合伙人”提供兑换物品和服务，"
           "开办“党群积分超市”，开发“掌上金丰”小程序，推行“服务换积分、积分兑礼物（服务）”模式")
_CANTEEN = ("成立金邻社区服务有限公司，由社区党委书记担任法人，通过“公益+低偿+市场”的模式，引进专业餐饮企业运营社区食堂，"
            "满足居民“平价高质”的用餐需求")


@pytest.mark.parametrize("question, sentence, lead", [
    ("汕头金丰 积分 小程序叫啥", _POINTS, "“掌上金丰”"),
    ("岑溪社区广场上演的那出牛娘戏叫什么名字？", "甘冲社区的露天广场上，牛娘戏《彩凤还巢》正唱到动情处", "《彩凤还巢》"),
    ("汕头金丰社区成立的社区社会企业叫什么名字？", _CANTEEN, "“金邻社区服务有限公司”"),
    ("那家餐饮企业叫啥名字？", _CANTEEN, ""),  # 金邻 is the community's company, not the caterer
    ("罗定城市党建品牌叫什么", "不断擦亮“泷州红 同心融”城市党建品牌，构建共建共治共享的城市基层治理新格局", "“泷州红 同心融”"),
    ("莱阳幸福共营那个工程方案叫啥名", "印发《“红润梨乡·幸福共营”工程方案》，配套出台5项制度", "《“红润梨乡·幸福共营”工程方案》"),
])
def test_a_name_question_leads_with_a_name_of_the_kind_asked(places, question, sentence, lead):
    """"…小程序叫啥" is answered by the name written by 小程序, not by the sentence's other names."""
    from rag.answer.compose import _lead
    from rag.answer.evidence import Candidate

    got = _lead(analyse(question, places), Candidate(1, Document(page_content=sentence), sentence, {}, 1.0))
    assert got == (f"{lead}[1]。" if lead else "")


def test_a_side_of_a_comparison_shows_a_second_sentence_the_model_finds_likely(weigh):
    """罗定's report states the mechanism in one sentence and the counts (21名, 72名) in the next:
    the second is shown because the fitted model finds it likely to answer, not because it
    scores close to the first."""
    q, _, evidence = weigh("罗定和殷都都在搞大工委大党委兼职委员，两边各选了多少人？")
    answer = compose(q, evidence)
    assert "211名" in answer and "21名" in answer and "72名" in answer
    floor = EvidenceModel.load().place_threshold
    luoding = [c for c in evidence.candidates if c.place == "罗定市"]
    assert luoding[1].probability < 0.8 * luoding[0].probability and luoding[1].probability >= floor


def test_an_answer_shows_no_sentence_below_the_floor(weigh):
    q, _, evidence = weigh("岑溪社区的运转经费是从哪几头凑起来的？")
    answer = compose(q, evidence, shown=Shown(1.0))
    assert answer.count("[") == 1


def test_a_change_question_leads_with_the_figure_changed_to_even_from_a_second_sentence(weigh):
    """The best sentence says the city had 11 communities; the one shown beside it says they were
    made 19: "后来调成了几个" is answered by 19个."""
    q, _, evidence = weigh("岑溪城区的社区后来调成了几个？")
    answer = compose(q, evidence)
    assert answer.startswith("19个[")


def test_a_quoted_practice_named_once_in_a_report_covers_its_later_paragraphs(weigh):
    """殷都's report names “头雁培育” once and tells of the 书记工作室's 7 training rounds in a
    later paragraph that does not repeat the name: that paragraph answers."""
    q, _, evidence = weigh("河南殷都有个“头雁培育”，靠优秀社区书记工作室带学员实岗锻炼，到现在办了几期？")
    assert evidence.answerable
    assert "7期" in compose(q, evidence)


def test_quoted_names_side_by_side_are_alternatives(places):
    q = analyse("“15分钟服务圈”“15分钟生活圈”这种提法，哪些地方在做？", places)
    assert q.quotes_either and q.wants_places
    assert not analyse("哪些地方实行了街道“大工委”、社区“大党委”机制？", places).quotes_either


def test_a_count_in_a_quoted_name_is_the_number_not_the_measure_word():
    from rag.answer.evidence import phrase_in

    assert phrase_in("三张清单", "共建共享建立需求、资源和项目“三个清单”150多个")  # another measure word
    assert phrase_in("三张清单", "收集“需求清单”，形成“认领清单”，汇总形成“项目清单”")  # three of them named
    assert not phrase_in("三张清单", "明确政策宣传、矛盾调解、民生代办等岗位清单")
    assert phrase_in("15分钟服务圈/生活圈", "打造“15分钟便民生活圈”")


def test_which_ones_is_answered_by_a_sentence_that_lists_them(weigh):
    """"具体是哪五项" is answered by the sentence naming the five; "哪几个社区" is not answered by one
    that counts the 社区 without naming them."""
    from rag.answer.evidence import lists

    q, _, evidence = weigh("吉州区回应民生诉求的“五项机制”具体是哪五项？")
    assert q.members == (5, "") and evidence.answerable and "考核成果运用" in compose(q, evidence)
    q, _, evidence = weigh("罗定“3+2+5”里头那3个人文型社区，具体是哪几个社区")
    assert q.members == (2, "社区") and not evidence.answerable
    assert lists("罗城街道石围社区、北区社区率先发展", 2, "社区")


def test_a_quoted_word_of_the_language_beside_a_name_is_emphasis():
    from rag.answer.evidence import quoted_names

    assert quoted_names(["主心骨", "支部建在小区"]) == ["支部建在小区"]
    assert quoted_names(["五星"]) == ["五星"]  # alone it is the name


def test_a_numeral_jieba_cuts_off_a_name_is_not_the_rarest_word(answerer):
    # 四点半课堂 → 四点 / 课堂: "四点" is rare in the reports but names nothing
    q, _, _ = answerer._understand("有哪些地方在社区里弄了课后托管、四点半课堂这类的？", [], [])
    assert "四点" in q.terms and answerer.scorer._rarest_term(q) not in ("四点", "")


def test_a_how_answer_shows_up_to_the_fitted_number_of_sentences(weigh):
    """罗定's report says how its 党群服务中心 keep running ("后期通过低偿服务维持运营") in its
    fifth likeliest sentence: the fitted cap of a how answer (eval/fit.py) reaches it, the hand-set
    cap of four did not."""
    q, _, evidence = weigh("罗定党群服务中心不靠财政拨款怎么维持下去")
    shown = EvidenceModel.load().shown
    answer = compose(q, evidence)
    assert "低偿服务" in answer and answer.count("[") <= shown.how
    assert "低偿服务" not in compose(q, evidence, shown=Shown(shown.floor, how=4))
