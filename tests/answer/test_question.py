"""Question analysis: what a question asks for, on the real index's place names."""
import pytest

from rag.answer.question import analyse, names_written_plain, split_parts


@pytest.fixture(scope="module")
def places(real_index):
    return real_index.places(all_levels=True)


@pytest.mark.parametrize("question, groups", [
    ("哪些地方建了长者食堂、长者饭堂或老年食堂？", [["长者食堂", "长者饭堂", "老年食堂"]]),
    ("哪些地方设立了社区基金、邻里基金或社区健康基金？", [["社区基金", "邻里基金", "社区健康基金"]]),
    ("哪些地方推行积分制，让居民或党员用服务换积分？", [["居民", "党员"]]),
    ("哪些地方为外卖骑手等新就业群体提供服务？", []),  # an example and its kind: q.examples
    # two doings joined by 或 are not two names of one thing
    ("哪些地方为骑手提供服务或让他们参与治理？", []),
    ("莱阳市的信托制物业是怎么做的？", []),
])
def test_alternatives(places, question, groups):
    assert analyse(question, places).alternatives == groups


def test_an_example_and_its_kind_are_a_pair_apart_from_alternatives(places):
    assert analyse("哪些地方为外卖骑手等新就业群体提供服务？", places).examples == [["外卖骑手", "新就业群体"]]


def test_words_jieba_does_not_know_are_kept():
    q = analyse("哪些地方把非遗融入社区服务？", [])
    assert "非遗" in q.terms


def test_verbs_are_marked_and_pronouns_dropped(places):
    q = analyse("哪些地方推行积分制，让他们用服务换积分？", places)
    assert "推行" in q.verbs and "积分" not in q.verbs
    assert "他们" not in q.terms


def test_emphasis_and_pointing_are_no_content(places):
    # "专门" stresses; one report happens to use it, so as a term it became the rarest word and
    # decided which places have the practice
    q = analyse("哪些地方专门给残疾人做了点实事儿？", places)
    assert "专门" not in q.terms and "残疾人" in q.terms
    # nor is pointing: no report writes "这种" or "那套", so as terms they only lowered every coverage
    q = analyse("街道大工委、社区大党委这套机制，还有“契约”那种共建，哪几个地方在弄？", places)
    assert not {"这套", "那种"} & set(q.terms) and "契约" in q.terms
    # …nor the frame of a comparison or of when ("莱阳落实的时候选了几个社区")
    q = analyse("莱阳和芝罘哪边带动就业的人多，两边各是多少？莱阳落实的时候选了几个社区？", places)
    assert not {"哪边", "两边", "各是", "时候"} & set(q.terms)
    # …nor the spoken 事儿 ("参与社区里的事儿": no report writes it, so it only lowered every coverage)
    q = analyse("哪些地方用攒积分的办法调动居民参与社区里的事儿？", places)
    assert "事儿" not in q.terms and "积分" in q.terms
    # …nor the words that ask for places, nor a word made of them and the next ("有哪些区搞了" → 区搞)
    assert analyse("有哪些区搞了大党委", places).terms == ["党委"]
    assert analyse("哪个省有信托制物业？", places).terms == ["信托", "物业"]
    assert "地方戏" in analyse("广西岑西那边拿啥地方戏来编禁毒、普法的小戏？", places).terms


@pytest.mark.parametrize("question, wants", [
    ("这些报道里有哪些广东省的地方？", True),
    ("哪些城市开设了“四点半课堂”？", True),
    ("岑溪市在报道中用到了哪些城市名片？", False),
    ("有没有地方让退休老党员回社区发挥作用？", True),
    ("汾阳有没有把骑手拉进社区治理？", False),
    ("请老干部出来调解邻里矛盾的，是哪几个地儿？", True),
    ("还有啥地儿在搞积分超市？", True),
    ("请列出新建、扩建或改造提升社区党群服务中心的地区。", True),
    ("哪个省有信托制物业？", True),
    ("有几个地方搞了积分超市？分别是哪？", True),
    ("我在比较北方几个地方的阵地建设，辽阳和殷都各建了多少个？", False),  # a comparison of two
    ("广西岑西那边拿啥地方戏来编禁毒、普法的小戏？", False),  # a 地方戏, not a place
])
def test_wants_places(places, question, wants):
    assert analyse(question, places).wants_places is wants


