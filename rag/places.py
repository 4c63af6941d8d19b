"""Find an article's place (province / city / county) in its title, byline and opening text."""
from __future__ import annotations

import csv
import importlib.util
import re
from functools import lru_cache
from collections import Counter
from functools import lru_cache
from pathlib import Path

from .schema import Place, strip_suffix

PROVINCES = (
    "北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 江西省 "
    "山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 甘肃省 青海省 台湾省 "
    "内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 新疆维吾尔自治区 香港特别行政区 澳门特别行政区"
).split()
_SHORT_PROVINCE = {p: strip_suffix(p) for p in PROVINCES}

_PROVINCE_RE = "|".join(sorted(PROVINCES, key=len, reverse=True))
# A county-level or city-level unit: two to four characters and a suffix. Longer names in this
# domain are rare and the short bound keeps "通过建立社区" from being read as a place.
_UNIT = r"[\u4e00-\u9fa5]{1,4}?(?:市|区|县|旗)"
_CHAIN = re.compile(rf"(?P<province>{_PROVINCE_RE})?(?P<first>{_UNIT})(?P<second>{_UNIT})?")
# Words ending in 市/区/县 that are not places.
_NOT_PLACES = {"城市", "全市", "本市", "该市", "市区", "社区", "小区", "园区", "城区", "辖区", "片区", "街区", "景区",
               "商区", "新区", "山区", "老区", "郊区", "全区", "该区", "本区", "县区", "全县", "该县", "本县",
               "城中村区", "网格区", "展区", "功能区", "服务区", "议事区", "街道社区", "学区", "试点区", "示范区", "都市"}
_TITLE_PLACE = re.compile(rf"^(?:#\s*)?(?P<prefix>(?:{_PROVINCE_RE})?(?:{_UNIT}){{1,2}}|(?:{_PROVINCE_RE}))[：:]")
_LEAD_PLACE = re.compile(rf"^(?P<prefix>(?:{_PROVINCE_RE})?(?:{_UNIT}){{1,2}})")


def split_units(prefix: str) -> Place:
    """"山东省烟台市芝罘区" → Place(山东省, 烟台市, 芝罘区); "广东省汕头市" → city only."""
    province = ""
    for p in sorted(PROVINCES, key=len, reverse=True):
        if prefix.startswith(p):
            province, prefix = p, prefix[len(p):]
            break
    units = re.findall(r"[\u4e00-\u9fa5]+?(?:市|区|县|旗)", prefix)
    units = [u for u in units if u not in _NOT_PLACES]
    if len(units) >= 2:
        return Place(province=province, city=units[0], county=units[1])
    if len(units) == 1:
        # A 区/县 is always below a city; a 市 under a province is read as a prefecture-level city
        # until the body text shows a parent city (岑溪市 → 梧州市岑溪市).
        unit = units[0]
        if unit.endswith(("区", "县", "旗")):
            return Place(province=province, county=unit)
        return Place(province=province, city=unit) if province else Place(county=unit)
    return Place(province=province)


def place_from_title(title: str) -> Place | None:
    match = _TITLE_PLACE.match(title.strip())
    if match:
        return split_units(match.group("prefix"))
    return None


def find_place(title: str, byline: str, body: list[str]) -> Place:
    """The article's place: from the title prefix ("山东省莱阳市：…"), else the most named unit,
    then completed with the fullest chain the text gives ("广东省云浮市罗定市")."""
    place = place_from_title(title)
    text = "\n".join([title, byline, *body[:3]])
    if place is None or not place.name:
        lead = _LEAD_PLACE.match(title.lstrip("#").strip())
        if lead:
            candidate = split_units(lead.group("prefix"))
            if candidate.name and candidate.name not in _NOT_PLACES:
                place = candidate
    if place is None or not place.name:
        counts = Counter(u for u in _units_in("\n".join([title, byline, *body])) if u not in _NOT_PLACES)
        if not counts:
            return Place()
        place = split_units(counts.most_common(1)[0][0])
    return _complete(place, "\n".join([title, byline, *body]))


def _units_in(text: str) -> list[str]:
    out = []
    for m in _CHAIN.finditer(text):
        for key in ("first", "second"):
            unit = m.group(key)
            if unit and len(unit) >= 3:
                out.append(unit)
    return out


@lru_cache(maxsize=8192)
def _chain_ending_in(name: str) -> re.Pattern:
    """Compiled once per place: a corpus of thousands of places overflows re's own cache (512),
    and compiling was a fifth of an ingest's parsing time."""
    return re.compile(rf"(?P<province>{_PROVINCE_RE})?(?P<city>[\u4e00-\u9fa5]{{1,4}}?市)?{re.escape(name)}")


