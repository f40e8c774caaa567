"""Archive documents (乡有册、村有簿、户有档、人有卡): builders that turn registry records into plain data, and
renderers that turn that data into a PDF card or an XLSX register.

The HTML pages, the PDFs and the tests all read the same intermediate structures (HouseholdCard, MemberCard,
RegisterRow, TownshipSummary), so what is printed is what is tested.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

from django.db.models import Count, F, Prefetch, QuerySet
from django.utils.translation import gettext as _

from jingzhun.core.batching import chunked
from jingzhun.policy import services as policy
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind, RegionLevel
from jingzhun.registry.idcard import DISABILITY_CATEGORIES, IdNumberError, age_on, parse_id_number
from jingzhun.registry.income import DEDUCTION_ITEMS, INCOME_ITEMS, IncomeFormulaSpec
from jingzhun.registry.models import (
    CODE_FIELDS,
    HEAD_RELATIONSHIP,
    Household,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberStatus,
)

CARD_INCOME_YEARS = 3  # the 明白卡 shows the latest three years' income
CHUNK = 500  # households per batch in registers: bounded memory, and IN lists far below SQLite's limit


# --------------------------------------------------------------------------- small formatting helpers


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("是") if value else _("否")


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _labels(*fields: str) -> dict[str, dict[str, str]]:
    """Label dicts per field, built once per document (not once per row)."""
    return {f: policy.labels(CODE_FIELDS[f]) for f in fields}


def _label(table: dict[str, str], code: str | None) -> str:
    if not code:
        return ""
    return table.get(code, code)


# --------------------------------------------------------------------------- cards (明白卡, 人有卡)


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
    id_number: str  # full: the card is the household's own document (notices use mask_id_number)
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


def card_queryset() -> QuerySet[Household]:
    """Everything the 明白卡 needs in three queries, whatever the household's size."""
    return Household.objects.select_related("village", "group").prefetch_related(
        Prefetch(
            "members",
            queryset=Member.objects.filter(status=MemberStatus.ACTIVE).order_by("relationship", "birth_date", "pk"),
            to_attr="card_members",
        ),
        Prefetch("years", queryset=HouseholdYear.objects.order_by("-year"), to_attr="card_years"),
    )


def member_card_queryset() -> QuerySet[Member]:
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


