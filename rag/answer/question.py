"""What a question asks, understood once: its kind, the places it names and excludes (read by
`asked_places`: typos and regions included), figures, years and the words that carry its content.

Everything downstream — evidence, composition, the model's context, follow-ups — reads this
`Question`; nothing re-analyses the text.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..text import (FUNCTION_WORDS, QUESTION_WORDS, YEAR, arabic_numbers, figure_values, in_dictionary, key_terms,
                    normalise, number_value, pos_tags, word_at)
from .asked_places import PlaceReading, is_place_word, localities, read_places, without_places

_WANTS_PLACES = re.compile(
    r"哪些地方|哪些城市(?!名片|称号|品牌)|哪些\w{1,6}的(?:地方|城市|地区)|哪些地区|哪些县|哪些区|哪些市|哪里|哪儿|哪个地方"
    r"|哪个城市|哪个县|哪个区|哪个市|哪地|什么地方|啥地方|哪几个地方|哪几个城市|哪几个区|哪几个县|哪几个市|哪几个地区"
    r"|别的地方|其他地方|其它地方|别处|还有哪|都有谁|有谁|哪家|谁家|哪座城市"
    r"|(?:哪|哪些|哪几个|哪个|啥|什么|别的|其他)地儿"  # 地儿: the spoken 地方
    r"|哪个地区|哪几座城市|哪(?:个|些|几个)?(?:省|县区|区县|县市|市县|地市)|有几个(?:地方|城市|地区)|各地"
    r"|(?:列出|列一下|列举|罗列|盘点)[^。？?！!]*(?:地方|城市|地区|地儿)"  # "请列出…的地区"
    r"|有没有(?:什么|哪个|哪些|别的|其他)?(?:地方|城市|地区)"
    r"|(?:地方|城市|地区)(?:都|还|一共|总共)?(?:有|是)哪(?:些|几个|几处|几家)(?=[？?。，,！!呢啊]|$)")  # "这样的地方都有哪几个"
# "哪边带动就业的人多": a comparison of figures; what is compared is between the two
_MORE = re.compile(r"(?:哪边|哪个|哪家|哪里|谁)([^，,。？?]{0,12}?)(?:更多|多一些|多一点|多些|多点|多|更少|少一些|少一点|少|更高|高一些|高一点|高|更大|大一些|大一点|大)(?:呢|啊|吗)?(?=[？?。，,]|$)")
_FIGURE = re.compile(r"多少|(?<!哪)几[十百千万]?[个名家项次处成人户件位所条座支年倍元场批类种间套平亩岁天部块栋]|几成|比例|百分|占比|比率"
                     r"|收缴率|化解率|覆盖率|数量|规模|金额|面积|人次|多大|多长|多高|多远|多久|多少钱"
                     r"|" + _MORE.pattern)
_HOW = re.compile(r"如何|怎样|怎么|咋|哪些做法|什么做法|哪些举措|什么举措|什么办法|哪些办法|什么经验|啥办法|啥招|什么招|啥做法|怎么弄|步骤|流程|啥机制|什么机制|靠啥|靠什么|啥路子|什么路子")
# what a name question asks the name of: the words before 叫/名字 ("那个小程序叫啥")
_ASKS_NAME_OF = re.compile(r"([\u4e00-\u9fa5]{1,10}?)(?:的)?(?:全称|全名|名字|名称|名号)?(?:叫|是)(?:个)?(?:什么|啥)")
_NAME = re.compile(r"叫什么|叫啥|什么名字|啥名|名称|称作|叫做什么|什么品牌|什么称号|什么牌子|起了个")
# Offices a report names people by, and users ask them by ("党委书记叫啥名字").
OFFICES = ("书记", "主任", "负责人", "会长", "社长", "队长", "站长", "院长", "局长", "组长", "部长", "市长", "区长", "县长", "镇长",
           "理事长", "主席", "创始人", "发起人", "老板", "法人")
# "党委书记叫啥名字": a person's name is asked for (a role does not answer it; "法人是谁来当的" does
# not ask a name and is answered by a role)
_AUTHORS = ("编剧", "作者", "导演", "作词", "作曲", "创作者", "设计者", "主创")
# offices reports fill with another office ("由社区党委书记担任法人"): "法人是谁" is answered by it
_HELD_BY_AN_OFFICE = ("法人", "负责人")
_PERSON_NAME = re.compile(rf"(?:{'|'.join(OFFICES + _AUTHORS + ('带头人', '领头人'))})(?:是|的)?"
                          r"(?:(?:叫|姓)(?:啥|什么)(?:名字|名)?|名字|姓名|全名)"
                          rf"|(?!{'|'.join(_HELD_BY_AN_OFFICE)})(?:{'|'.join(OFFICES + _AUTHORS + ('带头人', '领头人'))})是谁(?=[？?。，,！!]|$)"
                          r"|谁(?:编|写|创作|导演|作词|作曲|设计)的")
# "后来调成了几个", "弄了之后收缴率多少": the figure after a change is asked for, not the one before
_AFTER_CHANGE = re.compile(r"后来|之后|以后|调成|调整[成为到后]|变成|改成|拆成|分成|划成|变为|[增提升降]\w?到|扩大到|扩充到|优化为")
_PER_ARTICLE = re.compile(r"两篇|各篇|分别|各自|不同|区别|异同|比较|对比|有啥不一样|有什么不一样|差别|差异")
# A name in quotes, as users and reports write one: “红色物业”, "五星", 「…」
QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,24})[”\"」』]")
_WHEN = re.compile(r"哪一年|哪年|何年|何时|什么时候|啥时候|哪个时间|几几年|哪个朝代|什么朝代|哪朝|哪个年代|什么年代")
_WHICH_DAY = re.compile(r"几月|哪个月|哪月|什么月份|啥月份|几号|哪天|哪一天|什么日子")
# words that only say a count is asked ("带动就业的人数", "网格数量"): the unit says what is counted
_COUNT_WORDS = frozenset({"人数", "数量", "个数", "次数", "户数", "总数", "数目", "人次数"})
_RATE_QUALIFIERS = re.compile(r"日均|每天|每日|每周|每月|每年|月均|年均|人均|平均|全年|一年|首次|首个")
_NUMERIC_CUE = re.compile(r"多少|(?<!哪)几[个名家项次处成人万户件位所条座支]?|比例|百分之几|占比|多大|多长")
# What a user says of themselves ("我想…", "咱们社区想学学", "想先联系下", "搞得挺好") is no content
# to look up: such a word is dropped when no document uses it.
_USERS_OWN = re.compile(r"[我咱俺]|^想|想[先去找弄请要做学拉写]|挺")
# A question that leans on the previous turn: opens with a connective or a pronoun, or points back.
_FOLLOW_UP_START = re.compile(r"^(那|那么|还有|另外|再|它|他们|她们|这个|这些|这里|那里|该|其|同样|然后|接着|此外)")
_POINTS_BACK = re.compile(r"它|他们|她们|该市|该区|该县|该地|那里|那儿|这个地方|那个地方|这个做法|这项|此项|上述|前面|刚才|这个模式|这种")


# The line an answer opens with to say how a name was read: it names a place without saying the
# place has what was asked ("除了芝浮区…" names 芝罘区 there to exclude it).
READ_AS_LINE = re.compile(r"^“[^”\n]+”按[^\n]*理解：?$", re.M)


@dataclass
class Question:
    text: str
    kind: str = "fact"  # fact | figure | name | list | how | comparison | per_report | listing
    wants_places: bool = False
    numeric: bool = False
    how: bool = False
    asks_name: bool = False
    name_of: str = ""  # what a name question asks the name of: "那个小程序叫啥" → 小程序 ("" unsaid)
    asks_person: bool = False  # "书记叫啥名字": only a sentence that names a person answers it
    # "具体是哪6类", "那3个人文型的具体是哪几个社区": the members of a set, as (how many, of what):
    # only a sentence that lists that many answers it, not one that counts them
    members: tuple[int, str] | None = None
    after_change: bool = False  # "后来调成了几个": the figure after a change ("调整为19个")
    per_article: bool = False
    places: list[str] = field(default_factory=list)  # places of the corpus it names (canonical names)
    excluded: list[str] = field(default_factory=list)  # "除了莱阳…": places not to list
    unknown_places: list[str] = field(default_factory=list)  # place-like words the corpus does not have
    readings: list[PlaceReading] = field(default_factory=list)  # how each place word was read
    # named communities, villages, streets the documents mention (石围社区 → 石围): the answer
    # must come from a paragraph about them, as it must from the place asked about
    localities: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    asks_when: bool = False  # "哪一年…": only a sentence with a year answers it
    asks_day: bool = False  # "几月份出的", "哪天": only a sentence with a month or a day answers it
    figures: list[float] = field(default_factory=list)  # figures the question states (1.2万 → 12000)
    terms: list[str] = field(default_factory=list)
    # words of the user's that no document uses (电梯, 外卖, 小哥, 看看; jieba's dictionary knows
    # them, so they are no misreading of colloquial text): what answers them answers in meaning only
    unused_words: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)  # “红色物业”: a named practice must appear as written
    quotes_either: bool = False  # “15分钟服务圈”“15分钟生活圈”, “A”或“B”: any one of the quoted names will do
    # "还有哪搞幸福工坊": a name the reports quote, written plain; a report must name it, as a quoted one
    named_plain: list[str] = field(default_factory=list)
    measure_terms: list[str] = field(default_factory=list)  # the words by 多少: what is counted (all needed)
    measure_context: list[str] = field(default_factory=list)  # whose or where (one of them needed)
    units: list[str] = field(default_factory=list)  # units a figure answering it may carry (元, 人, %)
    rates: list[tuple[str, ...]] = field(default_factory=list)  # "日均…": wordings of the rate a figure must have
    verbs: list[str] = field(default_factory=list)  # terms that are verbs (推行, 设立): how, not what
    # "长者食堂、长者饭堂或老年食堂": wordings of one thing, any one of which will do
    alternatives: list[list[str]] = field(default_factory=list)
    # "外卖骑手等新就业群体": an example and its kind, either of which will do
    examples: list[list[str]] = field(default_factory=list)

    @property
    def comparison(self) -> bool:
        return len(self.places) >= 2 or self.per_article

    def matched_in_meaning(self) -> str:
        """For a list: a note that the places were found by meaning where the user's own words
        are no document's words ("哪些地方给老小区加装了电梯" — no report says 电梯)."""
        if not self.wants_places or not self.unused_words:
            return ""
        things = {w for w, flag in pos_tags(self.text) if flag.startswith(_THING_TAGS)}
        named = [w for w in self.unused_words if w in things]  # 电梯, 无人机, not 看看 or 最近
        if not named:
            return ""
        said = "”“".join(dict.fromkeys(_phrase_around(self.text, w, self.unused_words) for w in named))
        return f"文档中没有“{said}”的说法，列出的地方是按意思相近的内容找到的，请对照原文核实"

    def read_as(self) -> list[str]:
        """What to tell the user about names read other than as written: "“莱杨”按莱阳市理解"
        (a line of its own before an extractive answer, `READ_AS_LINE`)."""
        out = []
        for r in self.readings:
            if r.how == "sound":
                out.append(f"“{r.written}”按{r.place}理解")
        regions = {}
        for r in self.readings:
            if r.how == "region":
                regions.setdefault(r.written, []).append(r.place)
        out += [f"“{w}”按文档中的{'、'.join(ps)}理解" for w, ps in regions.items()]
        return out


