"""Text helpers: numerals as users and reports write them."""
import pytest

from rag.text import arabic_numbers, chinese_to_int, figure_values


@pytest.mark.parametrize("written, value", [
    ("三", 3), ("十二", 12), ("一百零五", 105), ("三万五千", 35000),
    ("二〇二五", 2025), ("一九九八", 1998),  # a year is written digit by digit
    ("统", None),
])
def test_chinese_to_int(written, value):
    assert chinese_to_int(written) == value


@pytest.mark.parametrize("text, expected", [
    ("二〇二五年挨家挨户走访", "2025年挨家挨户走访"),
    ("带动了三十名居民", "带动了30名居民"),
    ("大家一起商量", "大家一起商量"),  # a numeral inside a word is no quantity
    # approximate figures are figures: 龙文's 长者食堂 "惠及老年人上万人次" counts people
    ("已惠及老年人上万人次", "已惠及老年人上1万人次"), ("推动千余名党员下沉", "推动1000余名党员下沉"),
    ("覆盖三十多个社区", "覆盖30多个社区"), ("万家灯火", "万家灯火"),
    # figures as users type them: other units, percent in words, tenths, decimals, a quarter hour
    ("走一刻钟就能办事", "走15分钟就能办事"), ("半个小时", "30分钟"), ("一百多平的空地", "100多平的空地"),
    ("两万多块钱", "20000多块钱"), ("十来万人", "10来万人"), ("百分之九十三", "93%"),
    ("收缴率九成三", "收缴率93%"), ("九成", "9成"), ("一点二万件", "1.2万件"),
    # …but not the "per" of a rate, a word, or the reports of "两篇报道"
    ("物业费一平米收多少钱", "物业费一平米收多少钱"), ("日均一天", "日均一天"), ("一块儿", "一块儿"),
    ("两篇报道", "两篇报道"), ("一点儿", "一点儿"),
])
def test_arabic_numbers(text, expected):
    assert arabic_numbers(text) == expected


@pytest.mark.parametrize("text, values", [
    ("1.2万余件", [12000]), ("10多万人", [100000]), ("十来万人", [100000]), ("3万多人", [30000]),
    ("九成三", [93]), ("九成", [90]), ("百分之九十三", [93]), ("两万多块钱", [20000]), ("走一刻钟", [15]),
])
def test_figure_values(text, values):
    """A figure's value whatever the words around it: 多/来 between the digits and 万 is "about"."""
    assert figure_values(text) == values


def test_asking_words_do_not_join_a_verb_into_a_term():
    from rag.text import key_terms

    # jieba leaves 咋 and 管 apart; joining runs of single characters must not make "咋管" a term
    assert key_terms("钱是咋管的、又是咋监督的") == ["监督"]
    assert key_terms("咋选物业公司") == ["物业公司"]