def _member_row(member: Member, labels: dict[str, dict[str, str]]) -> MemberRow:
    birth = _birth_date(member)
    at_school = member.school_status and member.school_status != "00"
    work = _label(labels["work_status"], member.work_status)
    if work and member.work_months:
        work = _("%(status)s（%(months)s个月）") % {"status": work, "months": member.work_months}
    return MemberRow(
        member_id=member.pk,
        name=member.name,
        sex=_label(labels["sex"], member.sex),
        relationship=_label(labels["relationship"], member.relationship),
        id_number=member.id_number,
        birth_date=f"{birth:%Y-%m-%d}" if birth else "",
        ethnicity=_label(labels["ethnicity"], member.ethnicity),
        education=_label(labels["school_status"], member.school_status)
        if at_school
        else _label(labels["education"], member.education),
        health=_label(labels["health"], member.health),
        labour=_label(labels["labour"], member.labour),
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


def build_household_card(household: Household, *, today: dt.date | None = None) -> HouseholdCard:
    """明白卡 of ``household`` (fetch it with card_queryset() so this runs no per-member queries)."""
    today = today or dt.date.today()
    labels = _labels(
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
        return _label(labels[field_name], getattr(latest, field_name)) if latest else ""

    causes = (latest.other_cause_1, latest.other_cause_2) if latest else ()
    other_causes = "、".join(_label(labels["main_cause"], c) for c in causes if c)
    monitored = yes_no(household.is_monitored)
    if household.is_monitored and household.monitoring_category:
        monitored += f"（{_label(labels['monitoring_category'], household.monitoring_category)}）"
    # 属性, 状态 and 致贫原因 are yearly facts: the title says which year's record they come from.
    title = _("基本情况（%(year)s年度）") % {"year": latest.year} if latest else _("基本情况")
    summary = Section(
        title,
        [
            Field(_("户主姓名"), head.name if head else ""),
            Field(_("联系电话"), household.phone),
            Field(_("识别标准"), _label(labels["identification_standard"], household.identification_standard)),
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
            Field(_("享受低保政策情况"), _label(labels["dibao_status"], household.dibao_status)),
            Field(_("享受特困供养政策情况"), _label(labels["tekun_status"], household.tekun_status)),
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
        members=[_member_row(m, labels) for m in members],
        income=_income_table(years[:CARD_INCOME_YEARS]),
        guarantees=_guarantees(latest),
        policies=policies,
        generated_on=today,
    )


def build_member_card(member: Member, *, today: dt.date | None = None) -> MemberCard:
    """人有卡 of ``member`` (fetch it with member_card_queryset())."""
    today = today or dt.date.today()
    household = member.household
    labels = _labels(
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
                Field(_("性别"), _label(labels["sex"], member.sex)),
                Field(_("民族"), _label(labels["ethnicity"], member.ethnicity)),
                Field(_("出生日期"), f"{birth:%Y-%m-%d}" if birth else ""),
                Field(_("年龄"), str(age_on(birth, today)) if birth else ""),
                Field(_("证件类型"), _label(labels["id_type"], member.id_type)),
                Field(_("证件号码"), member.id_number),
                Field(_("联系电话"), member.phone),
                Field(_("与户主关系"), _label(labels["relationship"], member.relationship)),
                Field(_("人员状态"), member.get_status_display()),
            ],
        ),
        Section(
            _("所在户"),
            [
                Field(_("户编号"), household.household_number),
                Field(_("户主姓名"), head.name if head else ""),
                Field(_("贫困户属性"), _label(labels["attribute"], latest.attribute) if latest else ""),
                Field(_("脱贫状态"), _label(labels["exit_status"], latest.exit_status) if latest else ""),
                Field(_("脱贫年度"), str(household.exit_year or "")),
                Field(_("户联系电话"), household.phone),
            ],
        ),
        Section(
            _("教育、健康和劳动能力"),
            [
                Field(_("文化程度"), _label(labels["education"], member.education)),
                Field(_("在校生状况"), _label(labels["school_status"], member.school_status)),
                Field(_("义务教育阶段未上学原因"), _label(labels["dropout_reason"], member.dropout_reason)),
                Field(_("健康状况"), _label(labels["health"], member.health)),
                Field(_("残疾类别（等级）"), disability),
                Field(_("劳动技能"), _label(labels["labour"], member.labour)),
            ],
        ),
        Section(
            _("务工和就业"),
            [
                Field(_("务工状况"), _label(labels["work_status"], member.work_status)),
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


# --------------------------------------------------------------------------- PDF (reportlab, built-in CID font)

PDF_FONT = "STSong-Light"  # Adobe's CID font: no font file to ship; readers supply the glyphs (宋体)
TableCommand = tuple[Any, ...]  # a reportlab TableStyle command: (name, first cell, last cell, *arguments)


def _pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


class _Pdf:
    """Shared styles and flowable helpers for both cards."""

    def __init__(self) -> None:
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.styles import ParagraphStyle

        font = _pdf_font()
        self.colors = colors
        self.title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=TA_CENTER)
        self.subtitle = ParagraphStyle("subtitle", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER)
        self.heading = ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=14, spaceBefore=4, spaceAfter=2)
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=11, wordWrap="CJK")
        self.small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK")
        self.label = ParagraphStyle("label", parent=self.cell, textColor=colors.HexColor("#444444"))
        self.font = font

    def p(self, text: object, style: Any = None) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text or "")), style or self.cell)

    def grid(
        self,
        rows: list[list[Any]],
        widths: list[float],
        *,
        header: bool = False,
        extra: Iterable[TableCommand] = (),
        heights: list[float] | None = None,
        lines: bool = True,
    ) -> Any:
        from reportlab.platypus import Table, TableStyle

        style: list[TableCommand] = [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if lines:
            style.append(("GRID", (0, 0), (-1, -1), 0.5, self.colors.black))
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#eeeeee")))
        style.extend(extra)
        table = Table(rows, colWidths=widths, rowHeights=heights, repeatRows=1 if header else 0, hAlign="LEFT")
        table.setStyle(TableStyle(style))
        return table

    def section(self, section: Section, width: float) -> list[Any]:
        """A section as a label/value grid (Section.rows decides the layout, as on the HTML card)."""
        pairs = section.per_row
        label_w = width * (0.2 if pairs == 2 else 0.14)
        value_w = width / pairs - label_w
        rows: list[list[Any]] = []
        extra: list[TableCommand] = []
        shade = self.colors.HexColor("#f4f4f4")
        for row in section.rows:
            cells: list[Any] = []
            for f in row:
                cells += [self.p(f.label, self.label), self.p(f.value)]
            y = len(rows)
            if row[0].wide:
                extra += [("SPAN", (1, y), (2 * pairs - 1, y)), ("BACKGROUND", (0, y), (0, y), shade)]
            else:
                extra += [("BACKGROUND", (c, y), (c, y), shade) for c in range(0, 2 * pairs, 2)]
            rows.append(cells + [""] * (2 * pairs - len(cells)))
        return [
            self.p(section.title, self.heading),
            self.grid(rows, [label_w, value_w] * pairs, extra=extra),
        ]

    def helper_block(self, width: float) -> list[Any]:
        """Blank 帮扶责任人 area and signature lines, filled in by hand."""
        from reportlab.platypus import KeepTogether, Spacer

        label_w, value_w = width * 0.2, width * 0.3
        rows = [
            [self.p(_("帮扶单位"), self.label), "", self.p(_("帮扶责任人"), self.label), ""],
            [self.p(_("职务"), self.label), "", self.p(_("联系电话"), self.label), ""],
            [self.p(_("帮扶措施"), self.label), "", "", ""],
        ]
        table = self.grid(
            rows,
            [label_w, value_w, label_w, value_w],
            extra=[("SPAN", (1, 2), (3, 2)), ("VALIGN", (0, 2), (0, 2), "TOP")],
            heights=[17, 17, 40],  # room for handwriting
        )
        signatures = self.grid(
            [
                [
                    self.p(_("户主（签字）：")),
                    self.p(_("帮扶责任人（签字）：")),
                    self.p(_("村委会（盖章）：")),
                ],
                [self.p(_("日期：______年____月____日"), self.small)] * 3,
            ],
            [width / 3] * 3,
            extra=[("VALIGN", (0, 0), (-1, 0), "TOP")],
            heights=[26, 12],
            lines=False,
        )
        # Kept on one page: a helper block split across pages is useless for signing.
        return [KeepTogether([self.p(_("帮扶责任人"), self.heading), table, Spacer(1, 6), signatures])]

    def card_head(self, title: str, region_name: str, household_number: str, notice: str) -> list[Any]:
        """A card's title, its region and 户编号, and ``notice`` (cancelled / removed) when there is one."""
        from reportlab.platypus import Spacer

        story: list[Any] = [
            self.p(title, self.title),
            self.p(
                _("%(region)s　户编号：%(number)s") % {"region": region_name, "number": household_number},
                self.subtitle,
            ),
        ]
        if notice:
            story.append(self.p(notice, self.subtitle))
        story.append(Spacer(1, 4))
        return story

    @staticmethod
    def card_footer(household_number: str, generated_on: dt.date) -> str:
        return _("户编号 %(number)s　生成日期 %(date)s") % {
            "number": household_number,
            "date": f"{generated_on:%Y-%m-%d}",
        }

    def build(self, story: list[Any], *, title: str, footer: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        def on_page(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(self.font, 7.5)
            canvas.drawString(15 * mm, 9 * mm, footer)
            canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, _("第 %(page)s 页") % {"page": doc.page})
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=14 * mm,
            bottomMargin=16 * mm,
            title=title,
            author=_("精准扶贫信息系统"),
        )
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
        return buffer.getvalue()


def household_card_pdf(card: HouseholdCard) -> bytes:
    """The 明白卡 as an A4 PDF."""
    from reportlab.lib.units import mm

    pdf = _Pdf()
    width = 180 * mm
    notice = _("（该户已注销）") if card.cancelled else ""
    story = pdf.card_head(_("精准扶贫明白卡"), card.region_name, card.household_number, notice)
    story += pdf.section(card.summary, width)

    story.append(pdf.p(_("家庭成员"), pdf.heading))
    head = [_("序号"), _("姓名"), _("性别"), _("与户主关系"), _("证件号码"), _("出生日期")]
    head += [_("文化程度"), _("健康状况"), _("劳动技能"), _("务工状况")]
    rows = [[pdf.p(h, pdf.small) for h in head]]
    for i, m in enumerate(card.members, 1):
        values = [i, m.name, m.sex, m.relationship, m.id_number, m.birth_date]
        values += [m.education, m.health, m.labour, m.work]
        rows.append([pdf.p(v, pdf.small) for v in values])
    widths = [w * mm for w in (8, 15, 8, 14, 31, 18, 16, 20, 20, 30)]
    story.append(pdf.grid(rows, widths, header=True))

    story.append(pdf.p(_("收入情况（元）"), pdf.heading))
    if card.income.years:
        rows = [[pdf.p(_("项目"), pdf.label)] + [pdf.p(_("%(y)s年") % {"y": y}) for y in card.income.years]]
        bold: list[TableCommand] = []
        for line in card.income.lines:
            rows.append([pdf.p(line.label, pdf.label), *(pdf.p(v) for v in line.values)])
            if line.total:
                bold.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), pdf.colors.HexColor("#f7efe6")))
        year_w = (width - 50 * mm) / len(card.income.years)
        story.append(pdf.grid(rows, [50 * mm] + [year_w] * len(card.income.years), header=True, extra=bold))
    else:
        story.append(pdf.p(_("暂无年度收入记录")))

    story += pdf.section(card.guarantees, width)
    story += pdf.section(card.policies, width)
    story += pdf.helper_block(width)
    footer = pdf.card_footer(card.household_number, card.generated_on)
    return pdf.build(story, title=_("明白卡 %(number)s") % {"number": card.household_number}, footer=footer)