def analyse(text: str, known_places: list[str], in_corpus: Callable[[str], bool] | None = None) -> Question:
    """`known_places`: canonical place names of the index, every level (莱阳市, 烟台市, 山东省 …);
    `in_corpus(word)`: whether the documents use a word (a community's name jieba takes for a
    place is no unknown place)."""
    text = arabic_numbers(normalise(text))
    text = re.sub(r"(多少|(?<!哪)几)个人(?![员才])", r"\1人", text)  # "选了多少个人": jieba reads 个人 (individual)
    q = Question(text=text)
    q.wants_places = any(not _starts_a_word(m) for m in _WANTS_PLACES.finditer(text))
    q.numeric = bool(_FIGURE.search(text))
    q.how = bool(_HOW.search(text)) and not q.numeric
    q.asks_name = bool(_NAME.search(text))
    q.name_of = _name_of(text) if q.asks_name else ""
    q.asks_person = bool(_PERSON_NAME.search(text))
    q.members = _members_asked(text)
    q.per_article = bool(_PER_ARTICLE.search(text))
    q.years = YEAR.findall(text)
    q.asks_when = bool(_WHEN.search(text))
    q.asks_day = bool(_WHICH_DAY.search(text))
    q.figures = [v for v in figure_values(text) if not any(v == float(y) for y in q.years)]
    aliases = read_places(q, text, known_places, in_corpus)
    place_words = list(aliases) + [r.written for r in q.readings] + q.unknown_places
    unplaced = without_places(text, [r.written for r in q.readings] + q.unknown_places)
    # the words that ask for places are no content, nor part of a word ("有哪些区搞了" is no 区搞)
    unplaced = _WANTS_PLACES.sub(lambda m: "，" if _asks_places_alone(m) else m.group(), unplaced)
    terms = key_terms(unplaced, place_words)
    if in_corpus:
        terms = list(dict.fromkeys(_with_prefix(_known_part(t, in_corpus), unplaced, in_corpus) for t in terms))
    q.terms = [t for t in terms
               if t not in QUESTION_WORDS and not _WANTS_PLACES.fullmatch(t) and not is_place_word(t, q)
               and not (in_corpus and _USERS_OWN.search(t) and not in_corpus(t))]
    q.quoted = [m.strip() for m in QUOTED.findall(text) if len(m.strip()) >= 2]
    q.quotes_either = bool(re.search(r"[”\"」』]\s*(?:或者|或是|或|/|／)?\s*[“\"「『]", text))
    if in_corpus and not q.wants_places:  # "除了汕头金丰社区，还有哪些地方…": 金丰 is no filter
        q.localities = localities(text, q, in_corpus)
    q.verbs = [w for w, flag in pos_tags(text) if flag == "v" and w in q.terms]
    if in_corpus:
        q.unused_words = [t for t in q.terms if in_dictionary(t) and not in_corpus(t)]
    if q.numeric:
        q.after_change = bool(_AFTER_CHANGE.search(text))
        counted = _as_count(text)
        q.measure_terms, q.measure_context = _measure_terms(counted, q.terms)
        q.units = expected_units(counted)
        q.rates = [RATES[r] for r in RATES if r in text]
    q.alternatives, q.examples = _alternatives(text)
    q.kind = kind_of(q)
    return q


