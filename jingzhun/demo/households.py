"""Demo households for 零陵区: a seeded, deterministic generator of plain data (no database).

The same seed gives the same households, members and yearly records on every run and machine. The
stream is prefix-stable: the first N households are identical whatever the requested count, so a
later, larger load only adds households (load_demo stays idempotent across sizes).

Shapes follow domain.md §6 and the 零陵区 seed report: ~12,187 paired households, about 3.3 persons
each (long tail to 9), 因病 ≈ 42 %, identification mostly in 2014, exits 2015–2020 (2020 the last
and the smallest, elderly households), 脱贫不稳定户 ≈ 1.8 % after 2020, a few 返贫. About 1.5 % of
households carry one deliberate data-quality violation (see VIOLATION_KINDS) so the rule pages have
something to find; every such household lists it in ``violations``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TypeVar

from jingzhun.demo import regions as demo_regions
from jingzhun.policy.defaults import POVERTY_LINES
from jingzhun.registry.idcard import age_on, make_id_number

SEED = 20141231
DEFAULT_HOUSEHOLDS = 12187  # paired poor households in the 零陵区 seed report
AREA = "431102"
LAST_YEAR = 2025  # yearly records 2014–2025; nobody is born, dies or moves after this year
# Ages, school grades and labour describe the 2026 autumn term (the demo's "now"); fixed, not today(),
# so the data set never depends on the day it is generated.
AS_OF = dt.date(2026, 9, 1)

# 防返贫监测范围 (元/人·年): demo assumption for Hunan (domain §4.5 gives only other provinces' values).
MONITORING_LINE = {2020: 6000, 2021: 6000, 2022: 6500, 2023: 7000, 2024: 7500, 2025: 8000}

VIOLATION_RATE = 0.015
# kind → the domain §5 rule that should find it (see DemoGenerator._violate)
VIOLATION_KINDS: dict[str, str] = {
    "child_labour": "§5.10 年龄<16 却为普通劳动力",
    "elderly_labour": "§5.11 60岁以上为普通劳动力",
    "no_medical_insurance": "§5.19 城乡居民医保与职工医保均为否",
    "sex_relationship": "§5.6 性别与与户主关系矛盾",
    "landline_phone": "§5.25 联系电话不是手机号码",
    "dropout_no_reason": "§5.13 义务教育阶段未在校且无未上学原因",
    "disabled_without_certificate": "§5.5 残疾但证件类型不是残疾人证",
    "welfare_job_too_old": "§5.22 公益性岗位人员年龄≥70",
    "student_working": "§5.21 在校生外出务工",
    "land_out_of_range": "§5.28 耕地面积超出 0–100 亩",
    "low_income_not_monitored": "§5.31 脱贫户收入低于监测范围但未纳入监测",
    "worker_without_wage": "§5.30 有务工人员但工资性收入为 0",
}

# ---------------------------------------------------------------------------------------------------
# Distributions

ATTRIBUTE_SHARES = {"general": 0.68, "dibao": 0.24, "tekun": 0.08}
SIZE_WEIGHTS: dict[str, dict[int, float]] = {
    "general": {1: 7, 2: 16, 3: 23, 4: 25, 5: 16, 6: 8, 7: 3.5, 8: 1.2, 9: 0.3},
    "dibao": {1: 22, 2: 28, 3: 19, 4: 15, 5: 9, 6: 5, 7: 2},
    "tekun": {1: 78, 2: 22},
}
# 主要致贫原因 (codes of policy table poverty_cause): 因病 42 % (domain §6); the rest a demo suggestion.
CAUSE_WEIGHTS = {
    "01": 42.0,  # 因病
    "09": 14.0,  # 缺资金
    "07": 11.0,  # 缺技术
    "08": 9.0,  # 缺劳力
    "02": 8.0,  # 因残
    "03": 7.0,  # 因学
    "04": 3.0,  # 因灾
    "05": 2.0,  # 缺土地
    "11": 1.5,  # 自身发展动力不足
    "10": 1.2,  # 交通条件落后
    "06": 0.5,  # 缺水
    "99": 0.5,  # 其他
    "12": 0.3,  # 因婚
}
IDENTIFICATION_WEIGHTS = {2014: 88, 2015: 7, 2016: 5}
EXIT_WEIGHTS = {2015: 7, 2016: 20, 2017: 27, 2018: 28, 2019: 14, 2020: 3.5}

# 贫困户属性 per kind: (before exit, after exit); 特困 was 五保户 until 2015 (code valid_to 2015).
ATTRIBUTE_CODES = {"general": ("01", "05"), "dibao": ("04", "02"), "tekun": ("06", "03")}
WUBAO_CODE = "09"

SURNAMES = {
    "唐": 60, "李": 55, "蒋": 50, "陈": 45, "周": 45, "刘": 40, "张": 38, "王": 35, "杨": 30, "黄": 28,
    "邓": 25, "何": 24, "胡": 22, "彭": 20, "罗": 20, "谢": 18, "吕": 15, "雷": 14, "文": 14, "欧阳": 14,
    "郑": 12, "肖": 12, "伍": 12, "吴": 10, "毛": 10, "龙": 10, "曾": 10, "徐": 10, "邹": 10, "贺": 9,
    "宋": 9, "朱": 9, "蔡": 8, "秦": 8, "赵": 8, "石": 8, "廖": 8, "盘": 6, "孙": 6, "许": 6, "田": 6,
    "易": 6, "郭": 6, "席": 5, "柏": 5, "夏": 5, "姚": 5, "尹": 5, "卢": 5, "汤": 5, "梁": 5, "付": 5,
    "魏": 4, "任": 4, "奉": 4, "丁": 4, "严": 4, "于": 3, "蒙": 3, "左": 3,
}  # fmt: skip
# Given-name characters by birth cohort (upper bound of birth year) and sex.
GIVEN_NAMES: list[tuple[int, str, str]] = [
    (1949, "德福财贵富根生发林树明光华清春山荣保成寿全安顺有才文武双喜", "秀英兰桂花梅珍凤芳翠玉香娥莲菊云姣满冬春妹"),
    (1964, "建国军红卫东平华明新民忠强志跃进海林正兴立先庆友", "秀英兰华红梅珍凤芳玉桂霞萍琴云莲菊平"),
    (1979, "伟勇军斌平辉华峰刚波红明云志宏俊文春亮永学小", "红丽华霞芳艳萍琴英燕玲梅娟辉群春秀小"),
    (1994, "伟勇斌杰涛磊鹏超刚辉波强军俊飞亮龙剑锋浩明林健", "丽静敏燕艳娟霞婷芳玲倩丹莉慧琳雪红佳"),
    (2009, "浩宇杰俊轩豪博鑫磊文涛子晨阳天雨帅成鹏凯龙康", "婷欣雪佳怡琪雨梦思晶颖璐瑶倩月丹慧"),
    (9999, "子梓浩宇轩睿辰泽铭一沐皓俊博宸逸航瑞煜晨嘉锦", "子梓欣涵可若诗雨语思依梦萱彤悦妍婉晨琪"),
]
DISEASES_CHRONIC = ["高血压", "糖尿病", "慢性支气管炎", "风湿性关节炎", "冠心病", "慢性胃炎", "腰椎间盘突出"]
DISEASES_SERIOUS = ["尿毒症", "恶性肿瘤", "脑梗塞后遗症", "肝硬化", "白血病", "重症精神疾病", "肺结核"]
DISABILITY_NAMES = {"1": "视力", "2": "听力", "3": "言语", "4": "肢体", "5": "智力", "6": "精神", "7": "多重"}
DISABILITY_CATEGORY_WEIGHTS = {"4": 45, "1": 12, "2": 12, "5": 12, "6": 10, "3": 4, "7": 5}
DISABILITY_GRADE_WEIGHTS = {"1": 15, "2": 25, "3": 30, "4": 30}
WORK_PLACES = {
    "4": ["广东省东莞市", "广东省深圳市", "广东省广州市", "广东省佛山市", "浙江省宁波市", "浙江省义乌市",
          "福建省厦门市", "江苏省苏州市", "上海市"],
    "3": ["湖南省长沙市", "湖南省永州市冷水滩区", "湖南省株洲市", "湖南省衡阳市"],
}  # fmt: skip
WELFARE_JOBS = ["保洁员", "护林员", "护路员", "水管员", "治安协管员", "孤寡老人看护员", "河道保洁员", "村级监测员"]
BANKS = [("湖南零陵农村商业银行", 60), ("中国邮政储蓄银行零陵区支行", 30), ("中国农业银行零陵支行", 10)]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "157", "158", "159", "173", "176", "177", "180", "181", "182", "183", "186", "187", "188",
                   "189", "191", "199"]  # fmt: skip

# Relationship codes (policy table relationship).
HEAD, SPOUSE, SON, DAUGHTER, DAUGHTER_IN_LAW, SON_IN_LAW = "01", "02", "03", "04", "05", "06"
GRANDSON, GRANDDAUGHTER, DAUGHTERS_SON, DAUGHTERS_DAUGHTER = "07", "08", "09", "10"
FATHER, MOTHER, SIBLING = "11", "12", "21"
MALE_RELATIONS = {SON, SON_IN_LAW, GRANDSON, DAUGHTERS_SON, FATHER, "13", "15", "17", "19", "23", "25", "27"}
FEMALE_RELATIONS = {DAUGHTER, DAUGHTER_IN_LAW, GRANDDAUGHTER, DAUGHTERS_DAUGHTER, MOTHER, "14", "16", "18", "20"}


def _poverty_lines() -> tuple[dict[int, int], dict[int, int]]:
    stat = {y: a for kind, y, a in POVERTY_LINES if kind == "statistical"}
    accept = {y: a for kind, y, a in POVERTY_LINES if kind == "exit_acceptance"}
    return stat, accept


_STAT, _ACCEPT = _poverty_lines()


def line_low(year: int) -> int:
    """The lower of the two national series: income under it is poor by either reading."""
    values = [v for v in (_STAT.get(year), _ACCEPT.get(year)) if v]
    return min(values) if values else _STAT[max(_STAT)]


def line_high(year: int) -> int:
    """The higher of the two series: an exit needs income above it by either reading."""
    values = [v for v in (_STAT.get(year), _ACCEPT.get(year)) if v]
    return max(values) if values else _STAT[max(_STAT)]


# ---------------------------------------------------------------------------------------------------
# Plain data


@dataclass(slots=True)
class MemberData:
    """One person; attribute names are the registry Member fields."""

    member_number: str
    name: str
    sex: str
    id_type: str
    id_number: str
    birth_date: dt.date
    relationship: str
    ethnicity: str = "01"
    education: str = ""
    school_status: str = ""
    dropout_reason: str = ""
    health: str = "1"
    disability_category: str = ""
    disability_grade: str = ""
    labour: str = ""
    work_status: str = ""
    work_location: str = ""
    work_months: int | None = None
    has_serious_illness_insurance: bool | None = True
    has_resident_medical_insurance: bool | None = True
    has_employee_medical_insurance: bool | None = False
    has_resident_pension: bool | None = False
    has_employee_pension: bool | None = False
    receives_medical_assistance: bool = False
    is_active_military: bool = False
    is_dibao: bool = False
    is_tekun: bool = False
    public_welfare_job: str = ""
    public_welfare_months: int | None = None
    phone: str = ""
    status: str = "active"
    addition_reason: str = "1"
    addition_date: dt.date | None = None
    removal_reason: str = ""
    removal_date: dt.date | None = None

    def age(self, on: dt.date = AS_OF) -> int:
        return age_on(self.birth_date, on)

    def in_household_at_end_of(self, year: int) -> bool:
        if self.addition_date is not None and self.addition_date.year > year:
            return False
        return self.removal_date is None or self.removal_date.year > year


@dataclass(slots=True)
class YearData:
    """One 户年度信息 record: components only; derived totals are computed by the loader's formula."""

    year: int
    exit_status: str
    attribute: str
    main_cause: str
    other_cause_1: str
    other_cause_2: str
    cause_note: str
    member_count: int
    wage_income: Decimal
    business_income: Decimal
    property_income: Decimal
    transfer_income: Decimal
    claims_income: Decimal
    production_expense: Decimal
    compliant_out_of_pocket: Decimal
    food_clothing_secure: bool
    education_secure: bool
    medical_secure: bool
    housing_secure: bool
    water_secure: bool

    def per_capita(self) -> Decimal:
        """National-default 人均纯收入 (the loader recomputes with the formula in force)."""
        net = self.wage_income + self.business_income + self.property_income + self.transfer_income
        net -= self.production_expense
        return (net / self.member_count).quantize(Decimal("0.01")) if self.member_count else Decimal("0")


