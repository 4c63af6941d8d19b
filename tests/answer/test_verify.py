"""The citation checker on planted errors made from the real corpus: it must catch at least 95% of
swapped numbers, swapped places and claims from no paragraph, while passing the true sentences."""
import random
import re
import pytest

from casedata import CASES
from rag.parse import parse_text
from rag.answer.asked_places import place_aliases
from rag.answer.verify import Source, check, split_sentences, verify_answer

@pytest.fixture(scope="module")
def corpus():
    paragraphs = []
    for f in sorted(CASES.glob("*.txt")):
        doc = parse_text(f.read_text(encoding="utf-8"), f.name)
        paragraphs += [p for p in doc.paragraphs if p.kind == "body"]
    places = sorted({v for p in paragraphs for v in (p.place.province, p.place.city, p.place.county) if v})
    return paragraphs, place_aliases(places)


def source_of(p, aliases) -> Source:
    names = {alias for alias, canonical in aliases.items() if canonical in p.place.full}
    return Source(text=p.text, title=p.title, place_names=frozenset(names))


def sentences_with_numbers(paragraphs):
    out = []
    for p in paragraphs:
        for s in re.findall(r"[^。！？；]+[。！？；]", p.text):
            if re.search(r"\d", s) and len(s) >= 12:
                out.append((p, s))
    return out


def rate(flags):
    return sum(flags) / len(flags)


def test_true_sentences_pass(corpus):
    paragraphs, aliases = corpus
    cases = sentences_with_numbers(paragraphs)
    passed = [check(s, [source_of(p, aliases)], aliases).supported for p, s in cases]
    print(f"true sentences passed: {rate(passed):.3f} of {len(cases)}")
    assert rate(passed) == 1.0


def test_true_sentences_with_the_place_named_pass(corpus):
    paragraphs, aliases = corpus
    cases = sentences_with_numbers(paragraphs)
    passed = [check(f"{p.place.name}：{s}", [source_of(p, aliases)], aliases).supported for p, s in cases]
    assert rate(passed) == 1.0


def test_swapped_numbers_are_caught(corpus):
    paragraphs, aliases = corpus
    rng = random.Random(1)
    caught = []
    for p, s in sentences_with_numbers(paragraphs):
        numbers = re.findall(r"\d+(?:\.\d+)?", s)
        target = rng.choice(numbers)
        replacement = str(int(float(target)) + rng.choice([1, 2, 3, 7, 11]))
        while re.search(rf"(?<![\d.]){replacement}(?![\d])", p.text):
            replacement = str(int(replacement) + 13)
        planted = re.sub(rf"(?<![\d.]){re.escape(target)}(?![\d])", replacement, s, count=1)
        caught.append(not check(planted, [source_of(p, aliases)], aliases).supported)
    print(f"swapped numbers caught: {rate(caught):.3f} of {len(caught)}")
    assert rate(caught) >= 0.95


def test_swapped_places_are_caught(corpus):
    paragraphs, aliases = corpus
    rng = random.Random(2)
    counties = sorted({p.place.name for p in paragraphs})
    caught = []
    for p, s in sentences_with_numbers(paragraphs):
        other = rng.choice([c for c in counties if c not in p.place.full and c not in p.text])
        caught.append(not check(f"{other}：{s}", [source_of(p, aliases)], aliases).supported)
    print(f"swapped places caught: {rate(caught):.3f} of {len(caught)}")
    assert rate(caught) >= 0.95


def test_claims_from_no_paragraph_are_caught(corpus):
    """A sentence from another article, cited to this paragraph."""
    paragraphs, aliases = corpus
    rng = random.Random(3)
    cases = sentences_with_numbers(paragraphs)
    caught = []
    for p, _ in cases:
        q, s = rng.choice([(q, s) for q, s in cases if (q.doc, q.article) != (p.doc, p.article)])
        caught.append(not check(s, [source_of(p, aliases)], aliases).supported)
    print(f"claims from no paragraph caught: {rate(caught):.3f} of {len(caught)}")
    assert rate(caught) >= 0.95


def test_verify_answer_recites_and_removes(corpus):
    paragraphs, aliases = corpus
    laiyang = next(p for p in paragraphs if "信托制物业" in p.text)
    cenxi = next(p for p in paragraphs if "“治理剧”作品36部" in p.text)
    sources = {1: source_of(cenxi, aliases), 2: source_of(laiyang, aliases)}
    answer = ("莱阳市推动物业费收缴率提升至93%[1]。\n"  # right claim, wrong citation → re-cited to [2]
              "莱阳市物业费收缴率提升至99%[2]。\n"  # wrong number → removed
              "岑溪市创作“治理剧”作品36部[1]。")  # right
    fixed, verdicts = verify_answer(answer, sources, aliases)
    assert [v.verdict for v in verdicts] == ["recited", "removed", "supported"]
    assert "93%[2]" in fixed and "99%" not in fixed and "36部[1]" in fixed


def test_uncited_claim_is_recited_or_removed(corpus):
    paragraphs, aliases = corpus
    laiyang = next(p for p in paragraphs if "信托制物业" in p.text)
    fixed, verdicts = verify_answer("莱阳市以信托制物业为关键突破。北京市建成了100个智慧社区。",
                                    {1: source_of(laiyang, aliases)}, aliases)
    assert [v.verdict for v in verdicts] == ["recited", "removed"]
    assert fixed == "莱阳市以信托制物业为关键突破[1]。"


def test_split_sentences_keeps_markers_with_their_sentence():
    assert split_sentences("甲市做了A。[1]乙市做了B[2]。") == ["甲市做了A。[1]", "乙市做了B[2]。"]
    assert split_sentences("- 莱阳市：信托制物业[1]。\n- 芝罘区：幸福工坊[2]。") == ["- 莱阳市：信托制物业[1]。", "- 芝罘区：幸福工坊[2]。"]


def test_a_figure_leading_a_line_is_no_list_number(corpus):
    """"1.5公里[1]。" leads an answer: its "1." is a decimal, not the number of a list item."""
    paragraphs, aliases = corpus
    quyu = next(p for p in paragraphs if "服务半径延伸至1.5公里" in p.text)
    fixed, verdicts = verify_answer("1.5公里[1]。\n1. 服务半径延伸至1.5公里[1]。", {1: source_of(quyu, aliases)}, aliases)
    assert [v.verdict for v in verdicts] == ["supported", "supported"]
    assert fixed == "1.5公里[1]。\n1. 服务半径延伸至1.5公里[1]。"


def test_an_approximate_figure_agrees_with_its_round_value(corpus):
    """The paragraph says "筹集资金80余万元" and "2万多人次": "80万元" agrees with the first."""
    paragraphs, aliases = corpus
    fund = next(p for p in paragraphs if "筹集资金80余万元" in p.text)
    assert check("东屿社区健康基金筹集资金80万元", [source_of(fund, aliases)], aliases).supported
    assert not check("东屿社区健康基金筹集资金90万元", [source_of(fund, aliases)], aliases).supported
