"""数据质量规则 (domain §5): a catalogue of coded rules over plain facts, and the Django glue around it.

Pure part (no database; testable with plain data)
-------------------------------------------------
``MemberFacts`` / ``YearFacts`` / ``HouseholdFacts``
    What a rule reads. Build them from model instances or from dicts (``*.from_data``); every field has
    a default, so imports can fill only what they have.
``validate_household(facts, as_of) -> list[Violation]``
    Runs every rule of ``CATALOGUE``. ``as_of`` is the reference date for ages. The Django helpers
    default it to today, because member rows (在校生状况, 劳动技能 …) describe the present, not the
    record year; pass ``year_end(year)`` (31 Dec, the 统计时点) to check a historical snapshot, or
    ``reference_date(year)`` (today for recent records, 31 Dec for old ones) for imported files.
``CATALOGUE: dict[str, Rule]``
    rule code → ``Rule(code, level, group, title, check | member_check, ref)``. Codes of the Guizhou
    checker are kept where the domain reference gives them (e.g. ``1_01_003``); others are ``JZ_nnn``. ``level`` is
    ``error`` (blocks saving: identity and structure contradictions) or ``warning`` (recorded only:
    plausibility and completeness).
``errors_for_forms(violations, member_index=None, fields=None) -> dict``
    The blocking errors for one form, keyed by form field (``NON_FIELD_ERRORS`` for the rest), ready
    for ``raise ValidationError(errors)``.

Django part
-----------
``check_household(household, year=None, *, members=None, record=None, as_of=None) -> list[Violation]``
    Loads (or takes) the members and the year's record (latest if ``year`` is None), the poverty lines,
    the income formula and the cross-household context (same ID / same phone in another household);
    ages at ``as_of`` (default today).
``with_member(household, member) -> (members, index)``
    The household's members with an edited (possibly unsaved) member in place, for form validation.
``record_issues(household, violations) -> int``
    Replaces the household's QualityIssue rows. ``refresh_issues(household, year=None)`` does both.

A member edit form uses them like this::

    members, idx = quality.with_member(household, form.instance)
    violations = quality.check_household(household, members=members)
    errors = quality.errors_for_forms(violations, member_index=idx, fields=form.fields)
    if errors:
        raise ValidationError(errors)           # errors block saving
    ...save...
    quality.refresh_issues(household)           # warnings are recorded

Batches over a region: ``jingzhun.registry.quality_run.run_quality``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from jingzhun.core.batching import chunked
from jingzhun.policy.defaults import CODE_TABLES
from jingzhun.policy.income import CENT, DEDUCTION_ITEMS, INCOME_ITEMS, IncomeFormulaSpec, compute_income
from jingzhun.registry.idcard import (
    DISABILITY_CATEGORIES,
    PLACEHOLDER_PREFIX,
    age_on,
    birth_in,
    check_char,
    mask_id_number,
    sex_in,
)

ERROR = "error"
WARNING = "warning"

GROUP_IDENTITY = gettext_noop("身份")  # marked for translation; pages translate at render
GROUP_STRUCTURE = gettext_noop("户结构")
GROUP_AGE = gettext_noop("年龄与属性")
GROUP_INSURANCE = gettext_noop("保险")
GROUP_EMPLOYMENT = gettext_noop("就业")
GROUP_LAND = gettext_noop("土地住房")
GROUP_INCOME = gettext_noop("收入")
GROUP_YEAR = gettext_noop("年度信息")
GROUPS = (
    GROUP_IDENTITY,
    GROUP_STRUCTURE,
    GROUP_AGE,
    GROUP_INSURANCE,
    GROUP_EMPLOYMENT,
    GROUP_LAND,
    GROUP_INCOME,
    GROUP_YEAR,
)

HEAD = "01"
SPOUSE = "02"
# 人员增加原因 建档立卡: the member's addition date is when the household was registered, not when the
# person joined it, so it says nothing about who was in the household in earlier years.
REGISTERED = "1"
# 与户主关系 codes that name a sex (domain §2.4 order; see policy.defaults).
MALE_RELATIONSHIPS = frozenset({"03", "06", "07", "09", "11", "13", "15", "17", "19", "23", "25", "27"})
FEMALE_RELATIONSHIPS = frozenset({"04", "05", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26"})

NOT_IN_SCHOOL = frozenset({"", "00"})
PRESCHOOL = "01"
# 在校生状况 → (min age, max age) at the reference date (domain §5 item 14).
GRADE_AGES: dict[str, tuple[int, int | None]] = {
    "02": (6, 14),
    **dict.fromkeys(("07", "08", "09"), (12, 17)),
    **dict.fromkeys(("11", "12", "13", "21", "22", "23"), (15, 20)),
    **dict.fromkeys(("31", "32", "33", "40", "41"), (18, None)),
    "42": (20, None),
}
LOW_EDUCATION = frozenset({"1", "2", "6"})  # 文盲或半文盲 / 小学 / 学龄前儿童
COMPLETED_JUNIOR = frozenset({"3", "4", "5", "51", "52"})  # 初中及以上: finished compulsory schooling

HEALTHY = "1"
DISABLED = "4"
ABLE_LABOUR = frozenset({"1", "2"})  # 普通 / 技能劳动力
NO_LABOUR = "4"
WEAK_OR_NO_LABOUR = frozenset({"3", "4", "5"})  # 丧失 / 无 / 弱或半劳动力
LOST_OR_NO_LABOUR = frozenset({"3", "4"})
OUTSIDE_TOWNSHIP_WORK = frozenset({"2", "3", "4"})
OUTSIDE_COUNTY_WORK = frozenset({"3", "4"})
DROPOUT_HEALTH_REASONS = frozenset({"1", "2"})  # 因病 / 因残
ID_TYPE_ID_CARD = "1"
ID_TYPE_DISABILITY = "2"
ID_TYPE_OTHER = "9"  # passports etc.: the ID-number rules do not apply
SEX_CODES = frozenset({"1", "2"})
ID_LENGTHS = (18, 20, 22)

EXITED = frozenset({"1", "4"})  # 已脱贫（享受 / 不再享受政策）
NOT_EXITED = frozenset({"0", "3"})  # 未脱贫 / 返贫
POOR_ATTRIBUTES = frozenset({"01", "04", "06", "07"})
EXITED_ATTRIBUTES = frozenset({"02", "03", "05"})
DIBAO_ATTRIBUTES = frozenset({"02", "04", "07", "08"})
TEKUN_ATTRIBUTES = frozenset({"03", "06", "07", "08", "09"})
GENERAL_ATTRIBUTES = frozenset({"01", "05"})
RECEIVING = frozenset({"1", "2"})  # 享受低保 / 特困: 农村 or 城市
MONITORING_FROM_YEAR = 2020  # 防止返贫动态监测 began in 2020 (domain §3.7)

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
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
DANGEROUS_GRADES = frozenset({"C", "D"})
SECURITY_FLAGS: tuple[tuple[str, str], ...] = (
    ("food_clothing_secure", "不愁吃不愁穿"),
    ("education_secure", "义务教育有保障"),
    ("medical_secure", "基本医疗有保障"),
    ("housing_secure", "住房安全有保障"),
    ("water_secure", "饮水安全有保障"),
)


def _code_labels() -> dict[str, dict[str, str]]:
    # Shipped labels, so messages need no database (administrators may rename labels; codes stay).
    return {key: {item[0]: item[1] for item in items} for key, (_name, items) in CODE_TABLES.items()}


LABELS = _code_labels()


def label(table: str, code: str) -> str:
    return LABELS.get(table, {}).get(code, code)


def _q(table: str, code: str) -> str:
    """A code's label in Chinese quotes, for messages."""
    return f"“{label(table, code)}”"


# ---------------------------------------------------------------------------------------------------
# Facts


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if type(obj) is dict or isinstance(obj, Mapping):  # the exact-type test first: batches pass dicts
        return obj.get(name, default)
    return getattr(obj, name, default)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money(value: Any) -> Decimal:
    return _dec(value) or Decimal("0")


@dataclass(frozen=True)
class IdParts:
    """A 证件号码 taken apart (GB 11643; 20-digit 残疾人证号 = ID + category + grade)."""

    number: str
    placeholder: bool
    length_ok: bool
    suffix_ok: bool
    format_ok: bool
    checksum_ok: bool
    expected_check: str
    birth: dt.date | None
    sex: str
    category: str
    grade: str

    @property
    def base(self) -> str:
        return self.number[:18]

    @property
    def sound(self) -> bool:
        """Structure and checksum valid: the parts derived from the digits can be trusted."""
        return not self.placeholder and self.length_ok and self.suffix_ok and self.format_ok and self.checksum_ok


