"""明白卡 (a household's card) and 人有卡 (a member's card) as plain data, built from the registry's records.

The HTML pages, the PDFs (pdf.py) and the tests all read these structures, so what is printed is what is tested.
Personal data is put in as the caller's ``Disclosure`` shows it (core.privacy).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from jingzhun.core.privacy import Disclosure
from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS, IncomeFormulaSpec
from jingzhun.regions.models import Region
from jingzhun.registry.documents.common import code_label, field_labels, money, yes_no
from jingzhun.registry.idcard import DISABILITY_CATEGORIES, IdNumberError, age_on, parse_id_number
from jingzhun.registry.models import (
    HEAD_RELATIONSHIP,
    Household,
    HouseholdQuerySet,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberQuerySet,
    MemberStatus,
)

CARD_INCOME_YEARS = 3  # the 明白卡 shows the latest three years' income


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    wide: bool = False  # takes a whole row (addresses, lists of names)


@dataclass(frozen=True)
class Section:
    title: str
    fields: list[Field]
    per_row: int = 2  # label/value pairs per printed row (short yes/no items fit three)

    @property
    def rows(self) -> list[list[Field]]:
        """Two label/value pairs per printed row; a wide field takes a row of its own."""
        rows: list[list[Field]] = []
        pending: list[Field] = []
        for f in self.fields:
            if f.wide:
                if pending:
                    rows.append(pending)
                    pending = []
                rows.append([f])
                continue
            pending.append(f)
            if len(pending) == self.per_row:
                rows.append(pending)
                pending = []
        if pending:
            rows.append(pending)
        return rows

    @property
    def layout(self) -> list[tuple[list[Field], list[None]]]:
        """Rows with the empty pairs that pad them to full width (for the HTML table)."""
        return [(row, [] if row[0].wide else [None] * (self.per_row - len(row))) for row in self.rows]

    @property
    def wide_span(self) -> int:
        return 2 * self.per_row - 1


@dataclass(frozen=True)
class MemberRow:
    member_id: int
    name: str
    sex: str
    relationship: str
    id_number: str  # full or masked, as the card's disclosure shows it
    birth_date: str
    ethnicity: str
    education: str  # 在校生状况 while at school, else 文化程度
    health: str
    labour: str
    work: str


@dataclass(frozen=True)
class IncomeLine:
    label: str
    values: list[str]  # one per year of IncomeTable.years
    total: bool = False  # a derived line (emphasised on the card)


@dataclass(frozen=True)
class IncomeTable:
    years: list[int]
    lines: list[IncomeLine]


@dataclass(frozen=True)
class HouseholdCard:
    household_id: int
    household_number: str
    region_name: str
    head_name: str
    cancelled: bool
    record_year: int | None  # the yearly record the attribute/status come from
    summary: Section
    members: list[MemberRow]
    income: IncomeTable
    guarantees: Section
    policies: Section
    generated_on: dt.date


@dataclass(frozen=True)
class MemberCard:
    member_id: int
    name: str
    household_id: int
    household_number: str
    region_name: str
    removed: bool
    sections: list[Section]
    generated_on: dt.date


def card_queryset() -> HouseholdQuerySet:
    """Everything the 明白卡 needs in three queries, whatever the household's size."""
    return Household.objects.select_related("village", "group").prefetch_related(
        Prefetch(
            "members",
            queryset=Member.objects.unscoped()
            .filter(status=MemberStatus.ACTIVE)
            .order_by("relationship", "birth_date", "pk"),
            to_attr="card_members",
        ),
        Prefetch("years", queryset=HouseholdYear.objects.unscoped().order_by("-year"), to_attr="card_years"),
    )


def member_card_queryset() -> MemberQuerySet:
    return Member.objects.select_related("household__village", "household__group")


def region_name(village: Region, group: Region | None) -> str:
    """省市县乡村 full name, then the 村民小组 (one query for the ancestors)."""
    name = village.full_name()
    return f"{name}{group.name}" if group is not None else name


