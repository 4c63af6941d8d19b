"""Damaged index files: caught at open (sizes, and checksums of what is read whole) or by
`rag check` (every byte), and repaired from the newest intact version or the stored source text
without losing a document; what cannot be recovered is named."""
from __future__ import annotations

import shutil

import pytest

from faultkit import current, docs_of, staging_left, versions
from rag.errors import IndexUnusableError
from rag.index import INDEX_FILES, CaseIndex

ALL = ["laiyang.txt", "luoding.md", "third.txt"]


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + 64, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def delete(path):
    path.unlink()


DAMAGE = {"truncated": truncate, "garbled": garble, "deleted": delete}


@pytest.mark.parametrize("how", list(DAMAGE))
@pytest.mark.parametrize("name", INDEX_FILES)
def test_damaged_file_is_caught_and_repaired(two_versions, name, how):
    root, _, _ = two_versions
    live = root / current(root)
    DAMAGE[how](live / name)
    if (name, how) == ("docs.sqlite", "garbled"):
        index = CaseIndex(root)  # opening checks its size only; the full check finds it
        assert index.exists
        index.close()
    else:
        with pytest.raises(IndexUnusableError) as info:
            CaseIndex(root)
        assert "rag check" in str(info.value) and name in str(info.value)
    found = CaseIndex(root, load=False).check(repair=False)
    assert not found.ok and any(name in p for p in found.problems)
    repaired = CaseIndex(root, load=False).check()
    assert repaired.repaired
    if name == "docs.sqlite":  # its documents come from the version before, and the rest is named
        assert docs_of(root) == ["laiyang.txt", "luoding.md"] and repaired.lost == ["third.txt"]
    else:  # rebuilt from the stored source text of the live version
        assert docs_of(root) == ALL and repaired.lost == []
    index = CaseIndex(root)
    assert index.retriever(k=1).search("网格化治理" if name != "docs.sqlite" else "信托制物业")
    assert CaseIndex(root, load=False).check(repair=False).ok and staging_left(root) == []


def test_half_a_sqlite_gives_a_clear_error_not_a_traceback(two_versions):
    """`rag list` used to crash while search carried on; now every reader says the same."""
    root, _, _ = two_versions
    truncate(root / current(root) / "docs.sqlite")
    with pytest.raises(IndexUnusableError, match="docs.sqlite"):
        CaseIndex(root)


def test_sqlite_damaged_in_every_version_is_reported_not_guessed(two_versions):
    root, _, _ = two_versions
    for v in versions(root):
        (root / v / "docs.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(IndexUnusableError, match="rag ingest --rebuild"):
        CaseIndex(root, load=False).check()
    assert versions(root) == ["v000001", "v000002"]  # nothing deleted


# --- item 1: following the error's advice deletes documents --------------------------------------------
def test_rebuild_after_a_damaged_manifest_keeps_every_document(two_versions, tmp_path):
    root, src, _ = two_versions
    (root / current(root) / "manifest.json").write_text("garbage {{{", encoding="utf-8")
    with pytest.raises(IndexUnusableError) as info:
        CaseIndex(root)
    assert "rag check" in str(info.value)
    only_one = tmp_path / "one"
    only_one.mkdir()
    shutil.copy(src / "luoding.md", only_one / "luoding.md")
    report = CaseIndex(root, load=False).ingest([only_one], rebuild=True)  # rag ingest --rebuild 目录
    assert docs_of(root) == ALL  # the files not named are rebuilt from their stored text
    assert any("重建" in n for n in report.notes) and report.lost == []


def test_rebuild_without_files_rebuilds_everything_stored(two_versions):
    root, _, _ = two_versions
    (root / current(root) / "vectors.faiss").unlink()
    report = CaseIndex(root, load=False).ingest([], rebuild=True)
    assert docs_of(root) == ALL and sorted(report.updated) == ALL


def test_ui_rebuild_button_after_a_damaged_manifest(two_versions, tmp_path):
    from rag.config import Settings
    from ui.engine import Engine

    root, _, _ = two_versions
    (root / current(root) / "manifest.json").write_text("[]", encoding="utf-8")
    engine = Engine(Settings(index_dir=root), tmp_path / "uploads")
    assert engine.error  # the damage is shown, not an empty index
    report = engine.rebuild()
    assert sorted(report.updated) == ALL and docs_of(root) == ALL
    assert [d["doc"] for d in engine.documents()] == ALL


# --- item 2: a missing or damaged CURRENT ------------------------------------------------------------
@pytest.mark.parametrize("pointer", [None, "", "garbage\x00", "v999999", "../outside", "/etc", "v000002/../../outside"])
def test_missing_or_damaged_current_falls_back_to_the_newest_intact_version(two_versions, tmp_path, pointer):
    root, _, extra = two_versions
    decoy = root.parent / "outside"  # a complete index version outside the folder: never read
    shutil.copytree(root / "v000001", decoy)
    if pointer is None:
        (root / "CURRENT").unlink()
    else:
        (root / "CURRENT").write_text(pointer, encoding="utf-8")
    index = CaseIndex(root)
    assert index.version_dir == root / "v000002" and index.notes and "CURRENT" in index.notes[0]
    assert [d["doc"] for d in index.documents()] == ALL
    index.close()
    (extra / "fourth.txt").write_text("广东省罗定市：新闻\n\n罗定市开展邻里节活动，居民踊跃参加。\n", encoding="utf-8")
    CaseIndex(root, load=False).ingest([extra / "fourth.txt"])  # the next ingest deletes nothing it needs
    assert docs_of(root) == sorted(ALL + ["fourth.txt"]) and decoy.is_dir()


def test_check_repairs_the_pointer(two_versions):
    root, _, _ = two_versions
    (root / "CURRENT").unlink()
    report = CaseIndex(root, load=False).check()
    assert not report.ok and any("CURRENT" in r for r in report.repaired)
    assert current(root) == "v000002" and CaseIndex(root, load=False).check(repair=False).ok


def test_a_damaged_newest_version_falls_back_when_current_is_gone(two_versions):
    root, _, _ = two_versions
    (root / "CURRENT").unlink()
    (root / "v000002" / "vectors.faiss").write_bytes(b"junk")
    index = CaseIndex(root)
    assert index.version_dir.name == "v000001"
    index.close()
    report = CaseIndex(root, load=False).check()  # rebuilt from v000002's intact stored text
    assert docs_of(root) == ALL and report.lost == []