@dataclass(slots=True)
class HouseholdData:
    """One household; attributes up to ``members`` are the registry Household fields."""

    household_number: str
    village_id: str
    group_id: str | None
    address: str
    phone: str
    bank_name: str
    bank_account: str
    identification_standard: str
    first_identified_year: int
    exit_year: int | None
    is_military_family: bool
    is_only_child: bool
    is_two_daughters: bool
    is_monitored: bool
    monitoring_category: str
    paddy_land_mu: Decimal
    dry_land_mu: Decimal
    forest_land_mu: Decimal
    returned_forest_mu: Decimal
    orchard_mu: Decimal
    pasture_mu: Decimal
    water_surface_mu: Decimal
    in_mutual_fund: bool
    in_cooperative: bool
    housing_area_m2: Decimal
    housing_structure: str
    housing_built_year: int
    is_dangerous_house: bool
    dangerous_house_grade: str
    has_electricity: bool
    fuel: str
    drinking_water: str
    has_safe_water: bool
    road_type: str
    distance_to_main_road_km: Decimal
    has_sanitary_toilet: bool
    is_relocated: bool
    relocation_year: int | None
    dibao_status: str
    tekun_status: str
    is_whole_household_no_labour: bool
    # Not model fields:
    members: list[MemberData] = field(default_factory=list)
    years: list[YearData] = field(default_factory=list)
    kind: str = "general"  # general / dibao / tekun
    main_cause: str = ""
    first_exit_year: int | None = None  # differs from exit_year only after 返贫
    returned_year: int | None = None  # 返贫 year
    monitored_from: int | None = None
    violations: list[tuple[str, str]] = field(default_factory=list)  # (kind, member_number or "")

    @property
    def active_members(self) -> list[MemberData]:
        return [m for m in self.members if m.status == "active"]

    @property
    def head(self) -> MemberData:
        return next(m for m in self.members if m.relationship == HEAD and m.status == "active")


HOUSEHOLD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(HouseholdData))[
    : [f.name for f in fields(HouseholdData)].index("members")
]
MEMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MemberData))
YEAR_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(YearData))


@dataclass(slots=True)
class _Person:
    rel: str
    sex: str
    birth: dt.date
    surname: str


@dataclass(slots=True)
class _IncomeProfile:
    has_workers: bool
    has_welfare_job: bool
    wage_share: float
    expense_ratio: float
    dividend: bool


# ---------------------------------------------------------------------------------------------------
# Generator


K = TypeVar("K")
# Keys with their cumulative weights, as random.choices takes them.
Weighted = tuple[list[K], list[float]]


def _weighted(items: Mapping[K, float]) -> Weighted[K]:
    keys = list(items)
    cum: list[float] = []
    total = 0.0
    for k in keys:
        total += items[k]
        cum.append(total)
    return keys, cum


