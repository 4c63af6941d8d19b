"""Write what `rag eval` measured: report.md, report.html (self-contained: charts embedded as
base64 PNG) and results.jsonl (one record per question), plus the charts as PNG files.

Charts are drawn with matplotlib (Agg, no pyplot state). Chinese labels need a CJK font: Noto
Sans CJK (Debian: fonts-noto-cjk) or another one matplotlib can find; without one the charts
are labelled in English, and without matplotlib the reports are written without charts.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re
from functools import lru_cache
from pathlib import Path

from .metrics import HIGHER_IS_BETTER, LABELS, METRIC_KEYS, RETRIEVAL_K, STAGES, place_key

TYPE_LABELS = {"single_fact": "单一事实", "numeric": "数字", "multi_place": "多地", "how": "做法",
               "comparison": "比较", "cross_doc": "跨文档", "unanswerable": "不可回答"}
STAGE_LABELS = {"retrieve": "检索", "first_token": "首字", "generate": "生成", "total": "总计"}
CHART_METRICS = ["answer_correct", "refusal_accuracy", "citation_hit", "citation_recall", "citation_precision",
                 f"recall@{RETRIEVAL_K}"]
TREND_METRICS = ["answer_correct", "citation_hit", "citation_recall", "citation_precision", f"recall@{RETRIEVAL_K}",
                 "mrr"]
_EN = {"answer_correct": "answer correct", "refusal_accuracy": "refusal accuracy", "citation_hit": "citation hit",
       "citation_recall": "citation recall", "citation_precision": "citation precision",
       f"recall@{RETRIEVAL_K}": f"recall@{RETRIEVAL_K}", "mrr": "MRR"}
_CJK_NAMES = ("Noto Sans CJK", "Noto Serif CJK", "Source Han Sans", "WenQuanYi", "Droid Sans Fallback",
              "SimHei", "Microsoft YaHei", "PingFang", "Heiti", "AR PL")


# --- fonts and charts -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs that matplotlib can use, or None."""
    try:
        from matplotlib import font_manager
    except ImportError:
        return None

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        for wanted in _CJK_NAMES:
            matches = [n for n in names if n.startswith(wanted)]
            if matches:  # simplified Chinese glyph forms first: "Noto Sans CJK SC" before HK/JP/KR/TC
                return sorted(matches, key=lambda n: (not n.endswith(("SC", "CN")), n))[0]
        return None

    found = known()
    if found:
        return found
    # fonts installed after matplotlib built its font cache are not in it: add them by file
    for path in font_manager.findSystemFonts():
        if re.search(r"cjk|wqy|wenquanyi|sourcehan|droidsansfallback|simhei|msyh", Path(path).name, re.I):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:
                continue
    return known()


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _rc():
    import matplotlib

    font = cjk_font()
    families = ([font] if font else []) + ["DejaVu Sans"]
    return matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": families,
                                  "axes.unicode_minus": False, "axes.spines.top": False,
                                  "axes.spines.right": False})


def _label(key: str, zh: bool) -> str:
    if zh:
        return LABELS.get(key, key)
    return _EN.get(key, key)


