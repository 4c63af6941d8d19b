"""Chinese text helpers shared by indexing and answering: jieba, normalisation, sentences,
citation markers, numbers written several ways, and the one list of words that carry no content.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# --- words that say how something is asked, not what about ----------------------------------
# Particles, pronouns and connectives (also dropped from the checker's key terms).
FUNCTION_WORDS = frozenset(
    "的 了 在 是 和 与 及 等 为 对 将 把 从 以 也 都 而 并 其 之 这 那 有 被 让 给 向 于 或 通过 进行 开展 "
    "实现 推动 推进 持续 不断 积极 有效 全面 一个 一批 一系列 其中 此外 同时 以及 以上 如下 包括 主要 方面 "
    "工作 相关 具体 文档 资料 报道 根据 显示 提到 指出 介绍 他们 她们 它们 我们 这些 那些 之类 "
    "呢 吗 吧 啊 呀 哪 么 那 还 又 再 就 才 很 最 各 每 该 谁 咋 啥 关于 跟 起来 下去 出来 进来 上来".split())
# What users type around a question: colloquial verbs and particles (啥, 咋, 弄, 整, 俺们),
# hedges (差不多, 大概), emphasis (到底, 专门), pointing (这种, 那套) and the frame of a question
# (哪些地方, 多少, 情况, 哪边, 时候). None of it decides which paragraph answers.
QUESTION_WORDS = frozenset(
    "哪些 地方 哪里 哪儿 哪个 哪家 哪几个 哪几 城市 地区 什么 如何 怎样 怎么 怎么样 多少 情况 做法 举措 办法 经验 "
    "分别 各自 不同 区别 报道 两篇 提到 介绍 有没有 是否 具体 主要 哪些地方 规模 数量 名称 内容 一共 总共 "
    "几个 几名 几家 几项 目前 现在 当前 如今 啥 啥样 咋 咋样 咋整 咋弄 咋办 咋搞 干啥 为啥 多大 多少钱 "
    "地儿 事儿 省份 各地 怎么办 几座 几处 列出 列一下 列举 罗列 盘点 "
    "弄 搞 整 干 做 弄的 搞的 整的 俺 俺们 咱 咱们 你们 人家 大家 差不多 大概 大约 左右 好像 听说 据说 "
    "到底 究竟 专门 特意 特地 一下 一些 有点 那边 这边 那儿 这儿 那里 这里 靠谱 咋回事 怎么回事 呗 嘛 哈 哦 喔 呐 "
    "请问 请 问下 问一下 想问 想知道 知道 了解 说说 讲讲 聊聊 告诉 一样 也有 还有 别的 其他 其它 除了 另外 "
    "搞了 弄了 整了 做了 干了 叫 叫做 叫啥 名字 是不是 有没 能不能 可不可以 怎么弄 怎么搞 那个 这个 那些 这次 那次 "
    "这块 那块 一块 这事 这些事 那事 啥的 什么的 之类的 写材料 材料 那样 这样 一样 哪一年 哪年 "
    "这种 那种 这类 那类 这套 那套 这一套 那一套 这帮 那帮 这么 那么 那家 "
    "哪边 两边 各是 何种 哪几种 叫啥名 个啥 多一点 比一比 时候 已经 几成 几倍 几期 几年 "
    "开始 哪些个 几部 几个 几项 几种 没有 了没 没呢 有吗 不是 或者 或是 还是 并且 而且 然后 以后 之后 后来".split())
# Dropped from the words a document is indexed by (BM25); the index is built with this list,
# so changing it means re-ingesting.
INDEX_STOPWORDS = frozenset(
    "的 了 在 是 和 与 及 等 为 对 将 把 从 以 也 都 而 并 其 之 这 那 有 被 让 给 向 于 或 "
    "哪些 哪里 哪个 哪儿 什么 怎么 怎样 如何 多少 几个 是否 吗 呢 吧 啊 请问 请 一下 情况 "
    "地方 城市 地区 哪 有没有 做法 采取 通过 进行 开展".split())

_CITE = re.compile(r"\[(\d{1,3})\]")
# A year written out: "2025年" (it dates, it counts nothing).
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=1)
def segmenter():
    """jieba, initialised once (its dictionary loads in about a second)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def in_dictionary(word: str) -> bool:
    """Whether jieba's dictionary has `word` as a word of its own (not only as a prefix)."""
    return segmenter().dt.FREQ.get(word, 0) > 0