def _birth_date(member: Member) -> dt.date | None:
    if member.birth_date:
        return member.birth_date
    try:
        return parse_id_number(member.id_number).birth_date
    except IdNumberError:
        return None


def _member_row(member: Member, labels: dict[str, dict[str, str]], disclosure: Disclosure) -> MemberRow:
    birth = _birth_date(member)
    at_school = member.school_status and member.school_status != "00"
    work = code_label(labels["work_status"], member.work_status)
    if work and member.work_months:
        work = _("%(status)s（%(months)s个月）") % {"status": work, "months": member.work_months}
    return MemberRow(
        member_id=member.pk,
        name=member.name,
        sex=code_label(labels["sex"], member.sex),
        relationship=code_label(labels["relationship"], member.relationship),
        id_number=disclosure.id_number(member.id_number),
        birth_date=f"{birth:%Y-%m-%d}" if birth else "",
        ethnicity=code_label(labels["ethnicity"], member.ethnicity),
        education=code_label(labels["school_status"], member.school_status)
        if at_school
        else code_label(labels["education"], member.education),
        health=disclosure.health(code_label(labels["health"], member.health)),
        labour=code_label(labels["labour"], member.labour),
        work=work,
    )


def _income_table(records: list[HouseholdYear]) -> IncomeTable:
    """Items as rows, years as columns (fits A4 portrait). The national formula's items always show;
    monitoring-era items (理赔收入, 合规自付支出) only when some year has them."""
    records = sorted(records, key=lambda r: r.year)
    default = IncomeFormulaSpec()
    always = default.included_income | default.included_deductions
    lines: list[IncomeLine] = []
    for key, label in INCOME_ITEMS + DEDUCTION_ITEMS:
        values = [getattr(r, key) for r in records]
        if key in always or any(v for v in values):
            lines.append(IncomeLine(str(label), [money(v) for v in values]))  # lazy label, in the active language
    lines += [
        IncomeLine(_("家庭总收入"), [money(r.total_income) for r in records], total=True),
        IncomeLine(_("家庭纯收入"), [money(r.net_income) for r in records], total=True),
        IncomeLine(_("家庭人口数"), [str(r.member_count) for r in records], total=True),
        IncomeLine(_("人均纯收入"), [money(r.per_capita_net_income) for r in records], total=True),
    ]
    return IncomeTable(years=[r.year for r in records], lines=lines)


def _guarantees(record: HouseholdYear | None) -> Section:
    if record is None:
        return Section(_("两不愁三保障"), [Field(_("情况"), _("暂无年度记录"), wide=True)])
    overall = record.two_assurances_three_guarantees
    verdict = _("未完整填报") if overall is None else (_("已达标") if overall else _("未达标"))
    return Section(
        _("两不愁三保障（%(year)s年）") % {"year": record.year},
        [
            Field(_("不愁吃不愁穿"), yes_no(record.food_clothing_secure)),
            Field(_("义务教育有保障"), yes_no(record.education_secure)),
            Field(_("基本医疗有保障"), yes_no(record.medical_secure)),
            Field(_("住房安全有保障"), yes_no(record.housing_secure)),
            Field(_("饮水安全有保障"), yes_no(record.water_secure)),
            Field(_("两不愁三保障"), verdict),
        ],
        per_row=3,
    )