@pytest.mark.parametrize("question, counted, context", [
    ("龙文区镇街领导班子成员和村居两委干部一共挂钩了多少名重点乡贤？", ["重点", "乡贤"], ["村居", "干部"]),
    ("汕头市金丰社区“丰彩桑榆”品牌2025年以来服务老年人多少人次？", ["人次"], ["服务", "老年人"]),
    ("社区食堂日均服务多少人次？", ["人次", "日均"], ["食堂", "服务"]),
    # people, as the unit says: what they do is in the reports' own words (服务群众800多人次)
    ("金丰社区食堂一天能接待多少人吃饭？", [], ["社区", "食堂"]),
    # …but what was done to a thing counted is asked: a sentence must say it (列为)
    ("辽阳有多少个社区被列为软弱涣散的？", ["社区", "列为"], []),
])
def test_what_a_figure_counts(places, question, counted, context):
    q = analyse(question, places)
    assert (q.measure_terms, q.measure_context) == (counted, context)


def test_review_findings(places):
    from rag.answer.verify import key_terms

    assert "书吧" in key_terms("哪些地方建了社区书吧？")  # 吧 ends a word here, not a sentence
    assert analyse("哪些地方在老城区改造小区？", places).unknown_places == []
    assert analyse("哪些地方和高等院校合作?", places).alternatives == []
    q = analyse("龙文区目前一共汇聚了多少名乡贤？", places)
    assert "目前" not in q.terms and "乡贤" in q.terms
    assert "哪几个" not in analyse("汕头市试点了哪几个社区？", places).terms


@pytest.mark.parametrize("question, parts", [
    ("莱阳物业费收缴率提到多少？汕头金丰社区食堂日均服务多少人次", ["莱阳物业费收缴率提到多少", "汕头金丰社区食堂日均服务多少人次"]),
    # a piece that asks nothing leads into the next; a single question stays whole
    ("岑溪两篇都看。治理剧编了多少部？", ["岑溪两篇都看，治理剧编了多少部"]),
    ("哪些地方用信托制物业?", ["哪些地方用信托制物业"]),
])
def test_a_question_asking_two_things_is_split(question, parts):
    assert split_parts(question) == parts


def test_counted_in_measure_words_users_use(places):
    assert analyse("汾阳加装了多少部电梯？", places).units == ["部"]
    assert analyse("牛娘戏是哪个朝代兴起的？", places).asks_when
    assert analyse("党员活动日定在每个月的哪天？", places).asks_day


def test_the_kind_of_figure_is_the_one_by_the_asking_word(places):
    # 收入 is what the share is of; 几成 is what is asked
    assert "%" in analyse("芝罘和罗定都把课程收入拿一部分回馈社区，两边各拿几成？", places).units
    # two asks: the whole question's kind is its first part's (each part is weighed on its own)
    assert analyse("金丰社区公司2025年营收多少？北区社区科技课收益拿几成回馈社区", places).units == ["元"]


def test_a_fee_is_asked_in_money_and_a_count_with_ge_is_no_percentage(places):
    assert analyse("公益托管班每月收多少管理费？", places).units == ["元"]
    # 多大 alone asks an area; an investment's size, or what someone earns, is money
    assert analyse("龙文引进的那几个项目总投资有多大？", places).units == ["元"]
    assert analyse("学员开店以后一个月能挣多少？", places).units == ["元"]
    units = analyse("辽阳有多少个社区评上了五星？", places).units
    assert "个" in units and "%" not in units and "人次" not in units


def test_a_persons_name_and_a_figure_after_a_change(places):
    assert analyse("岑溪文旅行业党委的书记叫啥名字", places).asks_person
    assert analyse("那个协会的会长是谁？", places).asks_person
    assert not analyse("社区企业的法人是谁来当的？", places).asks_person  # answered by a role
    assert not analyse("金丰那家社区公司的法人是谁？", places).asks_person  # "由社区党委书记担任法人"
    assert not analyse("岑溪的智慧党建平台叫什么名字？", places).asks_person
    assert analyse("城区的社区后来调整成了几个？", places).after_change
    assert not analyse("城区原来有几个社区？", places).after_change


def test_ge_ren_after_duoshao_counts_people(places):
    q = analyse("兼职委员选了多少个人？", places)
    assert "个人" not in q.terms and q.units[0] == "人"


def test_which_side_has_more_is_a_figure_question(places):
    assert analyse("莱阳跟芝罘都在搞幸福工坊，哪边带动就业的人多？", places).numeric
    assert not analyse("莱阳跟芝罘的幸福工坊有什么不一样？", places).numeric