def _starts_a_word(m: re.Match) -> bool:
    """Whether a match of `_WANTS_PLACES` runs on into a longer word: "啥地方戏" asks for a 地方戏."""
    words, after = m.group(), m.string[m.end():m.end() + 2]
    return any(in_dictionary(words[-2:] + after[:n]) for n in (1, 2) if len(after) >= n)


def _asks_places_alone(m: re.Match) -> bool:
    """A match of `_WANTS_PLACES` made only of asking words ("哪几个地方", "哪个省"), not
    "哪些广东省的地方" or "列出…的地区", which hold what is asked about."""
    return len(m.group()) <= 7 and "的" not in m.group() and not _starts_a_word(m)


def kind_of(q: Question) -> str:
    if q.wants_places:
        return "list"
    if q.per_article and len(q.places) < 2:
        return "per_report"
    if len(q.places) >= 2 or q.per_article:
        return "comparison"
    if q.numeric:
        return "figure"
    if q.asks_name:
        return "name"
    if q.how:
        return "how"
    return "fact"


# "社区基金、邻里基金这类…", "四点半课堂或者公益托管班": a name among others the user lists
_LISTED_BEFORE = re.compile(r"(?:、|或者?|和|及|与|还是)$")
_LISTED_AFTER = re.compile(r"^(?:、|或者?|和|及|与|还是|等|这类|之类|一类)")


