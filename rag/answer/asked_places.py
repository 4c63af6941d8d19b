"""Where a question asks about: the index's places as written (莱阳, 山东), as they sound (莱杨 →
莱阳市), regions (粤西 → the index's places in 云浮市), places the corpus lacks (杭州, 苏州工业园区),
places excluded ("除了X"), and the communities a question names (石围社区).

`read_places` fills those fields of a `Question`; `rag.answer.question.analyse` calls it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from ..places import PROVINCES, REGIONS, gazetteer
from ..schema import strip_suffix
from ..text import in_dictionary, pos_tags, segmenter, word_at

if TYPE_CHECKING:
    from .question import Question


_EXCLUDE = re.compile(r"除了|除去|除开|除")
# "辽宁省内的辽阳", "两广交界的岑溪": how far before a place a wider one may say where it is
_WHERE_GAP = 4
_EXCLUSION_END = re.compile(r"以外|之外|外(?![地省市县区])|[，,。？?！!；;]|$")
# "殷都那个“微心愿”，别的地方还有吗": the place named is the one the user already knows of
_OTHER_PLACES = re.compile(r"别的地方|其他地方|其它地方|别处|别的城市|其他城市|其他的地方|别的地区|其他地区")
# A place-like word in a question: two to four characters and an administrative suffix.
_PLACE_WORD = re.compile(r"([\u4e00-\u9fa5]{2,4}?(?:省|市|区|县))")
# Place-like words that are not place names: 社区, 小区 …, or phrases with particles in them.
_NOT_PLACE_END = re.compile(r"(社|小|园|城|辖|片|街|景|校|新|山|郊|老|全|本|该|各|商|学|矿|林|牧|灾|试验|示范)区$")
_NOT_PLACE_CHARS = set("的了或与和由在用把将从为让是有哪些什么个里到动提设同属啥咋")
# Words jieba's dictionary tags as places that name none in a question.
_NOT_REGIONS = {"中国", "中华", "全国", "国内", "国外", "海外", "两岸", "内地", "大陆", "城乡", "乡村", "农村", "基层", "地方",
                "东西", "南北", "东南", "上下", "中外", "天下", "四方", "各地", "当地", "本地", "外地", "异地", "两地",
                "全省", "各省", "江湖", "山水", "江山", "南方", "北方"}
# "像岑溪那样", "跟莱阳一样": a place named only as the model for another is not asked about.
_REFERENCE = re.compile(r"(?:像|和|跟|同|学|参照|借鉴|类似)([\u4e00-\u9fa5]{2,6}?)(?:那样|一样|那种|似的|这样|那么|的做法)")
_NOT_PLACE = {"城市", "社区", "小区", "全市", "全区", "全县", "辖区", "城区", "市区", "园区", "片区", "街区", "本市", "该市",
              "地区", "哪个区", "哪个市", "哪个县", "哪些市", "哪些区", "哪些县", "新区", "老区", "山区", "郊区"}
_LOCALITY = re.compile(r"社区|村|小区|街道|镇")
_NOT_LOCALITY = {"城市", "城乡", "农村", "各个", "全市", "这个", "那个", "相关", "每个", "所有", "老旧", "新建", "试点", "示范",
                 "城区", "中心", "基层", "我们", "他们", "你们", "俺们", "咱们", "本地", "当地", "周边", "附近", "整个", "一个",
                 "哪个", "哪些", "什么", "多少", "乡镇", "城镇", "新型", "智慧", "幸福", "和谐", "美丽", "文明", "红色"}


@dataclass
class PlaceReading:
    written: str  # as the user wrote it: 莱杨, 粤西, 山东
    place: str  # what it was read as: 莱阳市, 云浮市, 山东省
    how: str  # "exact" | "sound" (a homophone or near-homophone) | "region"


def place_aliases(known_places: list[str]) -> dict[str, str]:
    """莱阳市 → {莱阳市: 莱阳市, 莱阳: 莱阳市}; provinces too (山东 → 山东省)."""
    out: dict[str, str] = {}
    for name in list(known_places) + list(PROVINCES):
        out[name] = name
        short = strip_suffix(name)
        if len(short) >= 2:
            out.setdefault(short, name)
    return out


def read_places(q: Question, text: str, known_places: list[str],
                in_corpus: Callable[[str], bool] | None = None) -> dict[str, str]:
    """Fills q.places, q.readings, q.excluded and q.unknown_places from `text`; returns the
    index's names and short names (`place_aliases`)."""
    aliases = place_aliases(known_places)
    found = _names_read(q, text, aliases, known_places)
    covered = "".join(q.places) + "".join(r.written for r in q.readings)
    for word in _PLACE_WORD.findall(text):
        if (word in _NOT_PLACE or word in aliases or word in covered or any(word in p for p in PROVINCES)
                or any(r.written in word for r in q.readings)
                or _NOT_PLACE_END.search(word) or set(word) & _NOT_PLACE_CHARS):
            continue
        if any(k in word for k in aliases) or not _may_be_place(word):  # "莱阳市区", "地方安排市"
            continue
        q.unknown_places.append(word)
    at = 0
    for word, flag in pos_tags(text):  # jieba knows 南山区 and 深圳 are places, though 山区 is not
        at += len(word)
        if flag == "ns" and (rest := _after_province(word, q.readings, aliases)) and not (in_corpus and in_corpus(rest)):
            q.unknown_places.append(rest)  # "辽宁大连", one word to jieba: 大连 is asked about, 辽宁 says where
            continue
        if (flag != "ns" or word in q.unknown_places or word in covered or any(k in word for k in aliases)
                or any(r.written in word for r in q.readings)):  # 辽杨市, read as 辽阳市
            continue
        named = (len(word) >= 3 and word[-1] in "省市区县" and word not in _NOT_PLACE
                 and not (_NOT_PLACE_END.search(word) and not word.endswith("山区")))
        # 深圳, 杭州: a place name in jieba's dictionary (suffixed words are judged by `named`)
        # (a word it tags as a place that the national table lacks — 里弄 in "社区里弄了托管" — only
        # when followed by what follows a place's name)
        city = (len(word) >= 2 and word[-1] not in "省市区县" and in_dictionary(word) and word not in _NOT_REGIONS
                and (word in _gazetteer_names() or bool(_PLACE_CONTEXT.match(text, at))))
        if (named or city) and not (in_corpus and in_corpus(word)):
            q.unknown_places.append(word)
        elif not (named or city) and (head := _place_head(word)) and not (in_corpus and in_corpus(head)):
            q.unknown_places.append(head)  # 苏州工业园区: a zone of a city the corpus lacks
    read = {i for r in q.readings for m in re.finditer(re.escape(r.written), text) for i in range(m.start(), m.end())}
    for start, word in _gazetteer_places(text, aliases):  # 平遥, 拱墅, 义乌: places the corpus does not cover
        if (read & set(range(start, start + len(word))) or word in covered or any(k in word or word in k for k in aliases)
                or any(word in u or u in word for u in q.unknown_places) or (in_corpus and in_corpus(word))):
            continue
        q.unknown_places.append(word)
    # "深圳南山区": the city in front of a district is said once, with the district
    q.unknown_places = [w for w in q.unknown_places
                        if not any(u != w and (w in u or w + u in text) for u in q.unknown_places)]
    for word in q.unknown_places:  # "山西晋中平遥…": 山西 only says where 平遥 is
        wider = {level for full in (word, word + "市", word + "县", word + "区") for chain in gazetteer().get(full, [])
                 for level in chain if level}
        q.places = [p for p in q.places if p not in wider]
    if q.unknown_places:  # "杭州有没有像岑溪那样…": asked about 杭州, not 岑溪
        models = {r.place for start, r in found for m in _REFERENCE.finditer(text) if m.start(1) <= start < m.end(1)}
        q.places = [p for p in q.places if p not in models]
    return aliases


