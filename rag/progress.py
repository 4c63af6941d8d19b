"""The ingest progress bar of `rag ingest`: per stage, done/total, items per second and the time
left (rich). Stages are named by rag.index (解析文档, 计算向量, 计算句向量, …)."""
from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

# what a stage counts (the rate's unit); other stages count "项"
UNITS = {"解析文档": "个文件", "计算向量": "段", "计算句向量": "句", "写入 Milvus": "段"}
RATE_WINDOW_S = 30.0  # rich's speed estimate: the rate over (at most) this many recent seconds


class RateColumn(ProgressColumn):
    """"12.3 段/秒" once a stage has a measurable rate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("", style="progress.data.speed")
        unit = UNITS.get(str(task.description), "项")
        shown = f"{speed:.1f}" if speed < 100 else f"{speed:.0f}"
        return Text(f"{shown} {unit}/秒", style="progress.data.speed")


def ingest_progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TextColumn("剩余"), TimeRemainingColumn(), TextColumn("已用"), TimeElapsedColumn(),
                    console=console, transient=True, speed_estimate_period=RATE_WINDOW_S)