def names_written_plain(q: Question, paragraphs: list[str]) -> list[str]:
    """The names `paragraphs` put in quotes (“四点半课堂”, “红色物业”) that a "哪些地方…"
    question writes without them ("还有哪搞幸福工坊"): users rarely type quotes, and a report's
    quoted name is its practice — a place whose report never names it does not have it. A name
    the user lists beside others ("社区基金、邻里基金这类") is one example of what is asked, and a
    word of the language in quotes (“主心骨”) is emphasis, not a name."""
    found = []
    for paragraph in paragraphs:
        for name in QUOTED.findall(paragraph):
            name = normalise(name).strip()
            written = arabic_numbers(name)
            at = q.text.find(written)
            if (len(name) < 3 or at < 0 or name in (*q.quoted, *q.named_plain, *found) or in_dictionary(name)
                    or is_place_word(name, q)):
                continue
            if _LISTED_BEFORE.search(q.text[:at]) or _LISTED_AFTER.search(q.text[at + len(written):]):
                continue
            found.append(name)
    # “幸福工坊” and “幸福工坊”项目 name one practice: the longest written one stands for it
    return [n for n in found if not any(n != m and n in m for m in found)]


# a piece of a question that asks something of its own ("…营收多少？…拿几成回馈社区")
_ASKS = re.compile(r"多少|多久|几|哪|啥|什么|怎么|怎样|咋|如何|吗|呢|是否|有没有|有无|为何|为什么|[不没否]$|没有$")