@lru_cache(maxsize=4096)
def pos_tags(text: str, hmm: bool = True) -> tuple[tuple[str, str], ...]:
    """jieba's words with their part of speech ("ns" a place, "v" a verb, "n…" a noun). Cached:
    a question is looked at several ways (places, verbs, nouns, alternatives)."""
    import jieba.posseg

    segmenter()
    return tuple((pair.word, pair.flag) for pair in jieba.posseg.cut(text, HMM=hmm))


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def strip_citations(text: str) -> str:
    return _CITE.sub("", text).strip()


def citations_in(text: str) -> list[int]:
    return [int(n) for n in _CITE.findall(text)]


def sentences_of(text: str) -> list[str]:
    """Split at 。！？；, but not inside quotation marks: “…真踏实！…” stays one sentence."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "“「『《":
            depth += 1
        elif ch in "”」』》":
            depth = max(0, depth - 1)
        elif ch in "。！？!?；;" and depth == 0 and (i + 1 >= len(text) or text[i + 1] not in "。！？!?；;”」』"):
            out.append(text[start:i + 1])
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s.strip()]


def split_sentences(answer: str) -> list[str]:
    """Sentences with their [n] markers; markers written after the full stop stay with it."""
    out = []
    for line in answer.splitlines():
        for piece in sentences_of(line):
            m = re.match(r"^(\s*(?:\[\d{1,3}\])+)(.*)$", piece, re.S)
            if m and out:  # "[1]" written after the full stop belongs to the sentence before
                out[-1] += m.group(1).strip()
                piece = m.group(2)
            s = piece.strip()
            if not s:
                continue
            if out and not strip_citations(s):
                out[-1] += s  # a lone "[2]" belongs to the sentence before it
                continue
            out.append(s)
    return out


def key_terms(sentence: str, place_vocab: Iterable[str] = ()) -> list[str]:
    """The content words of a sentence: jieba words less function words, numbers and places;
    runs of single characters jieba could not join are joined back (非遗 → 非 遗 → 非遗)."""
    text = normalise(strip_citations(sentence))
    places = set(place_vocab)
    terms, run = [], ""
    for w in list(segmenter().cut(text)) + [""]:
        w = w.strip()
        if len(w) == 1 and "\u4e00" <= w <= "\u9fff" and w not in FUNCTION_WORDS:
            run += w
            continue
        if len(run) >= 2 and run not in places:
            terms.append(run)
        run = ""
        if len(w) >= 2 and w[-1] == "了":  # 建了 → 建 (but 书吧 stays 书吧)
            w = w[:-1]
        if len(w) < 2 or w in FUNCTION_WORDS or w in places or NUMBER.fullmatch(w) or not re.search(r"[\u4e00-\u9fff]", w):
            continue
        terms.append(w)
    return list(dict.fromkeys(terms))


# --- numbers written several ways -----------------------------------------------------------
_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
           "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_NUMBER = re.compile(r"[零〇一壹二两贰三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟]+(?:[万亿][零〇一二两三四五六七八九十百千]*)*")
# An approximate figure in words: 上万人次, 近万人 (written 1万 before the numerals are read).
_ABOUT_BIG = re.compile(r"([上近数逾过])([万亿])(?=[余多]?[个名家项次处人户件位元])")
# A figure with its multiplier and unit: 1.2万件, 93%, 4522人次, 3成, 10多万人 (about 100000).
FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[余多来](?=[万亿]))?(万|亿)?\s*(%|％|成|[\u4e00-\u9fff]{0,2})")
# What may follow a numeral that is a quantity (三个, 千余名): measure words and units.
_QUANTITY_AFTER = re.compile(r"[余多来]?[个名家项次处成人户件位所条座支年倍%％万亿元场批类种本套间届]")
# Units of time, area, money and things, for any numeral but 一: "一天", "一平米", "一块" are
# the "per" of a rate ("一平米收多少钱") or a word (一块儿), "两万多块", "一百多平" are figures.
_UNIT_AFTER = re.compile(r"[余多来]?(?:[岁天平亩块台辆期轮节层栋]|分钟|小时|钟头|公里)")
# Figures said in words (a quarter of an hour, ninety-three percent), as reports write them.
_SPOKEN = ((re.compile(r"[一1]刻钟"), "15分钟"), (re.compile(r"[两2]刻钟"), "30分钟"),
           (re.compile(r"半(?:个)?(?:小时|钟头)"), "30分钟"))
_PERCENT_WORDS = re.compile(r"百分之\s*(\d+(?:\.\d+)?)")
_TENTHS = re.compile(r"(\d)成([\d一二三四五六七八九])(?![\d个名家人])")  # 九成三 → 93%
_DECIMAL = re.compile(r"([零〇一二两三四五六七八九十]+)点([零〇一二三四五六七八九]+)(?=[万亿倍%成]|[余多]?[个名人元])")  # 一点二万 → 1.2万


def chinese_to_int(text: str) -> int | None:
    """三 → 3, 十二 → 12, 二十三 → 23, 一百零五 → 105, 三万五千 → 35000, 二〇二五 → 2025; None if not
    a numeral."""
    if not text or not _CN_NUMBER.fullmatch(text):
        return None
    if len(text) >= 3 and all(ch in _DIGITS for ch in text):  # 二〇二五 → 2025, not 三四(个): a year
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
        elif ch in _BIG:
            total += (section + (digit or 0)) * _BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def number_value(text: str) -> int | None:
    """"6" → 6, "六" → 6, "十二" → 12; None if `text` is no number."""
    return int(text) if text.isdigit() else chinese_to_int(text)


def arabic_numbers(text: str) -> str:
    """Chinese numerals as digits where they are quantities (三个 → 3个, 九成 → 9成), leaving
    words that merely contain a numeral character (一起, 统一, 万家) alone: a numeral counts
    only when a measure word or unit follows it, or it stands before 万/亿 with digits. Figures
    said in words are written as reports write them: 一刻钟 → 15分钟, 百分之九十三 → 93%, 九成三 →
    93%, 一点二万 → 1.2万."""
    def repl(m: re.Match) -> str:
        value = chinese_to_int(m.group(0))
        after = text[m.end():m.end() + 3]  # a unit, or 余/多/来 and a unit (千余名 → 1000余名)
        before = text[m.start() - 1:m.start()] if m.start() else ""
        if value is None or before in ("哪", "第", "某", "统", "唯", "同"):
            return m.group(0)
        if (_QUANTITY_AFTER.match(after) or (m.group(0) != "一" and _UNIT_AFTER.match(after))
                or text[:m.start()].endswith("百分之")):
            return str(value)
        return m.group(0)

    for pattern, figure in _SPOKEN:
        text = pattern.sub(figure, text)
    text = _DECIMAL.sub(lambda m: f"{chinese_to_int(m.group(1))}.{''.join(str(_DIGITS[c]) for c in m.group(2))}", text)
    text = _ABOUT_BIG.sub(lambda m: m.group(1) + "1" + m.group(2), text)
    text = _CN_NUMBER.sub(repl, text)
    text = _PERCENT_WORDS.sub(lambda m: m.group(1) + "%", text)
    return _TENTHS.sub(lambda m: f"{m.group(1)}{number_value(m.group(2))}%", text)


def figure_values(text: str) -> list[float]:
    """Every figure of a text as a plain value, multipliers applied and rates in percent:
    1.2万 → 12000, 93% → 93, 9成 → 90."""
    out = []
    for m in FIGURE.finditer(arabic_numbers(normalise(text))):
        value = float(m.group(1))
        if m.group(2):
            value *= _BIG[m.group(2)]
        if m.group(3) == "成":
            value *= 10
        out.append(value)
    return out


def numbers_in(text: str) -> list[str]:
    return list(dict.fromkeys(NUMBER.findall(normalise(text))))


def word_at(text: str, i: int) -> tuple[int, str, str]:
    """The jieba word of `text` that holds character `i`: (its start, the word, its tag)."""
    at = 0
    for word, flag in pos_tags(text):
        if at <= i < at + len(word):
            return at, word, flag
        at += len(word)
    return i, "", ""