def without_places(text: str, names: list[str]) -> str:
    """`text` with every place name (and its suffix: 芩溪市 is no 溪市) blanked, overlapping ones
    too: "青岛市北区" read as 青岛市 and 市北区 leaves neither 北区 nor 青岛, whichever is seen first."""
    blank = {i for name in set(names) for m in re.finditer(re.escape(name) + "[省市区县]?", text)
             for i in range(m.start(), m.end())}
    return re.sub(r"\x00+", " ", "".join("\x00" if i in blank else ch for i, ch in enumerate(text)))


def is_place_word(term: str, q: Question) -> bool:
    return any(term in r.written or r.written in term for r in q.readings)


def _names_read(q: Question, text: str, aliases: dict[str, str], known: list[str]) -> list[tuple[int, PlaceReading]]:
    """Places as written (莱阳, 山东), as they sound (莱杨 → 莱阳市), and regions (粤西 →
    the index's places in 云浮市 …); "除了X" moves X to the excluded places."""
    taken = [False] * len(text)

    def claim(start: int, end: int) -> bool:
        if any(taken[start:end]):
            return False
        taken[start:end] = [True] * (end - start)
        return True

    found: list[tuple[int, PlaceReading]] = []

    def regions(names: list[str]) -> None:
        for region in names:
            for m in re.finditer(region, text):
                if claim(m.start(), m.end()):
                    inside = [p for p in known if any(p == x or p.startswith(x) for x in REGIONS[region])]
                    if not inside:
                        q.unknown_places.append(region)
                    for p in inside:
                        found.append((m.start(), PlaceReading(region, p, "region")))

    # a province's part written out (广东西部) before the province's name; the rest after names
    written_out = [r for r in REGIONS if any(r.startswith(p) for p in _SHORT_PROVINCES)]
    regions(written_out)
    for alias in sorted(aliases, key=len, reverse=True):
        for m in re.finditer(re.escape(alias), text):
            if claim(m.start(), m.end()):
                found.append((m.start(), PlaceReading(alias, aliases[alias], "exact")))
    regions(sorted((r for r in REGIONS if r not in written_out), key=len, reverse=True))
    for start, end, alias in _sounds_like(text, aliases):
        if claim(start, end):
            found.append((start, PlaceReading(text[start:end], aliases[alias], "sound")))
    found.sort(key=lambda item: item[0])
    # "除了莱阳", "除两广交界的岑溪外": every place from 除 to the end of its phrase
    excluded_spans = [(m.end(), _EXCLUSION_END.search(text, m.end()).start()) for m in _EXCLUDE.finditer(text)]
    for start, reading in found:
        q.readings.append(reading)
        if _says_where(reading, start, found, text):
            continue
        canonical = reading.place
        excluded = any(a <= start < b for a, b in excluded_spans)
        target = q.excluded if excluded else (q.places if canonical in known else q.unknown_places)
        if canonical not in target:
            target.append(canonical)
    if _OTHER_PLACES.search(text):
        q.excluded += [p for p in q.places if p not in q.excluded]
    q.places = [p for p in q.places if p not in q.excluded]
    return found