def build_household_card(
    household: Household, *, disclosure: Disclosure, today: dt.date | None = None
) -> HouseholdCard:
    """明白卡 of ``household`` (fetch it with card_queryset() so this runs no per-member queries)."""
    today = today or dt.date.today()
    labels = field_labels(
        "sex",
        "relationship",
        "ethnicity",
        "education",
        "school_status",
        "health",
        "labour",
        "work_status",
        "identification_standard",
        "attribute",
        "exit_status",
        "main_cause",
        "dibao_status",
        "tekun_status",
        "monitoring_category",
    )
    members = getattr(household, "card_members", None)
    if members is None:  # not fetched through card_queryset()
        members = list(household.active_members().order_by("relationship", "birth_date", "pk"))
    years = getattr(household, "card_years", None)
    if years is None:
        years = list(household.years.order_by("-year"))
    latest = years[0] if years else None
    head = next((m for m in members if m.relationship == HEAD_RELATIONSHIP), None)

    def from_latest(field_name: str) -> str:
        return code_label(labels[field_name], getattr(latest, field_name)) if latest else ""

    causes = (latest.other_cause_1, latest.other_cause_2) if latest else ()
    other_causes = "、".join(code_label(labels["main_cause"], c) for c in causes if c)
    monitored = yes_no(household.is_monitored)
    if household.is_monitored and household.monitoring_category:
        monitored += f"（{code_label(labels['monitoring_category'], household.monitoring_category)}）"
    # 属性, 状态 and 致贫原因 are yearly facts: the title says which year's record they come from.
    title = _("基本情况（%(year)s年度）") % {"year": latest.year} if latest else _("基本情况")
    summary = Section(
        title,
        [
            Field(_("户主姓名"), head.name if head else ""),
            Field(_("联系电话"), disclosure.phone(household.phone)),
            Field(_("识别标准"), code_label(labels["identification_standard"], household.identification_standard)),
            Field(_("首次识别年度"), str(household.first_identified_year or "")),
            Field(_("贫困户属性"), from_latest("attribute")),
            Field(_("脱贫状态"), from_latest("exit_status")),
            Field(_("脱贫年度"), str(household.exit_year or "")),
            Field(_("家庭人口数"), str(len(members))),
            Field(_("主要致贫原因"), from_latest("main_cause")),
            Field(_("其他致贫原因"), other_causes),
            Field(_("是否监测对象"), monitored),
            Field(_("致贫原因说明"), latest.cause_note if latest else ""),
            Field(_("详细地址"), household.address, wide=True),
        ],
    )
    dibao_names = "、".join(m.name for m in members if m.is_dibao)
    tekun_names = "、".join(m.name for m in members if m.is_tekun)
    relocated = yes_no(household.is_relocated)
    if household.is_relocated and household.relocation_year:
        relocated += _("（%(year)s年）") % {"year": household.relocation_year}
    policies = Section(
        _("享受政策"),
        [
            Field(_("享受低保政策情况"), code_label(labels["dibao_status"], household.dibao_status)),
            Field(_("享受特困供养政策情况"), code_label(labels["tekun_status"], household.tekun_status)),
            Field(_("低保对象成员"), dibao_names),
            Field(_("特困供养成员"), tekun_names),
            Field(_("整户兜底保障"), yes_no(household.is_whole_household_no_labour)),
            Field(_("易地扶贫搬迁"), relocated),
        ],
    )
    return HouseholdCard(
        household_id=household.pk,
        household_number=household.household_number,
        region_name=region_name(household.village, household.group),
        head_name=head.name if head else "",
        cancelled=household.status != HouseholdStatus.ACTIVE,
        record_year=latest.year if latest else None,
        summary=summary,
        members=[_member_row(m, labels, disclosure) for m in members],
        income=_income_table(years[:CARD_INCOME_YEARS]),
        guarantees=_guarantees(latest),
        policies=policies,
        generated_on=today,
    )


