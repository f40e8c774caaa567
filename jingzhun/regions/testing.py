"""Test factories for regions (imported by tests only)."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from jingzhun.core.testing import RecordFactory
from jingzhun.regions.models import Region


class RegionFactory(RecordFactory[Region]):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "430000000000"
    name = factory.Sequence(lambda n: f"区划{n}")


@dataclass
class RegionTree:
    """湖南省 › 永州市 › 零陵区 › two townships › two villages each › one group each."""

    province: str = "430000000000"
    city: str = "431100000000"
    county: str = "431102000000"
    township_a: str = "431102100000"
    township_b: str = "431102101000"
    village_a1: str = "431102100201"
    village_a2: str = "431102100202"
    village_b1: str = "431102101201"
    village_b2: str = "431102101202"
    group_a1: str = "431102100201001"
    other_county: str = "431103000000"
    other_village: str = "431103100201"

    @property
    def villages(self) -> list[str]:
        return [self.village_a1, self.village_a2, self.village_b1, self.village_b2]


def build_region_tree() -> RegionTree:
    t = RegionTree()
    names = {
        t.province: "湖南省",
        t.city: "永州市",
        t.county: "零陵区",
        t.township_a: "水口山镇",
        t.township_b: "珠山镇",
        t.village_a1: "甲一村",
        t.village_a2: "甲二村",
        t.village_b1: "乙一村",
        t.village_b2: "乙二村",
        t.group_a1: "第一村民小组",
        t.other_county: "冷水滩区",
        "431103100000": "邻区镇",
        t.other_village: "邻区村",
    }
    for code in sorted(names, key=lambda c: (len(c), c)):
        RegionFactory(code=code, name=names[code])
    return t