def _after_province(word: str, readings: list[PlaceReading], aliases: dict[str, str]) -> str:
    """The city of the national table in a word that starts with a province read as written
    ("辽宁大连" → 大连), when the index does not have it; else ""."""
    for r in readings:
        rest = word[len(r.written):]
        if (r.how == "exact" and r.place in PROVINCES and word.startswith(r.written) and len(rest) >= 2
                and rest in _gazetteer_names() and not any(rest in k or k in rest for k in aliases)):
            return rest
    return ""


def _says_where(reading: PlaceReading, start: int, found: list[tuple[int, PlaceReading]], text: str) -> bool:
    """"除烟台芝罘区以外", "山东莱阳", "辽宁省内的辽阳", "两广交界的岑溪": a province, city or
    region written just before a place inside it (at most a few words between, no punctuation)
    only says where that place is; it is not asked about (nor excluded) on its own."""
    end = start + len(reading.written)
    if reading.how == "sound":
        return False
    same = {r.place for at, r in found if at == start and r.written == reading.written}  # a region's places
    return any(other.written != reading.written and end <= at <= end + _WHERE_GAP
               and not re.search(r"[，,。？?！!；;、和与及或跟同]", text[end:at])
               and any(p in chain for p in same for chain in gazetteer().get(other.place, []))
               for at, other in found)