def member_card_pdf(card: MemberCard) -> bytes:
    """The 人有卡 as an A4 PDF."""
    from reportlab.lib.units import mm

    pdf = _Pdf()
    width = 180 * mm
    notice = _("（该成员已减少）") if card.removed else ""
    story = pdf.card_head(_("精准扶贫人员信息卡"), card.region_name, card.household_number, notice)
    for section in card.sections:
        story += pdf.section(section, width)
    story += pdf.helper_block(width)
    footer = pdf.card_footer(card.household_number, card.generated_on)
    return pdf.build(story, title=_("人有卡 %(name)s") % {"name": card.name}, footer=footer)


# --------------------------------------------------------------------------- village status from RegionFlag


def poor_village_status(rows: Iterable[tuple[int, bool]], year: int) -> str:
    """贫困村 / 已出列（YYYY年） / 非贫困村 in ``year``, from the village's poor_village flag rows (year, value).

    出列 is the change of the flag from true to false, so its year is the year of that row.
    """
    value = was_poor = False
    exit_year: int | None = None
    for row_year, row_value in sorted(rows):
        if row_year > year:
            break
        if row_value:
            was_poor, exit_year = True, None
        elif value:
            exit_year = row_year
        value = row_value
    if value:
        return _("贫困村")
    if was_poor and exit_year:
        return _("已出列（%(year)s年）") % {"year": exit_year}
    return _("非贫困村")


