"""HTML for the chat view: answers whose [n] markers link to their sources, and a sources panel
quoting each cited paragraph with the sentence that supports the answer highlighted.

Everything here is pure (AnswerResult in, HTML string out) so it can be tested without a
browser. Every piece of text from documents or users is escaped.
"""
from __future__ import annotations

import html
import re
from collections import Counter

from rag.schema import AnswerResult, Citation, SentenceCheck

_CITE = re.compile(r"\[(\d{1,3})\]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LIST = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.、)）])\s+")
# a source paragraph's sentences, with their closing punctuation
_SOURCE_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;”’」』）)]*")

BACKENDS = {
    "extractive": "摘录式（无需大模型）",
    "local": "本地模型",
    "openai": "OpenAI 兼容接口",
}
_ADMIN = "请联系管理员处理。"
# what an operator would type: pip commands, `rag …` commands, --flags, environment variables
_COMMAND = re.compile(r"pip install|\brag (?:ingest|model|list|remove|ask|eval|ui|serve|check)\b|(?<![\w-])--[a-z]|\bRAG_[A-Z_]+")
_EXCEPTION = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Timeout)\b:?\s*")
_FALLBACK = re.compile(r"^(\S+) 后端(不可用|出错)（.*）(，已改用摘录式回答)$", re.S)
VERDICTS = {  # verdict: (label, css class, symbol)
    "supported": ("有依据", "ok", "✓"),
    "recited": ("已改引", "warn", "↻"),
    "removed": ("无依据，已删除", "bad", "✗"),
    "no_claim": ("无需核查", "muted", "·"),
}


def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def backend_label(backend: str) -> str:
    """extractive → 摘录式…; "local→extractive" → 本地模型 → 摘录式…"""
    return " → ".join(BACKENDS.get(part, part) for part in (backend or "").split("→"))


def for_users(message: str) -> str:
    """A message as a user of the page should read it: no exception class names, and no command
    lines or settings (those are for the administrator, who finds them in the logs)."""
    message = (message or "").strip()
    m = _FALLBACK.match(message)
    if m:
        name = BACKENDS.get(m.group(1), m.group(1))
        problem = "暂不可用" if m.group(2) == "不可用" else "连接或运行出错"
        return f"{name}{problem}{m.group(3)}。如需使用{name}，请联系管理员。"
    message = _EXCEPTION.sub("", message)
    if not _COMMAND.search(message):
        return message
    kept, dropped = [], False
    for clause in re.split(r"(?<=[。；！？，])", message):
        if not _COMMAND.search(clause):
            kept.append(clause)
            continue
        dropped = True
        # keep what is wrong (before the colon that introduces a command), not how to type the fix
        head = re.split(r"[：:]", clause, maxsplit=1)[0].strip()
        if head and not _COMMAND.search(head) and head != clause.strip() and not re.search(r"运行$|命令$", head):
            kept.append(head + "。")
    text = re.sub(r"[，,]\s*$", "。", "".join(kept).strip())
    if dropped and not re.search(r"(^|[。；])请", text):
        text += _ADMIN
    return text or "出现了问题。" + _ADMIN


def rewrite_label(r: AnswerResult) -> str:
    """How a rewritten follow-up was understood, or "" when the question stood on its own."""
    standalone = (r.standalone_question or "").strip()
    if not standalone or standalone == (r.question or "").strip():
        return ""
    pairs = getattr(r, "rewrites", None) or {}
    if isinstance(pairs, dict):
        pairs = list(pairs.items())
    read_as = "，".join(f"“{esc(a)}”指{esc(b)}" for a, b in pairs if a and b)
    detail = f"{read_as}：" if read_as else ""
    return (f'<div class="rewrite">↪ 追问已结合上文理解：{detail}<span class="rq">{esc(standalone)}</span></div>')