@lru_cache(maxsize=1)
def _gazetteer_names() -> frozenset[str]:
    """Every city- and county-level name of the national table (GB/T 2260), as written and
    without its suffix when two characters or more remain (平遥县, 平遥)."""
    return frozenset(gazetteer()) | {strip_suffix(name) for name in gazetteer()}


# What follows a place's name when a user names one (义乌有没有…, 顺德的社区…, 平遥那边…); a
# name of the national table that is also a word (合作, 资源, 比如, 城区) is read as a place only so.
_PLACE_CONTEXT = re.compile(r"(?:那边|那儿|那里|这边|这儿|一带|当地|地区|的社区|的街道|的小区|的村|有没有|有啥|有什么|也有|也在|也搞|也弄)")


_SHORT_PROVINCES = frozenset(strip_suffix(p) for p in PROVINCES)


def _gazetteer_places(text: str, known: dict[str, str]) -> list[tuple[int, str]]:
    """(start, name) of the national table's city- and county-level names the question uses as a
    place: a whole word (jieba's) followed by what follows a place's name, or next to another
    place name (晋中平遥, 宁波鄞州) — not after a place of the corpus (岑溪城区 is part of 岑溪)."""
    names = _gazetteer_names()
    if not names:
        return []
    bounds, at = [0], 0
    for word, _ in pos_tags(text):
        at += len(word)
        bounds.append(at)
    spans: list[tuple[int, int]] = []  # whole words or runs of them, two to five characters, longest first
    for start, end in sorted(((a, b) for a in bounds for b in bounds if 2 <= b - a <= 5), key=lambda s: s[0] - s[1]):
        if text[start:end] in names and not any(a < end and start < b for a, b in spans):
            spans.append((start, end))
    spans.sort()

    def is_place(word: str) -> bool:
        return word in names or word in known or word in PROVINCES or word in _SHORT_PROVINCES

    found = []
    for start, end in spans:
        before = any(is_place(text[max(0, start - n):start]) for n in range(2, 6))
        after = any(is_place(text[end:end + n]) for n in range(2, 6))
        if any(text[max(0, start - n):start] in known for n in range(2, 6)):
            continue  # 岑溪城区
        if _PLACE_CONTEXT.match(text, end) or before or after:
            found.append((start, text[start:end]))
    return found


@lru_cache(maxsize=1)
def _pinyin():
    from pypinyin import Style, lazy_pinyin

    return lambda text: lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


def _loose(syllables: list[str]) -> tuple[str, ...]:
    """Syllables as a hurried typist or a southern speaker may confuse them: zh/z, ch/c, sh/s,
    -ng/-n. An input method offers every character of the same sound, so the wrong one is picked."""
    out = []
    for s in syllables:
        s = re.sub(r"^([zcs])h", r"\1", s)
        s = re.sub(r"ng$", "n", s)
        out.append(s)
    return tuple(out)


