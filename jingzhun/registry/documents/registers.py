"""村有簿 (a village's register) and 乡有册 (a township's register): rows and summaries as plain data, and
their XLSX workbooks.

iter_register_rows, iter_member_rows and build_township_summary build the content, with personal data as the
caller's ``Disclosure`` shows it; write_village_register and write_township_register lay it out in a workbook
and say how many households and members they wrote (for the download's audit entry). poor_village_status
(a village's 贫困村 status in a year, from its RegionFlag rows) is here for the 乡有册 and is also shown on the
村情 page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any, NamedTuple

from django.db.models import Count, F, QuerySet
from django.utils.translation import gettext as _

from jingzhun.core.batching import chunked
from jingzhun.core.privacy import Disclosure
from jingzhun.core.tabular import append_row
from jingzhun.policy import services as policy
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind, RegionLevel
from jingzhun.registry.documents.common import code_label, field_labels, yes_no
from jingzhun.registry.models import Household, HouseholdStatus, HouseholdYear, Member

CHUNK = 500  # households per batch in registers: bounded memory, and IN lists far below SQLite's limit


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


# --------------------------------------------------------------------------- register content


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


def iter_register_rows(households: QuerySet[Household], year: int, disclosure: Disclosure) -> Iterator[RegisterRow]:
    """One RegisterRow per household with the ``year`` record's figures; a fixed number of queries per
    CHUNK households (heads, sizes and yearly records are fetched per batch, never per household).

    Rows are read as tuples, not model instances: a township has thousands of households and building
    audited instances (with their audit snapshot) for a read-only export would double the time.
    家庭人口数 is the yearly record's count when there is one (so 人均 = 纯收入 / 人口 on the row), else the
    count of active members now.
    """
    labels = field_labels("attribute", "exit_status", "main_cause")
    rows = households.values_list(
        "pk", "village_id", "village__name", "group__name", "household_number", "exit_year", "is_monitored", "phone"
    )
    for chunk in chunked(rows.iterator(chunk_size=CHUNK), CHUNK):
        ids = [row[0] for row in chunk]
        heads = Member.objects.unscoped().heads_of(ids)  # ids of households read in the region
        sizes = Member.objects.unscoped().sizes_of(ids)
        records = {
            r[0]: r
            for r in HouseholdYear.objects.unscoped()
            .filter(household_id__in=ids, year=year)
            .values_list(
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
                attribute = code_label(labels["attribute"], attribute)
                status = code_label(labels["exit_status"], status)
                other = "、".join(code_label(labels["main_cause"], c) for c in (other_1, other_2) if c)
                cause = code_label(labels["main_cause"], cause)
            yield RegisterRow(
                village_code=village_code,
                village_name=village_name,
                group_name=group_name or "",
                household_number=number,
                head_name=head_name,
                head_id_number=disclosure.id_number(head_id),
                size=size,
                attribute=attribute,
                exit_status=status,
                exit_year=exit_year,
                main_cause=cause,
                other_causes=other,
                net_income=net,
                per_capita_net_income=per_capita,
                is_monitored=yes_no(monitored),
                phone=disclosure.phone(phone),
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


def iter_member_rows(region: Region, disclosure: Disclosure) -> Iterator[list[Any]]:
    """Active members of active households under ``region``, household by household (one query)."""
    labels = field_labels(
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
            code_label(labels["sex"], sex),
            code_label(labels["relationship"], rel),
            disclosure.id_number(id_number),
            f"{birth:%Y-%m-%d}" if birth else "",
            code_label(labels["ethnicity"], eth),
            code_label(labels["education"], edu),
            code_label(labels["school_status"], school),
            disclosure.health(code_label(labels["health"], health)),
            code_label(labels["labour"], labour),
            code_label(labels["work_status"], work),
            yes_no(dibao),
            yes_no(tekun),
            disclosure.phone(phone),
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
        append_row(ws, [cell])
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
        append_row(ws, cells)

    def save(self, out: IO[bytes]) -> None:
        self.wb.save(out)


class RegisterCounts(NamedTuple):
    households: int
    members: int


def register_title(full_name: str, kind: str, year: int) -> str:
    return _("%(region)s%(kind)s（%(year)s年度）") % {"region": full_name, "kind": kind, "year": year}


def write_village_register(village: Region, year: int, out: IO[bytes], *, disclosure: Disclosure) -> RegisterCounts:
    """村有簿: households of the village (with the year's figures), and their members on a second sheet."""
    book = _Book()
    full_name = village.full_name()
    columns = [(_("序号"), 6), *_household_columns()]
    ws = book.sheet(_("户名册"), register_title(full_name, _("村有簿"), year), columns)
    book.header(ws, [c for c, _w in columns])
    households = 0
    for households, row in enumerate(iter_register_rows(register_households(village), year, disclosure), 1):
        append_row(ws, [households, *row.values(with_village=False)])

    columns = [(_("序号"), 6), *_member_columns()]
    ws = book.sheet(_("成员名册"), register_title(full_name, _("村有簿·家庭成员"), year), columns)
    book.header(ws, [c for c, _w in columns])
    members = 0
    for members, cells in enumerate(iter_member_rows(village, disclosure), 1):
        append_row(ws, [members, *cells])
    book.save(out)
    return RegisterCounts(households, members)


def write_township_register(township: Region, year: int, out: IO[bytes], *, disclosure: Disclosure) -> RegisterCounts:
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
        append_row(ws, [i, v.name, v.code, v.status, v.households, v.population, v.with_record, *counts(v)])
    t = summary.total
    append_row(ws, ["", t.name, "", "", t.households, t.population, t.with_record, *counts(t)])

    columns = [(_("序号"), 6), (_("行政村"), 14), *_household_columns()]
    ws = book.sheet(_("户名册"), register_title(full_name, _("乡有册·户名册"), year), columns)
    book.header(ws, [c for c, _w in columns])
    households = 0
    for households, row in enumerate(iter_register_rows(register_households(township), year, disclosure), 1):
        append_row(ws, [households, *row.values(with_village=True)])
    book.save(out)
    return RegisterCounts(households, 0)
