"""What the data-quality rules read: plain facts about one household, its members and one yearly record.

Build them from model instances or from dicts (``*.from_data``); every field has a default, so imports can
fill only what they have. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS, IncomeFormulaSpec
from jingzhun.registry.idcard import DISABILITY_CATEGORIES, PLACEHOLDER_PREFIX, age_on, birth_in, check_char, sex_in
from jingzhun.registry.quality.codes import EXITED, HEALTHY, ID_TYPE_ID_CARD, ID_TYPE_OTHER, NOT_IN_SCHOOL, REGISTERED

ID_LENGTHS = (18, 20, 22)
SECURITY_FLAGS: tuple[tuple[str, str], ...] = (
    ("food_clothing_secure", "不愁吃不愁穿"),
    ("education_secure", "义务教育有保障"),
    ("medical_secure", "基本医疗有保障"),
    ("housing_secure", "住房安全有保障"),
    ("water_secure", "饮水安全有保障"),
)


def value_of(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a model instance, or a key of a dict (imports and batches pass dicts)."""
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


def normal_phone(value: str) -> str:
    """A phone number without spaces and dashes, as the rules and the cross-household look-up compare them."""
    return value.replace(" ", "").replace("-", "")


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
        values: dict[str, Any] = {name: _text(value_of(obj, name)) for name in cls.TEXT_FIELDS}
        values.update({name: value_of(obj, name) for name in cls.OTHER_FIELDS})
        values.update({name: bool(value_of(obj, name, False)) for name in cls.FLAG_FIELDS})
        values["id"] = value_of(obj, "pk") if not isinstance(obj, Mapping) else obj.get("id")
        status = value_of(obj, "status", "active")
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
        values: dict[str, Any] = {name: _text(value_of(obj, name)) for name in cls.TEXT_FIELDS}
        values.update({name: _money(value_of(obj, name)) for name in cls.MONEY_FIELDS})
        values.update({name: value_of(obj, name) for name in cls.FLAG_FIELDS})
        return cls(
            year=int(value_of(obj, "year")),
            member_count=int(value_of(obj, "member_count") or 0),
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
        values: dict[str, Any] = {name: _text(value_of(obj, name)) for name in cls.TEXT_FIELDS + cls.CODE_FIELDS}
        values.update({name: _dec(value_of(obj, name)) for name in cls.DECIMAL_FIELDS})
        values.update({name: value_of(obj, name) for name in cls.NULL_BOOL_FIELDS})
        status = value_of(obj, "status", "active")
        return cls(
            id=value_of(obj, "pk") if not isinstance(obj, Mapping) else obj.get("id"),
            village_code=_text(value_of(obj, "village_id") or value_of(obj, "village_code")),
            active=status in ("active", True, None),
            exit_year=value_of(obj, "exit_year"),
            is_monitored=bool(value_of(obj, "is_monitored", False)),
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
