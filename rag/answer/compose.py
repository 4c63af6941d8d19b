"""The extractive answer: the evidence's own sentences, each with its citation. Nothing is
generated, so every sentence is grounded by construction.

A figure question leads with the figure, a "叫什么" question with the name, then the sentence
that says so; "哪些地方…" gets one line per place with evidence; a comparison or a region one
line per place (or report), a "how" question the best paragraph's relevant sentences in order.
"""
from __future__ import annotations

import re

from ..schema import headline
from ..text import FIGURE, NUMBER, normalise, pos_tags
from .evidence import CHANGED_TO, Candidate, Evidence, Shown, changed_to, default_model, person_named
from .question import QUOTED, Question, holds_measure

# how a report goes on with the measure it has just told: "同步建立…", "同时…", "并在…"
_GOES_ON = re.compile(r"同步|同时|此外|另外|配套|并[同在将]")
_NAME_IN_QUOTES = re.compile(r"[“\"「『]([^”\"」』]{2,20})[”\"」』]|《([^》]{2,40})》")  # a name, or a title
# how many characters may stand between a name and the word for its kind after it
# ("“泷州红 同心融”城市党建品牌": 城市党建 between the name and 品牌)
NEAR = 6
# what `_line` puts before a sentence: "- 莱阳市（山东省烟台市莱阳市）《标题》："
_WHO_PREFIX = re.compile(r"^(?:- )?[\u4e00-\u9fa5]{2,12}(?:（[\u4e00-\u9fa5]+）)?(?:《[^》]+》)?：")
# an organisation a report says was set up or brought in: "成立金邻社区服务有限公司", "引进辰坤社会工作服务中心"
_ORGANISATION = re.compile(r"(?:成立|引进|引入|组建|注册|创办|培育)了?([\u4e00-\u9fa5]{2,14}?(?:有限公司|公司|服务中心|中心|协会|促进会"
                           r"|联合会|工作室|基金会|合作社))")


def compose(q: Question, evidence: Evidence, places: list[Candidate] | None = None, shown: Shown | None = None) -> str:
    """`places`: for "哪些地方…", the best sentence of each place that qualifies. `shown`: how
    likely a sentence must be to answer to be shown beside the best one, and how many are shown
    (default: the fitted model's, see eval/fit.py); in a comparison, a side whose best sentence is
    less likely than the floor is named by its report's title instead (it says nothing on the question)."""
    shown = shown or default_model().shown
    lines = [f"{r}：" for r in q.read_as()]
    if evidence.parts:  # "…营收多少？…拿几成": each part answered in turn, a sentence said once
        said: set[str] = set()
        for part, part_evidence in evidence.parts:
            if part_evidence.answerable:
                for line in _body(part, part_evidence, part_evidence.places, shown).splitlines():
                    sentence = _WHO_PREFIX.sub("", line)  # with or without its place before it
                    if sentence not in said:
                        said.add(sentence)
                        lines.append(line)
        return "\n".join(lines)
    return "\n".join(lines + [_body(q, evidence, places or [], shown)])


def _body(q: Question, evidence: Evidence, places: list[Candidate], shown: Shown) -> str:
    floor = shown.floor
    cands = evidence.candidates
    if evidence.listing:
        where = "、".join(q.places)
        reports = {_report(c): c for c in reversed(cands)}  # each report's best-ranked paragraph
        lines = [_title_line(c) for c in sorted(reports.values(), key=lambda c: c.n)]
        intro = f"文档中属于{where}的地方：" if q.wants_places else f"文档中关于{where}的报道："
        return "\n".join([intro] + lines)
    if q.wants_places:
        chosen = places or cands[:1]
        intro = "文档中有相关做法的地方：" if len(chosen) > 1 or places else ""
        return "\n".join(([intro] if intro else []) + [place_line(c) for c in chosen])
    if q.comparison:
        lines = grouped_lines(q, cands, floor)
        if len(lines) > 1:
            return "\n".join(lines)
    best = cands[0]
    chosen = [best]
    if q.how:  # the best paragraph's relevant sentences, in their order
        chosen += [c for c in cands[1:] if c.n == best.n and c.probability >= floor][:shown.how - 1]
        # a paragraph these reports open with its heading ("创新建立“双向画像”机制。") says how in the
        # sentence after it: a heading that answers best brings that sentence along
        in_order = sorted((c for c in cands if c.n == best.n), key=lambda c: best.doc.page_content.find(c.sentence))
        if len(in_order) > 1 and in_order[0] is best and in_order[1] not in chosen:
            chosen.append(in_order[1])
        # "…信托账户管理…。同步建立…“五方监察人”制度": the next sentence goes on with the same measure
        after = in_order[in_order.index(best) + 1:]
        if after and _GOES_ON.match(after[0].sentence) and after[0] not in chosen:
            chosen.append(after[0])
    for c in cands[1:]:
        if len(chosen) >= (shown.how if q.how else shown.fact):
            break
        if c.probability >= floor and c.sentence not in {x.sentence for x in chosen}:
            chosen.append(c)
    # "后来调成了几个": the figure a change arrives at, from the shown sentence that states one
    leading = next((c for c in chosen if changed_to(q, c.sentence)), best) if q.after_change else best
    if q.asks_name and not _new_names(q, best.sentence):  # "…企业叫什么名字": the likely sentence naming one
        naming = next((c for c in cands[1:] if c.probability >= floor and _new_names(q, c.sentence)), None)
        if naming is not None:
            leading = naming
            if naming not in chosen:
                chosen.append(naming)
    lead = _lead(q, leading)
    chosen.sort(key=lambda c: (c.n, c.doc.page_content.find(c.sentence)))
    body = "\n".join(_line(c, with_place=(i == 0 or c.place != chosen[i - 1].place)) for i, c in enumerate(chosen))
    return f"{lead}\n{body}" if lead else body