def src_id(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


# --- answers -------------------------------------------------------------------------------
def _inline(text: str, turn: int | None) -> str:
    """Escaped text; [n] becomes a link to source n of this turn (a plain marker while streaming)."""
    out = _BOLD.sub(r"<strong>\1</strong>", esc(text))

    def marker(m: re.Match) -> str:
        n = int(m.group(1))
        if turn is None:
            return f'<span class="cite pending">[{n}]</span>'
        target = src_id(turn, n)
        return (f'<a class="cite" href="#{target}" data-target="{target}" '
                f'title="查看出处 [{n}]">[{n}]</a>')

    return _CITE.sub(marker, out)


def _sentence_segments(content: str, checks: list[SentenceCheck], used: set[int]) -> list[tuple[str, SentenceCheck | None]]:
    """Split one line into plain text and the answer's checked sentences."""
    found: list[tuple[int, int, int]] = []  # start, end, index of the check
    for i, check in enumerate(checks):
        if i in used or not check.text.strip():
            continue
        for needle in (check.text.strip(), _LIST.sub("", check.text.strip())):
            start = content.find(needle) if needle else -1
            if start >= 0 and not any(s < start + len(needle) and start < e for s, e, _ in found):
                found.append((start, start + len(needle), i))
                used.add(i)
                break
    found.sort()
    segments: list[tuple[str, SentenceCheck | None]] = []
    pos = 0
    for start, end, i in found:
        if start > pos:
            segments.append((content[pos:start], None))
        segments.append((content[start:end], checks[i]))
        pos = end
    if pos < len(content):
        segments.append((content[pos:], None))
    return segments


def answer_body(text: str, turn: int | None, checks: list[SentenceCheck] | None = None) -> str:
    """The answer as HTML paragraphs and lists; each checked sentence is a span carrying its verdict."""
    checks = checks or []
    used: set[int] = set()
    blocks: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if items:
            blocks.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in (text or "").strip().splitlines():
        if not raw.strip():
            flush()
            continue
        is_item = bool(_LIST.match(raw))
        content = _LIST.sub("", raw).strip() if is_item else raw.strip()
        parts = []
        for piece, check in _sentence_segments(content, checks, used):
            rendered = _inline(piece, turn)
            if check is not None:
                label, css, _ = VERDICTS.get(check.verdict, (check.verdict, "muted", ""))
                tip = label + (f"：{check.reason}" if check.reason and check.verdict != "supported" else "")
                rendered = f'<span class="sent v-{css}" title="{esc(tip)}">{rendered}</span>'
            parts.append(rendered)
        line = "".join(parts)
        if is_item:
            items.append(line)
        else:
            flush()
            blocks.append(f"<p>{line}</p>")
    flush()
    return "".join(blocks)


def _checks_html(r: AnswerResult) -> str:
    if r.refused or not r.sentences:
        return ""
    counts = Counter(s.verdict for s in r.sentences)
    claims = [s for s in r.sentences if s.verdict != "no_claim"]
    problems = counts["recited"] + counts["removed"]
    if problems:
        summary = (f"引用核查：{counts['supported']} 句有依据，{counts['recited']} 句已改引，"
                   f"{counts['removed']} 句因无依据删除")
    else:
        summary = f"引用核查：{len(claims)} 句均有引用依据" if claims else "引用核查：没有需要核查的事实陈述"
    rows = []
    for s in r.sentences:
        label, css, symbol = VERDICTS.get(s.verdict, (s.verdict, "muted", "·"))
        text = s.original if s.verdict == "removed" or not s.text else s.text
        body = f"<del>{esc(text)}</del>" if s.verdict == "removed" else _inline(text, None)
        reason = ""
        if s.reason and s.verdict not in ("supported", "no_claim"):
            reason = f'<div class="reason">{esc(s.reason)}</div>'
        rows.append(f'<li class="v-{css}"><span class="badge {css}">{symbol} {label}</span>'
                    f'<span class="ctext">{body}</span>{reason}</li>')
    state = "problem" if problems else "clean"
    return (f'<details class="checks {state}"{" open" if problems else ""}>'
            f'<summary>{esc(summary)}</summary><ol>{"".join(rows)}</ol></details>')


def _notes_html(r: AnswerResult) -> str:
    notes = [for_users(n) for n in r.notes if not n.startswith("追问已结合上文")]  # shown as the rewrite label
    if not notes:
        return ""
    out = []
    for note in notes:
        warn = (any(w in note for w in ("不可用", "出错", "没有通过", "删除了"))
                or re.search(r"[1-9]\d* 句因无依据删除", note) is not None)
        out.append(f'<div class="note{" warn" if warn else ""}">{"⚠" if warn else "ℹ"} {esc(note)}</div>')
    return '<div class="notes">' + "".join(out) + "</div>"


def _meta_html(r: AnswerResult) -> str:
    t = r.timings_ms or {}
    parts = [backend_label(r.backend)]
    if "retrieve" in t:
        parts.append(f"检索 {duration(t['retrieve'])}")
    if "total" in t:
        parts.append(f"共 {duration(t['total'])}")
    return '<div class="meta">' + " · ".join(esc(p) for p in parts) + "</div>"


def duration(ms: float) -> str:
    return f"{ms:.0f} 毫秒" if ms < 1000 else f"{ms / 1000:.1f} 秒"


def _question_html(question: str, turn: int) -> str:
    return (f'<div class="q"><span class="who">问</span><div class="qtext">{esc(question)}</div>'
            f'<span class="qno">#{turn}</span></div>')


def turn_html(turn: int, r: AnswerResult) -> str:
    if r.refused:
        body = f'<div class="refused"><strong>未能回答：</strong>{esc(r.answer)}</div>'
    else:
        body = f'<div class="answer">{answer_body(r.answer, turn, r.sentences)}</div>'
    standalone = rewrite_label(r)
    return (f'<div class="turn" id="turn-{turn}">{_question_html(r.question, turn)}'
            f'<div class="a"><span class="who">答</span><div class="abody">{body}{standalone}'
            f'{_checks_html(r)}{_notes_html(r)}{_meta_html(r)}</div></div></div>')


def pending_html(turn: int, question: str, status: str, partial: str = "") -> str:
    body = answer_body(partial, None) if partial else ""
    return (f'<div class="turn pending" id="turn-{turn}">{_question_html(question, turn)}'
            f'<div class="a"><span class="who">答</span><div class="abody">'
            f'<div class="answer streaming">{body}<span class="caret"></span></div>'
            f'<div class="status-line"><span class="spinner"></span>{esc(status)}</div></div></div></div>')


EMPTY_CONVERSATION = (
    '<div class="empty"><div class="empty-title">请输入问题，系统会从已导入的政策案例中查找答案并注明出处</div>'
    '<div class="empty-hint">回答中的 <span class="cite demo">[1]</span> 等标记可以点击，“出处”栏会定位到对应原文段落，'
    '并高亮支撑回答的句子。可以接着追问，例如“那里的物业费收缴率是多少？”。</div></div>'
)


def conversation_html(results: list[AnswerResult], pending: str = "") -> str:
    if not results and not pending:
        return f'<div class="conv">{EMPTY_CONVERSATION}</div>'
    turns = "".join(turn_html(i, r) for i, r in enumerate(results, start=1))
    return f'<div class="conv">{turns}{pending}</div>'


# --- sources -------------------------------------------------------------------------------
def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s\W_]+", "", _CITE.sub("", text))
    return {text[i:i + 2] for i in range(len(text) - 1)}