def test_which_side_has_more_people_asks_for_a_count_of_people():
    """"哪边带动就业的人多" is answered, on each side, by a figure of people, as "带动就业多少人" is."""
    from rag.answer.question import PERSON_UNITS

    q = analyse("莱阳跟芝罘都在搞幸福工坊，哪边带动就业的人多？", ["莱阳市", "芝罘区"])
    assert q.numeric and q.comparison and q.units == list(PERSON_UNITS)
    q = analyse("芝罘和莱阳搞幸福工坊，哪边带动就业的人更多？各多少", ["莱阳市", "芝罘区"])
    assert q.units == list(PERSON_UNITS)
    q = analyse("汕头和汾阳哪个服务的人次多？", ["汕头市", "汾阳市"])
    assert q.units == ["人次"] and q.measure_terms == ["人次"]


def test_a_piece_of_single_characters_is_cut_to_the_word_the_documents_use(places, real_index):
    """"在社区里搞非遗": jieba leaves 里 搞 非 遗 single; joined they are no word, 非遗 is one."""
    in_corpus = lambda w: real_index.bm25.doc_freq(w) > 0  # noqa: E731
    q = analyse("除了汾阳，还有哪些地方在社区里搞非遗的活动？", places, in_corpus)
    assert "非遗" in q.terms and not any("搞" in t for t in q.terms)
    q = analyse("哪些地方把非遗跟社区服务、基层治理结合起来了？", places, in_corpus)
    assert "非遗" in q.terms and "起来" not in q.terms  # a complement, not what is asked about


def test_points_are_a_unit_of_their_own(places):
    """"能得多少分" is answered by a figure of points, not by "8类社区事务"."""
    assert analyse("居民做一小时志愿服务能得多少分？", places).units == ["分"]


def test_places_asked_for_after_the_practice(places):
    """"…这样的地方都有哪几个？" asks for a list of places; "罗定这个地方有哪些做法" does not."""
    assert analyse("驻区单位跟社区签协议、搞“契约化”共建，这样的地方都有哪几个？", places).wants_places
    assert not analyse("罗定这个地方有哪些做法？", places).wants_places


def test_asking_by_what_mechanism_is_a_how_question(places):
    assert analyse("岑溪是靠啥机制把基层需求和协会对接起来的？", places).how


def test_a_rate_of_fees_asks_for_a_share_not_money(places):
    assert analyse("莱阳物业费的收费率现在到多少了？", places).units[0] == "%"
    assert analyse("莱阳的社区基金给社区挣了多少钱？", places).units == ["元"]


def test_two_figures_asked_in_one_sentence_are_two_parts():
    assert split_parts("殷都的兼职委员有多少名，社区合伙人又签了多少家") == ["殷都的兼职委员有多少名", "社区合伙人又签了多少家"]
    assert split_parts("莱阳和芝罘，各带动多少人就业") == ["莱阳和芝罘，各带动多少人就业"]
    # typed on a phone, a space ends a clause; words spaced apart are still one question
    assert split_parts("罗定大党委委员有多少名 社区合伙人签了多少家") == ["罗定大党委委员有多少名", "社区合伙人签了多少家"]
    assert split_parts("莱杨 信托制物业 咋弄的") == ["莱杨 信托制物业 咋弄的"]
    assert split_parts("岑溪治理剧编了几部 小区党支部建了多少") == ["岑溪治理剧编了几部", "小区党支部建了多少"]


def test_two_asks_of_other_kinds_in_one_sentence_are_two_parts():
    assert split_parts("罗定的大党委一般怎么配委员，多久开一次会") == ["罗定的大党委一般怎么配委员", "多久开一次会"]
    # one ask, whatever the clauses before it say
    assert split_parts("我在写材料，想了解下，汾阳是咋把党组织建到小区的") == ["我在写材料，想了解下，汾阳是咋把党组织建到小区的"]


def test_an_adjective_jieba_cuts_off_a_name_is_kept_with_it(real_index, places):
    def in_corpus(word):
        return real_index.bm25.doc_freq(word) > 0

    assert "大工委" in analyse("大工委这种机制，哪些地方有？", places, in_corpus).terms
    q = analyse("汾阳有多少个小区实行了信托制物业？", places, in_corpus)  # 个 is no part of a name
    assert "小区" in q.terms