def poor_village_flags(prefix: str) -> dict[str, list[tuple[int, bool]]]:
    """poor_village flag rows of every region under ``prefix`` (one query)."""
    rows: dict[str, list[tuple[int, bool]]] = {}
    flags = RegionFlag.objects.filter(flag=RegionFlagKind.POOR_VILLAGE).in_region(prefix)
    for code, year, value in flags.values_list("region_id", "year", "value"):
        rows.setdefault(code, []).append((year, value))
    return rows


# --------------------------------------------------------------------------- registers (村有簿, 乡有册)


@dataclass(frozen=True)
class RegisterRow:
    village_code: str
    village_name: str
    group_name: str
    household_number: str
    head_name: str
    head_id_number: str
    size: int
    attribute: str
    exit_status: str
    exit_year: int | None
    main_cause: str
    other_causes: str
    net_income: Decimal | None
    per_capita_net_income: Decimal | None
    is_monitored: str
    phone: str

    def values(self, *, with_village: bool) -> list[Any]:
        cells: list[Any] = [self.village_name] if with_village else []
        return [
            *cells,
            self.group_name,
            self.household_number,
            self.head_name,
            self.head_id_number,
            self.size,
            self.attribute,
            self.exit_status,
            self.exit_year,
            self.main_cause,
            self.other_causes,
            self.net_income,
            self.per_capita_net_income,
            self.is_monitored,
            self.phone,
        ]