def _lead(q: Question, best: Candidate) -> str:
    """"93%[1]。" for a figure question, "“幸福顾问团”[1]。" for a name question."""
    if q.numeric:  # a bare number ("1" of "配备1至2名副书记" for "多久开一回会") says nothing by itself
        figure = figure_for(q, best.sentence)
        return f"{figure}[{best.n}]。" if figure and not NUMBER.fullmatch(figure) else ""
    if q.asks_person and (person := person_named(best.sentence)):
        return f"{person}[{best.n}]。"
    if q.asks_name:  # only when the sentence names one thing the question does not already say
        names = _new_names(q, best.sentence)
        if names:
            return f"{names[0]}[{best.n}]。"
    return ""


def _new_names(q: Question, sentence: str) -> list[str]:
    """What `sentence` names that the question does not, as it writes it (“幸福顾问团”, 《…方案》).

    When the question says what it asks the name of (小程序, 牛娘戏, 品牌): only a name written
    just before that word ("“掌上金丰”小程序", "“泷州红 同心融”城市党建品牌"), right after it
    ("牛娘戏《彩凤还巢》") or ending with it (《…工程方案》); for an organisation asked (机构, 企业),
    also one the sentence says was set up or brought in whose name has the characters of one of
    the question's other words ("社工机构": 辰坤社会工作服务中心; not "餐饮企业": 金邻社区服务有限公司).
    The sentence's other names are of other things. When it does not say: an organisation set up
    or brought in, else the quoted name when the sentence quotes only one (several are a list)."""
    organisations = [(m.start(), m.end(), f"“{m.group(1)}”") for m in _ORGANISATION.finditer(sentence)
                     if m.group(1) not in q.text]
    quoted = [(m.start(), m.end(), m.group(0)) for m in _NAME_IN_QUOTES.finditer(sentence)
              if (m.group(1) or m.group(2)) not in q.text]
    kind = q.name_of
    if kind:
        forms = {kind, kind[-2:]} if len(kind) > 2 else {kind}
        near = [name for start, end, name in organisations + quoted
                if any(f in sentence[end:end + len(f) + NEAR] or sentence[:start].endswith(f)
                       or name.strip("“”《》").endswith(f) for f in forms)]
        if kind.endswith(("机构", "组织", "单位", "企业", "公司")):
            modifier = [w for w, _ in pos_tags(kind[:-2])]
            near += [name for _, _, name in organisations if not modifier or any(set(w) <= set(name) for w in modifier)]
        return list(dict.fromkeys(near))[:1]
    if organisations:
        return [organisations[0][2]]
    names = list(dict.fromkeys(name for _, _, name in quoted))
    return names if len(names) == 1 else []


def figure_for(q: Question, sentence: str) -> str:
    """The figure of `sentence` that answers: the one by the counted thing (人次, 户, %) if the
    question names it, else the first; as written, with its multiplier and unit."""
    text = normalise(sentence)
    # a year dates, it counts nothing (FIGURE's unit is two characters: "2025年以来" → 年以)
    found = [m for m in FIGURE.finditer(text)
             if not (re.fullmatch(r"(19|20)\d{2}", m.group(1)) and (m.group(3) or "").startswith("年"))]
    if not found:
        return ""
    of_kind = [m for m in found if any((m.group(2) or "") + (m.group(3) or "") == u or (m.group(3) or "").startswith(u)
                                       for u in q.units)]
    found = of_kind or found  # 几成 is answered by the percentage, not by "3个"
    counted = re.search(r"(?:多少|几)([个名家项次处户件位所条座支块场批类种间套栋])", q.text)
    if counted:  # "多少个网格" is answered by "292个", not by "500户"
        found = [m for m in found if (m.group(3) or "").startswith(counted.group(1))] or found
    if q.after_change:  # "后来调成了几个": "由11个…调整为19个" is answered by 19个
        found = [m for m in found if CHANGED_TO.search(text[:m.start()])] or found
    places = [m.start() for term in q.measure_terms + q.verbs for m in re.finditer(re.escape(term), text)]
    if places:  # the figure nearest to what is counted or to the doing asked of ("覆盖了多少个": 覆盖)
        return _figure_text(min(found, key=lambda m: min(min(abs(m.start() - at), abs(m.end() - at)) for at in places)))
    for m in found:  # the first figure stated with a unit is likelier the answer than a bare one
        if m.group(2) or m.group(3):
            return _figure_text(m)
    return _figure_text(found[0])


