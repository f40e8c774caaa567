"""The demo county: 湖南省永州市零陵区 (431102) with its real townships and generated villages and groups.

Village names and counts are generated (seeded, so every run gives the same tree); the township list is
real. About 330 villages, 41 of them 贫困村 registered in 2014 and exited (出列) between 2016 and 2019.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from jingzhun.regions.importer import RegionRow

COUNTY_CODE = "431102000000"
SEED = 431102

PROVINCE = ("430000000000", "湖南省")
CITY = ("431100000000", "永州市")
COUNTY = (COUNTY_CODE, "零陵区")

# (9-digit code, name, kind): 街道 0xx, 镇 1xx, 乡 2xx in the national scheme.
TOWNSHIPS = [
    ("431102001", "朝阳街道", "street"),
    ("431102002", "南津渡街道", "street"),
    ("431102003", "七里店街道", "street"),
    ("431102004", "徐家井街道", "street"),
    ("431102005", "接履桥街道", "street"),
    ("431102006", "石山脚街道", "street"),
    ("431102100", "水口山镇", "town"),
    ("431102101", "珠山镇", "town"),
    ("431102102", "黄田铺镇", "town"),
    ("431102103", "富家桥镇", "town"),
    ("431102104", "菱角塘镇", "town"),
    ("431102105", "邮亭圩镇", "town"),
    ("431102106", "石岩头镇", "town"),
    ("431102201", "大庆坪乡", "township"),
    ("431102202", "梳子铺乡", "township"),
    ("431102203", "凼底乡", "township"),
]

VILLAGE_COUNTS = {"street": (6, 13), "town": (24, 33), "township": (15, 21)}
COMMUNITY_COUNTS = {"street": (4, 7), "town": (1, 2), "township": (0, 1)}
TARGET_VILLAGES = 330
POOR_VILLAGES = 41
DEEP_POOR_VILLAGES = 4

_FIRST = "龙凤金石桃李杨柳黄白云青松竹梅兰茶山水田东南西北上下新大小高长双三五七九和平太福寿永富"
_SECOND = "塘冲坪湾岭桥岗洲铺江溪源坝口头坡垅井湖塅"
_COMMUNITY_WORDS = [
    "新华",
    "建设",
    "解放",
    "和平",
    "五一",
    "光明",
    "胜利",
    "人民",
    "文化",
    "朝阳",
    "南门",
    "东风",
]
_GROUP_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class DemoVillage:
    code: str
    name: str
    township_code: str
    is_community: bool
    poor_from: int | None = None
    exit_year: int | None = None
    deep_poor: bool = False


def _group_name(n: int) -> str:
    if n <= 10:
        return f"第{_GROUP_NUMERALS[n - 1]}村民小组"
    if n < 20:
        return f"第十{_GROUP_NUMERALS[n - 11]}村民小组"
    return f"第{n}村民小组"


def build_villages(rng: random.Random | None = None) -> list[DemoVillage]:
    rng = rng or random.Random(SEED)
    used_names: set[str] = set()

    def village_name() -> str:
        while True:
            name = rng.choice(_FIRST) + rng.choice(_FIRST + _SECOND) + rng.choice(_SECOND) + "村"
            name = name[-3:] if rng.random() < 0.35 else name
            if name not in used_names and len(name) >= 3:
                used_names.add(name)
                return name

    villages: list[DemoVillage] = []
    for code9, tname, kind in TOWNSHIPS:
        lo, hi = COMMUNITY_COUNTS[kind]
        for i in range(rng.randint(lo, hi)):
            word = _COMMUNITY_WORDS[(i + len(villages)) % len(_COMMUNITY_WORDS)]
            villages.append(DemoVillage(f"{code9}{i + 1:03d}", f"{tname[:2]}{word}社区", code9, True))
        lo, hi = VILLAGE_COUNTS[kind]
        for i in range(rng.randint(lo, hi)):
            villages.append(DemoVillage(f"{code9}{200 + i + 1:03d}", village_name(), code9, False))
    rural = [v for v in villages if not v.is_community]
    # Trim or keep to about TARGET_VILLAGES administrative villages, deterministically.
    while len(rural) > TARGET_VILLAGES - 25:
        drop = rural.pop(rng.randrange(len(rural)))
        villages.remove(drop)
    # 贫困村: more in the hilly towns and townships than in the streets.
    weights = [0.3 if v.township_code[6] == "0" else 1.0 for v in rural]
    poor_codes: set[str] = set()
    while len(poor_codes) < POOR_VILLAGES:
        poor_codes.add(rng.choices(rural, weights=weights)[0].code)
    deep = set(rng.sample(sorted(poor_codes), DEEP_POOR_VILLAGES))
    result = []
    for v in villages:
        if v.code in poor_codes:
            exit_year = 2019 if v.code in deep else rng.choice([2016, 2017, 2017, 2018, 2018, 2019])
            v = DemoVillage(v.code, v.name, v.township_code, False, 2014, exit_year, v.code in deep)
        result.append(v)
    return result


def build_groups(villages: list[DemoVillage], rng: random.Random | None = None) -> list[tuple[str, str, str]]:
    """(15-digit code, name, village code) for the 村民小组 of every village."""
    rng = rng or random.Random(SEED + 1)
    groups = []
    for v in villages:
        count = rng.randint(3, 7) if v.is_community else rng.randint(6, 14)
        for n in range(1, count + 1):
            name = f"第{n}居民小组" if v.is_community else _group_name(n)
            groups.append((f"{v.code}{n:03d}", name, v.code))
    return groups


def region_rows(villages: list[DemoVillage], groups: list[tuple[str, str, str]]) -> list[RegionRow]:
    rows = [
        RegionRow(0, PROVINCE[0], PROVINCE[1]),
        RegionRow(0, CITY[0], CITY[1]),
        RegionRow(0, COUNTY[0], COUNTY[1]),
    ]
    for code9, name, kind in TOWNSHIPS:
        urban = "111" if kind == "street" else ("121" if kind == "town" else "210")
        rows.append(RegionRow(0, code9 + "000", name, urban))
    for v in villages:
        rows.append(RegionRow(0, v.code, v.name, "112" if v.is_community else "220"))
    for code, name, _village in groups:
        rows.append(RegionRow(0, code, name))
    return rows
