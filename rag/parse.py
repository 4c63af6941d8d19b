"""Turn the text of an OCR'd newspaper page into articles and clean, citable paragraphs.

The page text is messy in known ways, handled here in this order:
1. lines are classified: titles, bylines, section headings, photo captions, page markers;
2. articles are cut at titles, and parts of one article continued later in the file
   (（下转B13版）… （上接B12版）) are stitched back together, even across another article;
3. duplicated paragraphs and repeated fragments are dropped;
4. a paragraph of one article printed inside another (it names the other article's place and
   not its own) is moved to the article it belongs to;
5. paragraphs cut mid-sentence by the layout are re-joined with their continuation, which may
   sit several blocks later, past a photo caption or a duplicate.
Every paragraph keeps the character spans of the source text it came from.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .text import pos_tags, segmenter
from .places import find_place
from .schema import Article, Paragraph, ParsedDoc, Place, strip_suffix

TERMINAL = "。！？!?…；;"
CLOSERS = "”’」』）)】》\"' \u3000"
_MARKER = re.compile(r"^[（(]\s*(?P<kind>下转|上接|转)\s*(?P<page>[A-Za-z]?\d+)\s*版\s*[）)]$")
_BYLINE = re.compile(r"^[■□◆●▲★]\s*\S")
_CREDIT_ONLY = re.compile(r"^[\u4e00-\u9fa5A-Za-z·\s]{2,30}(?:供图|摄|提供)$")
_CREDIT_TAIL = re.compile(r"(?:[。！]|^)?\s*[（(]?图片由[^（()）]{1,30}提供[）)]?\s*$")
_HEADING_SPACE = re.compile(r"[\u4e00-\u9fa5”“）)][ \u3000]+[\u4e00-\u9fa5“”（(]")
_PLACE_LEAD = re.compile(r"^[\u4e00-\u9fa5]{0,12}?(?:省|市|区|县|镇|街道|社区|村)")
# A paragraph rarely starts with these: a block that does is the tail of a cut sentence.
_CONTINUATION_START = set("，、。；：）)”」』的地得了着过们等及与和或并而且之")
_FUNCTION_END = set("与和及对在把将从向为以被同")
_PARTICLE_START = set("的地得了着过")
_COUNT_START = re.compile(r"^\d[\d.]*[^\d，。]{0,4}[。，、]")
# A quotation closed, then the start of its attribution: "…。”新海阳社区"; the tail names the speech act.
_SPEAKER_END = re.compile(r"[。！？…]”[^“”，。！？；：]{1,12}$")
_SPEECH_START = re.compile(r"^[^，。！？；“”]{0,12}?(?:说|表示|介绍|道出|坦言|感慨|感叹|告诉|直言|谈道|笑道)")


@dataclass
class Block:
    text: str
    start: int
    end: int
    kind: str = "body"  # body, title, byline, heading, caption, credit, marker
    spans: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.spans:
            self.spans = [(self.start, self.end)]


@dataclass
class _Article:
    title_lines: list[str] = field(default_factory=list)
    byline: str = ""
    blocks: list[Block] = field(default_factory=list)
    awaiting_continuation: bool = False


def is_terminated(text: str) -> bool:
    stripped = text.rstrip(CLOSERS)
    return bool(stripped) and stripped[-1] in TERMINAL


def parse_text(text: str, doc: str, *, markdown: bool | None = None) -> ParsedDoc:
    if markdown is None:
        markdown = bool(re.search(r"^#{1,2}\s", text, re.M))
    blocks = _classify(_blocks(text), markdown)
    raw_articles = _assemble(blocks)
    for raw in raw_articles:
        _strip_markers_and_credits(raw)
    places = [
        find_place(_title(a)[0], a.byline, [b.text for b in a.blocks if b.kind == "body"]) for a in raw_articles
    ]
    _drop_duplicates(raw_articles)
    _relocate_fragments(raw_articles, places)
    out: list[Article] = []
    for number, (raw, place) in enumerate(zip(raw_articles, places), start=1):
        _join_cut_paragraphs(raw.blocks)
        title, kicker = _title(raw)
        title = escape_citation_markers(title)
        article = Article(doc=doc, number=number, title=title, kicker=kicker, byline=raw.byline, place=place)
        article.paragraphs = _paragraphs(raw.blocks, article)
        if article.paragraphs or title:
            out.append(article)
    for number, article in enumerate(out, start=1):  # renumber if an empty article was dropped
        if article.number != number:
            article.number = number
            for p in article.paragraphs:
                p.article = number
    assign_ids(doc, out)
    return ParsedDoc(doc=doc, text=text, articles=out)


# A citation marker inside a document's own text ("…达到100%[2]。") must never become a
# citation of the answer: its brackets become 〔〕 (same length, so the spans still point at the
# source, whose text keeps the original for display). NFKC leaves 〔〕 alone.
_MARKER_IN_TEXT = re.compile(r"[\[［【〖]\^?\s*\d{1,3}\s*[\]］】〗]")


# The prompt fences documents as data between <资料> and </资料>: a document cannot close the fence.
_FENCE_IN_TEXT = re.compile(r"<(\s*/?\s*资料\s*)>")


def escape_citation_markers(text: str) -> str:
    text = _MARKER_IN_TEXT.sub(lambda m: "〔" + m.group(0)[1:-1] + "〕", text)
    return _FENCE_IN_TEXT.sub(lambda m: "〈" + m.group(1) + "〉", text)


def paragraph_id(doc: str, text: str) -> str:
    """Content-anchored: editing other paragraphs never moves it, and an edited paragraph gets a
    new id, so an old citation never resolves to different text."""
    return f"{doc}:p{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"


def assign_ids(doc: str, articles: list[Article]) -> None:
    seen: dict[str, int] = {}
    for article in articles:
        for p in article.paragraphs:
            base = paragraph_id(doc, p.text)
            seen[base] = seen.get(base, 0) + 1
            p.id = base if seen[base] == 1 else f"{base}-{seen[base]}"  # the same text twice: in order


# --- 1. blocks and their kinds -------------------------------------------------------------

def _blocks(text: str) -> list[Block]:
    blocks = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            start = offset + lead
            blocks.append(Block(text=stripped, start=start, end=start + len(stripped)))
        offset += len(line)
    return blocks


def _classify(blocks: list[Block], markdown: bool) -> list[Block]:
    for b in blocks:
        if markdown and re.match(r"^#{1,6}\s", b.text):
            b.kind = "title" if re.match(r"^#\s", b.text) else "heading"
            content = b.text.lstrip("#").strip()
            b.start += b.text.index(content)
            b.text, b.spans = content, [(b.start, b.end)]
        elif _MARKER.match(b.text):
            b.kind = "marker"
        elif _BYLINE.match(b.text) and len(b.text) <= 60:
            b.kind = "byline"
        elif _CREDIT_ONLY.match(b.text) and len(b.text) <= 30:
            b.kind = "credit"
        elif b.text.endswith("供图") and len(b.text) <= 200:
            b.kind = "caption"  # caption and credit on one line
        elif _is_heading(b.text):
            b.kind = "heading"
    for i, b in enumerate(blocks):
        if b.kind == "byline":  # the short unfinished lines above a byline are the title
            j, taken = i - 1, 0
            while j >= 0 and taken < 3 and blocks[j].kind in ("body", "heading"):
                t = blocks[j].text
                if len(t) > 80 or is_terminated(t):
                    break
                blocks[j].kind = "title"
                j, taken = j - 1, taken + 1
        elif b.kind == "body" and _looks_like_place_title(b.text):
            b.kind = "title"
        elif b.kind == "credit" and i > 0 and blocks[i - 1].kind in ("body", "heading") and len(blocks[i - 1].text) <= 150:
            blocks[i - 1].kind = "caption"
    for i, b in enumerate(blocks):  # a short scene sentence that interrupts a cut paragraph
        if b.kind != "body" or i == 0 or i + 1 >= len(blocks):
            continue
        prev = blocks[i - 1]
        if (
            prev.kind == "body"
            and not is_terminated(prev.text)
            and blocks[i + 1].kind in ("body", "credit")
            and len(b.text) <= 60
            and b.text.count("，") <= 1
            and is_terminated(b.text)
            and b.text.rstrip(CLOSERS).count("。") == 1
            and _PLACE_LEAD.match(b.text)
            and not _continues(prev.text, b.text)
        ):
            b.kind = "caption"
    return blocks


def _is_heading(text: str) -> bool:
    if len(text) > 40 or is_terminated(text) or text[-1] in "，、：:":
        return False
    if _HEADING_SPACE.search(text):
        return True
    halves = text.split("，")
    return len(halves) == 2 and min(len(h) for h in halves) >= 7 and abs(len(halves[0]) - len(halves[1])) <= 2


def _looks_like_place_title(text: str) -> bool:
    from .places import place_from_title

    return len(text) <= 100 and not is_terminated(text) and bool(place_from_title(text))


# --- 2. articles and their continuations ------------------------------------------------------

def _assemble(blocks: list[Block]) -> list[_Article]:
    articles: list[_Article] = []
    suspended: list[_Article] = []
    current: _Article | None = None
    previous_kind = ""
    for b in blocks:
        if b.kind == "title":
            if current is None or previous_kind != "title" or current.blocks:
                current = _Article()
                articles.append(current)
            current.title_lines.append(b.text)
        elif b.kind == "byline" and current is not None and not current.blocks:
            current.byline = b.text.lstrip("■□◆●▲★ ").strip()
        elif b.kind == "marker":
            kind = _MARKER.match(b.text).group("kind")
            if kind in ("下转", "转") and current is not None:
                current.awaiting_continuation = True
                suspended.append(current)
            elif kind == "上接":
                if suspended:
                    current = suspended.pop(0)
                    current.awaiting_continuation = False
                else:  # continued from a page we do not have
                    current = _Article(title_lines=[f"（{b.text.strip('（()）')}，标题缺失）"])
                    articles.append(current)
                current.blocks.append(b)
        else:
            if current is None:
                current = _Article()
                articles.append(current)
            current.blocks.append(b)
        previous_kind = b.kind
    return articles


def _strip_markers_and_credits(article: _Article) -> None:
    for b in article.blocks:
        match = _CREDIT_TAIL.search(b.text)
        if b.kind == "body" and match and match.start() > 0:
            b.notes.append("credit:" + b.text[match.start():].strip("。 "))
            cut = match.start() + (1 if b.text[match.start()] in "。！" else 0)
            b.text = b.text[:cut].rstrip()
            b.end = b.start + len(b.text)
            b.spans = [(b.start, b.end)]
    article.blocks = [b for b in article.blocks if b.kind != "marker"]


def _title(article: _Article) -> tuple[str, str]:
    lines = article.title_lines
    subtitles = [t for t in lines if t.startswith("——")]
    mains = [t for t in lines if not t.startswith("——")]
    if not mains:
        return "".join(subtitles), ""
    return mains[-1] + "".join(subtitles), " ".join(mains[:-1])


# --- 3. duplicates ----------------------------------------------------------------------------

def _drop_duplicates(articles: list[_Article]) -> None:
    seen: set[str] = set()
    for article in articles:
        kept = []
        for b in article.blocks:
            key = re.sub(r"\s+", "", b.text)
            if key in seen and b.kind in ("body", "heading", "caption"):
                continue
            seen.add(key)
            kept.append(b)
        # a short fragment repeated as the start of a longer block of the same article
        texts = [b.text for b in kept if b.kind == "body"]
        article.blocks = [
            b for b in kept
            if not (b.kind == "body" and len(b.text) <= 60 and not is_terminated(b.text)
                    and any(t != b.text and t.startswith(b.text) for t in texts))
        ]


# --- 4. fragments printed inside another article -----------------------------------------------

def _relocate_fragments(articles: list[_Article], places: list[Place]) -> None:
    own_names = [_distinct_names(p) for p in places]
    for i, article in enumerate(articles):
        others = {j: own_names[j] - own_names[i] for j in range(len(articles)) if j != i}
        keep: list[Block] = []
        for k, b in enumerate(article.blocks):
            target = None
            if b.kind == "body" and not any(n in b.text for n in own_names[i]):
                hits = [j for j, names in others.items() if names and any(n in b.text for n in names)]
                if len(hits) == 1:
                    target = hits[0]
            if target is None:
                keep.append(b)
                continue
            moving = [b]
            if keep and keep[-1].kind == "heading":
                moving.insert(0, keep.pop())
            for m in moving:
                m.notes.append(f"relocated-from-article:{i + 1}")
            _insert_fragment(articles[target].blocks, moving)
        article.blocks = keep


def _distinct_names(place: Place) -> set[str]:
    # only the most specific level identifies an article; provinces and parent cities are shared
    names = set()
    level = place.county or place.city
    if level:
        names |= {level, strip_suffix(level)}
    return names


def _insert_fragment(blocks: list[Block], moving: list[Block]) -> None:
    tail = moving[-1].text
    if not is_terminated(tail):
        for pos, b in enumerate(blocks):
            if b.kind == "body" and _continues(tail, b.text) and not _is_claimed_start(blocks, pos):
                blocks[pos:pos] = moving
                return
    blocks.extend(moving)


def _is_claimed_start(blocks: list[Block], pos: int) -> bool:
    prev = next((b for b in reversed(blocks[:pos]) if b.kind == "body"), None)
    return prev is not None and not is_terminated(prev.text) and _continues(prev.text, blocks[pos].text)


# --- 5. paragraphs cut by the layout ------------------------------------------------------------

def _join_cut_paragraphs(blocks: list[Block]) -> None:
    """Pair every cut paragraph with its continuation, surest pairs first, then join them."""
    body = [i for i, b in enumerate(blocks) if b.kind == "body"]
    heads = [i for i in body if not is_terminated(blocks[i].text)]
    options = []  # (confidence, head, tail)
    for i in heads:
        later = [j for j in body if j > i][:12]
        for rank, j in enumerate(later):
            score = _continuation_score(blocks[i].text, blocks[j].text)
            if score > 0:
                options.append((score - 0.5 * rank, i, j))
    link: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(options, key=lambda o: (-o[0], o[1], o[2])):
        if i not in link and j not in taken and not _makes_cycle(link, i, j):
            link[i], _ = j, taken.add(j)
    for i in heads:  # no tail looks like it belongs here: the next block, if plausible
        if i in link:
            continue
        j = next((j for j in body if j > i), None)
        if (j is not None and j not in taken and not _rejected(blocks[i].text, blocks[j].text)
                and not any(b.kind == "heading" for b in blocks[i + 1:j])):
            link[i], _ = j, taken.add(j)
    for i in sorted(link):
        if i in taken:
            continue  # joined into its own head below
        j, b = link[i], blocks[i]
        while j is not None:
            tail = blocks[j]
            b.text += tail.text
            b.spans.extend(tail.spans)
            b.notes.append("joined")
            b.notes.extend(tail.notes)
            j = link.get(j)
    blocks[:] = [b for k, b in enumerate(blocks) if k not in taken]


def _makes_cycle(link: dict[int, int], i: int, j: int) -> bool:
    while j in link:
        j = link[j]
        if j == i:
            return True
    return j == i


def _continuation_score(head: str, tail: str) -> float:
    if _rejected(head, tail):
        return 0.0
    score = 0.0
    if head.count("“") > head.count("”"):
        if _leading_close_quote(tail):
            score += 5  # an open quote closed at the start of the tail: the surest sign
        elif _opens_quote_first(tail):
            score -= 3  # the head's quote would stay open while the tail starts another
    if _word_across(head, tail):
        score += 3
    if (tail[0] in _CONTINUATION_START and not _starts_with_word(tail)) or tail[:2][-1:] in ("、", "，"):
        score += 2
    if _COUNT_START.match(tail):
        score += 1
        if _ends_in_noun_phrase(head):
            score += 3  # "服务少年儿童" + "5311人次。": the count of what the head names
    first_clause = re.split(r"[。！？]", tail, maxsplit=1)[0]
    if len(first_clause) <= 4 and len(tail) > len(first_clause):
        score += 1
    if head[-1] in _FUNCTION_END and len(re.split(r"[，。；：！？]", tail, maxsplit=1)[0]) <= 6:
        score += 3  # "空间重塑与" + "机制创新，": the short object the head's last word asks for
    if _SPEAKER_END.search(head) and _SPEECH_START.match(tail):
        score += 4  # "…。”新海阳社区" + "居民王女士道出了…": a quotation's speaker, cut
    return max(score, 0.0)


def _continues(head: str, tail: str) -> bool:
    return _continuation_score(head, tail) > 0


def _opens_quote_first(tail: str) -> bool:
    sentence = re.split(r"[。！？]", tail, maxsplit=1)[0]
    open_, close = sentence.find("“"), sentence.find("”")
    return open_ >= 0 and (close < 0 or open_ < close)


@lru_cache(maxsize=4096)
def _ends_in_noun_phrase(head: str) -> bool:
    """The head ends in a whole noun ("少年儿童", "问题") that a count can follow, not a verb or a word cut short."""
    if head.count("“") > head.count("”"):
        return False
    words = pos_tags(head.rstrip(CLOSERS)[-8:], hmm=False)
    if not words or len(words[-1][0]) < 2 or not _is_cjk(words[-1][0][-1]):
        return False
    flag = words[-1][1]
    return flag.startswith("n") or flag in ("vn", "an", "l", "j", "i")


def _rejected(head: str, tail: str) -> bool:
    return head[-1] in _FUNCTION_END and tail[0] in _PARTICLE_START


def _leading_close_quote(tail: str) -> bool:
    window = tail[:15]
    close, open_ = window.find("”"), window.find("“")
    return close >= 0 and (open_ < 0 or close < open_)


def _starts_with_word(text: str) -> bool:
    """"地方…" starts with a word; "地艺术家…" starts with a stray character."""
    first = next(iter(segmenter().cut(text[:6], HMM=False)), "")
    return len(first) >= 2


@lru_cache(maxsize=4096)
def _word_across(head: str, tail: str) -> bool:
    """True when a dictionary word spans the cut: "打" + "造议事" → 打造."""
    left, right = head[-3:], tail[:3]
    if not left or not right or not _is_cjk(left[-1]) or not _is_cjk(right[0]):
        return False
    pos = 0
    for word in segmenter().cut(left + right, HMM=False):
        end = pos + len(word)
        if pos < len(left) < end and len(word) >= 2:
            return True
        pos = end
    return False


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


# --- paragraphs ---------------------------------------------------------------------------------

def _paragraphs(blocks: list[Block], article: Article) -> list[Paragraph]:
    out: list[Paragraph] = []
    section = ""
    for b in blocks:
        if b.kind == "heading":
            section = b.text
            kind = "heading"
        elif b.kind in ("caption", "credit"):
            kind = "caption"
        elif b.kind == "body":
            kind = "body"
        else:
            continue
        if kind == "caption" and b.kind == "credit" and out and out[-1].kind == "caption":
            out[-1].text += " " + escape_citation_markers(b.text)  # the credit line belongs to the caption above it
            out[-1].spans.extend(b.spans)
            continue
        number = len(out) + 1
        text = escape_citation_markers(b.text)
        if text != b.text:
            b.notes.append("citation-marker-escaped")
        out.append(
            Paragraph(
                id="",  # set from the final text by assign_ids
                doc=article.doc,
                article=article.number,
                paragraph=number,
                kind=kind,
                text=text,
                section=section if kind == "body" else "",
                spans=b.spans,
                title=article.title,
                place=article.place,
                notes=b.notes,
            )
        )
    return out