def _sounds_like(text: str, aliases: dict[str, str]) -> list[tuple[int, int, str]]:
    """Spans of `text` that sound like a place name but are written otherwise (莱杨, 芝浮区).
    A span that is itself a dictionary word (疗养 sounds like 辽阳) counts only when an
    administrative suffix follows it, or in the place of an exclusion ("除了山头，还有哪儿…")."""
    pinyin = _pinyin()
    excluding = {m.end() for m in _EXCLUDE.finditer(text)}
    names: dict[int, dict[tuple[str, ...], str]] = {}
    names_of_size: dict[int, list[str]] = {}
    for alias in aliases:
        if 2 <= len(alias) <= 4 and not alias.endswith(("省", "市", "区", "县")):
            names.setdefault(len(alias), {}).setdefault(_loose(pinyin(alias)), alias)
            names_of_size.setdefault(len(alias), []).append(alias)
    out = []
    for size, by_sound in names.items():
        for start in range(len(text) - size + 1):
            span = text[start:start + size]
            if span in aliases or not re.fullmatch(r"[\u4e00-\u9fff]+", span):
                continue
            after = text[start + size:start + size + 1]
            suffix = after in ("市", "区", "县", "省") and not _NOT_PLACE_END.search(span + after)  # 生江社区: no 江社区
            alias = by_sound.get(_loose(pinyin(span)))
            if alias is None and suffix and not in_dictionary(span):  # 芩溪市: one character off, then a suffix
                # (江汉区 is a place of its own: a dictionary word is not taken for a typo)
                alias = next((a for a in names_of_size.get(size, ()) if sum(x == y for x, y in zip(span, a)) == size - 1), None)
            if alias is None:
                continue
            shared = sum(a == b for a, b in zip(span, alias))
            if shared == 0 and not suffix:  # two new characters: a different word that sounds alike
                continue
            if in_dictionary(span) and not suffix and start not in excluding:
                continue
            out.append((start, start + size, alias))
    return out


def names_other_locality(paragraph: str, localities: list[str]) -> bool:
    """Whether a paragraph names a community, village or street other than `localities`
    ("罗城街道北区社区…" when 石围社区 is asked about)."""
    for m in _LOCALITY.finditer(paragraph):
        if paragraph[m.end():m.end() + 2] in ("服务", "公司", "社会", "企业", "基金", "治理", "工作"):
            continue  # 金邻社区服务有限公司 is a company
        for size in (4, 3, 2):
            name = paragraph[max(m.start() - size, 0):m.start()]
            if any(name.endswith(x) or x.endswith(name) for x in localities):
                break
            if (len(name) == size and re.fullmatch(r"[\u4e00-\u9fa5]+", name) and name not in _NOT_LOCALITY
                    and not _LOCALITY.search(name) and not set(name) & _NOT_PLACE_CHARS and size == 2
                    and all(f[0] in "n" for _, f in pos_tags(name)) and name not in ("社区", "城市", "基层")):
                return True
    return False


def localities(text: str, q: Question, in_corpus: Callable[[str], bool]) -> list[str]:
    """Named communities the documents mention as such: "石围社区" → 石围 (the longest name
    before 社区/村/小区/街道/镇 that the documents write with that suffix, and that is no verb
    or adjective: "反哺社区公益" names no community)."""
    out = []
    for m in _LOCALITY.finditer(text):
        for size in (4, 3, 2):
            name = text[max(m.start() - size, 0):m.start()]
            if (len(name) < size or not re.fullmatch(r"[\u4e00-\u9fa5]+", name) or name in _NOT_LOCALITY
                    or _LOCALITY.search(name) or set(name) & _NOT_PLACE_CHARS
                    or any(name in r.written or r.written in name for r in q.readings)):
                continue
            if (in_corpus(name + m.group(0)) and not any(f[0] in "vad" for _, f in pos_tags(name))
                    and word_at(text, m.start())[0] == m.start()):  # "每万城镇人口": 城镇 is a word, 万城 no place
                out.append(name)
                break
    return list(dict.fromkeys(out))


def _place_head(word: str) -> str:
    """"苏州工业园区" → 苏州: the place name jieba's dictionary knows at the start of a longer
    place word, if any."""
    tags = _word_tags()
    for size in (3, 2):
        head = word[:size]
        if len(word) > size and tags.get(head) == "ns" and head not in _NOT_REGIONS:
            return head
    return ""


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    segmenter()
    import jieba.posseg
    return jieba.posseg.dt.word_tag_tab


def _may_be_place(word: str) -> bool:
    """jieba reads "地方安排市" as 地方 / 安排 / 市: a verb or a pronoun inside is no place name."""
    return not any(flag.startswith(("v", "r", "p", "u", "d")) or w in ("地方", "城市", "地区")
                   for w, flag in pos_tags(word))