# a clause asking how or how often: "…一般咋配人，多久开一回会" (not "生意怎么样", which leads in;
# nor "非洲鼓啥的", "etc.")
_ASKS_HOW = re.compile(r"(?:咋|怎么|如何)(?!样)|多久|多长时间")


def split_parts(text: str) -> list[str]:
    """"汕头金丰的社区公司营收多少？罗定北区的科技课收益拿几成回馈社区" → its two questions. A
    piece that asks nothing ("岑溪那两篇都算上：") joins the next; a short tag ("一样不") whose
    words the caller finds empty is joined by the caller."""
    pieces = [p.strip(" ，,：:") for p in re.split(r"[？?；;。！!]+", text)]
    pieces = [c for p in pieces if p for c in _asking_clauses(p)]
    parts: list[str] = []
    carry = ""
    for piece in pieces:
        if not _ASKS.search(piece):
            carry += piece + "，"
            continue
        parts.append(carry + piece)
        carry = ""
    if carry:
        if parts:
            parts[-1] += "，" + carry.rstrip("，")
        else:
            parts.append(carry.rstrip("，"))
    return parts


def _asking_clauses(piece: str) -> list[str]:
    """"社区合伙人有多少家，选进大党委的委员又有多少人" → its two figure questions: a piece with
    several clauses each asking a figure, or asking nothing but how ("一般咋配人，多久开一回会"), is
    cut before each of them but the first. ("岑溪文体协会覆盖了多少个 社区社会组织孵化了多少个": the same.)"""
    clauses = re.split(r"[，,]|\s+", piece.strip())  # typed on a phone, a space ends a clause
    asks = [bool(_ASKS_FIGURE.search(c)) for c in clauses]
    if not any(asks):  # "怎么划的 一格多少户" is one question: how, shown with its figure
        asks = [bool(_ASKS_HOW.search(c)) for c in clauses]
    if sum(asks) < 2:
        return [piece]
    out, current, asked = [], [], False
    for clause, asking in zip(clauses, asks):
        if asking and asked:
            out.append("，".join(current))
            current, asked = [], False
        current.append(clause)
        asked = asked or asking
    out.append("，".join(current))
    return [c for c in out if c.strip()]


def depends_on_previous(text: str, q: Question) -> bool:
    """Only a question that cannot stand alone is read with the previous turn: one that opens
    with a connective or pronoun ("那汕头呢", "它们怎么做的"), points back ("这个做法"), or
    has no content of its own ("具体说说？")."""
    text = normalise(text).strip()
    if _FOLLOW_UP_START.search(text) or _POINTS_BACK.search(text):
        return True
    if not q.terms and not q.quoted:
        return True  # "汕头呢？", "具体怎么做的？"
    return False


def _with_prefix(term: str, text: str, in_corpus: Callable[[str], bool]) -> str:
    """"大工委 大党委": jieba cuts 大 off 工委; a single character jieba tags as an adjective or a
    distinguishing word, before a word that the documents write with it (大工委), is the name's own
    — not 个 of "多少个小区", 员 of "快递员提供", 半 of "四点半课堂"."""
    at = text.find(term)
    if at < 1:
        return term
    before = text[at - 1]
    _, word, flag = word_at(text, at - 1)
    if (word == before and flag in _ADJECTIVE_TAGS and before not in FUNCTION_WORDS and in_corpus(before + term)
            and not (at > 1 and in_corpus(text[at - 2] + before + term))):
        return before + term
    return term


# jieba's tags of things: nouns, verbal nouns (巡查), abbreviations, set phrases (无人机 is one)
_THING_TAGS = ("n", "vn", "j", "l")