# The unit written after a figure's number (and 万/亿): "5000余平方米", "93%", "4522人次", "30多".
_UNIT_WORD = re.compile(r"[余多]?(?:平方米|平米|平方公里|公里|千米|米|分钟|小时|个月|人次|%|％|成"
                        r"|课次|[个名家项次处人户件位所条座支元场批类种间套亩岁天年倍部台辆张棵块栋本期届起宗份篇节轮层])?")


def _figure_text(m: re.Match) -> str:
    """The figure as written, with its unit: "5000余平方米", not "5000余平"; "80余万元", not "80万元"."""
    unit = _UNIT_WORD.match(m.string, m.end(2) if m.group(2) else m.end(1))
    return re.sub(r"\s+", "", m.string[m.start(1):unit.end()])


def grouped_lines(q: Question, cands: list[Candidate], floor: float) -> list[str]:
    """One line per place (or, "两篇报道…", per report), its best sentence first and a second
    one as likely as `floor` (the two sides of a comparison are rarely one sentence each); each
    named side appears even when it matches weakly, as what its report is about."""
    lines = []
    for first in best_per_group(q, cands):
        if first.probability < floor and not _states_figure(q, first):
            lines.append(_title_line(first))
            continue
        chosen = [first]
        same = [c for c in cands if _group_key(q, c) == _group_key(q, first) and c.sentence != first.sentence]
        if same and same[0].probability >= floor:
            chosen.append(same[0])
        chosen.sort(key=lambda c: (c.n, c.doc.page_content.find(c.sentence)))
        head = _line(chosen[0], with_place=True, with_title=q.per_article and len(q.places) < 2)
        lines.append("- " + head + "".join(_line(c, with_place=False) for c in chosen[1:]))
    return lines


def best_per_group(q: Question, cands: list[Candidate]) -> list[Candidate]:
    """The best sentence of each place or report the question compares; when it compares
    figures ("哪边党员多？各多少人"), the best that states the figure asked for, if one does."""
    by_group: dict[str, tuple[int, Candidate]] = {}
    ranked = list(enumerate(cands))
    for i, c in sorted(ranked, key=lambda ic: -_states_figure(q, ic[1])) if q.numeric else ranked:
        by_group.setdefault(_group_key(q, c), (i, c))
    return [c for _, c in sorted(by_group.values(), key=lambda ic: ic[0])]


def _states_figure(q: Question, c: Candidate) -> int:
    """Whether the sentence states a figure of the kind asked, in digits outside a quoted name
    (“千名党员进网格” names a campaign; "3981名在职党员" states a figure) and not a year: 3 beside
    what the question counts and where (“融入415个网格” for 网格's 党员), 2 beside what it counts only
    ("5100余名社区党员…到社区报到"), 1 beside what it says was done ("带动就业…谁多": 带动700余名), else 0."""
    unquoted = QUOTED.sub("", c.sentence)
    if not (q.numeric and (c.features.get("unit_found", 0.0) > 0 or not q.units)  # "网格数量各是多少": any unit
            and re.search(r"\d(?![\d.]*\s*年)", unquoted)):  # "2025年以来" dates, it counts nothing
        return 0
    if c.features.get("measure_found", 0.0) > 0:
        return 3
    if q.measure_terms and all(holds_measure(t, unquoted) for t in q.measure_terms):
        return 2
    return 1 if any(v in unquoted for v in q.verbs) else 0


def _group_key(q: Question, c: Candidate) -> str:
    return _report(c) if q.per_article and len(q.places) < 2 else c.place


def _report(c: Candidate) -> str:
    return f"{c.doc.metadata['doc']}:{c.doc.metadata['article']}"


def _title_line(c: Candidate) -> str:
    """"- 罗定市（…）《title》[n]。": a report named by its place and title alone."""
    return f"- {_who(c, with_title=True)}[{c.n}]。"


def place_line(c: Candidate) -> str:
    """"- 莱阳市（山东省烟台市莱阳市）：sentence[n]。": a place of a "哪些地方…" answer."""
    return "- " + _line(c, with_place=True)


def _line(c: Candidate, with_place: bool, with_title: bool = False) -> str:
    sentence = c.sentence
    end = ""
    if sentence and sentence[-1] in "。！？!?；;":
        sentence, end = sentence[:-1], "。"
    prefix = ""
    if with_place and c.place and (c.place not in sentence or with_title):
        prefix = _who(c, with_title) + "："
    return f"{prefix}{sentence}[{c.n}]{end}"


def _who(c: Candidate, with_title: bool) -> str:
    """"莱阳市（山东省烟台市莱阳市）", with the report's title when asked ("两篇报道…")."""
    who = f"{c.place}（{c.place_full}）" if c.place_full and c.place_full != c.place else c.place
    title = c.doc.metadata.get("title", "")
    if with_title and title:
        who += f"《{headline(title)}》"
    return who
