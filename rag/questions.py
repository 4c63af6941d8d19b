"""What a question asks: places named, places wanted ("哪些地方…"), figures, years, key terms."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexical import pos_tags
from .places import PROVINCES
from .schema import strip_suffix
from .verify import key_terms, normalise

_WANTS_PLACES = re.compile(r"哪些地方|哪些城市(?!名片|称号|品牌)|哪些\w{1,6}的(?:地方|城市|地区)|哪些地区|哪些县|哪些区|哪些市|哪里|哪儿|哪个地方|哪个城市|哪个县|哪个区|哪个市|哪地|什么地方")
_NUMERIC = re.compile(r"多少|几个|几名|几家|几项|几次|几处|几成|比例|百分|占比|比率|收缴率|化解率|覆盖率|数量|规模|金额|面积|人次")
_HOW = re.compile(r"如何|怎样|怎么|哪些做法|什么做法|哪些举措|什么举措|什么办法|哪些办法|什么经验")
_PER_ARTICLE = re.compile(r"两篇|各篇|分别|各自|不同|区别|异同|比较|对比")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,24})[”\"」』]")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_WHEN = re.compile(r"哪一年|哪年|何年|何时|什么时候|哪个时间")
_RATE_QUALIFIERS = re.compile(r"日均|每天|每日|每周|每月|每年|月均|年均|人均|平均|全年|一年|首次|首个")
_NUMERIC_CUE = re.compile(r"多少|几[个名家项次处成人万]?|比例|百分之几|占比")
# A place-like word in a question: two to four characters and an administrative suffix.
_PLACE_WORD = re.compile(r"([\u4e00-\u9fa5]{2,4}?(?:省|市|区|县))")
# Place-like words that are not place names: 社区, 小区 …, or phrases with particles in them.
_NOT_PLACE_END = re.compile(r"(社|小|园|城|辖|片|街|景|校|新|山|郊|老|全|本|该|各|商|学|矿|林|牧|灾|试验|示范)区$")
_NOT_PLACE_CHARS = set("的了或与和由在用把将从为让是有哪些什么个里到动提设同属")
_NOT_PLACE = {"城市", "社区", "小区", "全市", "全区", "全县", "辖区", "城区", "市区", "园区", "片区", "街区", "本市", "该市",
              "地区", "哪个区", "哪个市", "哪个县", "哪些市", "哪些区", "哪些县", "新区", "老区", "山区", "郊区"}
_QUESTION_WORDS = {"哪些", "地方", "哪里", "哪个", "城市", "什么", "如何", "怎样", "怎么", "多少", "情况", "做法", "举措",
                   "分别", "各自", "不同", "区别", "报道", "两篇", "提到", "介绍", "有没有", "是否", "具体", "主要", "哪些地方",
                   "规模", "数量", "名称", "内容", "一共", "总共", "几个", "几名", "几家", "几项", "多少", "哪几个", "哪几",
                   "目前", "现在", "当前", "如今"}


@dataclass
class Question:
    text: str
    wants_places: bool = False
    numeric: bool = False
    how: bool = False
    per_article: bool = False
    places: list[str] = field(default_factory=list)  # places of the corpus it names (canonical names)
    unknown_places: list[str] = field(default_factory=list)  # place-like words the corpus does not have
    years: list[str] = field(default_factory=list)
    asks_when: bool = False  # "哪一年…": only a sentence with a year answers it
    terms: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)  # “红色物业”: a named practice must appear as written
    measure_terms: list[str] = field(default_factory=list)  # the words by 多少: what is counted (all needed)
    measure_context: list[str] = field(default_factory=list)  # whose or where (one of them needed)
    verbs: list[str] = field(default_factory=list)  # terms that are verbs (推行, 设立): how, not what
    # "长者食堂、长者饭堂或老年食堂", "外卖骑手等新就业群体": any one of a group will do
    alternatives: list[list[str]] = field(default_factory=list)


def analyse(text: str, known_places: list[str]) -> Question:
    """`known_places`: canonical place names of the index (莱阳市, 汕头市, 广东省 …)."""
    text = normalise(text)
    q = Question(text=text)
    q.wants_places = bool(_WANTS_PLACES.search(text))
    q.numeric = bool(_NUMERIC.search(text))
    q.how = bool(_HOW.search(text))
    q.per_article = bool(_PER_ARTICLE.search(text))
    q.years = _YEAR.findall(text)
    q.asks_when = bool(_WHEN.search(text))
    aliases = place_aliases(known_places)
    for alias in sorted(aliases, key=len, reverse=True):
        if alias in text and aliases[alias] not in q.places + q.unknown_places:
            # a province the documents never mention is a place they do not cover
            (q.places if aliases[alias] in known_places else q.unknown_places).append(aliases[alias])
    covered = "".join(q.places) + "".join(a for a in aliases if a in text)
    for word in _PLACE_WORD.findall(text):
        if (word in _NOT_PLACE or word in aliases or word in covered or any(word in p for p in PROVINCES)
                or _NOT_PLACE_END.search(word) or set(word) & _NOT_PLACE_CHARS):
            continue
        if any(k in word for k in aliases) or not _may_be_place(word):  # "莱阳市区", "地方安排市"
            continue
        q.unknown_places.append(word)
    for word, flag in pos_tags(text):  # jieba knows 南山区 is a place, though 山区 is not
        if (flag == "ns" and len(word) >= 3 and word[-1] in "省市区县" and word not in _NOT_PLACE
                and not (_NOT_PLACE_END.search(word) and not word.endswith("山区"))
                and word not in q.unknown_places and word not in covered and not any(k in word for k in aliases)):
            q.unknown_places.append(word)
    vocab = list(aliases)
    q.terms = [t for t in key_terms(text, vocab) if t not in _QUESTION_WORDS and not _WANTS_PLACES.fullmatch(t)]
    q.quoted = [m.strip() for m in _QUOTED.findall(text) if len(m.strip()) >= 2]
    q.verbs = [w for w, flag in pos_tags(text) if flag == "v" and w in q.terms]
    if q.numeric:
        q.measure_terms, q.measure_context = _measure_terms(text, q.terms)
    q.alternatives = _alternatives(text)
    return q


def _may_be_place(word: str) -> bool:
    """jieba reads "地方安排市" as 地方 / 安排 / 市: a verb or a pronoun inside is no place name."""
    return not any(flag.startswith(("v", "r", "p", "u", "d")) or w in ("地方", "城市", "地区")
                   for w, flag in pos_tags(word))


def _alternatives(text: str) -> list[list[str]]:
    """Groups of wordings any one of which answers: the items of an "A、B或C" list (short noun
    phrases), and "X等Y", where X is an example of Y."""
    groups = []
    for clause in re.split(r"[，,。？?！!；;：:（）()“”\"]", text):
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
                groups.append([example, kind])
    return groups


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


def _measure_terms(text: str, terms: list[str]) -> tuple[list[str], list[str]]:
    """What is counted, and who or what it is counted for: "服务老年人多少人次" → ([人次], [老年人]);
    "两委干部挂钩了多少名重点乡贤" → ([重点, 乡贤], [两委, 干部]); "日均服务多少人次" also needs 日均.
    A figure whose sentence lacks the counted thing (or all of its context) answers another question."""
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
    counted = after[:2] or before[-1:]
    context = [t for t in before[-2:] if t not in counted]
    return list(dict.fromkeys(counted + qualifiers)), context


def _nouns(text: str) -> set[str]:
    return {w for w, flag in pos_tags(text) if flag.startswith(("n", "vn")) or re.search(r"[率数量额费次]$", w)}


def place_aliases(known_places: list[str]) -> dict[str, str]:
    """莱阳市 → {莱阳市: 莱阳市, 莱阳: 莱阳市}; provinces too (山东 → 山东省)."""
    out: dict[str, str] = {}
    for name in list(known_places) + list(PROVINCES):
        out[name] = name
        short = strip_suffix(name)
        if len(short) >= 2:
            out.setdefault(short, name)
    return out