def _phrase_around(text: str, word: str, words: list[str]) -> str:
    """`word` with the `words` written right before and after it: 小哥 → 外卖小哥."""
    at = text.find(word)
    run = "(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + ")+"
    return next((m.group() for m in re.finditer(run, text) if m.start() <= at < m.end()), word)


_ADJECTIVE_TAGS = ("a", "ag", "b", "h")  # jieba: adjective, its morpheme, distinguishing word, prefix


def _known_part(term: str, in_corpus: Callable[[str], bool]) -> str:
    """Colloquial text leaves single characters jieba joins into one piece ("里搞非遗"): a piece
    neither the documents nor jieba's dictionary know is its longest part the documents use
    (非遗), or as it was."""
    if in_corpus(term) or in_dictionary(term):
        return term
    for size in range(len(term) - 1, 1, -1):
        for start in range(len(term) - size + 1):
            if in_corpus(part := term[start:start + size]):
                return part
    return term


_MEMBERS = re.compile(r"(?:具体|分别)(?:是|有|都有|都是)?哪(几|[一二两三四五六七八九十\d]+)(?:个|项|类|种|条|家|所|支|样)?"
                      r"([\u4e00-\u9fa5]{0,4})")


def _members_asked(text: str) -> tuple[int, str] | None:
    m = _MEMBERS.search(text)
    if not m:
        return None
    count = 2 if m.group(1) == "几" else number_value(m.group(1)) or 2  # 几: more than one
    kind = next((w for w, flag in pos_tags(m.group(2)) if flag.startswith("n") and len(w) >= 2), "")
    return count, kind


def _alternatives(text: str) -> tuple[list[list[str]], list[list[str]]]:
    """Groups of wordings any one of which answers: the items of an "A、B或C" list (short noun
    phrases), and apart from them the pairs of "X等Y", where X is an example of Y."""
    groups, examples = [], []
    for clause in re.split(r"[，,。？?！!；;：:（）()“”\"]", text):
        clause = re.sub(r"[/／]", "或", clause)  # "服务圈/生活圈"
        if "或" in clause:
            *before, last = re.split(r"或者|或", clause)
            items = "或".join(before).split("、") + [_head(last)]
            if items[-1]:  # "…或让他们参与治理": two doings, not two names of one thing
                items[0] = _tail(items[0], max(len(x) for x in items[1:]))
                items = [x for x in items if len(x) >= 2]
                if len(items) >= 2 and max(len(x) for x in items) <= 8:
                    groups.append(items)
        standalone = {w for w, flag in pos_tags(clause) if w == "等" and flag.startswith("u")}
        for m in re.finditer(r"([\u4e00-\u9fa5]{2,8})等([\u4e00-\u9fa5]{2,12})", clause if standalone else ""):
            example, kind = _tail(m.group(1), 4, verbs_stop=False), _noun_phrase(m.group(2))
            if example and kind and pos_tags(example)[-1][1].startswith("n"):  # an example is a thing
                examples.append([example, kind])
    return groups, examples


def _name_of(text: str) -> str:
    """The nouns before 叫/名字 in a name question: "那个小程序叫啥" → 小程序; "" when it does not say."""
    m = _ASKS_NAME_OF.search(text)
    if not m:
        return ""
    nouns = ""
    for word, flag in reversed(pos_tags(m.group(1))):
        if not (flag.startswith("n") and flag != "ns" or flag in ("vn", "j") or (nouns and flag == "a")) or word in ("名字", "名称"):
            break  # (an adjective before the nouns belongs to them: 小程序)
        nouns = word + nouns
    return nouns if len(nouns) >= 2 else ""


def _tail(text: str, length: int, verbs_stop: bool = True) -> str:
    """The last words of `text` up to about `length` characters, not past a particle, a
    preposition or a verb ("设立了社区基金" → "社区基金", "让居民" → "居民")."""
    out = ""
    for word, flag in reversed(pos_tags(text)):
        if out and (len(out) + len(word) > length + 1 or _stops(word, flag, verbs_stop)):
            break
        out = word + out
    return out.lstrip("了的")


def _head(text: str) -> str:
    """The words an item starts with, up to a particle or preposition ("党员用服务…" → "党员");
    "" when it starts with a verb (两个做法, not two names of one thing)."""
    out = ""
    for word, flag in pos_tags(text):
        if not out and flag == "v":
            return ""
        if _stops(word, flag):
            break
        out += word
    return out if len(out) <= 8 else ""