def parse_id(raw: str) -> IdParts:
    number = _text(raw).upper().replace(" ", "")
    placeholder = not number or number.startswith(PLACEHOLDER_PREFIX)
    length_ok = len(number) in ID_LENGTHS
    category = grade = ""
    suffix_ok = True
    if len(number) == 20:
        category, grade = number[18], number[19]
        suffix_ok = category in DISABILITY_CATEGORIES and grade in "1234"
    elif len(number) == 22:  # meaning of the last 4 digits unknown (domain §7): only require digits
        suffix_ok = number[18:].isdigit()
    base = number[:18]
    format_ok = len(base) == 18 and base[:17].isdigit() and (base[17].isdigit() or base[17] == "X")
    expected = ""
    checksum_ok = False
    birth = None
    sex = ""
    if format_ok:
        expected = check_char(base[:17])
        checksum_ok = base[17] == expected
        birth = birth_in(base)
        sex = sex_in(base)
    return IdParts(
        number, placeholder, length_ok, suffix_ok, format_ok, checksum_ok, expected, birth, sex, category, grade
    )


@dataclass
class MemberFacts:
    """One person (domain §2.3). Code fields hold policy code-table codes."""

    id: int | None = None
    name: str = ""
    active: bool = True
    sex: str = ""
    id_type: str = ID_TYPE_ID_CARD
    id_number: str = ""
    birth_date: dt.date | None = None
    relationship: str = ""
    education: str = ""
    school_status: str = ""
    dropout_reason: str = ""
    health: str = HEALTHY
    disability_category: str = ""
    disability_grade: str = ""
    labour: str = ""
    work_status: str = ""
    work_location: str = ""
    work_months: int | None = None
    has_serious_illness_insurance: bool | None = None
    has_resident_medical_insurance: bool | None = None
    has_employee_medical_insurance: bool | None = None
    has_resident_pension: bool | None = None
    has_employee_pension: bool | None = None
    receives_medical_assistance: bool = False
    is_active_military: bool = False
    is_dibao: bool = False
    is_tekun: bool = False
    public_welfare_job: str = ""
    public_welfare_months: int | None = None
    phone: str = ""
    addition_date: dt.date | None = None
    addition_reason: str = ""
    removal_reason: str = ""
    removal_date: dt.date | None = None

    TEXT_FIELDS = (
        "name",
        "sex",
        "id_type",
        "id_number",
        "relationship",
        "education",
        "school_status",
        "dropout_reason",
        "health",
        "disability_category",
        "disability_grade",
        "labour",
        "work_status",
        "work_location",
        "public_welfare_job",
        "phone",
        "addition_reason",
        "removal_reason",
    )
    OTHER_FIELDS = (
        "birth_date",
        "work_months",
        "has_serious_illness_insurance",
        "has_resident_medical_insurance",
        "has_employee_medical_insurance",
        "has_resident_pension",
        "has_employee_pension",
        "public_welfare_months",
        "addition_date",
        "removal_date",
    )
    FLAG_FIELDS = ("receives_medical_assistance", "is_active_military", "is_dibao", "is_tekun")

    @classmethod
    def from_data(cls, obj: Any) -> MemberFacts:
        """From a Member instance or a dict with the model's field names (``status`` 'active'/'removed')."""
        values: dict[str, Any] = {name: _text(_get(obj, name)) for name in cls.TEXT_FIELDS}
        values.update({name: _get(obj, name) for name in cls.OTHER_FIELDS})
        values.update({name: bool(_get(obj, name, False)) for name in cls.FLAG_FIELDS})
        values["id"] = _get(obj, "pk") if not isinstance(obj, Mapping) else obj.get("id")
        status = _get(obj, "status", "active")
        values["active"] = status in ("active", True, None)
        values["id_type"] = values["id_type"] or ID_TYPE_ID_CARD
        values["health"] = values["health"] or HEALTHY
        return cls(**values)

    @cached_property
    def idp(self) -> IdParts:
        return parse_id(self.id_number)

    @property
    def checks_id_number(self) -> bool:
        return self.id_type != ID_TYPE_OTHER

    @property
    def birth(self) -> dt.date | None:
        """出生日期, else the one in a sound ID number."""
        if self.birth_date is not None:
            return self.birth_date
        return self.idp.birth if self.idp.sound else None

    def age(self, as_of: dt.date) -> int | None:
        birth = self.birth
        if birth is None or birth > as_of:
            return None
        return age_on(birth, as_of)

    @property
    def in_school(self) -> bool:
        return self.school_status not in NOT_IN_SCHOOL

    @property
    def working(self) -> bool:
        return bool(self.work_status)

    @property
    def medically_insured(self) -> bool:
        return bool(self.has_resident_medical_insurance or self.has_employee_medical_insurance)

    @property
    def disability(self) -> tuple[str, str]:
        """(category, grade) from a 残疾人证号, else from the member's fields."""
        if self.idp.sound and self.idp.category:
            return self.idp.category, self.idp.grade
        return self.disability_category, self.disability_grade

    def present_on(self, day: dt.date) -> bool:
        """Whether the person belonged to the household on ``day`` (for 家庭人口数 of a year)."""
        if self.birth is not None and self.birth > day:
            return False
        if self.addition_date is not None and self.addition_date > day and self.addition_reason != REGISTERED:
            return False
        if self.active:
            return True
        return self.removal_date is not None and self.removal_date > day


@dataclass
class YearFacts:
    """One HouseholdYear with the policy numbers in force for it."""

    year: int
    exit_status: str = ""
    attribute: str = ""
    main_cause: str = ""
    other_cause_1: str = ""
    other_cause_2: str = ""
    wage_income: Decimal = Decimal("0")
    business_income: Decimal = Decimal("0")
    property_income: Decimal = Decimal("0")
    transfer_income: Decimal = Decimal("0")
    claims_income: Decimal = Decimal("0")
    production_expense: Decimal = Decimal("0")
    compliant_out_of_pocket: Decimal = Decimal("0")
    member_count: int = 0
    total_income: Decimal = Decimal("0")
    net_income: Decimal = Decimal("0")
    per_capita_net_income: Decimal = Decimal("0")
    food_clothing_secure: bool | None = None
    education_secure: bool | None = None
    medical_secure: bool | None = None
    housing_secure: bool | None = None
    water_secure: bool | None = None
    formula: IncomeFormulaSpec = field(default_factory=IncomeFormulaSpec)
    exit_line: Decimal | None = None  # 脱贫验收收入标准 of the year
    monitoring_line: Decimal | None = None  # 防返贫监测范围 of the year

    TEXT_FIELDS = ("exit_status", "attribute", "main_cause", "other_cause_1", "other_cause_2")
    MONEY_FIELDS = (
        *(k for k, _label in INCOME_ITEMS),
        *(k for k, _label in DEDUCTION_ITEMS),
        "total_income",
        "net_income",
        "per_capita_net_income",
    )
    FLAG_FIELDS = tuple(k for k, _label in SECURITY_FLAGS)

    @classmethod
    def from_data(
        cls,
        obj: Any,
        *,
        formula: IncomeFormulaSpec | None = None,
        exit_line: Decimal | None = None,
        monitoring_line: Decimal | None = None,
    ) -> YearFacts:
        values: dict[str, Any] = {name: _text(_get(obj, name)) for name in cls.TEXT_FIELDS}
        values.update({name: _money(_get(obj, name)) for name in cls.MONEY_FIELDS})
        values.update({name: _get(obj, name) for name in cls.FLAG_FIELDS})
        return cls(
            year=int(_get(obj, "year")),
            member_count=int(_get(obj, "member_count") or 0),
            formula=formula or IncomeFormulaSpec(),
            exit_line=exit_line,
            monitoring_line=monitoring_line,
            **values,
        )

    @property
    def exited(self) -> bool:
        return self.exit_status in EXITED

    def components(self) -> dict[str, Decimal]:
        return {k: getattr(self, k) for k, _label in INCOME_ITEMS + DEDUCTION_ITEMS}


