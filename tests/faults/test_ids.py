"""Document ids unique and stable (same-named files in different folders), the report saying
what replaced what; paragraph ids anchored to their content (an old id never resolves to other text)."""
from __future__ import annotations

import shutil

from casedata import DOC_LAIYANG, DOC_LUODING, write_files
from faultkit import docs_of
from rag.index import CaseIndex

OTHER = "河南省安阳市殷都区：网格治理\n\n河南省安阳市殷都区推行网格化治理，网格员每天入户走访。\n"


def test_same_name_in_two_folders_in_one_ingest(tmp_path):
    a = write_files(tmp_path / "A", {"report.txt": DOC_LAIYANG})
    b = write_files(tmp_path / "B", {"report.txt": OTHER})
    report = CaseIndex(tmp_path / "index").ingest([a, b])  # used to abort: UNIQUE constraint failed
    assert not report.failed and len(report.added) == 2
    docs = docs_of(tmp_path / "index")
    assert docs[0] == "report.txt" and docs[1].startswith("report~") and docs[1].endswith(".txt")
    assert any("同名" in line and docs[1] in line for line in report.replaced)
    again = CaseIndex(tmp_path / "index").ingest([a, b])  # stable: the same ids, nothing changed
    assert sorted(again.unchanged) == sorted(docs) and not again.added and docs_of(tmp_path / "index") == docs


def test_same_name_in_two_runs_keeps_both_and_says_so(tmp_path):
    a = write_files(tmp_path / "A", {"report.txt": DOC_LAIYANG})
    b = write_files(tmp_path / "B", {"report.txt": OTHER})
    CaseIndex(tmp_path / "index").ingest([a])
    report = CaseIndex(tmp_path / "index").ingest([b])  # used to replace A's silently
    assert len(docs_of(tmp_path / "index")) == 2
    assert report.replaced and "两者都保留" in report.replaced[0]
    edited = CaseIndex(tmp_path / "index").ingest([a])  # A itself is still an update of A's document
    assert edited.unchanged == ["report.txt"]


def test_a_moved_file_replaces_its_old_self_and_the_report_says_what_replaced_what(tmp_path):
    a = write_files(tmp_path / "A", {"report.txt": DOC_LAIYANG})
    CaseIndex(tmp_path / "index").ingest([a])
    shutil.move(a, tmp_path / "B")
    (tmp_path / "B" / "report.txt").write_text(DOC_LAIYANG + "\n莱阳市新建了十个口袋公园。\n", encoding="utf-8")
    report = CaseIndex(tmp_path / "index").ingest([tmp_path / "B"])
    assert report.updated == ["report.txt"] and docs_of(tmp_path / "index") == ["report.txt"]
    assert "替换了" in report.replaced[0] and str(tmp_path / "A") in report.replaced[0]


def test_old_paragraph_ids_never_resolve_to_other_text(make_index):
    index, src, _ = make_index({"luoding.md": DOC_LUODING})
    with index._db() as db:
        before = {r["id"]: r["text"] for r in db.execute("SELECT id, text FROM paragraphs")}
    edited = DOC_LUODING.replace("# 广东省罗定市：邻里议事解决微小事\n\n",
                                 "# 广东省罗定市：邻里议事解决微小事\n\n罗定市新开了一个社区食堂，老人吃饭更方便。\n\n")
    edited = edited.replace("1.2万余件", "1.3万余件")  # and one paragraph edited
    (src / "luoding.md").write_text(edited, encoding="utf-8")
    index.ingest([src])
    now = CaseIndex(index.root).paragraphs(before)
    for pid, text in before.items():
        if pid in now:
            assert now[pid].page_content == text  # the same id, the same text
    moved = [pid for pid, t in before.items() if "差异化打造" in t][0]
    assert moved in now  # a paragraph pushed down by the insertion keeps its id
    assert not any("1.2万" in d.page_content for d in now.values())  # the edited one's old id is gone