def chart_by_type(summary: dict) -> bytes:
    zh = cjk_font() is not None
    groups = [("overall", summary["overall"])] + list(summary["by_type"].items())
    metrics = [m for m in CHART_METRICS if any(m in values for _, values in groups)]
    with _rc():
        fig = _figure(11, 4.2)
        ax = fig.add_subplot()
        width = 0.8 / max(len(metrics), 1)
        colors = ["#2b6cb0", "#805ad5", "#2f855a", "#38a169", "#9ae6b4", "#dd6b20"]
        for j, m in enumerate(metrics):
            xs = [i + (j - (len(metrics) - 1) / 2) * width for i, (_, v) in enumerate(groups) if m in v]
            ys = [v[m] for _, v in groups if m in v]
            ax.bar(xs, ys, width * 0.95, label=_label(m, zh), color=colors[j % len(colors)])
        names = [("总体" if zh else "overall") if t == "overall" else (TYPE_LABELS.get(t, t) if zh else t)
                 for t, _ in groups]
        ax.set_xticks(range(len(groups)), [f"{name}\n(n={v['n']})" for name, (_, v) in zip(names, groups)])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("得分" if zh else "score")
        ax.set_title("各类问题的指标" if zh else "Metrics by question type")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(ncol=len(metrics), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
        return _png(fig)


def chart_latency(records: list[dict], summary: dict) -> bytes:
    zh = cjk_font() is not None
    with _rc():
        fig = _figure(11, 3.6)
        ax = fig.add_subplot()
        for stage, color in (("total", "#2b6cb0"), ("retrieve", "#dd6b20"), ("first_token", "#38a169")):
            values = [r["timings_ms"][stage] for r in records if stage in r.get("timings_ms", {})]
            if not values:
                continue
            ax.hist(values, bins=30, alpha=0.55, color=color,
                    label=f"{STAGE_LABELS[stage] if zh else stage} (p50 {summary['latency'][stage]['p50']:.0f} ms, "
                          f"p95 {summary['latency'][stage]['p95']:.0f} ms)")
            ax.axvline(summary["latency"][stage]["p95"], color=color, linestyle="--", linewidth=1)
        ax.set_xlabel("毫秒" if zh else "ms")
        ax.set_ylabel("问题数" if zh else "questions")
        ax.set_title("每题延迟分布（虚线为 p95）" if zh else "Latency per question (dashed: p95)")
        ax.legend(fontsize=8, frameon=False)
        return _png(fig)


def chart_trend(history: list[dict], dataset: str = "", n: int | None = None) -> bytes:
    """The headline metrics of the saved runs on the same dataset (and the same number of
    questions, so a --limit run does not make a dip), the last 30."""
    zh = cjk_font() is not None
    runs = [h for h in history if (not dataset or h.get("dataset") == dataset) and (n is None or h.get("n") == n)][-30:]
    with _rc():
        fig = _figure(11, 3.6)
        ax = fig.add_subplot()
        xs = list(range(1, len(runs) + 1))
        for m in TREND_METRICS:
            ys = [h.get("overall", {}).get(m) for h in runs]
            if any(y is not None for y in ys):
                ax.plot(xs, [float("nan") if y is None else y for y in ys], marker="o", label=_label(m, zh))
        ax.set_xticks(xs, [f"{h.get('time', '')[5:16]}\n{h.get('backend', '')} n={h.get('n', '')}" for h in runs],
                      fontsize=7, rotation=0 if len(runs) <= 8 else 45)
        ax.set_ylim(0, 1.05)
        ax.set_title(("历次评测的趋势" if zh else "Trend over saved runs") + f" ({dataset or 'all'})")
        ax.grid(alpha=0.3)
        ax.legend(ncol=3, fontsize=8, frameon=False, loc="lower left")
        return _png(fig)


def charts(summary: dict, records: list[dict], history: list[dict], dataset: str,
           n: int | None = None) -> dict[str, bytes]:
    """name → PNG; empty when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return {}
    import warnings

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph missing" when no CJK font: labels are English then
        out["by_type"] = chart_by_type(summary)
        if summary.get("latency"):
            out["latency"] = chart_latency(records, summary)
        if history:
            out["trend"] = chart_trend(history, dataset, n)
    return out


# --- content shared by both reports -----------------------------------------------------------
def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def summary_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the summary table: one row per metric, columns overall and each type."""
    types = list(summary["by_type"])
    header = ["指标", "总体"] + [f"{TYPE_LABELS.get(t, t)} {t}" for t in types]
    rows = [["题数", str(summary["overall"]["n"])] + [str(summary["by_type"][t]["n"]) for t in types]]
    for key in METRIC_KEYS:
        if key not in summary["overall"]:
            continue
        arrow = "↑" if HIGHER_IS_BETTER[key] else "↓"
        row = [f"{LABELS[key]} `{key}` {arrow}", f"{_fmt(summary['overall'][key])} ({summary['overall'][key + '_n']})"]
        row += [_fmt(summary["by_type"][t].get(key)) for t in types]
        rows.append(row)
    return header, rows


def latency_rows(summary: dict) -> list[list[str]]:
    return [[f"{STAGE_LABELS.get(s, s)} {s}", f"{v['p50']:.0f}", f"{v['p95']:.0f}", str(v["n"])]
            for s in STAGES if (v := summary.get("latency", {}).get(s))]


def failing(records: list[dict]) -> list[dict]:
    """Questions to look at, each with what went wrong (tags)."""
    out = []
    for r in records:
        m, tags = r["metrics"], []
        if r.get("error"):
            tags.append(f"出错：{r['error']}")
        if r["answerable"] and r["refused"]:
            tags.append("拒答了可回答的问题")
        if not r["answerable"] and not r["refused"]:
            tags.append("回答了不可回答的问题")
        if r["answerable"] and not r["refused"] and r.get("missing"):
            tags.append("缺少：" + "；".join(" 或 ".join(g) for g in r["missing"]))
        if m.get("citation_hit") == 0:
            tags.append("引用段落都不含证据")
        if r["answerable"] and r.get("evidence_ids"):
            rank = r.get("evidence_rank")
            if rank is None:
                tags.append("证据段落未被检索到")
            elif rank > RETRIEVAL_K:
                tags.append(f"证据段落排在第 {rank} 位")
        elif r["answerable"]:
            tags.append("证据不在任何正文段落中（无法检索）")
        g = r.get("grounding", {})
        if g.get("unsupported"):
            tags.append(f"{len(g['unsupported'])} 句没有引用支持")
        if g.get("imprecise"):
            tags.append(f"{sum(len(s['imprecise']) for s in g['imprecise'])} 个多余引用")
        if m.get("place_recall", 1) < 1 or m.get("place_precision", 1) < 1:
            expected = {place_key(p) for p in r["expected"]["places"]}
            named = set(r.get("places_named") or [])
            parts = []
            if expected - named:
                parts.append("少了 " + "、".join(sorted(expected - named)))
            if named - expected:
                parts.append("多了 " + "、".join(sorted(named - expected)))
            tags.append("地点：" + "，".join(parts))
        serious = not r["correct"] or m.get("citation_hit") == 0 or g.get("unsupported") or r.get("error") \
            or m.get("place_recall", 1) < 1 or m.get("place_precision", 1) < 1
        if serious:
            out.append(r | {"tags": tags})
    return out


# --- markdown -----------------------------------------------------------------------------------
def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _run_lines(run: dict) -> list[str]:
    index = run.get("index") or {}
    lines = [
        f"- 时间：{run['time']}；用时 {run['runtime_s']} 秒",
        f"- 评测集：`{run['dataset']}`，{run['n']} 题" + (f"（--limit {run['limit']}）" if run.get("limit") else ""),
        f"- 回答方式：{run['backend']}" + (f"（实际：{', '.join(run['backends_used'])}）"
                                       if run.get("backends_used") and run["backends_used"] != [run["backend"]] else ""),
    ]
    if index:
        lines.append(f"- 索引：{index.get('version', '')}，{index.get('embedding', '')}，"
                     f"文档 {index.get('documents', '?')}，段落 {index.get('paragraphs', '?')}")
    lines.append(f"- LLM 评审：{run['judge']}" if run.get("judge") else "- LLM 评审：未配置（RAG_JUDGE_URL / RAG_JUDGE_MODEL）")
    if run.get("errors"):
        lines.append(f"- **出错的问题：{run['errors']} 个**")
    return lines


def _comparison_rows(comparison: dict) -> list[list[str]]:
    rows = []
    for key, d in comparison["metrics"].items():
        flag = "**退步**" if d["regressed"] else ("进步" if d["improved"] else "")
        rows.append([f"{LABELS[key]} `{key}`", _fmt(d["before"]), _fmt(d["after"]), f"{d['delta']:+.3f}", flag])
    return rows


def _comparison_head(comparison: dict) -> str:
    base = comparison.get("baseline_run", {})
    text = (f"基线：{base.get('time', '?')}，{base.get('backend', '?')}，{base.get('n', '?')} 题；"
            f"共同问题 {comparison['common']} 个；容差 {comparison['tolerance']}。")
    if comparison["only_now"]:
        ids = comparison["only_now"]
        text += f" 基线中没有的问题 {len(ids)} 个：{', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}（未计入比较）。"
    if comparison["regressions"]:
        text += " **退步的指标：" + "、".join(comparison["regressions"]) + "（退出码 1）**"
    else:
        text += " 没有指标下降超过容差。"
    return text


def write_markdown(path: Path, run: dict, summary: dict, records: list[dict], comparison: dict | None,
                   chart_files: dict[str, str]) -> None:
    out = ["# 问答评测报告", "", *_run_lines(run), "", "## 总览", ""]
    header, rows = summary_rows(summary)
    out += [_md_table(header, rows), "",
            "总体一栏括号中是该指标适用的题数。引用召回、引用精确率由 rag.answer.verify 确定性判定（不用 LLM）。", ""]
    lat = latency_rows(summary)
    if lat:
        out += ["## 延迟（毫秒）", "", _md_table(["阶段", "p50", "p95", "题数"], lat), ""]
    if comparison:
        out += ["## 与基线比较", "", _comparison_head(comparison), "",
                _md_table(["指标", "基线", "本次", "变化", ""], _comparison_rows(comparison)), ""]
        for title, items in (("修好的问题", comparison["fixed"]), ("变坏的问题", comparison["broken"])):
            out += [f"### {title}（{len(items)}）", ""]
            for c in items:
                out += [f"- **{c['id']}**（{c['type']}）{c['question']}",
                        f"  - 之前：{_one_line(c['before'])}", f"  - 现在：{_one_line(c['after'])}"]
            out.append("")
    if chart_files:
        out += ["## 图表", ""] + [f"![{name}]({file})" for name, file in chart_files.items()] + [""]
    fails = failing(records)
    out += [f"## 未通过的问题（{len(fails)}）", ""]
    for r in fails:
        out += [f"### {r['id']} · {r['type']} · {r['question']}", "",
                "- 问题：" + "；".join(r["tags"]) if r["tags"] else "- 问题：见下",
                f"- 期望：{' + '.join('/'.join(g) for g in r['expected']['must_include']) or '拒答'}"
                + (f"；地点 {'、'.join(r['expected']['places'])}" if r["expected"]["places"] else ""),
                f"- 回答{'（拒答）' if r['refused'] else ''}：", "", _quote(r["answer"]), ""]
        if r["citations"]:
            out.append("- 引用段落：")
            for c in r["citations"]:
                mark = "✓证据" if c["evidence"] else ""
                out.append(f"  - [{c['n']}] {c['place']} · {c['title']} · `{c['id']}` {mark}：{_short(c['text'])}")
        for s in r.get("grounding", {}).get("unsupported", []):
            out.append(f"- 无据句：{_one_line(s['text'])}（{s['reason']}）")
        if r["expected"]["evidence"]:
            out.append("- 证据原文：" + "；".join(f"“{e['quote']}”（{e['file']}）" for e in r["expected"]["evidence"]))
        out.append("")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in (text or "（空）").splitlines())