def supporting_spans(paragraph: str, claims: list[str]) -> list[tuple[int, int]]:
    """Character spans of the paragraph's sentences that support the claims: every sentence
    mostly contained in a claim (a quoted sentence), else the single closest one."""
    sentences = [(m.start(), m.end(), m.group(0)) for m in _SOURCE_SENTENCE.finditer(paragraph) if m.group(0).strip()]
    spans: set[tuple[int, int]] = set()
    for claim in claims:
        cb = _bigrams(claim)
        if not cb:
            continue
        best, best_score = None, 0.0
        for start, end, sentence in sentences:
            sb = _bigrams(sentence)
            if not sb:
                continue
            contained = len(sb & cb) / len(sb)  # how much of the sentence the claim repeats
            covered = len(sb & cb) / len(cb)  # how much of the claim the sentence holds
            if contained >= 0.6 and len(sb) >= 3:
                spans.add((start, end))
            score = max(contained, covered)
            if score > best_score:
                best, best_score = (start, end), score
        if best is not None and best_score >= 0.25 and not spans & {best}:
            if not any(s <= best[0] < e for s, e in spans):
                spans.add(best)
    return sorted(spans)


def highlighted(paragraph: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(esc(paragraph[pos:start]))
        out.append(f"<mark>{esc(paragraph[start:end])}</mark>")
        pos = end
    out.append(esc(paragraph[pos:]))
    return "".join(out)


def claims_for(r: AnswerResult, n: int) -> list[str]:
    claims = [s.text for s in r.sentences if n in s.citations and s.text]
    if not claims:  # no verdicts (older results): the answer's lines that cite n
        claims = [line for line in r.answer.splitlines() if f"[{n}]" in line]
    return claims


def source_card(turn: int, c: Citation, claims: list[str], *, anchor: bool = True) -> str:
    where = esc(c.place_full or c.place or "地点未知")
    spans = supporting_spans(c.text, claims)
    ident = f' id="{src_id(turn, c.n)}"' if anchor else ""
    return (
        f'<div class="src"{ident}>'
        f'<div class="src-h"><span class="num">[{c.n}]</span><span class="place">{where}</span></div>'
        f'<div class="src-title">《{esc(c.title)}》</div>'
        f'<div class="src-meta">{esc(c.doc)} · 第{c.article}篇 第{c.paragraph}段</div>'
        f'<blockquote>{highlighted(c.text, spans)}</blockquote></div>'
    )


def _turn_sources(turn: int, r: AnswerResult) -> str:
    if r.citations:
        return "".join(source_card(turn, c, claims_for(r, c.n)) for c in r.citations)
    if r.retrieved:
        cards = "".join(source_card(turn, c, [], anchor=False) for c in r.retrieved[:3])
        return f'<div class="src-note">没有可引用的段落。检索到的最相关段落（不足以回答）：</div>{cards}'
    return '<div class="src-note">没有检索到相关段落。</div>'


SOURCES_TITLE = '<div class="panel-title">出处 <span>点击回答中的 [n] 定位原文</span></div>'


def sources_html(results: list[AnswerResult]) -> str:
    """The latest answer's sources open, earlier answers' folded (their markers still work)."""
    if not results:
        return (SOURCES_TITLE + '<div class="src-scroll"><div class="src-empty">提问后，回答引用的原文段落会显示在这里：'
                '地点、文章标题、文件和段落编号，支撑回答的句子以黄色高亮。</div></div>')
    parts = []
    for turn in range(len(results), 0, -1):
        r = results[turn - 1]
        head = f'第{turn}问：{esc(_short(r.question))}'
        count = f"{len(r.citations)} 处出处" if r.citations else "无出处"
        inner = _turn_sources(turn, r)
        if turn == len(results):
            parts.append(f'<section class="src-turn latest" id="srcs-{turn}"><div class="src-turn-h">{head}'
                         f'<span class="count">{count}</span></div>{inner}</section>')
        else:
            parts.append(f'<details class="src-turn" id="srcs-{turn}"><summary class="src-turn-h">{head}'
                         f'<span class="count">{count}</span></summary>{inner}</details>')
    return SOURCES_TITLE + '<div class="src-scroll">' + "".join(parts) + "</div>"


def _short(text: str, n: int = 28) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def status_html(message: str = "", kind: str = "info") -> str:
    if not message:
        return ""
    symbol = {"info": "ℹ", "ok": "✓", "warn": "⚠", "error": "✗"}.get(kind, "ℹ")
    return f'<div class="status {kind}">{symbol} {esc(for_users(message))}</div>'