@dataclass
class HouseholdFacts:
    """One household (domain §2.2): its fields, all its member rows (active and removed), one yearly
    record, and what other households share with it (same person, same phone)."""

    id: int | None = None
    household_number: str = ""
    village_code: str = ""
    active: bool = True
    phone: str = ""
    exit_year: int | None = None
    is_monitored: bool = False
    paddy_land_mu: Decimal | None = None
    dry_land_mu: Decimal | None = None
    forest_land_mu: Decimal | None = None
    returned_forest_mu: Decimal | None = None
    orchard_mu: Decimal | None = None
    pasture_mu: Decimal | None = None
    water_surface_mu: Decimal | None = None
    housing_area_m2: Decimal | None = None
    is_dangerous_house: bool | None = None
    dangerous_house_grade: str = ""
    has_electricity: bool | None = None
    drinking_water: str = ""
    has_safe_water: bool | None = None
    road_type: str = ""
    distance_to_main_road_km: Decimal | None = None
    has_sanitary_toilet: bool | None = None
    dibao_status: str = ""
    tekun_status: str = ""
    members: list[MemberFacts] = field(default_factory=list)
    year: YearFacts | None = None
    # 18-digit ID (first 18 of a certificate number) → 户编号 of other households holding it (active).
    ids_elsewhere: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # phone → 户编号 of other households using it (household or member phone).
    phones_elsewhere: dict[str, tuple[str, ...]] = field(default_factory=dict)

    DECIMAL_FIELDS = (
        "paddy_land_mu",
        "dry_land_mu",
        "forest_land_mu",
        "returned_forest_mu",
        "orchard_mu",
        "pasture_mu",
        "water_surface_mu",
        "housing_area_m2",
        "distance_to_main_road_km",
    )
    TEXT_FIELDS = ("household_number", "phone", "dangerous_house_grade", "drinking_water", "road_type")
    CODE_FIELDS = ("dibao_status", "tekun_status")
    NULL_BOOL_FIELDS = ("is_dangerous_house", "has_electricity", "has_safe_water", "has_sanitary_toilet")

    @classmethod
    def from_data(
        cls,
        obj: Any,
        members: Iterable[Any] = (),
        year: YearFacts | None = None,
        *,
        ids_elsewhere: dict[str, tuple[str, ...]] | None = None,
        phones_elsewhere: dict[str, tuple[str, ...]] | None = None,
    ) -> HouseholdFacts:
        """From a Household instance or a dict of its fields (``village_id`` or ``village_code``)."""
        values: dict[str, Any] = {name: _text(_get(obj, name)) for name in cls.TEXT_FIELDS + cls.CODE_FIELDS}
        values.update({name: _dec(_get(obj, name)) for name in cls.DECIMAL_FIELDS})
        values.update({name: _get(obj, name) for name in cls.NULL_BOOL_FIELDS})
        status = _get(obj, "status", "active")
        return cls(
            id=_get(obj, "pk") if not isinstance(obj, Mapping) else obj.get("id"),
            village_code=_text(_get(obj, "village_id") or _get(obj, "village_code")),
            active=status in ("active", True, None),
            exit_year=_get(obj, "exit_year"),
            is_monitored=bool(_get(obj, "is_monitored", False)),
            members=[m if isinstance(m, MemberFacts) else MemberFacts.from_data(m) for m in members],
            year=year,
            ids_elsewhere=ids_elsewhere or {},
            phones_elsewhere=phones_elsewhere or {},
            **values,
        )

    def active_members(self) -> Iterator[tuple[int, MemberFacts]]:
        """(index in ``members``, member) of the people now in the household."""
        return ((i, m) for i, m in enumerate(self.members) if m.active)

    @property
    def cultivated(self) -> Decimal | None:
        if self.paddy_land_mu is None and self.dry_land_mu is None:
            return None
        return (self.paddy_land_mu or Decimal("0")) + (self.dry_land_mu or Decimal("0"))


# ---------------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class Violation:
    rule_code: str
    level: str
    message: str
    member_index: int | None = None  # position in HouseholdFacts.members; None = the household
    member_id: int | None = None
    field: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


@dataclass(frozen=True)
class Finding:
    """What a check reports; the rule adds its code and level."""

    message: str
    field: str = ""
    member_index: int | None = None


Check = Callable[["HouseholdFacts", dt.date], Iterable[Finding]]
MemberResult = tuple[str, str] | list[tuple[str, str]] | None
MemberCheck = Callable[["MemberFacts", "HouseholdFacts", dt.date], MemberResult]


@dataclass(frozen=True)
class Rule:
    """A household rule has ``check``; a member rule has ``member_check``, called per active member."""

    code: str
    level: str
    group: str
    title: str | Promise
    check: Check | None = None
    ref: str = ""  # item of domain §5
    member_check: MemberCheck | None = None

    def run(
        self, facts: HouseholdFacts, active: list[tuple[int, MemberFacts]], as_of: dt.date, out: list[Violation]
    ) -> None:
        """The rule over one household, its violations appended to ``out``. ``active`` is the household's
        ``active_members()``, listed once by the caller for every member rule; a member rule's message
        becomes "姓名：text" so every message names the person."""
        fn = self.member_check
        if fn is not None:
            for i, m in active:
                result = fn(m, facts, as_of)
                if not result:
                    continue
                for fld, text in result if isinstance(result, list) else [result]:
                    out.append(
                        Violation(self.code, self.level, f"{m.name or '（未填姓名）'}：{text}"[:300], i, m.id, fld)
                    )
            return
        for f in self.check(facts, as_of):
            member = facts.members[f.member_index] if f.member_index is not None else None
            out.append(
                Violation(
                    rule_code=self.code,
                    level=self.level,
                    message=f.message[:300],
                    member_index=f.member_index,
                    member_id=member.id if member is not None else None,
                    field=f.field,
                )
            )


CATALOGUE: dict[str, Rule] = {}


def _register(rule: Rule) -> None:
    if rule.code in CATALOGUE:
        raise ValueError(f"duplicate rule code {rule.code}")
    CATALOGUE[rule.code] = rule


def household_rule(code: str, level: str, group: str, title: str | Promise, ref: str = "") -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        _register(Rule(code, level, group, title, check=fn, ref=ref))
        return fn

    return register


def member_rule(
    code: str, level: str, group: str, title: str | Promise, ref: str = ""
) -> Callable[[MemberCheck], MemberCheck]:
    """A rule over each active member: the function returns (field, text) or a list of them."""

    def register(fn: MemberCheck) -> MemberCheck:
        _register(Rule(code, level, group, title, ref=ref, member_check=fn))
        return fn

    return register


def validate_household(facts: HouseholdFacts, as_of: dt.date) -> list[Violation]:
    """Every rule of the catalogue over one household; ``as_of`` is the reference date for ages."""
    violations: list[Violation] = []
    # The active members are listed once for all member rules, and every rule appends straight to the
    # result (imports check 50,000 households).
    active = list(facts.active_members())
    for rule in CATALOGUE.values():
        rule.run(facts, active, as_of, violations)
    return violations


def _id_rules_apply(m: MemberFacts) -> bool:
    return m.checks_id_number and not m.idp.placeholder


# ---- 身份 (domain §5 items 1–6) ------------------------------------------------------------------