def _stops(word: str, flag: str, verbs: bool = True) -> bool:
    return flag in ("u", "p", "ul", "uz", "uj", "r") or (verbs and flag == "v") or word in "的了把将为用在让给"


def _noun_phrase(text: str) -> str:
    """Words up to and including the first noun: "新就业群体提供服务" → "新就业群体"."""
    out = ""
    for word, flag in pos_tags(text):
        out += word
        if flag.startswith("n") and len(out) >= 2:
            return out
        if len(out) > 8:
            break
    return ""


def _as_count(text: str) -> str:
    """"哪边带动就业的人多" asks what "带动就业多少人" asks, of each side."""
    m = _MORE.search(text)
    if not m:
        return text
    compared = m.group(1)
    person = re.search(r"的?(人数?|人次)$", compared)
    what = compared[:person.start()] if person else compared
    return text[:m.start()] + what + "多少" + (person.group(1) if person else "") + text[m.end():]


def _measure_terms(text: str, terms: list[str]) -> tuple[list[str], list[str]]:
    """What is counted, and who or what it is counted for: "服务老年人多少人次" → ([人次], [老年人]);
    "两委干部挂钩了多少名重点乡贤" → ([重点, 乡贤], [两委, 干部]); "日均服务多少人次" also needs 日均."""
    cue = _NUMERIC_CUE.search(text)
    if not cue:
        return [], []
    clause_start = max(text.rfind(p, 0, cue.start()) for p in "，,、；;：:") + 1
    tail = re.split(r"[，,、；;？?。！!]", text[cue.end():], maxsplit=1)[0]
    nouns = _nouns(text)
    before = [t for t in terms if t in nouns and t in text[clause_start:cue.start()]]
    before.sort(key=lambda t: text.rfind(t, 0, cue.start()))
    after = [t for t in terms if t in tail]
    qualifiers = _RATE_QUALIFIERS.findall(text)
    # "接待多少人吃饭": people, as the unit says; what they do is in the reports' words (服务群众800多人次)
    people = re.match(r"[个名位]?人(?!次)", tail) and not any(t in nouns for t in after)
    counted = [] if people else after[:2] or before[-1:]
    context = [t for t in before[-2:] if t not in counted]
    counted = [t for t in counted if t not in _COUNT_WORDS]
    return list(dict.fromkeys(counted + qualifiers)), [t for t in context if t not in _COUNT_WORDS]


# What kind of figure a question asks for, by its cue: money, people, households, rates, areas …
# A sentence whose figures carry none of these units answers another question.
_UNIT_CUES = (
    (re.compile(r"(?:多少钱|花了多少|投入多少|投了多少|掏了多少|投资|[挣赚]|资金|经费|补贴|补助|营收|收入|营业额|产值|金额|费用|收费|学费|缴费"
                r"|[^经]费多少|多少[\u4e00-\u9fa5]{0,3}费|价格|价钱|工资|薪酬|租金|奖金|几块钱|多少元|多少万元)(?!率)"),
     ("元",)),  # (收费率, 缴费率: a rate)
    (re.compile(r"几成|比例|比重|百分|占比|比率|[^多]率|覆盖面"), ("%", "％", "成")),
    (re.compile(r"多少人次|几人次"), ("人次",)),
    (re.compile(r"多少户|几户"), ("户",)),
    (re.compile(r"多大|面积|多少平|几平|多少亩|几亩"), ("平方米", "平米", "亩", "公顷")),
    # (not "多久开一回会": how often, answered by 每季度 as well as by a figure)
    (re.compile(r"(?:多长时间|多久|多少天|几天|几个月|多少个月|几周|多少小时|几小时|几年时间|多少年)"
                r"(?![^，,。？?！!]*?[一1][次回趟])"),
     ("天", "个月", "月", "周", "小时", "年")),
    (re.compile(r"多长(?!时间)|多远|几公里|多少公里|多少米"), ("公里", "千米", "米")),
)
# Who is counted when a figure question counts people (the head noun after 多少: "多少观众观看" →
# 观众, but "多少个居民网格" → 网格, no person).
PERSON_NOUNS = frozenset("人 人员 观众 居民 群众 党员 志愿者 老人 老年人 干部 学生 儿童 少年儿童 青少年 骑手 乡贤 会员 社工 "
                         "网格员 委员 专家 人才 工作者 社区工作者 孩子 学员 村民 职工".split())
