"""Text helpers: numerals as users and reports write them."""
import pytest

from rag.text import arabic_numbers, chinese_to_int


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
])
def test_arabic_numbers(text, expected):
    assert arabic_numbers(text) == expected