def test_what_users_say_of_themselves_is_no_term(real_index, places):
    def in_corpus(word):
        return real_index.bm25.doc_freq(word) > 0

    q = analyse("我想先摸个底，咱们想学学，莱阳的社区基金搞得挺好，挣了多少钱？", places, in_corpus)
    assert not [t for t in q.terms if "我" in t or "咱" in t or "挺" in t or t.startswith("想")]
    assert "基金" in q.terms


def test_how_long_asks_for_a_duration_and_how_often_for_no_unit():
    from rag.answer.question import expected_units
    assert "天" in expected_units("实岗锻炼每一期要多长时间") and "公里" not in expected_units("每一期要多长时间")
    assert expected_units("大党委多久开一回会") == []
    assert expected_units("健步道有多长") == ["公里", "千米", "米"]


@pytest.mark.parametrize("question, paragraph, names", [
    # a report's quoted name, written plain by the user, is its practice
    ("还有哪些地方也在推红色物业，除了辽阳", "形成了“四点半课堂”“红色物业”等5个固定服务项目", ["红色物业"]),
    # one of several things the user lists is an example, not a name every report must give
    ("社区基金、邻里基金这类的钱袋子哪些地方有", "将学费的10%注入“邻里基金”", []),
    ("哪些地方搞了四点半课堂或者公益托管班？", "设立老年食堂、“四点半课堂”46个", []),
    # a word of the language in quotes is emphasis
    ("哪些地方让小区有了主心骨", "让小区有了“主心骨”", []),
])
def test_names_the_reports_quote_written_plain(places, question, paragraph, names):
    q = analyse(question, places)
    assert names_written_plain(q, [paragraph]) == names


@pytest.mark.parametrize("question, answered_by, not_by", [
    ("一共汇集了多少条居民反映的问题？", "件", "名"),  # "入户收集问题7900余件"
    ("有几位老人参加", "名", "件"),
    ("清理了多少块牌子", "块", "件"),  # a measure word of its own kind stays as said
])
def test_measure_words_that_count_the_same_things(question, answered_by, not_by):
    from rag.answer.question import expected_units
    units = expected_units(question)
    assert answered_by in units and not_by not in units


def test_a_figure_written_in_chinese_digits_is_a_year(places):
    assert analyse("吉州区二〇二五年走访了多少户", places).years == ["2025"]


def test_a_word_that_only_says_a_count_is_asked_is_not_what_is_counted(places):
    q = analyse("两边带动就业的人数各多少", places)
    assert "人数" not in q.measure_terms and "名" in q.units


def test_which_side_has_a_bit_more_asks_for_figures(places):
    assert analyse("辽阳和殷都选进党组织的兼职委员，哪边多一点？", places).numeric


def test_a_rate_is_found_in_any_of_its_wordings():
    from rag.answer.question import holds_measure
    assert holds_measure("每天", "日均服务群众800多人次") and holds_measure("乡贤", "汇聚乡贤4309名")
    assert not holds_measure("每天", "累计服务群众800多人次")


def test_how_asked_with_a_figure_is_one_question():
    assert split_parts("汾阳网格怎么划的，一格多少户") == ["汾阳网格怎么划的，一格多少户"]


def test_a_list_in_words_no_report_uses_says_its_places_were_found_by_meaning(places, real_index):
    in_corpus = lambda w: real_index.bm25.doc_freq(w) > 0  # noqa: E731
    q = analyse("哪些地方用无人机来巡查网格？", places, in_corpus)
    assert "无人机" in q.unused_words and "网格" not in q.unused_words
    assert "“无人机”" in q.matched_in_meaning() and "按意思相近" in q.matched_in_meaning()
    # the user's compound is named as written, not in jieba's pieces
    assert "“外卖小哥”" in analyse("哪些地方给外卖小哥弄了歇脚的地方？", places, in_corpus).matched_in_meaning()
    # the reports' own words, the user's framing (看看, 最近, 别人), or a question that is no list: no note
    assert analyse("哪些地方用信托制物业？", places, in_corpus).matched_in_meaning() == ""
    assert analyse("最近想看看材料里有哪些地方在搞红色物业？", places, in_corpus).matched_in_meaning() == ""
    assert analyse("想学学别人，有哪几个地方组建了楼栋长队伍？", places, in_corpus).matched_in_meaning() == ""
    assert analyse("汕头给外卖小哥提供了什么服务？", places, in_corpus).matched_in_meaning() == ""