PERSON_UNITS = ("人", "名", "位", "人次", "户")
COUNT_UNITS = tuple("个名家项次处户件位所条座支块场批类种间套栋本期届部台辆张棵")  # 几个人 counts people (above)
# a clause asking a figure of its own (not "这几个地方", as _NUMERIC_CUE would): where two figure
# questions in one sentence are cut apart
_ASKS_FIGURE = re.compile(rf"多少|(?<![这那哪])几[{''.join(COUNT_UNITS)}成人万倍]")
# A figure asked "per day" (日均) is not answered by a total: the sentence must say the same rate.
RATES = {"日均": ("日均", "每天", "每日", "一天"), "每天": ("日均", "每天", "每日", "一天"), "每日": ("日均", "每天", "每日", "一天"),
         "每周": ("每周", "周均"), "每月": ("每月", "月均", "一个月"), "月均": ("每月", "月均", "一个月"),
         "每年": ("每年", "年均", "一年", "全年"), "年均": ("每年", "年均", "一年", "全年"), "人均": ("人均", "每人"),
         **dict.fromkeys(("每平米", "一平米", "每平方米", "一平方米"),  # a price per area: "物业费一平米收多少钱"
                         ("每平米", "一平米", "每平方米", "一平方米", "/平米", "/平方米"))}


def holds_measure(term: str, text: str) -> bool:
    """Whether `text` holds a measure term of a figure question; a rate in any of its wordings
    ("每天服务多少人" is answered by "日均服务群众800多人次")."""
    return any(w in text for w in RATES.get(term, (term,)))

# Measure words that count the same things, which users and reports choose between: "多少条问题"
# is answered by "问题7900余件", "几位老人" by "12名".
_INTERCHANGEABLE = ("件条项起宗个", "名位人", "处所座栋家间", "次场期届回")
# 个 is left out: users count anything with it, whatever the document's measure word.
_CLASSIFIER = re.compile(r"(?:多少|(?<!哪)几)([名家项次处户件位所条座支块场批类种间套栋本期届部台辆张棵分])")


def _counts_people(text: str) -> bool:
    for cue in re.finditer(r"多少|(?<!哪)几", text):
        tail = re.split(r"[，,。？?！!；;、]", text[cue.end():], maxsplit=1)[0]
        tail = re.sub(r"^[个名位]", "", tail)  # "几个人": jieba would read 个人 (individual)
        nouns = [w for w, flag in pos_tags(tail) if flag.startswith(("n", "r")) or w in PERSON_NOUNS]
        if nouns and nouns[-1] in PERSON_NOUNS:
            return True
    return False


def expected_units(text: str) -> list[str]:
    """The units a figure answering `text` may carry; [] when the question does not say:
    the measure word after 多少/几 ("多少块牌子" → 块), else the kind its cue names (多少钱 → 元)."""
    # a kind named: the one nearest the (first) asking word ("课程收入…各拿几成" asks 几成, not money)
    asking = _NUMERIC_CUE.search(text)
    at = asking.start() if asking else 0
    named = [(min(abs(hit.start() - at) for hit in cue.finditer(text)), i, units)
             for i, (cue, units) in enumerate(_UNIT_CUES) if units[0] in ("元", "%", "人次", "户") and cue.search(text)]
    if named:
        return list(min(named)[2])
    m = _CLASSIFIER.search(text)
    if m:
        said = m.group(1)
        kin = next((kind for kind in _INTERCHANGEABLE if said in kind), ())
        return list(dict.fromkeys([said, *kin])) + (["人次"] if said == "次" else [])
    if "人数" in text or _counts_people(text):
        return list(PERSON_UNITS)
    for cue, units in _UNIT_CUES:
        if cue.search(text):
            return list(units)
    if re.search(r"(?:多少|(?<!哪)几)个", text):  # "多少个社区": a count, whatever its measure word; not "30%"
        return list(COUNT_UNITS)
    return []


def _nouns(text: str) -> set[str]:
    return {w for w, flag in pos_tags(text) if flag.startswith(("n", "vn")) or re.search(r"[率数量额费次]$", w)}