@member_rule("4_01_003", ERROR, GROUP_IDENTITY, _("证件号码为空或为占位号码"), "§5.3")
def _placeholder_id(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if not m.idp.number:
        return "id_number", "证件号码未填写"
    if m.idp.placeholder:
        return "id_number", f"证件号码为占位号码（以 {PLACEHOLDER_PREFIX} 开头），请填写真实号码"
    return None


@member_rule("1_01_002", ERROR, GROUP_IDENTITY, _("证件号码位数或残疾人证号后缀错误"), "§5.2")
def _id_length(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if not _id_rules_apply(m):
        return None
    p = m.idp
    if not p.length_ok:
        return "id_number", f"证件号码应为 18 位（残疾人证号 20 位），当前 {len(p.number)} 位"
    if not p.suffix_ok:
        if len(p.number) == 20 and p.category not in DISABILITY_CATEGORIES:
            return "id_number", f"残疾人证号第 19 位残疾类别“{p.category}”无效（应为 1–7）"
        if len(p.number) == 20:
            return "id_number", f"残疾人证号第 20 位残疾等级“{p.grade}”无效（应为 1–4）"
        return "id_number", "证件号码第 19 位起应为数字"
    return None


@member_rule("1_01_003", ERROR, GROUP_IDENTITY, _("身份证号码校验位错误"), "§5.1")
def _id_checksum(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not p.length_ok:
        return None
    if not p.format_ok:
        return "id_number", "证件号码前 17 位应为数字，第 18 位为数字或 X"
    if not p.checksum_ok:
        return "id_number", f"证件号码校验位错误（第 18 位应为 {p.expected_check}）"
    return None


@member_rule("JZ_101", ERROR, GROUP_IDENTITY, _("证件号码中的出生日期无效"), "§5.1")
def _id_birth(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not (p.length_ok and p.format_ok and p.checksum_ok):
        return None
    latest = max(as_of, dt.date.today())
    if p.birth is None:
        return "id_number", f"证件号码中的出生日期 {p.base[6:14]} 不存在"
    if p.birth > latest or p.birth.year < 1890:
        return "id_number", f"证件号码中的出生日期 {p.birth:%Y-%m-%d} 不合理"
    return None


@member_rule("JZ_102", ERROR, GROUP_IDENTITY, _("出生日期与证件号码不一致"), "§5.1")
def _birth_matches_id(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not p.sound or p.birth is None or m.birth_date is None:
        return None
    if m.birth_date != p.birth:
        return "birth_date", f"出生日期 {m.birth_date:%Y-%m-%d} 与证件号码中的 {p.birth:%Y-%m-%d} 不一致"
    return None


@member_rule("2_01_004", ERROR, GROUP_IDENTITY, _("性别与身份证号码不一致"), "§5.6")
def _sex_matches_id(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not _id_rules_apply(m) or not p.sound or m.sex not in SEX_CODES:
        return None
    if m.sex != p.sex:
        return "sex", f"性别为{_q('sex', m.sex)}，证件号码第 17 位表示{_q('sex', p.sex)}"
    return None


@member_rule("2_02_001", ERROR, GROUP_IDENTITY, _("性别与“与户主关系”不一致"), "§5.6")
def _sex_matches_relationship(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.sex == "2" and m.relationship in MALE_RELATIONSHIPS:
        return "sex", f"与户主关系为{_q('relationship', m.relationship)}，性别应为“男”"
    if m.sex == "1" and m.relationship in FEMALE_RELATIONSHIPS:
        return "sex", f"与户主关系为{_q('relationship', m.relationship)}，性别应为“女”"
    return None


@household_rule("2_12_008", ERROR, GROUP_IDENTITY, _("户主与配偶性别相同"), "§5.6")
def _head_spouse_sex(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    heads = [m for _i, m in h.active_members() if m.relationship == HEAD and m.sex in SEX_CODES]
    if len(heads) != 1:
        return
    head = heads[0]
    for i, m in h.active_members():
        if m.relationship == SPOUSE and m.sex == head.sex:
            yield Finding(f"{m.name}：为户主{head.name}的配偶，但二人性别均为{_q('sex', m.sex)}", "sex", i)


@household_rule("1_01_001", ERROR, GROUP_IDENTITY, _("同一证件号码在多个户或本户重复出现"), "§5.4")
def _duplicate_id(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    seen: dict[str, MemberFacts] = {}
    for i, m in h.active_members():
        if not _id_rules_apply(m) or not m.idp.length_ok:
            continue
        base = m.idp.base
        masked = mask_id_number(base)
        if base in seen:
            yield Finding(f"{m.name}：证件号码 {masked} 与本户{seen[base].name}重复", "id_number", i)
        else:
            seen[base] = m
        others = h.ids_elsewhere.get(base)
        if others:
            yield Finding(
                f"{m.name}：证件号码 {masked} 同时在户 {'、'.join(others)} 中在册（同一人只能在一个户）",
                "id_number",
                i,
            )


@member_rule("4_01_002", WARNING, GROUP_IDENTITY, _("健康状况为残疾但证件类型不是残疾人证"), "§5.5")
def _disabled_without_certificate(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.health == DISABLED and m.id_type != ID_TYPE_DISABILITY:
        return "id_type", f"健康状况为“残疾”，证件类型为{_q('id_type', m.id_type)}，应为“残疾人证”"
    return None


@member_rule("JZ_103", ERROR, GROUP_IDENTITY, _("残疾类别、等级与残疾人证号不一致"), "§5.2")
def _disability_fields_match(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not p.sound or len(p.number) != 20:
        return None
    out = []
    if m.disability_category and m.disability_category != p.category:
        out.append(
            (
                "disability_category",
                f"残疾类别为“{DISABILITY_CATEGORIES.get(m.disability_category, m.disability_category)}”，"
                f"残疾人证号表示“{DISABILITY_CATEGORIES[p.category]}”",
            )
        )
    if m.disability_grade and m.disability_grade != p.grade:
        out.append(("disability_grade", f"残疾等级为 {m.disability_grade} 级，残疾人证号表示 {p.grade} 级"))
    return out or None


@member_rule("JZ_104", WARNING, GROUP_IDENTITY, _("证件类型、健康状况与残疾人证号不一致"), "§5.2/5.5")
def _certificate_consistency(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    p = m.idp
    if not p.sound:
        return None
    certificate = len(p.number) == 20
    if m.id_type == ID_TYPE_DISABILITY and not certificate:
        return "id_number", "证件类型为“残疾人证”，证件号码应为 20 位残疾人证号"
    if certificate and m.id_type != ID_TYPE_DISABILITY:
        return "id_type", f"证件号码为 20 位残疾人证号，证件类型为{_q('id_type', m.id_type)}，应为“残疾人证”"
    if certificate and m.health != DISABLED:
        return "health", f"持残疾人证，健康状况为{_q('health', m.health)}，应为“残疾”"
    return None


# ---- 户结构 (items 7–9) ---------------------------------------------------------------------------


@household_rule("3_11_001", ERROR, GROUP_STRUCTURE, _("户内没有在户成员"), "§5.8")
def _no_members(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.active and not any(True for _ in h.active_members()):
        yield Finding(f"户 {h.household_number}：没有在户成员")


@household_rule("3_02_011", ERROR, GROUP_STRUCTURE, _("户内没有户主"), "§5.7")
def _no_head(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    active = list(h.active_members())
    if active and not any(m.relationship == HEAD for _i, m in active):
        yield Finding(f"户 {h.household_number}：在户成员中没有户主（与户主关系为“户主”的成员）", "relationship")


@household_rule("3_02_012", ERROR, GROUP_STRUCTURE, _("户主多于一人"), "§5.7")
def _several_heads(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    heads = [(i, m) for i, m in h.active_members() if m.relationship == HEAD]
    for i, m in heads[1:]:
        yield Finding(f"{m.name}：与户主关系为“户主”，但本户已有户主{heads[0][1].name}", "relationship", i)


@household_rule("3_11_002", WARNING, GROUP_STRUCTURE, _("家庭人口数与成员数不一致"), "§5.8")
def _size_matches(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    # 家庭人口数 is derived when the yearly record is saved; a difference means the record is stale.
    if h.year is None:
        return
    year_end = dt.date(h.year.year, 12, 31)
    present = sum(1 for m in h.members if m.present_on(year_end))
    if h.year.member_count != present:
        yield Finding(
            f"{h.year.year} 年家庭人口数为 {h.year.member_count} 人，当年末在户成员为 {present} 人",
            "member_count",
        )


@member_rule("JZ_201", ERROR, GROUP_STRUCTURE, _("已登记减少的人员仍为在户"), "§5.9")
def _removed_but_active(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.removal_reason:
        return "status", f"已填写人员减少原因{_q('member_removal', m.removal_reason)}，但人员状态仍为“在户”"
    if m.removal_date is not None:
        return "status", f"已填写减少日期 {m.removal_date:%Y-%m-%d}，但人员状态仍为“在户”"
    return None


# ---- 年龄与属性 (items 10–18) ----------------------------------------------------------------------


@member_rule("2_01_011", ERROR, GROUP_AGE, _("未满 16 周岁劳动技能应为无劳动力"), "§5.10")
def _child_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and age < 16 and m.labour != NO_LABOUR:
        return "labour", f"年龄 {age} 岁，劳动技能应为“无劳动力”"
    return None


@member_rule("1111_07", WARNING, GROUP_AGE, _("在校生劳动技能应为无劳动力"), "§5.10")
def _student_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    # Under 16 is already an error of 2_01_011.
    if m.in_school and m.labour in ABLE_LABOUR and (age is None or age >= 16):
        return "labour", f"在校生（{label('school_status', m.school_status)}），劳动技能为{_q('labour', m.labour)}"
    return None


@member_rule("2_12_005", WARNING, GROUP_AGE, _("60 周岁及以上为普通或技能劳动力"), "§5.11")
def _elderly_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and age >= 60 and m.labour in ABLE_LABOUR:
        return "labour", f"年龄 {age} 岁，劳动技能为{_q('labour', m.labour)}，请核实"
    return None


@member_rule("5_12_008", WARNING, GROUP_AGE, _("劳动年龄内健康非在校生却无劳动能力"), "§5.12")
def _able_without_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and 16 <= age < 60 and m.health == HEALTHY and not m.in_school and m.labour in WEAK_OR_NO_LABOUR:
        return "labour", f"年龄 {age} 岁、健康、非在校生，劳动技能为{_q('labour', m.labour)}，请核实"
    return None


def school_year_start(on: dt.date) -> dt.date:
    """1 Sept of the school year ``on`` falls in: children aged 6 by 31 Aug enter primary school."""
    return dt.date(on.year if on.month >= 9 else on.year - 1, 9, 1)


@member_rule("1_02_005", WARNING, GROUP_AGE, _("义务教育阶段适龄人员未在校且无未上学原因"), "§5.13")
def _compulsory_school(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    entry_age = m.age(school_year_start(as_of) - dt.timedelta(days=1))
    if age is None or entry_age is None or entry_age < 6 or age > 15 or m.in_school or m.dropout_reason:
        return None
    if m.education in COMPLETED_JUNIOR:
        return None
    return "dropout_reason", f"年龄 {age} 岁，未填写在校生状况，也未填写义务教育阶段未上学原因"


@member_rule("5_12_013", WARNING, GROUP_AGE, _("在校年级与年龄不符"), "§5.14")
def _grade_age(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    bounds = GRADE_AGES.get(m.school_status)
    if age is None or bounds is None:
        return None
    low, high = bounds
    if age < low or (high is not None and age > high):
        span = f"{low}–{high} 岁" if high is not None else f"{low} 岁及以上"
        return "school_status", f"年龄 {age} 岁，在校生状况为{_q('school_status', m.school_status)}（应为 {span}）"
    return None


@member_rule("5_12_018", WARNING, GROUP_AGE, _("7 周岁及以上健康人员仍为学前"), "§5.14")
def _preschool_too_old(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is None or age < 7 or m.health != HEALTHY:
        return None
    if m.school_status == PRESCHOOL:
        return "school_status", f"年龄 {age} 岁、健康，在校生状况为“学前教育”"
    if not m.in_school and m.education == "6":
        return "education", f"年龄 {age} 岁、健康，文化程度为“学龄前儿童”"
    return None


@member_rule("5_17_001", WARNING, GROUP_AGE, _("16–22 周岁文化程度为小学及以下"), "§5.14")
def _young_low_education(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if age is not None and 16 <= age <= 22 and not m.in_school and m.education in LOW_EDUCATION:
        return "education", f"年龄 {age} 岁，文化程度为{_q('education', m.education)}，请核实"
    return None


@member_rule("3_01_002", ERROR, GROUP_AGE, _("文化程度与在校生状况均未填写"), "§5.15")
def _education_missing(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if not m.in_school and not m.education:
        return "education", "非在校生应填写文化程度（在校生填写在校生状况）"
    return None


@member_rule("3_01_003", WARNING, GROUP_AGE, _("文化程度与在校生状况同时填写"), "§5.15")
def _education_and_school(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.in_school and m.education:
        return (
            "education",
            f"在校生状况为{_q('school_status', m.school_status)}，文化程度{_q('education', m.education)}应不填",
        )
    return None


@member_rule("2_01_012", WARNING, GROUP_AGE, _("未上学原因为因病或因残但健康状况为健康"), "§5.16")
def _dropout_reason_health(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.dropout_reason in DROPOUT_HEALTH_REASONS and m.health == HEALTHY:
        return "health", f"义务教育阶段未上学原因为{_q('dropout_reason', m.dropout_reason)}，健康状况却为“健康”"
    return None


@member_rule("4_01_007", WARNING, GROUP_AGE, _("一、二级肢体残疾却为普通或技能劳动力"), "§5.17")
def _severe_limb_disability_labour(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    category, grade = m.disability
    if category == "4" and grade in ("1", "2") and m.labour in ABLE_LABOUR:
        return "labour", f"{grade} 级肢体残疾，劳动技能为{_q('labour', m.labour)}，请核实"
    return None


@member_rule("5_15_018", WARNING, GROUP_AGE, _("特困供养人员处于劳动年龄、健康且非在校"), "§5.18")
def _tekun_able(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if m.is_tekun and age is not None and 18 <= age < 60 and m.health == HEALTHY and not m.in_school:
        return "is_tekun", f"特困供养对象，年龄 {age} 岁、健康、非在校生，请核实供养条件"
    return None


# ---- 保险 (items 19–20) ---------------------------------------------------------------------------


@member_rule("2_01_008", WARNING, GROUP_INSURANCE, _("同时参加城乡居民医保和职工医保"), "§5.19")
def _double_medical(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.has_resident_medical_insurance and m.has_employee_medical_insurance:
        return "has_employee_medical_insurance", "同时参加城乡居民基本医疗保险和城镇职工基本医疗保险（重复参保）"
    return None


@member_rule("2_01_009", WARNING, GROUP_INSURANCE, _("未参加基本医疗保险或未填写"), "§5.19")
def _no_medical(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.is_active_military or m.medically_insured:  # 现役军人 are covered by military medical care
        return None
    if m.has_resident_medical_insurance is None and m.has_employee_medical_insurance is None:
        return "has_resident_medical_insurance", "未填写是否参加基本医疗保险"
    return "has_resident_medical_insurance", "未参加城乡居民或城镇职工基本医疗保险"


@member_rule("2_01_006", WARNING, GROUP_INSURANCE, _("是否参加大病保险未填写"), "§5.19")
def _serious_illness_missing(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.has_serious_illness_insurance is None and not m.is_active_military:
        return "has_serious_illness_insurance", "未填写是否参加大病保险"
    return None


@member_rule("2_01_007", WARNING, GROUP_INSURANCE, _("养老保险参保情况未填写"), "§5.19")
def _pension_missing(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    # Pension insurance starts at 16 for non-students.
    if age is None or age < 16 or m.in_school or m.is_active_military:
        return None
    if m.has_resident_pension is None and m.has_employee_pension is None:
        return "has_resident_pension", f"年龄 {age} 岁，未填写是否参加城乡居民或城镇职工基本养老保险"
    return None


@member_rule("3_01_007", WARNING, GROUP_INSURANCE, _("接受医疗救助但未参加基本医疗保险"), "§5.20")
def _assistance_without_insurance(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.receives_medical_assistance and not m.medically_insured:
        return "receives_medical_assistance", "接受医疗救助，但未参加基本医疗保险"
    return None


# ---- 就业 (items 21–23, 25) ---------------------------------------------------------------------


@member_rule("2_01_015", WARNING, GROUP_EMPLOYMENT, _("在校生有务工状况"), "§5.21")
def _student_working(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.in_school and m.working:
        return (
            "work_status",
            f"在校生（{label('school_status', m.school_status)}），务工状况为{_q('work_status', m.work_status)}",
        )
    return None


@member_rule("4_01_006", WARNING, GROUP_EMPLOYMENT, _("无劳动力或丧失劳动力人员有务工状况"), "§5.21")
def _no_labour_working(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.labour in LOST_OR_NO_LABOUR and m.working:
        return "work_status", f"劳动技能为{_q('labour', m.labour)}，务工状况为{_q('work_status', m.work_status)}"
    return None


@member_rule("5_01_004", WARNING, GROUP_EMPLOYMENT, _("特困供养人员外出务工"), "§5.21")
def _tekun_working_away(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.is_tekun and m.work_status in OUTSIDE_TOWNSHIP_WORK:
        return "work_status", f"特困供养对象，务工状况为{_q('work_status', m.work_status)}"
    return None


@member_rule("3_01_005", WARNING, GROUP_EMPLOYMENT, _("公益性岗位人员年龄不符（未满 16 或 70 岁及以上）"), "§5.22")
def _welfare_job_age(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    age = m.age(as_of)
    if m.public_welfare_job and age is not None and (age < 16 or age >= 70):
        return "public_welfare_job", f"年龄 {age} 岁，担任公益性岗位“{m.public_welfare_job}”"
    return None


@member_rule("3_01_006", ERROR, GROUP_EMPLOYMENT, _("公益性岗位与月数不匹配"), "§5.22")
def _welfare_job_months(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    months = m.public_welfare_months or 0
    if m.public_welfare_job and months == 0:
        return "public_welfare_months", f"担任公益性岗位“{m.public_welfare_job}”，未填写公益性岗位月数"
    if not m.public_welfare_job and months > 0:
        return "public_welfare_job", f"公益性岗位月数为 {months}，未填写公益性岗位"
    if months > 12:
        return "public_welfare_months", f"公益性岗位月数为 {months}，不能超过 12"
    return None


@member_rule("5_01_003", WARNING, GROUP_EMPLOYMENT, _("县外务工人员担任公益性岗位"), "§5.23")
def _welfare_job_away(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.public_welfare_job and m.work_status in OUTSIDE_COUNTY_WORK:
        return (
            "public_welfare_job",
            f"务工状况为{_q('work_status', m.work_status)}，又担任本地公益性岗位“{m.public_welfare_job}”",
        )
    return None


@member_rule("JZ_501", ERROR, GROUP_EMPLOYMENT, _("务工时间超过 12 个月"), "§5.24")
def _work_months_range(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    if m.work_months is not None and m.work_months > 12:
        return "work_months", f"务工时间为 {m.work_months} 个月，一年不能超过 12 个月"
    return None


@member_rule("JZ_502", WARNING, GROUP_EMPLOYMENT, _("务工状况、务工时间和务工所在地不匹配"), "§5.24")
def _work_fields(m: MemberFacts, h: HouseholdFacts, as_of: dt.date) -> MemberResult:
    months = m.work_months or 0
    if m.working and months == 0:
        return "work_months", f"务工状况为{_q('work_status', m.work_status)}，未填写务工时间"
    if m.work_status in OUTSIDE_TOWNSHIP_WORK and not m.work_location:
        return "work_location", f"务工状况为{_q('work_status', m.work_status)}，未填写务工所在地"
    if not m.working and months > 0:
        return "work_status", f"务工时间为 {months} 个月，未填写务工状况"
    return None


def _phone(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


@household_rule("2_01_013", WARNING, GROUP_EMPLOYMENT, _("联系电话不是有效的手机号码"), "§5.25")
def _phone_format(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.phone and not PHONE_RE.match(_phone(h.phone)):
        yield Finding(f"户 {h.household_number}：联系电话“{h.phone}”不是 11 位手机号码", "phone")
    for i, m in h.active_members():
        if m.phone and not PHONE_RE.match(_phone(m.phone)):
            yield Finding(f"{m.name}：联系电话“{m.phone}”不是 11 位手机号码", "phone", i)


@household_rule("2_01_014", WARNING, GROUP_EMPLOYMENT, _("联系电话与其他户重复"), "§5.25")
def _phone_shared(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    reported: set[str] = set()
    own = _phone(h.phone)
    if own and h.phones_elsewhere.get(own):
        reported.add(own)
        yield Finding(
            f"户 {h.household_number}：联系电话 {own} 也是户 {'、'.join(h.phones_elsewhere[own])} 的联系电话", "phone"
        )
    for i, m in h.active_members():
        phone = _phone(m.phone)
        if phone and phone not in reported and h.phones_elsewhere.get(phone):
            reported.add(phone)
            yield Finding(
                f"{m.name}：联系电话 {phone} 也是户 {'、'.join(h.phones_elsewhere[phone])} 的联系电话", "phone", i
            )


# ---- 土地住房 (item 28) ---------------------------------------------------------------------------


@household_rule("3_02_001", WARNING, GROUP_LAND, _("生产生活条件必填项未填写"), "§5.28")
def _required_fields(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    for name, text in REQUIRED_HOUSEHOLD_FIELDS:
        if getattr(h, name) in (None, ""):
            yield Finding(f"户 {h.household_number}：未填写{text}", name)


@household_rule("JZ_601", ERROR, GROUP_LAND, _("面积或距离为负数"), "§5.28")
def _negative_area(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    for name, text in NON_NEGATIVE_HOUSEHOLD_FIELDS:
        value = getattr(h, name)
        if value is not None and value < 0:
            yield Finding(f"户 {h.household_number}：{text}为 {value}，不能为负数", name)


@household_rule("5_14_001", WARNING, GROUP_LAND, _("土地面积超出合理范围"), "§5.28")
def _land_ranges(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    for name, text, upper in LAND_RANGES:
        value = h.cultivated if name == "cultivated" else getattr(h, name)
        if value is not None and value > upper:
            fld = "paddy_land_mu" if name == "cultivated" else name
            yield Finding(f"户 {h.household_number}：{text} {value} 亩，超过 {upper} 亩，请核实", fld)


@household_rule("5_14_002", WARNING, GROUP_LAND, _("与村主干路距离超过 5 公里"), "§5.28")
def _road_distance(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    d = h.distance_to_main_road_km
    if d is not None and d > MAX_ROAD_DISTANCE_KM:
        yield Finding(
            f"户 {h.household_number}：与村主干路距离 {d} 公里，超过 {MAX_ROAD_DISTANCE_KM} 公里，请核实",
            "distance_to_main_road_km",
        )


@household_rule("JZ_602", ERROR, GROUP_LAND, _("危房等级与是否危房户矛盾"), "§5.28")
def _dangerous_house_contradiction(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    grade = h.dangerous_house_grade
    if h.is_dangerous_house is False and grade in DANGEROUS_GRADES:
        yield Finding(f"户 {h.household_number}：危房等级为 {grade} 级，但“是否危房户”为否", "is_dangerous_house")
    if h.is_dangerous_house and grade and grade not in DANGEROUS_GRADES:
        yield Finding(
            f"户 {h.household_number}：为危房户，但危房等级为 {grade} 级（C、D 级才是危房）", "dangerous_house_grade"
        )


@household_rule("JZ_603", WARNING, GROUP_LAND, _("危房户未填写危房等级"), "§5.28")
def _dangerous_house_grade_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.is_dangerous_house and not h.dangerous_house_grade:
        yield Finding(f"户 {h.household_number}：为危房户，未填写危房等级", "dangerous_house_grade")


# ---- 收入 (items 29–31) ----------------------------------------------------------------------------


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元"


@household_rule("JZ_701", WARNING, GROUP_INCOME, _("纯收入、人均纯收入与计算口径不符"), "§5.29")
def _income_formula(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    # Derived figures are recomputed on save; a difference means the record was typed or is stale.
    y = h.year
    if y is None:
        return
    expected = compute_income(y.components(), y.member_count, y.formula)
    pairs = (
        ("total_income", "家庭总收入", y.total_income, expected.total_income),
        ("net_income", "家庭纯收入", y.net_income, expected.net_income),
        ("per_capita_net_income", "家庭年人均纯收入", y.per_capita_net_income, expected.per_capita_net_income),
    )
    for name, text, stored, computed in pairs:
        if abs(stored - computed) > CENT:
            yield Finding(f"{y.year} 年{text}为 {_yuan(stored)}，按计算口径应为 {_yuan(computed)}", name)


@household_rule("JZ_702", ERROR, GROUP_INCOME, _("收入或支出项为负数"), "§5.29")
def _negative_income(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is None:
        return
    for name, text in INCOME_ITEMS + DEDUCTION_ITEMS:
        value = getattr(h.year, name)
        if value < 0:
            yield Finding(f"{h.year.year} 年{text}为 {_yuan(value)}，不能为负数", name)


@household_rule("4_11_012", WARNING, GROUP_INCOME, _("有务工或公益性岗位成员但工资性收入为 0"), "§5.30")
def _wage_income_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is None or h.year.wage_income > 0:
        return
    workers = [m.name for _i, m in h.active_members() if m.working or m.public_welfare_job]
    if workers:
        yield Finding(f"{h.year.year} 年工资性收入为 0，但{'、'.join(workers)}有务工或公益性岗位", "wage_income")


@household_rule("4_11_013", WARNING, GROUP_INCOME, _("享受低保或特困供养但转移性收入为 0"), "§5.30")
def _transfer_income_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is None or h.year.transfer_income > 0:
        return
    receiving = h.dibao_status in RECEIVING or h.tekun_status in RECEIVING
    receiving = receiving or any(m.is_dibao or m.is_tekun for _i, m in h.active_members())
    if receiving:
        yield Finding(f"{h.year.year} 年转移性收入为 0，但本户享受低保或特困供养", "transfer_income")


@household_rule("JZ_703", WARNING, GROUP_INCOME, _("已脱贫户人均纯收入低于当年脱贫验收收入标准"), "§4.1")
def _exited_below_line(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited or y.exit_line is None:
        return
    if y.per_capita_net_income < y.exit_line:
        yield Finding(
            f"{y.year} 年{label('exit_status', y.exit_status)}，人均纯收入 {_yuan(y.per_capita_net_income)}，"
            f"低于当年脱贫验收收入标准 {_yuan(y.exit_line)}",
            "per_capita_net_income",
        )


@household_rule("1_02_006", WARNING, GROUP_INCOME, _("脱贫户收入低于监测范围但未纳入监测"), "§5.31")
def _exited_below_monitoring(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited or y.monitoring_line is None or h.is_monitored:
        return
    if y.per_capita_net_income < y.monitoring_line:
        yield Finding(
            f"{y.year} 年人均纯收入 {_yuan(y.per_capita_net_income)}，低于防返贫监测范围 {_yuan(y.monitoring_line)}，"
            "但未纳入监测对象",
            "is_monitored",
        )


# ---- 年度信息: attributes and causes of the yearly record ----------------------------------------


@household_rule("JZ_801", ERROR, GROUP_YEAR, _("主要致贫原因未填写"), "§2.2")
def _main_cause_missing(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    if h.year is not None and not h.year.main_cause:
        yield Finding(f"{h.year.year} 年：建档立卡户必须填写主要致贫原因（单选）", "main_cause")


@household_rule("JZ_802", ERROR, GROUP_YEAR, _("其他致贫原因与主要致贫原因重复"), "§2.2")
def _other_causes(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None:
        return
    for name in ("other_cause_1", "other_cause_2"):
        code = getattr(y, name)
        if code and code == y.main_cause:
            yield Finding(f"{y.year} 年：其他致贫原因{_q('poverty_cause', code)}与主要致贫原因相同", name)
    if y.other_cause_1 and y.other_cause_1 == y.other_cause_2 and y.other_cause_1 != y.main_cause:
        yield Finding(f"{y.year} 年：两项其他致贫原因均为{_q('poverty_cause', y.other_cause_1)}", "other_cause_2")


@household_rule("JZ_803", WARNING, GROUP_YEAR, _("贫困户属性与脱贫状态矛盾"), "§2.4")
def _attribute_vs_exit(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None:
        return
    if (y.attribute in POOR_ATTRIBUTES and y.exit_status in EXITED) or (
        y.attribute in EXITED_ATTRIBUTES and y.exit_status in NOT_EXITED
    ):
        yield Finding(
            f"{y.year} 年：贫困户属性为{_q('household_attribute', y.attribute)}，"
            f"脱贫状态为{_q('exit_status', y.exit_status)}",
            "attribute",
        )


@household_rule("JZ_804", WARNING, GROUP_YEAR, _("贫困户属性与低保、特困供养享受情况不一致"), "§2.4")
def _attribute_vs_welfare(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.attribute:
        return
    attr = _q("household_attribute", y.attribute)
    if y.attribute in DIBAO_ATTRIBUTES and h.dibao_status == "0":
        yield Finding(f"{y.year} 年：贫困户属性为{attr}，但享受低保政策情况为“未享受”", "dibao_status")
    if y.attribute in TEKUN_ATTRIBUTES and h.tekun_status == "0":
        yield Finding(f"{y.year} 年：贫困户属性为{attr}，但享受特困供养政策情况为“不享受”", "tekun_status")
    if y.attribute in GENERAL_ATTRIBUTES and (h.dibao_status in RECEIVING or h.tekun_status in RECEIVING):
        yield Finding(f"{y.year} 年：贫困户属性为{attr}，但本户享受低保或特困供养", "attribute")


@household_rule("JZ_805", WARNING, GROUP_YEAR, _("已脱贫但“两不愁三保障”未全部实现"), "§3.3")
def _exited_insecure(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited:
        return
    missing = [text for name, text in SECURITY_FLAGS if getattr(y, name) is False]
    if missing:
        yield Finding(f"{y.year} 年{label('exit_status', y.exit_status)}，但{'、'.join(missing)}为“否”", "exit_status")


@household_rule("JZ_806", WARNING, GROUP_YEAR, _("脱贫年度与脱贫状态不一致"), "§2.2")
def _exit_year(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None:
        return
    if y.exited and h.exit_year is None:
        yield Finding(f"{y.year} 年脱贫状态为{_q('exit_status', y.exit_status)}，未填写脱贫年度", "exit_year")
    elif y.exited and h.exit_year is not None and h.exit_year > y.year:
        yield Finding(f"{y.year} 年已脱贫，但脱贫年度为 {h.exit_year} 年", "exit_year")
    elif y.exit_status == "0" and h.exit_year is not None and h.exit_year <= y.year:
        yield Finding(f"脱贫年度为 {h.exit_year} 年，但 {y.year} 年脱贫状态为“未脱贫”", "exit_year")


@household_rule("1_02_001", WARNING, GROUP_YEAR, _("脱贫户存在住房、饮水或医保问题但未纳入监测"), "§5.31")
def _exited_problem_not_monitored(h: HouseholdFacts, as_of: dt.date) -> Iterator[Finding]:
    y = h.year
    if y is None or not y.exited or y.year < MONITORING_FROM_YEAR or h.is_monitored:
        return
    problems = []
    if h.is_dangerous_house:
        problems.append("住房为危房")
    if h.has_safe_water is False:
        problems.append("未解决安全饮用水")
    uninsured = [m.name for _i, m in h.active_members() if not m.medically_insured and not m.is_active_military]
    if uninsured:
        problems.append(f"{'、'.join(uninsured)}未参加基本医疗保险")
    if problems:
        yield Finding(f"脱贫户{'，'.join(problems)}，但未纳入防返贫监测对象", "is_monitored")


# ---------------------------------------------------------------------------------------------------
# Helpers for forms


# Household-level errors of these groups concern the members too (no head, two heads …), so a member
# form shows them; other household-level errors belong to the household form.
MEMBER_FORM_HOUSEHOLD_GROUPS = frozenset({GROUP_IDENTITY, GROUP_STRUCTURE})


def errors_for_forms(
    violations: Iterable[Violation],
    *,
    member_index: int | None = None,
    fields: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """The blocking errors for one form as ``{field: [messages]}``, for ``raise ValidationError(...)``.

    ``member_index`` None = the household form (household-level errors); else a member form (that
    member's errors plus household-level identity/structure errors). A rule's field not in ``fields``
    (when given) goes under NON_FIELD_ERRORS.
    """
    allowed = set(fields) if fields is not None else None
    out: dict[str, list[str]] = defaultdict(list)
    for v in violations:
        if not v.is_error:
            continue
        if member_index is None:
            if v.member_index is not None:
                continue
        elif v.member_index != member_index and not (
            v.member_index is None and CATALOGUE[v.rule_code].group in MEMBER_FORM_HOUSEHOLD_GROUPS
        ):
            continue
        key = v.field if v.field and (allowed is None or v.field in allowed) else NON_FIELD_ERRORS
        if v.message not in out[key]:
            out[key].append(v.message)
    return dict(out)


# ---------------------------------------------------------------------------------------------------
# Django glue: facts from the database, cross-household context, issue rows


def year_end(year: int) -> dt.date:
    """31 Dec of ``year``: the 统计时点, as reference date for checking a historical snapshot."""
    return dt.date(year, 12, 31)


def reference_date(year: int | None = None, today: dt.date | None = None) -> dt.date:
    """The date ages are counted at for data whose yearly record is of ``year``.

    Today for no year or a record of this or last year: member rows (在校生状况, 劳动技能 …) then describe
    the present, and 31 Dec of last year would make a pupil who entered a grade this autumn look a year
    too young. 31 Dec of ``year`` for older records, taken to be a snapshot of that year (an import of
    an old file).
    """
    today = today or dt.date.today()
    if year is None or year >= today.year - 1:
        return today
    return year_end(year)


class PolicyNumbers:
    """Poverty lines and income formulas for many villages and years, each table read once and chosen
    as policy.services chooses them (a batch touches hundreds of villages: per-call lookups would cost a
    query each, and this snapshot stays the same for the whole batch)."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, int], list[tuple[str, Decimal]]] | None = None
        self._formulas: list[tuple[str, int, IncomeFormulaSpec]] | None = None
        self._cache: dict[tuple[Any, ...], Any] = {}

    def line(self, kind: str, year: int, region_code: str) -> Decimal | None:
        """The most specific line of ``kind`` for ``year``."""
        from jingzhun.policy import services as policy

        key = (kind, year, region_code)
        if key not in self._cache:
            if self._lines is None:
                self._lines = policy.load_lines()
            self._cache[key] = policy.best_line(self._lines, kind, year, region_code)
        return self._cache[key]

    def formula(self, year: int, region_code: str) -> IncomeFormulaSpec:
        """The formula in force: most specific prefix, latest year_from."""
        from jingzhun.policy import services as policy

        key = ("formula", year, region_code)
        if key not in self._cache:
            if self._formulas is None:
                self._formulas = policy.load_formulas()
            self._cache[key] = policy.best_formula(self._formulas, year, region_code)
        return self._cache[key]

    def year_facts(self, record: Any, region_code: str) -> YearFacts:
        year = int(_get(record, "year"))
        return YearFacts.from_data(
            record,
            formula=self.formula(year, region_code),
            exit_line=self.line("exit_acceptance", year, region_code),
            monitoring_line=self.line("monitoring", year, region_code),
        )


class CrossIndex:
    """Who else holds an ID number or a phone: {key: {(household id, 户编号)}} over active rows.

    An 18-digit ID and a 20-digit 残疾人证号 with the same first 18 characters are one person, so IDs are
    keyed by those 18. A few members (one household) are looked up by index-friendly ranges per ID; a
    batch passes ``certificates`` (every longer number in the system, ``load_certificates()``, one scan)
    and looks the rest up by exact match, which stays fast for thousands of households.
    """

    RANGE_CHUNK = 20  # ranges OR-ed per query: more make PostgreSQL fall back to a sequential scan
    EXACT_CHUNK = 2000  # values per IN (…); phones have no index, so fewer, larger scans

    def __init__(self, certificates: dict[str, set[tuple[int, str]]] | None = None) -> None:
        self.certificates = certificates
        self.ids: dict[str, set[tuple[int, str]]] = defaultdict(set)
        self.phones: dict[str, set[tuple[int, str]]] = defaultdict(set)

    @staticmethod
    def load_certificates() -> dict[str, set[tuple[int, str]]]:
        """First 18 characters → holders, for every active member whose number is longer than 18."""
        from django.db.models.functions import Length

        from jingzhun.registry.models import Member, MemberStatus

        found: dict[str, set[tuple[int, str]]] = defaultdict(set)
        rows = (
            Member.objects.filter(status=MemberStatus.ACTIVE)
            .annotate(id_length=Length("id_number"))
            .filter(id_length__gt=18)
            .values_list("id_number", "household_id", "household__household_number")
            .order_by()
        )
        for number, hid, hnum in rows:
            found[number[:18].upper()].add((hid, hnum))
        return found

    def load(self, id_numbers: Iterable[str], phones: Iterable[str]) -> CrossIndex:
        """Find the active members sharing an ID (by its first 18 characters) with ``id_numbers``, and
        the active households or members using one of ``phones``."""
        from jingzhun.registry.models import Household, HouseholdStatus, Member, MemberStatus

        active = Member.objects.filter(status=MemberStatus.ACTIVE).order_by()
        fields = ("id_number", "household_id", "household__household_number")
        parsed = (parse_id(n) for n in id_numbers)
        bases = sorted({p.base for p in parsed if p.length_ok and not p.placeholder})
        if self.certificates is None:
            for part in chunked(bases, self.RANGE_CHUNK):
                # The base itself and the base + up to 4 more digits; a range uses the index, LIKE does not.
                cond = Q()
                for base in part:
                    cond |= Q(id_number__gte=base, id_number__lte=base + "9999")
                self._add_ids(active.filter(cond).values_list(*fields))
        else:
            for part in chunked(bases, self.EXACT_CHUNK):
                self._add_ids(active.filter(id_number__in=part).values_list(*fields))
            for base in bases:
                self.ids[base] |= self.certificates.get(base, set())
        wanted = sorted({_phone(p) for p in phones if p and _phone(p)})
        for part in chunked(wanted, self.EXACT_CHUNK):
            households = Household.objects.filter(phone__in=part, status=HouseholdStatus.ACTIVE).order_by()
            for phone, hid, hnum in households.values_list("phone", "pk", "household_number"):
                self.phones[_phone(phone)].add((hid, hnum))
            for phone, hid, hnum in active.filter(phone__in=part).values_list("phone", *fields[1:]):
                self.phones[_phone(phone)].add((hid, hnum))
        return self

    def _add_ids(self, rows: Iterable[tuple[str, int, str]]) -> None:
        for number, hid, hnum in rows:
            self.ids[number[:18].upper()].add((hid, hnum))

    def elsewhere(
        self, household_id: int | None, members: Iterable[MemberFacts], phone: str
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        ids: dict[str, tuple[str, ...]] = {}
        phones: dict[str, tuple[str, ...]] = {}
        wanted_phones = {_phone(phone)} if phone else set()
        for m in members:
            if not m.active:
                continue
            if m.phone:
                wanted_phones.add(_phone(m.phone))
            base = m.idp.base
            others = sorted({num for hid, num in self.ids.get(base, ()) if hid != household_id})
            if others:
                ids[base] = tuple(others)
        for p in wanted_phones:
            others = sorted({num for hid, num in self.phones.get(p, ()) if hid != household_id})
            if others:
                phones[p] = tuple(others)
        return ids, phones


def with_member(household: Any, member: Any) -> tuple[list[Any], int]:
    """The household's member rows with ``member`` (edited, maybe unsaved) in place of its stored row;
    returns (members, index of ``member``) for ``check_household`` and ``errors_for_forms``."""
    from jingzhun.registry.models import Member

    stored = Member.objects.filter(household=household).order_by("pk") if household.pk else []
    rows = [m for m in stored if member.pk is None or m.pk != member.pk]
    rows.append(member)
    return rows, len(rows) - 1


def facts_for(
    household: Any,
    year: int | None = None,
    *,
    members: Iterable[Any] | None = None,
    record: Any | None = None,
    policy_numbers: PolicyNumbers | None = None,
) -> HouseholdFacts:
    """HouseholdFacts of a Household: its member rows (given or loaded; active and removed), the yearly
    record (given, else that of ``year``, else the latest) and the cross-household context."""
    from jingzhun.registry.models import HouseholdYear, Member

    if members is None:
        members = Member.objects.filter(household=household).order_by("pk") if household.pk else []
    member_facts = [MemberFacts.from_data(m) for m in members]
    if record is None and household.pk:
        records = HouseholdYear.objects.filter(household=household)
        record = (records.filter(year=year) if year is not None else records.order_by("-year")).first()
    numbers = policy_numbers or PolicyNumbers()
    year_facts = numbers.year_facts(record, household.village_id) if record is not None else None
    index = CrossIndex().load(
        [m.id_number for m in member_facts if m.active], [household.phone] + [m.phone for m in member_facts if m.active]
    )
    ids, phones = index.elsewhere(household.pk, member_facts, household.phone)
    return HouseholdFacts.from_data(household, member_facts, year_facts, ids_elsewhere=ids, phones_elsewhere=phones)


def check_household(
    household: Any,
    year: int | None = None,
    *,
    members: Iterable[Any] | None = None,
    record: Any | None = None,
    as_of: dt.date | None = None,
) -> list[Violation]:
    """Every rule over one household (saved or being edited). ``year`` selects the yearly record (else the
    latest); ages are counted at ``as_of`` (default today: member attributes describe the present)."""
    facts = facts_for(household, year, members=members, record=record)
    return validate_household(facts, as_of or dt.date.today())


def issue_rows(household_id: int, village_code: str, violations: Iterable[Violation]) -> list[Any]:
    """Unsaved QualityIssue rows (member ids only for saved members)."""
    from jingzhun.registry.models import QualityIssue

    return [
        QualityIssue(
            household_id=household_id,
            member_id=v.member_id,
            village_code=village_code,
            rule_code=v.rule_code,
            level=v.level,
            message=v.message[:300],
            field=v.field[:50],
        )
        for v in violations
    ]


@transaction.atomic
def record_issues(household: Any, violations: Iterable[Violation]) -> int:
    """Replace the household's recorded issues with ``violations``; returns how many were recorded."""
    from jingzhun.registry.models import QualityIssue

    QualityIssue.objects.filter(household=household).delete()
    rows = issue_rows(household.pk, household.village_id, violations)
    QualityIssue.objects.bulk_create(rows)
    return len(rows)


def refresh_issues(household: Any, year: int | None = None) -> list[Violation]:
    """After a save: check the stored household and record what is found."""
    violations = check_household(household, year)
    record_issues(household, violations)
    return violations
