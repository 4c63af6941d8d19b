"""The ingest progress bar shows items per second and the time left."""
from __future__ import annotations

import io
import time

from rich.console import Console


def test_progress_shows_rate_and_time_left():
    from rag.progress import ingest_progress

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160, color_system=None)
    with ingest_progress(console) as bar:
        task = bar.add_task("计算向量", total=100)
        for done in range(0, 60, 10):
            bar.update(task, completed=done)
            time.sleep(0.05)
        bar.refresh()
        line = console.export_text() if console.record else buffer.getvalue()
    assert "段/秒" in line and "剩余" in line and "/100" in line