def build_member_card(member: Member, *, disclosure: Disclosure, today: dt.date | None = None) -> MemberCard:
    """人有卡 of ``member`` (fetch it with member_card_queryset())."""
    today = today or dt.date.today()
    household = member.household
    labels = field_labels(
        "sex",
        "relationship",
        "ethnicity",
        "education",
        "school_status",
        "dropout_reason",
        "health",
        "labour",
        "work_status",
        "id_type",
        "attribute",
        "exit_status",
    )
    birth = _birth_date(member)
    latest = household.years.order_by("-year").first()
    head = household.head
    disability = ""
    if member.disability_category or member.disability_grade:
        disability = DISABILITY_CATEGORIES.get(member.disability_category, member.disability_category)
        if member.disability_grade:
            disability += _("（%(grade)s级）") % {"grade": member.disability_grade}
    medical = member.has_resident_medical_insurance or member.has_employee_medical_insurance
    if member.has_resident_medical_insurance is None and member.has_employee_medical_insurance is None:
        medical = None
    pension = member.has_resident_pension or member.has_employee_pension
    if member.has_resident_pension is None and member.has_employee_pension is None:
        pension = None
    job = member.public_welfare_job
    if job and member.public_welfare_months:
        job += _("（%(months)s个月）") % {"months": member.public_welfare_months}
    sections = [
        Section(
            _("个人信息"),
            [
                Field(_("姓名"), member.name),
                Field(_("性别"), code_label(labels["sex"], member.sex)),
                Field(_("民族"), code_label(labels["ethnicity"], member.ethnicity)),
                Field(_("出生日期"), f"{birth:%Y-%m-%d}" if birth else ""),
                Field(_("年龄"), str(age_on(birth, today)) if birth else ""),
                Field(_("证件类型"), code_label(labels["id_type"], member.id_type)),
                Field(_("证件号码"), disclosure.id_number(member.id_number)),
                Field(_("联系电话"), disclosure.phone(member.phone)),
                Field(_("与户主关系"), code_label(labels["relationship"], member.relationship)),
                Field(_("人员状态"), member.get_status_display()),
            ],
        ),
        Section(
            _("所在户"),
            [
                Field(_("户编号"), household.household_number),
                Field(_("户主姓名"), head.name if head else ""),
                Field(_("贫困户属性"), code_label(labels["attribute"], latest.attribute) if latest else ""),
                Field(_("脱贫状态"), code_label(labels["exit_status"], latest.exit_status) if latest else ""),
                Field(_("脱贫年度"), str(household.exit_year or "")),
                Field(_("户联系电话"), disclosure.phone(household.phone)),
            ],
        ),
        Section(
            _("教育、健康和劳动能力"),
            [
                Field(_("文化程度"), code_label(labels["education"], member.education)),
                Field(_("在校生状况"), code_label(labels["school_status"], member.school_status)),
                Field(_("义务教育阶段未上学原因"), code_label(labels["dropout_reason"], member.dropout_reason)),
                Field(_("健康状况"), disclosure.health(code_label(labels["health"], member.health))),
                Field(_("残疾类别（等级）"), disclosure.health(disability)),
                Field(_("劳动技能"), code_label(labels["labour"], member.labour)),
            ],
        ),
        Section(
            _("务工和就业"),
            [
                Field(_("务工状况"), code_label(labels["work_status"], member.work_status)),
                Field(_("务工时间（月）"), str(member.work_months or "")),
                Field(_("务工所在地"), member.work_location, wide=True),
                Field(_("公益性岗位"), job, wide=True),
            ],
        ),
        Section(
            _("保障情况"),
            [
                Field(_("基本医疗保险"), yes_no(medical)),
                Field(_("大病保险"), yes_no(member.has_serious_illness_insurance)),
                Field(_("基本养老保险"), yes_no(pension)),
                Field(_("医疗救助"), yes_no(member.receives_medical_assistance)),
                Field(_("低保对象"), yes_no(member.is_dibao)),
                Field(_("特困供养对象"), yes_no(member.is_tekun)),
            ],
        ),
    ]
    return MemberCard(
        member_id=member.pk,
        name=member.name,
        household_id=household.pk,
        household_number=household.household_number,
        region_name=region_name(household.village, household.group),
        removed=member.status != MemberStatus.ACTIVE,
        sections=sections,
        generated_on=today,
    )