def _one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s*\n\s*", " ⏎ ", text or "")
    return text if len(text) <= limit else text[:limit] + "…"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --- html ---------------------------------------------------------------------------------------
_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:24px auto;max-width:1200px;color:#1a202c;line-height:1.5;padding:0 16px}
h1{font-size:26px;margin-bottom:4px}h2{margin-top:32px;border-bottom:2px solid #e2e8f0;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f7fafc}
code{background:#edf2f7;padding:0 3px;border-radius:3px;font-size:12px}
.meta{color:#4a5568;font-size:14px}.bad{color:#c53030;font-weight:bold}.good{color:#2f855a}
.hi{background:#f0fff4}.lo{background:#fff5f5}
.q{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px;margin:10px 0}
.q summary{cursor:pointer;font-weight:bold}.tags span{display:inline-block;background:#fed7d7;color:#742a2a;
border-radius:3px;padding:0 6px;margin:2px 4px 2px 0;font-size:13px}
.answer{background:#f7fafc;border-left:3px solid #4299e1;padding:6px 10px;white-space:pre-wrap}
.cite{font-size:13px;color:#2d3748;margin:4px 0}.ev{color:#2f855a;font-weight:bold}
img{max-width:100%;border:1px solid #e2e8f0;margin:8px 0}
"""


def _h(text) -> str:
    return html.escape(str(text))


def _html_table(header: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in header)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, c in enumerate(row):
            cls = classes[i][j] if classes and classes[i][j] else ""
            cells.append(f"<td{f' class={chr(34)}{cls}{chr(34)}' if cls else ''}>{_h(c).replace('`', '')}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _shade(rows: list[list[str]]) -> list[list[str]]:
    """Cell classes for the summary table: good scores green, poor ones red."""
    out = []
    for row in rows:
        cls = [""]
        lower_better = "↓" in row[0]
        for c in row[1:]:
            try:
                v = float(c.split()[0])
            except (ValueError, IndexError):
                cls.append("")
                continue
            if row[0] == "题数":
                cls.append("")
            elif lower_better:
                cls.append("hi" if v <= 0.1 else "lo" if v > 0.3 else "")
            else:
                cls.append("hi" if v >= 0.9 else "lo" if v < 0.6 else "")
        out.append(cls)
    return out


def write_html(path: Path, run: dict, summary: dict, records: list[dict], comparison: dict | None,
               pngs: dict[str, bytes]) -> None:
    p = ['<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>问答评测报告</title>',
         f"<style>{_CSS}</style></head><body>", "<h1>问答评测报告</h1>", '<div class="meta"><ul>']
    p += [f"<li>{_h(line[2:]).replace('`', '')}</li>" for line in _run_lines(run)]
    p.append("</ul></div><h2>总览</h2>")
    header, rows = summary_rows(summary)
    p.append(_html_table(header, rows, _shade(rows)))
    p.append('<p class="meta">总体一栏括号中是该指标适用的题数；↑ 越高越好，↓ 越低越好。'
             "引用召回、引用精确率由 rag.answer.verify 确定性判定（不用 LLM）。</p>")
    lat = latency_rows(summary)
    if lat:
        p += ["<h2>延迟（毫秒）</h2>", _html_table(["阶段", "p50", "p95", "题数"], lat)]
    if comparison:
        p += ["<h2>与基线比较</h2>", f"<p>{_h(_comparison_head(comparison)).replace('**', '')}</p>"]
        crow = _comparison_rows(comparison)
        ccls = [["", "", "", "", "lo" if r[4] == "**退步**" else ("hi" if r[4] == "进步" else "")] for r in crow]
        p.append(_html_table(["指标", "基线", "本次", "变化", ""], [r[:4] + [r[4].replace("**", "")] for r in crow], ccls))
        for title, items, cls in (("修好的问题", comparison["fixed"], "good"), ("变坏的问题", comparison["broken"], "bad")):
            p.append(f'<h3 class="{cls}">{title}（{len(items)}）</h3>')
            for c in items:
                p.append(f'<div class="q"><b>{_h(c["id"])}</b>（{_h(c["type"])}）{_h(c["question"])}'
                         f'<div class="cite">之前：</div><div class="answer">{_h(c["before"])}</div>'
                         f'<div class="cite">现在：</div><div class="answer">{_h(c["after"])}</div></div>')
    if pngs:
        p.append("<h2>图表</h2>")
        for name, data in pngs.items():
            p.append(f'<img alt="{_h(name)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">')
    fails = failing(records)
    p.append(f"<h2>未通过的问题（{len(fails)}）</h2>")
    for r in fails:
        p.append(f'<details class="q" open><summary>{_h(r["id"])} · {_h(TYPE_LABELS.get(r["type"], r["type"]))} · '
                 f'{_h(r["question"])}</summary>')
        p.append('<div class="tags">' + "".join(f"<span>{_h(t)}</span>" for t in r["tags"]) + "</div>")
        expect = " + ".join("/".join(g) for g in r["expected"]["must_include"]) or "拒答"
        if r["expected"]["places"]:
            expect += "；地点 " + "、".join(r["expected"]["places"])
        p.append(f'<div class="cite">期望：{_h(expect)}</div>')
        p.append(f'<div class="cite">回答{"（拒答）" if r["refused"] else ""}：</div><div class="answer">{_h(r["answer"])}</div>')
        for c in r["citations"]:
            ev = '<span class="ev">✓证据</span> ' if c["evidence"] else ""
            p.append(f'<div class="cite">{ev}[{c["n"]}] {_h(c["place"])} · {_h(c["title"])} · <code>{_h(c["id"])}</code>：'
                     f'{_h(_short(c["text"], 300))}</div>')
        for s in r.get("grounding", {}).get("unsupported", []):
            p.append(f'<div class="cite bad">无据句：{_h(_one_line(s["text"]))}（{_h(s["reason"])}）</div>')
        if r["expected"]["evidence"]:
            p.append('<div class="cite">证据原文：' + "；".join(f"“{_h(e['quote'])}”（{_h(e['file'])}）"
                                                          for e in r["expected"]["evidence"]) + "</div>")
        p.append("</details>")
    p.append("</body></html>")
    path.write_text("\n".join(p), encoding="utf-8")


# --- all of it ----------------------------------------------------------------------------------
def write_results(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_reports(out_dir: str | Path, *, run: dict, summary: dict, records: list[dict],
                  comparison: dict | None = None, history: list[dict] | None = None) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = charts(summary, records, history or [], run.get("dataset", ""), run.get("n"))
    chart_files = {}
    for name, data in pngs.items():
        (out_dir / f"chart_{name}.png").write_bytes(data)
        chart_files[name] = f"chart_{name}.png"
    paths = {"results": out_dir / "results.jsonl", "markdown": out_dir / "report.md", "html": out_dir / "report.html"}
    write_results(paths["results"], records)
    write_markdown(paths["markdown"], run, summary, records, comparison, chart_files)
    write_html(paths["html"], run, summary, records, comparison, pngs)
    return paths


_SHORT_TYPES = {"single_fact": "single", "numeric": "numeric", "multi_place": "multi", "how": "how",
                "comparison": "compare", "cross_doc": "cross", "unanswerable": "unans"}


def print_summary(console, run: dict, summary: dict, comparison: dict | None, paths: dict[str, Path],
                  saved_baseline=None) -> None:
    """A compact table for the terminal: metric keys as rows, overall and each type as columns."""
    from rich import box
    from rich.table import Table

    types = list(summary["by_type"])
    table = Table(title=f"评测 {run['dataset']}：{run['n']} 题，{run['backend']}，用时 {run['runtime_s']} 秒",
                  padding=(0, 0, 0, 1), title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    table.add_column("metric", no_wrap=True)
    table.add_column("all", justify="right", no_wrap=True)
    for t in types:
        table.add_column(_SHORT_TYPES.get(t, t), justify="right", no_wrap=True)
    table.add_row("n", str(summary["overall"]["n"]), *[str(summary["by_type"][t]["n"]) for t in types])
    for key in METRIC_KEYS:
        if key in summary["overall"]:
            table.add_row(key, _fmt(summary["overall"][key]).replace("—", "-"),
                          *[_fmt(summary["by_type"][t].get(key)).replace("—", "-") for t in types])
    console.print(table)
    lat = latency_rows(summary)
    if lat:
        console.print("延迟 p50/p95（毫秒）：" + "；".join(f"{r[0].split()[-1]} {r[1]}/{r[2]}" for r in lat),
                      highlight=False)
    if comparison:
        changed = [f"{k} {d['before']:.3f}→{d['after']:.3f}" for k, d in comparison["metrics"].items() if d["delta"]]
        console.print(f"与基线比较（{comparison['common']} 题）：" + ("；".join(changed) or "指标没有变化"), highlight=False)
        console.print(f"修好 {len(comparison['fixed'])} 题" + (f"（{', '.join(c['id'] for c in comparison['fixed'])}）"
                                                              if comparison["fixed"] else "")
                      + f"，变坏 {len(comparison['broken'])} 题" + (f"（{', '.join(c['id'] for c in comparison['broken'])}）"
                                                                 if comparison["broken"] else ""), highlight=False)
        if comparison["regressions"]:
            console.print(f"[red]退步超过容差 {comparison['tolerance']}：{'、'.join(comparison['regressions'])}[/red]")
    console.print(f"报告：{paths['markdown']}  {paths['html']}  {paths['results']}", highlight=False)
    if saved_baseline:
        console.print(f"已保存基线：{saved_baseline}", highlight=False)
