"""土地住房 (domain §5 item 28): the production and living conditions of the collection form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from jingzhun.registry.quality.codes import DANGEROUS_GRADES
from jingzhun.registry.quality.facts import HouseholdFacts
from jingzhun.registry.quality.rule import ERROR, GROUP_LAND, WARNING, Finding, Problem, RuleSet

# Plausible ranges in 亩 (domain §5 item 28); ``None`` field = the sum of 水田 and 旱地 (耕地).
LAND_RANGES: tuple[tuple[str, str, Decimal], ...] = (
    ("cultivated", "耕地面积", Decimal("100")),
    ("forest_land_mu", "林地面积", Decimal("200")),
    ("returned_forest_mu", "退耕还林（草）面积", Decimal("200")),
    ("orchard_mu", "林果面积", Decimal("200")),
    ("pasture_mu", "牧草地面积", Decimal("100")),
    ("water_surface_mu", "水面面积", Decimal("100")),
)
MAX_ROAD_DISTANCE_KM = Decimal("5")
# Fields of the collection form that must be filled (0 is a value; empty is not).
REQUIRED_HOUSEHOLD_FIELDS: tuple[tuple[str, str], ...] = (
    ("paddy_land_mu", "水田面积"),
    ("dry_land_mu", "旱地面积"),
    ("housing_area_m2", "住房面积"),
    ("is_dangerous_house", "是否危房户"),
    ("road_type", "入户路类型"),
    ("has_electricity", "是否通生活用电"),
    ("has_sanitary_toilet", "有无卫生厕所"),
    ("drinking_water", "饮水情况"),
    ("has_safe_water", "是否解决安全饮用水"),
)
NON_NEGATIVE_HOUSEHOLD_FIELDS: tuple[tuple[str, str], ...] = (
    ("paddy_land_mu", "水田面积"),
    ("dry_land_mu", "旱地面积"),
    ("forest_land_mu", "林地面积"),
    ("returned_forest_mu", "退耕还林（草）面积"),
    ("orchard_mu", "林果面积"),
    ("pasture_mu", "牧草地面积"),
    ("water_surface_mu", "水面面积"),
    ("housing_area_m2", "住房面积"),
    ("distance_to_main_road_km", "与村主干路距离"),
)

RULES = RuleSet()


@RULES.household("3_02_001", WARNING, GROUP_LAND, _("生产生活条件必填项未填写"), "§5.28")
def _required_fields(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    for name, text in REQUIRED_HOUSEHOLD_FIELDS:
        if getattr(h, name) in (None, ""):
            yield Finding(f"户 {h.household_number}：未填写{text}", name)


@RULES.household("JZ_601", ERROR, GROUP_LAND, _("面积或距离为负数"), "§5.28")
def _negative_area(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    return _of_household(h, negative_areas(h))


def negative_areas(h: HouseholdFacts) -> list[Problem]:
    """JZ_601 (the texts do not name the household)."""
    problems = []
    for name, text in NON_NEGATIVE_HOUSEHOLD_FIELDS:
        value = getattr(h, name)
        if value is not None and value < 0:
            problems.append((name, f"{text}为 {value}，不能为负数"))
    return problems


@RULES.household("5_14_001", WARNING, GROUP_LAND, _("土地面积超出合理范围"), "§5.28")
def _land_ranges(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    for name, text, upper in LAND_RANGES:
        value = h.cultivated if name == "cultivated" else getattr(h, name)
        if value is not None and value > upper:
            fld = "paddy_land_mu" if name == "cultivated" else name
            yield Finding(f"户 {h.household_number}：{text} {value} 亩，超过 {upper} 亩，请核实", fld)


@RULES.household("5_14_002", WARNING, GROUP_LAND, _("与村主干路距离超过 5 公里"), "§5.28")
def _road_distance(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    d = h.distance_to_main_road_km
    if d is not None and d > MAX_ROAD_DISTANCE_KM:
        yield Finding(
            f"户 {h.household_number}：与村主干路距离 {d} 公里，超过 {MAX_ROAD_DISTANCE_KM} 公里，请核实",
            "distance_to_main_road_km",
        )


@RULES.household("JZ_602", ERROR, GROUP_LAND, _("危房等级与是否危房户矛盾"), "§5.28")
def _dangerous_house_contradiction(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    return _of_household(h, dangerous_house_contradictions(h))


def dangerous_house_contradictions(h: HouseholdFacts) -> list[Problem]:
    """JZ_602 (the texts do not name the household)."""
    grade = h.dangerous_house_grade
    problems = []
    if h.is_dangerous_house is False and grade in DANGEROUS_GRADES:
        problems.append(("is_dangerous_house", f"危房等级为 {grade} 级，但“是否危房户”为否"))
    if h.is_dangerous_house and grade and grade not in DANGEROUS_GRADES:
        problems.append(("dangerous_house_grade", f"为危房户，但危房等级为 {grade} 级（C、D 级才是危房）"))
    return problems


@RULES.household("JZ_603", WARNING, GROUP_LAND, _("危房户未填写危房等级"), "§5.28")
def _dangerous_house_grade_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    return _of_household(h, dangerous_house_grade_missing(h))


def dangerous_house_grade_missing(h: HouseholdFacts) -> list[Problem]:
    """JZ_603 (the text does not name the household)."""
    if h.is_dangerous_house and not h.dangerous_house_grade:
        return [("dangerous_house_grade", "为危房户，未填写危房等级")]
    return []


def _of_household(h: HouseholdFacts, problems: list[Problem]) -> Iterator[Finding]:
    """The problems as findings whose texts start with the household's number."""
    return (Finding(f"户 {h.household_number}：{text}", name) for name, text in problems)