def _household_columns() -> list[tuple[str, float]]:
    return [
        (_("组"), 14),
        (_("户编号"), 20),
        (_("户主姓名"), 10),
        (_("户主证件号码"), 21),
        (_("家庭人口数"), 7),
        (_("贫困户属性"), 16),
        (_("脱贫状态"), 20),
        (_("脱贫年度"), 8),
        (_("主要致贫原因"), 12),
        (_("其他致贫原因"), 16),
        (_("家庭纯收入（元）"), 12),
        (_("人均纯收入（元）"), 12),
        (_("是否监测对象"), 8),
        (_("联系电话"), 14),
    ]


def register_households(region: Region) -> QuerySet[Household]:
    """Active households under ``region``, in register order (village, group, number)."""
    return (
        Household.objects.active()
        .in_region(region.prefix)
        .order_by("village_id", F("group_id").asc(nulls_first=True), "household_number")
    )


def iter_register_rows(households: QuerySet[Household], year: int) -> Iterator[RegisterRow]:
    """One RegisterRow per household with the ``year`` record's figures; a fixed number of queries per
    CHUNK households (heads, sizes and yearly records are fetched per batch, never per household).

    Rows are read as tuples, not model instances: a township has thousands of households and building
    audited instances (with their audit snapshot) for a read-only export would double the time.
    家庭人口数 is the yearly record's count when there is one (so 人均 = 纯收入 / 人口 on the row), else the
    count of active members now.
    """
    labels = _labels("attribute", "exit_status", "main_cause")
    rows = households.values_list(
        "pk", "village_id", "village__name", "group__name", "household_number", "exit_year", "is_monitored", "phone"
    )
    for chunk in chunked(rows.iterator(chunk_size=CHUNK), CHUNK):
        ids = [row[0] for row in chunk]
        heads = Member.objects.heads_of(ids)
        sizes = Member.objects.sizes_of(ids)
        records = {
            r[0]: r
            for r in HouseholdYear.objects.filter(household_id__in=ids, year=year).values_list(
                "household_id",
                "member_count",
                "attribute",
                "exit_status",
                "main_cause",
                "other_cause_1",
                "other_cause_2",
                "net_income",
                "per_capita_net_income",
            )
        }
        for pk, village_code, village_name, group_name, number, exit_year, monitored, phone in chunk:
            head_name, head_id = heads.get(pk, ("", ""))
            record = records.get(pk)
            if record is None:
                size, attribute, status, cause, other, net, per_capita = sizes.get(pk, 0), "", "", "", "", None, None
            else:
                _id, size, attribute, status, cause, other_1, other_2, net, per_capita = record
                attribute = _label(labels["attribute"], attribute)
                status = _label(labels["exit_status"], status)
                other = "、".join(_label(labels["main_cause"], c) for c in (other_1, other_2) if c)
                cause = _label(labels["main_cause"], cause)
            yield RegisterRow(
                village_code=village_code,
                village_name=village_name,
                group_name=group_name or "",
                household_number=number,
                head_name=head_name,
                head_id_number=head_id,
                size=size,
                attribute=attribute,
                exit_status=status,
                exit_year=exit_year,
                main_cause=cause,
                other_causes=other,
                net_income=net,
                per_capita_net_income=per_capita,
                is_monitored=yes_no(monitored),
                phone=phone,
            )