class DemoGenerator:
    """Yields households one by one from a seeded stream; memory stays bounded whatever the count."""

    def __init__(
        self,
        seed: int = SEED,
        villages: list[demo_regions.DemoVillage] | None = None,
        groups: list[tuple[str, str, str]] | None = None,
    ) -> None:
        self.seed = seed
        self.villages = villages or demo_regions.build_villages()
        groups = groups or demo_regions.build_groups(self.villages)
        self._group_rows = groups
        self._groups: dict[str, list[tuple[str, str]]] = {}
        for code, name, village in groups:
            self._groups.setdefault(village, []).append((code, name))
        self._township_names = {code9: name for code9, name, _kind in demo_regions.TOWNSHIPS}
        # 贫困村 hold most paired households; urban communities few (seed report: 41 poor villages,
        # 129 other villages with under 100 poor people).
        weights: dict[str, float] = {}
        for v in self.villages:
            if v.is_community:
                weights[v.code] = 0.2
            elif v.deep_poor:
                weights[v.code] = 5.0
            elif v.poor_from:
                weights[v.code] = 4.0
            else:
                weights[v.code] = 1.0
        self._village_by_code = {v.code: v for v in self.villages}
        self._village_keys, self._village_cum = _weighted(weights)
        self._place_rng = random.Random(seed * 7919 + 1)  # a separate stream: numbers without content
        self.rng = random.Random(seed)
        self._village_seq: dict[str, int] = {}
        self._id_seq: dict[tuple[dt.date, str], int] = {}
        self._violation_counts: dict[str, int] = {}
        self._serial = 0  # phones and bank accounts: a bijection of this counter keeps them unique
        self._tables = {
            "attribute": _weighted(ATTRIBUTE_SHARES),
            "cause": _weighted(CAUSE_WEIGHTS),
            "surname": _weighted(SURNAMES),
            "dis_cat": _weighted(DISABILITY_CATEGORY_WEIGHTS),
            "dis_grade": _weighted(DISABILITY_GRADE_WEIGHTS),
            "bank": _weighted(dict(BANKS)),
        }
        self._identification_years = _weighted(IDENTIFICATION_WEIGHTS)
        self._sizes = {kind: _weighted(w) for kind, w in SIZE_WEIGHTS.items()}

    # -- small helpers ---------------------------------------------------------------------------

    def _pick(self, table: Weighted[K]) -> K:
        keys, cum = table
        return self.rng.choices(keys, cum_weights=cum)[0]

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _birth(self, year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def _birth_for_age(self, age: int) -> dt.date:
        return self._birth(AS_OF.year - age - 1 + (1 if self._chance(0.67) else 0))

    def _given_name(self, sex: str, birth_year: int, first: str | None = None) -> str:
        male, female = next((m, f) for upto, m, f in GIVEN_NAMES if birth_year <= upto)
        pool = male if sex == "1" else female
        if first is None and self._chance(0.15):
            return self.rng.choice(pool)
        first = first or self.rng.choice(pool)
        second = self.rng.choice(pool)
        if second == first and not (sex == "2" and birth_year >= 1980):
            second = self.rng.choice(pool)
        return first + second

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _mobile(self) -> str:
        n = self._next_serial()
        # x → a·x + b mod 10^8 is a bijection (a is coprime to 10^8), so the last eight digits alone are
        # unique for the first 10^8 numbers; the prefix only adds variety.
        prefix = MOBILE_PREFIXES[(n * 7) % len(MOBILE_PREFIXES)]
        return f"{prefix}{(n * 73939133 + 13579) % 10**8:08d}"

    def _id_number(self, birth: dt.date, sex: str) -> str:
        key = (birth, sex)
        k = self._id_seq.get(key, 0)
        if k >= 499:
            raise RuntimeError(f"演示数据：出生日期 {birth} 的顺序码已用尽")
        self._id_seq[key] = k + 1
        start = (birth.toordinal() * 37) % 300  # sequences do not all start at 001
        seq = ((start + k) % 499) * 2 + (1 if sex == "1" else 2)
        return make_id_number(AREA, birth, seq, sex)

    # -- placement (numbers only) ----------------------------------------------------------------

    def _place(self) -> tuple[str, str, str | None, str]:
        """(household number, village code, group code, group name) from the placement stream."""
        rng = self._place_rng
        keys, cum = self._village_keys, self._village_cum
        village = rng.choices(keys, cum_weights=cum)[0]
        groups: Sequence[tuple[str | None, str]] = self._groups.get(village) or [(None, "")]
        group, group_name = groups[int(rng.random() * len(groups))]
        seq = self._village_seq.get(village, 0) + 1
        self._village_seq[village] = seq
        return f"{village}{seq:05d}", village, group, group_name

    def household_numbers(self, count: int) -> list[str]:
        """The numbers the first ``count`` households get (cheap: no content is generated)."""
        probe = DemoGenerator(self.seed, self.villages, self._group_rows)
        return [probe._place()[0] for _ in range(count)]

    # -- households -------------------------------------------------------------------------------

    def households(self, count: int) -> Iterator[HouseholdData]:
        for _ in range(count):
            yield self._household()

    def _household(self) -> HouseholdData:
        r = self.rng
        number, village_code, group_code, group_name = self._place()
        village = self._village_by_code[village_code]
        kind = self._pick(self._tables["attribute"])
        size = self._pick(self._sizes[kind])
        cause = self._pick(self._tables["cause"])
        if kind == "tekun" and cause not in ("01", "02", "08"):
            cause = "08" if self._chance(0.6) else "02"
        if cause == "03" and size < 2:
            cause = "09"
        ident = self._pick(self._identification_years)

        people = self._compose(kind, size, cause)
        surname_of_head = people[0].surname
        members = self._members(number, people, kind, ident)
        self._ensure_cause(members, cause)
        if kind == "tekun":
            self._ensure_tekun(members)
        exit_year = self._exit_year(kind, size, ident, village)
        first_exit = exit_year
        returned = None
        if exit_year <= 2017 and self._chance(0.012):
            returned = r.randint(exit_year + 1, 2019)
            exit_year = r.randint(returned + 1, 2020)
        monitored_from, category = None, ""
        roll = r.random()
        if roll < 0.018:
            monitored_from, category = r.randint(max(2020, exit_year), 2025), "1"
        elif roll < 0.022:
            monitored_from, category = r.randint(max(2022, exit_year + 1), 2025), "3"

        hh = self._household_fields(number, village, group_code, group_name, kind, members, ident)
        hh.exit_year = exit_year
        hh.first_exit_year = first_exit
        hh.returned_year = returned
        hh.is_monitored = bool(category)
        hh.monitoring_category = category
        hh.monitored_from = monitored_from
        hh.members = members
        hh.kind = kind
        hh.main_cause = cause
        self._removed_member(hh, surname_of_head)
        hh.is_whole_household_no_labour = all(m.labour in ("3", "4") for m in hh.active_members)
        hh.years = self._years(hh)
        if self._chance(VIOLATION_RATE):
            self._violate(hh)
        return hh

    # -- composition ------------------------------------------------------------------------------

    def _surname(self) -> str:
        return self._pick(self._tables["surname"])

    def _compose(self, kind: str, size: int, cause: str) -> list[_Person]:
        """Relationships, sexes and birth dates that fit together (spouses close in age, children
        20–35 years younger than their mother, grandchildren another generation on)."""
        r = self.rng
        surname = self._surname()
        people: list[_Person] = []

        def person(
            rel: str, sex: str, age: int | None = None, birth: dt.date | None = None, sn: str = surname
        ) -> _Person:
            if birth is None:
                assert age is not None  # a person is given an age or a birth date
                birth = self._birth_for_age(age)
            p = _Person(rel, sex, birth, sn)
            people.append(p)
            return p

        def add_child(rel_pair: tuple[str, str], year: int, sn: str = surname) -> _Person:
            """A child born in ``year``, at least ten months after the previous child of this generation."""
            sex = "1" if r.random() < 0.53 else "2"
            birth = self._birth(year)
            previous = [p.birth for p in people if p.rel in rel_pair]
            if previous:
                birth = max(birth, max(previous) + dt.timedelta(days=r.randint(300, 700)))
            return person(rel_pair[0] if sex == "1" else rel_pair[1], sex, birth=birth, sn=sn)

        def children_of(mother_birth: dt.date, n: int, rels: tuple[str, str], sn: str = surname) -> int:
            """Up to n children born 21–35 years after the mother, none after LAST_YEAR."""
            year = mother_birth.year + r.randint(21, 27)
            made = 0
            for _ in range(n):
                if year > LAST_YEAR or year - mother_birth.year > 35:
                    break
                born = add_child(rels, year, sn)
                if born.birth.year > LAST_YEAR or born.birth.year - mother_birth.year > 36:
                    people.remove(born)
                    break
                made += 1
                year = max(year, born.birth.year) + r.randint(1, 4)
            return made

        def fill_with_relatives(head: _Person, n: int) -> None:
            """Seats the children could not take: the head's parents if young enough, else siblings."""
            for _ in range(n):
                parents = [p for p in people if p.rel in (FATHER, MOTHER)]
                gap = r.randint(22, 32)
                if len(parents) < 2 and AS_OF.year - head.birth.year + gap <= 92:
                    rel = MOTHER if not any(p.rel == MOTHER for p in parents) else FATHER
                    person(rel, "2" if rel == MOTHER else "1", birth=self._birth(head.birth.year - gap))
                else:
                    sex = "1" if r.random() < 0.7 else "2"
                    person(SIBLING, sex, birth=self._birth(head.birth.year + r.randint(-8, 8)))

        if size == 1:
            elderly = kind == "tekun" or self._chance(0.65)
            age = r.randint(62, 92) if elderly else r.randint(38, 61)
            person(HEAD, "1" if self._chance(0.55 if elderly else 0.85) else "2", age)
            return people
        if size == 2 and cause != "03":
            t = r.random()
            if t < 0.5 or kind == "tekun":
                head = person(HEAD, "1", r.randint(60, 88))
                person(SPOUSE, "2", birth=self._birth(head.birth.year + r.randint(-2, 6)), sn=self._surname())
            elif t < 0.65:
                head = person(HEAD, "1", r.randint(45, 60))
                person(SPOUSE, "2", birth=self._birth(head.birth.year + r.randint(-2, 6)), sn=self._surname())
            elif t < 0.85:
                sex = "2" if self._chance(0.5) else "1"
                head = person(HEAD, sex, r.randint(36, 56))
                if not children_of(head.birth if sex == "2" else self._birth(head.birth.year + 2), 1, (SON, DAUGHTER)):
                    fill_with_relatives(head, 1)
            else:
                head = person(HEAD, "1", r.randint(40, 58))
                person(MOTHER, "2", birth=self._birth(head.birth.year - r.randint(22, 32)))
            return people

        # Three or more (or 因学 with two): a core family, sometimes three generations.
        structure = r.random()
        if cause == "03":
            structure = 0.0  # a child of school age: nuclear family with a parent aged 38–52
        if structure < 0.12 and size <= 5:
            # Widowed or divorced parent with children (and perhaps a grandparent).
            sex = "2" if self._chance(0.6) else "1"
            head = person(HEAD, sex, r.randint(33, 52))
            mother_birth = head.birth if sex == "2" else self._birth(head.birth.year + 2)
            made = children_of(mother_birth, size - 1, (SON, DAUGHTER))
            fill_with_relatives(head, size - 1 - made)
        elif structure < 0.72 or size == 3:
            # Nuclear family, with the head's parents when children do not fill the household.
            head_age = r.randint(38, 52) if cause == "03" else r.randint(31, 56)
            head = person(HEAD, "1" if self._chance(0.96) else "2", head_age)
            spouse = person(
                SPOUSE,
                "2" if head.sex == "1" else "1",
                birth=self._birth(head.birth.year + r.randint(-2, 5) * (1 if head.sex == "1" else -1)),
                sn=self._surname(),
            )
            mother = head if head.sex == "2" else spouse
            wanted = size - 2
            if wanted >= 2 and self._chance(0.35):
                wanted -= r.randint(1, min(2, wanted - 1))
            if cause == "03":
                # The eldest child is 15–21 in AS_OF (high school or college).
                first = AS_OF.year - r.randint(15, 21) - 1
                first = min(max(first, mother.birth.year + 20), mother.birth.year + 33)
                year, made = first, 0
                while made < wanted and year <= min(LAST_YEAR, mother.birth.year + 35):
                    born = add_child((SON, DAUGHTER), year)
                    if born.birth.year > LAST_YEAR or born.birth.year - mother.birth.year > 36:
                        people.remove(born)
                        break
                    made += 1
                    year = max(year, born.birth.year) + r.randint(1, 4)
            else:
                made = children_of(mother.birth, wanted, (SON, DAUGHTER))
            fill_with_relatives(head, size - 2 - made)
        else:
            # Three generations: an older couple, a married child and grandchildren.
            head = person(HEAD, "1", r.randint(52, 70))
            person(SPOUSE, "2", birth=self._birth(head.birth.year + r.randint(-2, 5)), sn=self._surname())
            child_year = people[1].birth.year + r.randint(21, 30)
            if self._chance(0.8):
                child = person(SON, "1", birth=self._birth(child_year))
                in_law = person(
                    DAUGHTER_IN_LAW, "2", birth=self._birth(child_year + r.randint(-2, 4)), sn=self._surname()
                )
                mother_birth, rels = in_law.birth, (GRANDSON, GRANDDAUGHTER)
            else:
                # 上门女婿: the daughter stays, her husband joins the household.
                child = person(DAUGHTER, "2", birth=self._birth(child_year))
                person(SON_IN_LAW, "1", birth=self._birth(child_year - r.randint(-1, 4)), sn=self._surname())
                mother_birth, rels = child.birth, (DAUGHTERS_SON, DAUGHTERS_DAUGHTER)
            made = children_of(mother_birth, size - 4, rels)
            rest = size - 4 - made
            # Younger unmarried children of the head, then relatives.
            year = child.birth.year + r.randint(2, 5)
            while rest > 0 and year <= min(LAST_YEAR, people[1].birth.year + 35):
                born = add_child((SON, DAUGHTER), year)
                if born.birth.year > LAST_YEAR or born.birth.year - people[1].birth.year > 36:
                    people.remove(born)
                    break
                rest -= 1
                year = max(year, born.birth.year) + r.randint(1, 4)
            fill_with_relatives(head, rest)
        return people

    # -- members ----------------------------------------------------------------------------------

    def _members(self, number: str, people: list[_Person], kind: str, ident: int) -> list[MemberData]:
        r = self.rng
        ethnicity = "01"
        roll = r.random()
        if roll < 0.015:
            ethnicity = "13"  # 瑶族 (Yongzhou)
        elif roll < 0.02:
            ethnicity = r.choice(["06", "15"])  # 苗族, 土家族
        ident_date = dt.date(ident, 10, 1)
        # Siblings of one sex often share a generation character (字辈).
        shared: dict[tuple[str, str], str] = {}
        members: list[MemberData] = []
        for i, p in enumerate(people, start=1):
            gen_key = (p.rel in (SON, DAUGHTER) and "c") or (p.rel in (GRANDSON, GRANDDAUGHTER) and "g") or ""
            first = None
            if gen_key:
                k = (gen_key, p.sex)
                if k not in shared and self._chance(0.5):
                    shared[k] = self._given_name(p.sex, p.birth.year)[0]
                first = shared.get(k)
            name = p.surname + self._given_name(p.sex, p.birth.year, first)
            m = MemberData(
                member_number=f"{number}{i:02d}",
                name=name,
                sex=p.sex,
                id_type="1",
                id_number=self._id_number(p.birth, p.sex),
                birth_date=p.birth,
                relationship=p.rel,
                ethnicity=ethnicity if p.rel not in (SPOUSE, DAUGHTER_IN_LAW, SON_IN_LAW) or r.random() < 0.5 else "01",
            )
            if p.birth > ident_date:
                m.addition_reason, m.addition_date = (
                    "2",
                    min(p.birth + dt.timedelta(days=30), dt.date(LAST_YEAR, 12, 31)),
                )
            else:
                m.addition_date = ident_date
            members.append(m)
        # Spouses who were under 20 at identification, and some daughters-in-law, married in later
        # (人员增加原因 婚入); their children are born after the wedding.
        kids_rel = (SON, DAUGHTER, GRANDSON, GRANDDAUGHTER, DAUGHTERS_SON, DAUGHTERS_DAUGHTER)
        for m, p in zip(members, people, strict=True):
            if m.relationship not in (SPOUSE, DAUGHTER_IN_LAW, SON_IN_LAW) or m.addition_reason != "1":
                continue
            year = None
            if p.birth.year + 20 > ident:
                year = p.birth.year + 20
            elif m.relationship != SPOUSE and self._chance(0.3) and ident < LAST_YEAR - 1:
                year = r.randint(ident + 1, LAST_YEAR - 1)
            if year is None or year > LAST_YEAR:
                continue
            own = (SON, DAUGHTER) if m.relationship == SPOUSE else kids_rel[2:]
            first_child = min((c.birth_date for c in members if c.relationship in own), default=None)
            if first_child is not None and first_child.year < year:
                if p.birth.year + 20 > ident:
                    year = max(first_child.year, ident + 1)
                else:
                    continue
            m.addition_reason, m.addition_date = "3", dt.date(year, r.randint(1, 6), r.randint(1, 28))
        for m in members:
            self._person_attributes(m, kind)
        self._work_and_phones(members)
        return members

    def _health(self, age: int) -> str:
        r = self.rng.random()
        if age < 40:
            chronic, serious, disabled = 0.03, 0.01, 0.025
        elif age < 60:
            chronic, serious, disabled = 0.12, 0.03, 0.045
        elif age < 75:
            chronic, serious, disabled = 0.26, 0.05, 0.06
        else:
            chronic, serious, disabled = 0.36, 0.06, 0.08
        if r < disabled:
            return "4"
        if r < disabled + serious:
            return "3"
        if r < disabled + serious + chronic:
            return "2"
        return "1"

    def _make_disabled(self, m: MemberData) -> None:
        m.health = "4"
        m.disability_category = self._pick(self._tables["dis_cat"])
        m.disability_grade = self._pick(self._tables["dis_grade"])
        m.id_type = "2"  # 第二代残疾人证: the 18-digit ID plus category and grade
        m.id_number = m.id_number[:18] + m.disability_category + m.disability_grade

    def _adult_education(self, birth_year: int) -> str:
        r = self.rng.random()
        table: tuple[tuple[str, float], ...]  # (code, cumulative share)
        if birth_year < 1950:
            table = (("1", 0.5), ("2", 0.9), ("3", 1.0))
        elif birth_year < 1966:
            table = (("1", 0.2), ("2", 0.65), ("3", 0.95), ("4", 1.0))
        elif birth_year < 1981:
            table = (("1", 0.05), ("2", 0.35), ("3", 0.85), ("4", 0.97), ("51", 1.0))
        elif birth_year < 1996:
            table = (("2", 0.12), ("3", 0.67), ("4", 0.89), ("51", 0.97), ("52", 1.0))
        else:
            table = (("3", 0.4), ("4", 0.7), ("51", 0.9), ("52", 1.0))
        return next(code for code, upto in table if r <= upto)

    def _person_attributes(self, m: MemberData, kind: str) -> None:
        """Health, schooling, labour, insurance by age (domain §5 rules 10–20 hold for clean data)."""
        age = m.age()
        m.health = self._health(age) if age >= 3 else "1"
        if m.health == "4":
            self._make_disabled(m)
        severe = m.health == "4" and m.disability_grade in ("1", "2")

        # Schooling: students have 在校生状况, everyone else 文化程度 (exactly one is filled).
        if age < 3:
            m.education = "6"
        elif age < 6:
            if self._chance(0.85):
                m.school_status = "01"
            else:
                m.education = "6"
        elif age <= 16:
            if severe and m.disability_category in ("5", "7") and self._chance(0.5):
                # Not in school for disability (送教上门): a reason is recorded.
                m.education = "2" if age >= 12 else "1"
                m.dropout_reason = "2"
            elif age <= 11:
                m.school_status = "02"
            elif age <= 14:
                m.school_status = {12: "07", 13: "08", 14: "09"}[age]
            else:
                high = self._chance(0.68)
                m.school_status = ("11" if high else "21") if age == 15 else ("12" if high else "22")
        elif age <= 17 and self._chance(0.8):
            m.school_status = "13" if self._chance(0.68) else "23"
        elif 18 <= age <= 21 and self._chance(0.38):
            m.school_status = "41" if self._chance(0.45) else {18: "31", 19: "32", 20: "33", 21: "41"}[age]
        elif 22 <= age <= 23 and self._chance(0.08):
            m.school_status = "41"
        elif age <= 22:
            m.education = "3" if self._chance(0.6) else "4"
        else:
            m.education = self._adult_education(m.birth_date.year)
        student = bool(m.school_status)

        # 劳动技能
        if age < 16 or student:
            m.labour = "4"
        elif severe:
            m.labour = "3" if self._chance(0.6) else "4"
        elif age >= 60:
            m.labour = ("5" if self._chance(0.6) else "4") if age < 70 and m.health in ("1", "2") else "4"
        elif m.health == "3":
            m.labour = "3" if self._chance(0.5) else "5"
        elif m.health in ("2", "4"):
            m.labour = "1" if self._chance(0.5) else "5"
        else:
            m.labour = "2" if self._chance(0.18) else "1"

        # Insurance: everyone in exactly one basic medical insurance; pensions from 16, not students.
        m.has_resident_medical_insurance = True
        m.has_employee_medical_insurance = False
        m.has_serious_illness_insurance = True
        m.has_resident_pension = age >= 16 and not student and self._chance(0.95)
        m.has_employee_pension = False
        if m.health == "3" and self._chance(0.7):
            m.receives_medical_assistance = True
        m.is_dibao = kind == "dibao"
        m.is_tekun = kind == "tekun"

    def _work_and_phones(self, members: list[MemberData]) -> None:
        r = self.rng
        for m in members:
            age = m.age()
            if m.labour in ("1", "2") and 16 <= age < 60 and not m.school_status:
                if m.sex == "1" and age <= 24 and self._chance(0.004):
                    m.is_active_military = True
                    continue
                if self._chance(0.88 if m.labour == "2" or m.education in ("51", "52") else 0.7):
                    status = self.rng.choices(["4", "3", "2", "1"], cum_weights=[45, 65, 85, 100])[0]
                    m.work_status = status
                    if status in WORK_PLACES:
                        m.work_location = r.choice(WORK_PLACES[status])
                        m.work_months = r.randint(6, 12)
                    elif status == "2":
                        m.work_location = "永州市零陵区"
                        m.work_months = r.randint(4, 12)
                    else:
                        m.work_location = "本乡镇扶贫车间" if self._chance(0.3) else "本乡镇"
                        m.work_months = r.randint(3, 12)
                    if status in ("3", "4") and self._chance(0.08):
                        # Factory jobs with 职工医保 and 职工养老 instead of the resident schemes.
                        m.has_employee_medical_insurance, m.has_resident_medical_insurance = True, False
                        m.has_employee_pension, m.has_resident_pension = True, False
            if 16 <= age <= 72 and (m.relationship == HEAD or self._chance(0.75)):
                m.phone = self._mobile()
        # 公益性岗位 (seed report: ~2 % of poor people): aged 40–69, labour but not working away.
        for m in members:
            age = m.age()
            if 40 <= age < 70 and m.labour in ("1", "5") and not m.work_status and self._chance(0.14):
                m.public_welfare_job = r.choice(WELFARE_JOBS)
                m.public_welfare_months = r.randint(6, 12)
                break

    def _ensure_cause(self, members: list[MemberData], cause: str) -> None:
        """The main cause must be visible in the members: 因病 needs a sick member, 因残 a disabled one,
        因学 a student."""
        r = self.rng
        adults = [m for m in members if m.age() >= 18] or members
        if cause == "01" and not any(m.health in ("2", "3") for m in members):
            candidates = [m for m in adults if m.health == "1"]
            if not candidates:
                candidates = [m for m in members if m.health == "1"]
            if candidates:
                m = r.choice(candidates)
                m.health = "3" if self._chance(0.35) else "2"
                self._relabour(m)
                if m.health == "3" and self._chance(0.7):
                    m.receives_medical_assistance = True
        elif cause == "02" and not any(m.health == "4" for m in members):
            candidates = [m for m in members if m.age() >= 3 and not m.school_status and m.health == "1"]
            candidates = candidates or [m for m in members if m.age() >= 3 and not m.school_status]
            candidates = candidates or [m for m in members if m.age() >= 3] or members
            if candidates:
                m = r.choice(candidates)
                self._make_disabled(m)
                self._relabour(m)
        elif cause == "03" and not any(m.school_status >= "11" for m in members):
            # 因学: the eldest child of 15–21 is at high school, vocational school or college.
            kids = sorted((m for m in members if 15 <= m.age() <= 21 and m.health != "4"), key=lambda m: m.birth_date)
            if kids:
                m = kids[0]
                age = m.age()
                m.school_status = {15: "11", 16: "12", 17: "13", 18: "31", 19: "32", 20: "33", 21: "41"}[age]
                m.education = ""
                m.labour = "4"
                m.has_resident_pension = False
                m.work_status, m.work_location, m.work_months = "", "", None
                m.public_welfare_job, m.public_welfare_months = "", None

    def _ensure_tekun(self, members: list[MemberData]) -> None:
        """特困供养 means no capacity to work: nobody aged 18–59 in such a household is healthy (rule 18)."""
        for m in members:
            if 18 <= m.age() < 60 and m.health == "1" and not m.school_status:
                if self._chance(0.6):
                    self._make_disabled(m)
                    m.disability_grade = self.rng.choice("12")
                    m.id_number = m.id_number[:19] + m.disability_grade
                else:
                    m.health = "3"
                self._relabour(m)

    def _relabour(self, m: MemberData) -> None:
        """Labour after a health change, keeping the age rules."""
        age = m.age()
        if age < 16 or m.school_status:
            m.labour = "4"
            return
        if m.health == "4" and m.disability_grade in ("1", "2"):
            m.labour = "3"
        elif m.health == "3":
            m.labour = "3" if self._chance(0.5) else "5"
        elif age >= 60:
            m.labour = "4" if m.labour not in ("4", "5") else m.labour
        elif m.labour in ("1", "2") and self._chance(0.5):
            m.labour = "5"
        if m.labour in ("3", "4") and m.work_status:
            m.work_status, m.work_location, m.work_months = "", "", None
        if m.labour in ("3", "4") and m.public_welfare_job:
            m.public_welfare_job, m.public_welfare_months = "", None

    def _removed_member(self, hh: HouseholdData, surname: str) -> None:
        """Some households lost a member between identification and LAST_YEAR (an elderly parent or
        spouse died, a daughter married out); the member stays, with status removed, for the history."""
        r = self.rng
        if not self._chance(0.04) or hh.first_identified_year >= LAST_YEAR - 1:
            return
        head = hh.head
        ident = hh.first_identified_year
        year = r.randint(ident + 1, LAST_YEAR)
        date = dt.date(year, r.randint(1, 12), r.randint(1, 28))
        rels = {m.relationship for m in hh.members}
        if self._chance(0.6):
            reason = "1"  # 死亡
            if MOTHER not in rels and head.birth_date.year >= 1945:
                rel, sex, sn = MOTHER, "2", surname
                birth = self._birth(head.birth_date.year - r.randint(22, 32))
            elif SPOUSE not in rels:
                rel, sex, sn = SPOUSE, "2" if head.sex == "1" else "1", self._surname()
                birth = self._birth(head.birth_date.year + r.randint(-3, 3))
            else:
                return
        else:
            reason = "2"  # 婚出
            rel, sex, sn = DAUGHTER, "2", surname
            birth = self._birth(head.birth_date.year + r.randint(22, 30))
            if birth.year + 20 > year:
                return
        if birth >= dt.date(ident, 10, 1) or birth.year < 1915:
            return
        m = MemberData(
            member_number=f"{hh.household_number}{len(hh.members) + 1:02d}",
            name=sn + self._given_name(sex, birth.year),
            sex=sex,
            id_type="1",
            id_number=self._id_number(birth, sex),
            birth_date=birth,
            relationship=rel,
            ethnicity=head.ethnicity,
            status="removed",
            addition_date=dt.date(ident, 10, 1),
            removal_reason=reason,
            removal_date=date,
        )
        self._person_attributes(m, hh.kind)
        if reason == "1":
            m.phone = ""
        hh.members.append(m)

    # -- household attributes ---------------------------------------------------------------------

    def _decimal_tenths(self, lo: float, hi: float, p_zero: float = 0.0) -> Decimal:
        if p_zero and self._chance(p_zero):
            return Decimal("0.00")
        return Decimal(int(self.rng.uniform(lo, hi) * 10)) / 10

    def _household_fields(
        self,
        number: str,
        village: demo_regions.DemoVillage,
        group_code: str | None,
        group_name: str,
        kind: str,
        members: list[MemberData],
        ident: int,
    ) -> HouseholdData:
        r = self.rng
        head = members[0]
        size = len(members)
        township = self._township_names[village.township_code]
        phone = head.phone or next((m.phone for m in members if m.phone), "") or self._mobile()
        bank = self._pick(self._tables["bank"])
        serial = self._next_serial()
        children = [m for m in members if m.relationship in (SON, DAUGHTER)]
        sons = sum(1 for m in children if m.sex == "1")
        # Housing: the current (LAST_YEAR) state; unsafe years live in the yearly records.
        structure = r.choices(["2", "3", "1", "5", "9"], cum_weights=[45, 80, 90, 98, 100])[0]
        built = r.randint(1975, 2013)
        area = max(30, min(260, int(r.gauss(95 if size > 2 else 70, 25))))
        water = "1" if self._chance(0.75) else "2"
        return HouseholdData(
            household_number=number,
            village_id=village.code,
            group_id=group_code,
            address=f"{township}{village.name}{group_name}{r.randint(1, 120)}号",
            phone=phone,
            bank_name=bank,
            bank_account=f"6217{(serial * 738219371 + 2024) % 10**15:015d}",
            identification_standard="1" if self._chance(0.92) else "2",
            first_identified_year=ident,
            exit_year=None,
            is_military_family=any(m.is_active_military for m in members) or self._chance(0.006),
            is_only_child=len(children) == 1 and head.age() < 60 and self._chance(0.6),
            is_two_daughters=len(children) == 2 and sons == 0,
            is_monitored=False,
            monitoring_category="",
            paddy_land_mu=self._decimal_tenths(0.3, 4.5, 0.08),
            dry_land_mu=self._decimal_tenths(0.1, 2.5, 0.35),
            forest_land_mu=self._decimal_tenths(0.5, 15, 0.5),
            returned_forest_mu=self._decimal_tenths(0.3, 3, 0.9),
            orchard_mu=self._decimal_tenths(0.2, 3, 0.8),
            pasture_mu=self._decimal_tenths(0.3, 2, 0.96),
            water_surface_mu=self._decimal_tenths(0.2, 2, 0.92),
            in_mutual_fund=self._chance(0.1),
            in_cooperative=self._chance(0.3),
            housing_area_m2=Decimal(area),
            housing_structure=structure,
            housing_built_year=built,
            is_dangerous_house=False,
            dangerous_house_grade="A" if built >= 2000 or self._chance(0.6) else "B",
            has_electricity=True,
            fuel=r.choices(["1", "3", "4", "2", "5"], cum_weights=[35, 65, 90, 98, 100])[0],
            drinking_water=water,
            has_safe_water=True,
            road_type=r.choices(["3", "2", "1", "4"], cum_weights=[80, 92, 97, 100])[0],
            distance_to_main_road_km=Decimal(int(r.uniform(0, 3) * 100)) / 100,
            has_sanitary_toilet=self._chance(0.88),
            is_relocated=False,
            relocation_year=None,
            dibao_status="1" if kind == "dibao" else "0",
            tekun_status="1" if kind == "tekun" else "0",
            is_whole_household_no_labour=False,
        )

    def _exit_year(self, kind: str, size: int, ident: int, village: demo_regions.DemoVillage) -> int:
        r = self.rng
        small = kind != "general" or size <= 2
        if village.exit_year and village.exit_year > ident and self._chance(0.5):
            return 2020 if village.deep_poor and small and self._chance(0.3) else village.exit_year
        weights = dict(EXIT_WEIGHTS)
        if small:
            # The last to exit were small, elderly, 兜底 households (2020: 889 households, 1,730 people).
            weights[2019] *= 1.4
            weights[2020] *= 5.0
        else:
            weights[2020] *= 0.4
        years = [y for y in weights if y > ident]
        return r.choices(years, weights=[weights[y] for y in years])[0]

    # -- yearly records ---------------------------------------------------------------------------

    def _years(self, hh: HouseholdData) -> list[YearData]:
        r = self.rng
        ident, exit1, final_exit = hh.first_identified_year, hh.first_exit_year, hh.exit_year
        assert exit1 is not None and final_exit is not None  # every demo household has exited
        returned = hh.returned_year
        before, after = ATTRIBUTE_CODES[hh.kind]
        members = hh.members
        others = self._other_causes(hh)
        note = self._cause_note(hh) if self._chance(0.6) else ""
        # Housing and water problems fixed before the exit (危房改造 / 易地扶贫搬迁 / 饮水工程).
        housing_fix = water_fix = food_fix = medical_fix = education_fix = None
        if self._chance(0.3):
            latest = min(exit1, 2018)
            housing_fix = r.randint(min(ident + 1, latest), latest)
            if housing_fix >= 2016 and self._chance(0.35):
                hh.is_relocated, hh.relocation_year = True, housing_fix
                hh.housing_structure = "2" if self._chance(0.7) else "1"
                hh.housing_area_m2 = Decimal(min(25 * len(hh.active_members), 125))
                hh.drinking_water, hh.road_type, hh.has_sanitary_toilet = "1", "3", True
            else:
                hh.housing_structure = "2"
                hh.housing_area_m2 = Decimal(max(40, min(150, int(r.gauss(85, 20)))))
            hh.housing_built_year, hh.dangerous_house_grade = housing_fix, "A"
        if self._chance(0.35):
            water_fix = r.randint(ident + 1, exit1)
        if self._chance(0.12):
            food_fix = r.randint(ident + 1, exit1)
        if self._chance(0.18):
            medical_fix = r.randint(ident + 1, exit1)
        if any(6 <= m.age(dt.date(ident, 9, 1)) <= 15 for m in members) and self._chance(0.1):
            education_fix = r.randint(ident + 1, exit1)

        profile = _IncomeProfile(
            has_workers=any(m.work_status for m in members),
            has_welfare_job=any(m.public_welfare_job for m in members),
            wage_share=r.uniform(0.55, 0.85),
            expense_ratio=r.uniform(0.25, 0.6),
            # 资产收益 (光伏电站, 合作社分红) in the 贫困村 from 2017.
            dividend=hh.village_id in self._poor_village_codes() and self._chance(0.4),
        )
        base_u = r.uniform(0.52, 0.92)
        exit_ratio = r.uniform(1.2, 1.9)
        floor_ratio = r.uniform(1.05, 1.4)
        sick = [m for m in members if m.health in ("2", "3")]
        # (first year in the household, last year, birth year, on 低保/特困, sick: 大病 3 / 慢性病 2 / 0)
        spans = [
            (
                m.addition_date.year if m.addition_date else 0,
                m.removal_date.year - 1 if m.removal_date else 9999,
                m.birth_date.year,
                m.is_dibao or m.is_tekun,
                3 if m.health == "3" else 2 if m.health == "2" else 0,
            )
            for m in members
        ]
        land_subsidy = int(float(hh.paddy_land_mu) * 105) + int(float(hh.forest_land_mu) * 15)
        years: list[YearData] = []
        pc = 0.0
        for year in range(ident, LAST_YEAR + 1):
            count = elderly = supported = 0
            oop = 0
            for first, last, born, support, illness in spans:
                if first <= year <= last:
                    count += 1
                    elderly += year - born >= 60
                    supported += support
                    if illness == 3:
                        oop += r.randint(3000, 20000)
                    elif illness == 2:
                        oop += r.randint(400, 3000)
            poor = year < exit1 or (returned is not None and returned <= year < final_exit)
            if year < exit1:
                status = "0"
                pc = line_low(year) * min(0.95, base_u + 0.03 * (year - ident))
            elif returned is not None and returned <= year < final_exit:
                status = "3"
                pc = line_low(year) * r.uniform(0.6, 0.92)
            elif year in (exit1, final_exit):
                status = "1"
                pc = line_high(year) * (exit_ratio if year == exit1 else r.uniform(1.2, 1.6))
            else:
                status = "1"
                pc *= r.uniform(1.12, 1.36) if year <= 2020 else r.uniform(1.04, 1.12)
            if not poor and year >= 2020:
                monitored_from = hh.monitored_from if hh.monitoring_category == "1" else None
                if monitored_from is not None and year >= monitored_from:
                    pc = MONITORING_LINE[year] * r.uniform(0.7, 0.95)
                else:
                    pc = max(pc, MONITORING_LINE[year] * floor_ratio)
            if year <= 2015 and hh.kind == "tekun":
                attribute = WUBAO_CODE if poor else after
            else:
                attribute = before if poor else after
            net = round(pc * count)
            comp = self._components(hh, year, net, profile, elderly, supported, land_subsidy)
            claims = 0
            if hh.monitoring_category == "3" and hh.monitored_from and year >= hh.monitored_from:
                oop += r.randint(20000, 80000) if year == hh.monitored_from else r.randint(3000, 10000)
                claims = r.randint(2000, 10000) if year == hh.monitored_from else 0
            elif hh.is_monitored and sick and year >= 2020:
                claims = r.randint(0, 3000)
            food = not (food_fix and year < food_fix)
            medical = not (medical_fix and year < medical_fix)
            if status == "3" and year == returned:
                if sick:
                    medical = False
                else:
                    food = False
            years.append(
                YearData(
                    year=year,
                    exit_status=status,
                    attribute=attribute,
                    main_cause=hh.main_cause,
                    other_cause_1=others[0],
                    other_cause_2=others[1],
                    cause_note=note,
                    member_count=count,
                    wage_income=Decimal(comp[0]),
                    business_income=Decimal(comp[1]),
                    property_income=Decimal(comp[2]),
                    transfer_income=Decimal(comp[3]),
                    claims_income=Decimal(claims),
                    production_expense=Decimal(comp[4]),
                    compliant_out_of_pocket=Decimal(oop),
                    food_clothing_secure=food,
                    education_secure=not (education_fix and year < education_fix),
                    medical_secure=medical,
                    housing_secure=not (housing_fix and year < housing_fix),
                    water_secure=not (water_fix and year < water_fix),
                )
            )
        return years

    _poor_codes: frozenset[str] | None = None

    def _poor_village_codes(self) -> frozenset[str]:
        if self._poor_codes is None:
            self._poor_codes = frozenset(v.code for v in self.villages if v.poor_from)
        return self._poor_codes

    def _components(
        self,
        hh: HouseholdData,
        year: int,
        net: int,
        p: _IncomeProfile,
        elderly: int,
        supported: int,
        land_subsidy: int,
    ) -> tuple[int, int, int, int, int]:
        """(wage, business, property, transfer, production expense) summing to ``net`` after expense."""
        r = self.rng
        step = year - 2014
        transfer = elderly * int(720 * 1.07**step)  # 城乡居民基础养老金
        if hh.kind == "dibao":
            transfer += supported * int(1300 * 1.08**step)  # 低保金
        elif hh.kind == "tekun":
            transfer += supported * int(2800 * 1.1**step)  # 特困供养金
        transfer += land_subsidy  # 耕地地力保护补贴, 生态公益林补偿
        if year == 2017 and hh.exit_year and hh.exit_year <= 2017:
            transfer += 2500  # 以奖代扶 (seed report: 9,630 households, ~2,500 each)
        transfer = min(transfer, int(net * 0.85))
        prop = 0
        if year >= 2017 and p.dividend:
            prop = min(r.randint(200, 600), max(0, net - transfer - 100))
        rest = net - transfer - prop
        if p.has_workers:
            wage = int(rest * p.wage_share)
        elif p.has_welfare_job:
            wage = min(rest, r.randint(4000, 9000) if year >= 2016 else 0)
        else:
            wage = int(rest * r.uniform(0, 0.15))
        if (p.has_workers or (p.has_welfare_job and year >= 2016)) and wage <= 0:
            wage = 300
        business_net = rest - wage
        expense = int(max(business_net, 300) * p.expense_ratio)
        if business_net + expense < 0:
            expense = -business_net + 50
        return wage, business_net + expense, prop, transfer, expense

    def _other_causes(self, hh: HouseholdData) -> tuple[str, str]:
        r = self.rng
        n = r.choices([0, 1, 2], cum_weights=[45, 85, 100])[0]
        pool = ["09", "07", "08"]
        if any(m.health in ("2", "3") for m in hh.members):
            pool.append("01")
        if any(m.health == "4" for m in hh.members):
            pool.append("02")
        if any(m.school_status and m.school_status >= "11" for m in hh.members):
            pool.append("03")
        pool = [c for c in pool if c != hh.main_cause]
        picked = r.sample(pool, min(n, len(pool)))
        picked += [""] * (2 - len(picked))
        return picked[0], picked[1]

    def _cause_note(self, hh: HouseholdData) -> str:
        r = self.rng
        names = {
            HEAD: "户主",
            SPOUSE: "配偶",
            MOTHER: "母亲",
            FATHER: "父亲",
            SON: "儿子",
            DAUGHTER: "女儿",
            GRANDSON: "孙子",
            GRANDDAUGHTER: "孙女",
        }
        cause = hh.main_cause
        if cause == "01":
            m = next((m for m in hh.members if m.health in ("2", "3")), None)
            if m is None:
                return ""
            disease = r.choice(DISEASES_SERIOUS if m.health == "3" else DISEASES_CHRONIC)
            return f"{names.get(m.relationship, '家庭成员')}患{disease}，常年治疗，医疗支出大"
        if cause == "02":
            m = next((m for m in hh.members if m.health == "4"), None)
            if m is None:
                return ""
            cat = DISABILITY_NAMES.get(m.disability_category, "")
            return f"{names.get(m.relationship, '家庭成员')}{cat}残疾{m.disability_grade}级，家庭负担重"
        return {
            "03": "子女就读高中（中职）或大学，教育支出大",
            "04": f"{r.choice([2014, 2015, 2016, 2017])}年遭受洪涝灾害，房屋和农作物受损",
            "05": "人均耕地少，收入来源单一",
            "06": "生产用水缺乏，农作物产量低",
            "07": "缺少种养技术，收入来源单一",
            "08": "家中缺少劳动力",
            "09": "缺少发展产业的启动资金",
            "10": "居住偏远，交通不便",
            "11": "发展意识不强",
            "12": "因婚致贫",
        }.get(cause, "")

    # -- deliberate violations --------------------------------------------------------------------

    def _violate(self, hh: HouseholdData) -> None:
        """Plant one contradiction the domain §5 rules can see; recorded in ``hh.violations``."""
        r = self.rng
        active = hh.active_members
        by_age = [(m.age(), m) for m in active]
        options: dict[str, list[MemberData]] = {
            "child_labour": [m for a, m in by_age if 3 <= a < 16],
            "elderly_labour": [m for a, m in by_age if a >= 60],
            "no_medical_insurance": active,
            "sex_relationship": [m for m in active if m.relationship in (SON, DAUGHTER, SPOUSE)],
            "landline_phone": [hh.head],
            "dropout_no_reason": [m for a, m in by_age if 7 <= a <= 15],
            "disabled_without_certificate": [m for m in active if m.health == "4"],
            "welfare_job_too_old": [m for a, m in by_age if a >= 70],
            "student_working": [m for a, m in by_age if a >= 16 and m.school_status],
            "land_out_of_range": [hh.head],
            "low_income_not_monitored": [hh.head] if not hh.is_monitored else [],
            "worker_without_wage": [m for m in active if m.work_status],
        }
        # The least used kind this household can show: every kind appears about equally often, even
        # those that need a rare member (a disabled person, a student aged 16+).
        kind = min((k for k in VIOLATION_KINDS if options[k]), key=lambda k: self._violation_counts.get(k, 0))
        self._violation_counts[kind] = self._violation_counts.get(kind, 0) + 1
        m = r.choice(options[kind])
        target = m.member_number
        if kind in ("child_labour", "elderly_labour"):
            m.labour = "1"
        elif kind == "no_medical_insurance":
            m.has_resident_medical_insurance = m.has_employee_medical_insurance = False
            m.has_serious_illness_insurance = False
            m.receives_medical_assistance = False
        elif kind == "sex_relationship":
            if m.relationship == SPOUSE:
                m.sex = hh.head.sex  # 户主 and 配偶 of the same sex; the ID keeps the true sex
            else:
                m.relationship = DAUGHTER if m.relationship == SON else SON
        elif kind == "landline_phone":
            hh.phone = f"0746-{6000000 + (self._next_serial() * 7919) % 1000000}"
            target = ""
        elif kind == "dropout_no_reason":
            m.school_status, m.dropout_reason = "", ""
            m.education = "2"
        elif kind == "disabled_without_certificate":
            m.id_type, m.id_number = "1", m.id_number[:18]
        elif kind == "welfare_job_too_old":
            m.public_welfare_job, m.public_welfare_months = r.choice(WELFARE_JOBS), r.randint(6, 12)
        elif kind == "student_working":
            m.work_status, m.work_location, m.work_months = "4", r.choice(WORK_PLACES["4"]), r.randint(2, 3)
        elif kind == "land_out_of_range":
            hh.paddy_land_mu = Decimal(r.randint(120, 300))
            target = ""
        elif kind == "low_income_not_monitored":
            last = hh.years[-1]
            self._rescale(last, r.uniform(0.35, 0.6) * MONITORING_LINE[last.year])
            target = ""
        elif kind == "worker_without_wage":
            last = hh.years[-1]
            last.business_income += last.wage_income
            last.wage_income = Decimal(0)
            target = ""
        hh.violations.append((kind, target))

    @staticmethod
    def _rescale(record: YearData, per_capita: float) -> None:
        """Scale a year's components so its per-capita net income is about ``per_capita``."""
        current = float(record.per_capita()) or 1.0
        factor = per_capita / current
        for name in ("wage_income", "business_income", "property_income", "transfer_income", "production_expense"):
            setattr(record, name, Decimal(int(float(getattr(record, name)) * factor)))


def generate(count: int, seed: int = SEED) -> list[HouseholdData]:
    """The first ``count`` demo households as a list (tests and small sets; the loader streams)."""
    return list(DemoGenerator(seed).households(count))