def _complete(place: Place, text: str) -> Place:
    """Fill the levels the title leaves out from the longest chain in the text that ends in the
    article's own unit: "广西壮族自治区梧州市岑溪市" gives 岑溪市 its city and province."""
    name = place.name
    best = place
    for m in _chain_ending_in(name).finditer(text):
        province = m.group("province") or place.province
        city = m.group("city") or ""
        if city and city != name and city not in _NOT_PLACES:
            if place.county:
                best = Place(province=province, city=city, county=place.county)
            else:  # the title's "市" was county-level after all: 岑溪市 under 梧州市
                best = Place(province=province, city=city, county=name)
            break
        if province and not best.province:
            best = best.model_copy(update={"province": province})
    if not best.province:
        for short_name, province in ((s, p) for p, s in _SHORT_PROVINCE.items()):
            if re.search(rf"{short_name}(?:{re.escape(best.city or best.county)})", text):
                best = best.model_copy(update={"province": province})
                break
    if not best.province or (best.county and not best.city):
        best = _from_gazetteer(best)
    return best


def _from_gazetteer(place: Place) -> Place:
    """Levels the article never states ("汾阳市" with no province anywhere), from the national
    table of administrative divisions, when the name is unique in China (or unique within the
    province the text gives)."""
    matches = [chain for chain in gazetteer().get(place.name, []) if not place.province or chain[0] == place.province]
    if len(matches) != 1:
        return place
    province, city = matches[0]
    if place.county:
        return Place(province=province, city=place.city or city, county=place.county)
    return Place(province=province, city=place.city)


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, list[tuple[str, str]]]:
    """Every province-, city- and county-level name → [(province, city)] it may belong to, from
    the GB/T 2260 code table shipped with the `cpca` package (read as a file: importing cpca needs
    pandas). A code is PPCCDD000000: its province is PP0000000000, its city PPCC00000000."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv"
    try:
        with path.open(encoding="utf-8") as f:
            rows = {row["adcode"][:6]: row["name"] for row in csv.DictReader(f)}
    except (OSError, KeyError, csv.Error):
        return {}
    table: dict[str, list[tuple[str, str]]] = {}
    for code, name in rows.items():
        if code.endswith("0000"):
            continue  # a province itself
        province = rows.get(code[:2] + "0000", "")
        city = "" if code.endswith("00") else rows.get(code[:4] + "00", "")
        if city in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            city = ""
        table.setdefault(name, []).append((province, city))
    return table


# Regions users name instead of provinces or cities. Geography, not tuning: the macro-regions
# of China's official statistics (东北, 华北, 华东, 中部 …) and the customary sub-regions of a
# few provinces (粤东, 胶东, 闽南 …), each as the provinces or prefecture-level cities it covers.
REGIONS: dict[str, tuple[str, ...]] = {
    "东北": ("辽宁省", "吉林省", "黑龙江省"),
    "华北": ("北京市", "天津市", "河北省", "山西省", "内蒙古自治区"),
    "华东": ("上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省"),
    "华中": ("河南省", "湖北省", "湖南省"),
    "中部": ("山西省", "安徽省", "江西省", "河南省", "湖北省", "湖南省"),
    "华南": ("广东省", "广西壮族自治区", "海南省"),
    "西南": ("重庆市", "四川省", "贵州省", "云南省", "西藏自治区"),
    "西北": ("陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"),
    "西部": ("重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
             "宁夏回族自治区", "新疆维吾尔自治区", "广西壮族自治区", "内蒙古自治区"),
    "东部": ("北京市", "天津市", "河北省", "上海市", "江苏省", "浙江省", "福建省", "山东省", "广东省", "海南省"),
    "东南沿海": ("上海市", "江苏省", "浙江省", "福建省", "广东省"),
    "沿海": ("辽宁省", "河北省", "天津市", "山东省", "江苏省", "上海市", "浙江省", "福建省", "广东省",
             "广西壮族自治区", "海南省"),
    "长三角": ("上海市", "江苏省", "浙江省", "安徽省"),
    "珠三角": ("广州市", "深圳市", "珠海市", "佛山市", "江门市", "东莞市", "中山市", "惠州市", "肇庆市"),
    "京津冀": ("北京市", "天津市", "河北省"),
    "粤东": ("汕头市", "潮州市", "揭阳市", "汕尾市", "梅州市"),
    "粤西": ("湛江市", "茂名市", "阳江市", "云浮市"),
    "粤北": ("韶关市", "清远市", "河源市", "梅州市", "云浮市"),
    "潮汕": ("汕头市", "潮州市", "揭阳市"),
    "胶东": ("青岛市", "烟台市", "威海市", "潍坊市"),
    "闽南": ("厦门市", "漳州市", "泉州市"),
    "桂东": ("梧州市", "贺州市", "玉林市", "贵港市"),
    "辽南": ("大连市", "营口市", "鞍山市", "辽阳市"),
    "豫北": ("安阳市", "鹤壁市", "濮阳市", "新乡市", "焦作市"),
    "赣中": ("吉安市", "新余市", "宜春市", "抚州市"),
    "两广": ("广东省", "广西壮族自治区"),
}
# …and as written out: 广东西部 is 粤西, 河南北部 豫北
_PROVINCE_SHORT = {"粤": "广东", "桂": "广西", "辽": "辽宁", "豫": "河南", "赣": "江西", "闽": "福建"}
REGIONS.update({_PROVINCE_SHORT[name[0]] + name[1] + "部": members for name, members in list(REGIONS.items())
                if len(name) == 2 and name[0] in _PROVINCE_SHORT and name[1] in "东西南北中"})