def _member_columns() -> list[tuple[str, float]]:
    return [
        (_("组"), 14),
        (_("户编号"), 20),
        (_("人编号"), 22),
        (_("姓名"), 10),
        (_("性别"), 5),
        (_("与户主关系"), 10),
        (_("证件号码"), 21),
        (_("出生日期"), 11),
        (_("民族"), 8),
        (_("文化程度"), 10),
        (_("在校生状况"), 14),
        (_("健康状况"), 10),
        (_("劳动技能"), 12),
        (_("务工状况"), 14),
        (_("是否低保对象"), 8),
        (_("是否特困供养对象"), 8),
        (_("联系电话"), 14),
    ]


def iter_member_rows(region: Region) -> Iterator[list[Any]]:
    """Active members of active households under ``region``, household by household (one query)."""
    labels = _labels(
        "sex", "relationship", "ethnicity", "education", "school_status", "health", "labour", "work_status"
    )
    rows = (
        Member.objects.active()
        .in_region(region.prefix)
        .filter(household__status=HouseholdStatus.ACTIVE)
        .order_by(
            "village_code",
            F("household__group_id").asc(nulls_first=True),
            "household__household_number",
            "relationship",
            "birth_date",
            "pk",
        )
        .values_list(
            "household__group__name",
            "household__household_number",
            "member_number",
            "name",
            "sex",
            "relationship",
            "id_number",
            "birth_date",
            "ethnicity",
            "education",
            "school_status",
            "health",
            "labour",
            "work_status",
            "is_dibao",
            "is_tekun",
            "phone",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        group, number, member_number, name, sex, rel, id_number, birth = row[:8]
        eth, edu, school, health, labour, work, dibao, tekun, phone = row[8:]
        yield [
            group or "",
            number,
            member_number,
            name,
            _label(labels["sex"], sex),
            _label(labels["relationship"], rel),
            id_number,
            f"{birth:%Y-%m-%d}" if birth else "",
            _label(labels["ethnicity"], eth),
            _label(labels["education"], edu),
            _label(labels["school_status"], school),
            _label(labels["health"], health),
            _label(labels["labour"], labour),
            _label(labels["work_status"], work),
            yes_no(dibao),
            yes_no(tekun),
            phone,
        ]


@dataclass
class VillageSummary:
    code: str
    name: str
    status: str  # 贫困村 / 已出列 / 非贫困村 in the year
    households: int = 0
    population: int = 0
    with_record: int = 0  # households with a record for the year
    by_exit_status: dict[str, int] = field(default_factory=dict)
    by_attribute: dict[str, int] = field(default_factory=dict)
    by_cause: dict[str, int] = field(default_factory=dict)

    def add(self, other: VillageSummary) -> None:
        self.households += other.households
        self.population += other.population
        self.with_record += other.with_record
        for mine, theirs in (
            (self.by_exit_status, other.by_exit_status),
            (self.by_attribute, other.by_attribute),
            (self.by_cause, other.by_cause),
        ):
            for code, n in theirs.items():
                mine[code] = mine.get(code, 0) + n


@dataclass(frozen=True)
class CodeColumns:
    """The code columns of a summary group: codes valid in the year, plus any found in the data."""

    title: str
    codes: list[tuple[str, str]]  # (code, label)


@dataclass(frozen=True)
class TownshipSummary:
    township: Region
    year: int
    villages: list[VillageSummary]
    total: VillageSummary
    groups: list[tuple[str, CodeColumns]]  # (VillageSummary attribute, columns)


def _code_columns(title: str, table: str, year: int, found: set[str]) -> CodeColumns:
    codes = policy.choices(table, year, blank=False)
    known = {c for c, _label in codes}
    all_labels = policy.labels(table)
    extra = [(c, all_labels.get(c, c) if c else _("未填")) for c in sorted(found - known)]
    return CodeColumns(title, codes + extra)


def build_township_summary(township: Region, year: int) -> TownshipSummary:
    """乡有册 summary: one row per village with household counts by 脱贫状态, 属性 and 主要致贫原因
    (grouped queries; the count of queries does not depend on the number of villages or households)."""
    prefix = township.prefix
    flags = poor_village_flags(prefix)
    villages: dict[str, VillageSummary] = {}
    retired: set[str] = set()
    for r in Region.objects.subtree(township).filter(level=RegionLevel.VILLAGE).order_by("code"):
        villages[r.code] = VillageSummary(r.code, r.name, poor_village_status(flags.get(r.code, []), year))
        if r.is_retired:
            retired.add(r.code)

    def village(code: str) -> VillageSummary:
        if code not in villages:  # a household whose village row is missing still counts
            villages[code] = VillageSummary(code=code, name=code, status="")
        return villages[code]

    households = Household.objects.active().in_region(prefix)
    for code, n in households.values_list("village_id").annotate(n=Count("pk")).order_by():
        village(code).households = n
    members = Member.objects.active().in_region(prefix).filter(household__status=HouseholdStatus.ACTIVE)
    for code, n in members.values_list("village_code").annotate(n=Count("pk")).order_by():
        village(code).population = n
    records = HouseholdYear.objects.in_region(prefix).filter(year=year, household__status=HouseholdStatus.ACTIVE)
    found: dict[str, set[str]] = {"by_exit_status": set(), "by_attribute": set(), "by_cause": set()}
    for attr, column in (("by_exit_status", "exit_status"), ("by_attribute", "attribute"), ("by_cause", "main_cause")):
        for code, value, n in records.values_list("village_code", column).annotate(n=Count("pk")).order_by():
            getattr(village(code), attr)[value] = n
            found[attr].add(value)
    for summary in villages.values():
        summary.with_record = sum(summary.by_exit_status.values())
    rows = [v for code, v in sorted(villages.items()) if not (code in retired and v.households == 0)]
    total = VillageSummary(code=township.code, name=_("合计"), status="")
    for v in rows:
        total.add(v)
    groups = [
        ("by_exit_status", _code_columns(_("脱贫状态（户）"), "exit_status", year, found["by_exit_status"])),
        ("by_attribute", _code_columns(_("贫困户属性（户）"), "household_attribute", year, found["by_attribute"])),
        ("by_cause", _code_columns(_("主要致贫原因（户）"), "poverty_cause", year, found["by_cause"])),
    ]
    return TownshipSummary(township=township, year=year, villages=rows, total=total, groups=groups)


# --------------------------------------------------------------------------- XLSX writing (openpyxl write-only)


class _Book:
    """A write-only workbook: rows go to disk as they are appended, so a large township does not sit in
    memory as openpyxl cell objects."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)

    def sheet(self, name: str, title: str, columns: list[tuple[str, float]], *, header_rows: int = 1) -> Any:
        """A sheet with a merged title row, then header row(s) appended by the caller; panes frozen below them."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.worksheet import Worksheet

        ws = self.wb.create_sheet(name)
        for i, (_header, width) in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        last = get_column_letter(len(columns))
        ws.merged_cells.add(f"A1:{last}1")
        ws.freeze_panes = f"A{header_rows + 2}"
        ws.print_title_rows = f"{2}:{header_rows + 1}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.row_dimensions[1].height = 28
        cell = WriteOnlyCell(ws, value=title)
        cell.font = Font(bold=True, size=14)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.append([cell])
        return ws

    def header(self, ws: Any, labels: list[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="999999")
        cells = []
        for text in labels:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cells.append(cell)
        ws.append(cells)

    def save(self, out: IO[bytes]) -> None:
        self.wb.save(out)


def register_title(full_name: str, kind: str, year: int) -> str:
    return _("%(region)s%(kind)s（%(year)s年度）") % {"region": full_name, "kind": kind, "year": year}


def write_village_register(village: Region, year: int, out: IO[bytes]) -> None:
    """村有簿: households of the village (with the year's figures), and their members on a second sheet."""
    book = _Book()
    full_name = village.full_name()
    columns = [(_("序号"), 6), *_household_columns()]
    ws = book.sheet(_("户名册"), register_title(full_name, _("村有簿"), year), columns)
    book.header(ws, [c for c, _w in columns])
    for i, row in enumerate(iter_register_rows(register_households(village), year), 1):
        ws.append([i, *row.values(with_village=False)])

    columns = [(_("序号"), 6), *_member_columns()]
    ws = book.sheet(_("成员名册"), register_title(full_name, _("村有簿·家庭成员"), year), columns)
    book.header(ws, [c for c, _w in columns])
    for i, cells in enumerate(iter_member_rows(village), 1):
        ws.append([i, *cells])
    book.save(out)


def write_township_register(township: Region, year: int, out: IO[bytes]) -> None:
    """乡有册: the township's summary by village, then every household of the township."""
    from openpyxl.utils import get_column_letter

    summary = build_township_summary(township, year)
    full_name = township.full_name()
    book = _Book()
    fixed = [(_("序号"), 6), (_("行政村"), 14), (_("区划代码"), 14), (_("贫困村状态"), 14)]
    fixed += [(_("在册户数"), 8), (_("在册人数"), 8), (_("已录入年度信息户数"), 10)]
    code_columns = [(label, 9.0) for _attr, group in summary.groups for _code, label in group.codes]
    ws = book.sheet(_("村汇总"), register_title(full_name, _("乡有册"), year), fixed + code_columns, header_rows=2)
    # Two header rows: the group titles merged over their code columns, then the code labels.
    top = [label for label, _w in fixed]
    start = len(fixed) + 1
    for _attr, group in summary.groups:
        top += [group.title] + [""] * (len(group.codes) - 1)
        if len(group.codes) > 1:
            ws.merged_cells.add(f"{get_column_letter(start)}2:{get_column_letter(start + len(group.codes) - 1)}2")
        start += len(group.codes)
    for i in range(1, len(fixed) + 1):
        ws.merged_cells.add(f"{get_column_letter(i)}2:{get_column_letter(i)}3")
    book.header(ws, top)
    book.header(ws, [""] * len(fixed) + [label for label, _w in code_columns])

    def counts(v: VillageSummary) -> list[int]:
        return [getattr(v, attr).get(code, 0) for attr, group in summary.groups for code, _label in group.codes]

    for i, v in enumerate(summary.villages, 1):
        ws.append([i, v.name, v.code, v.status, v.households, v.population, v.with_record, *counts(v)])
    t = summary.total
    ws.append(["", t.name, "", "", t.households, t.population, t.with_record, *counts(t)])

    columns = [(_("序号"), 6), (_("行政村"), 14), *_household_columns()]
    ws = book.sheet(_("户名册"), register_title(full_name, _("乡有册·户名册"), year), columns)
    book.header(ws, [c for c, _w in columns])
    for i, row in enumerate(iter_register_rows(register_households(township), year), 1):
        ws.append([i, *row.values(with_village=True)])
    book.save(out)
