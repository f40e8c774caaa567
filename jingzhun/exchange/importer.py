"""Bulk import of households and members in the template layout: validate every row, then write all or nothing.

Steps (each a function, so the dry run and the commit share every check):

1. read      — sheets from XLSX/CSV (reader.py)
2. parse     — headers matched tolerantly, each cell converted; bad cells become issues at sheet/row/column
3. link      — member rows joined to their household rows (by 户编号, else 户主证件号码), existing records
               looked up set-wise (households by 户编号 or head ID, members by 证件号码)
4. validate  — IDs, one 户主, 家庭人口数 = members, one active household per person, scope
5. plan      — per record: create / update (with the changed fields) / unchanged; each batch of households
               goes to the data-quality rules as it is planned (registry.quality_pool: a helper process
               for large files, which checks while this process writes)
6. write     — one transaction: bulk writes and one audit entry per created or changed record; then the
               rules' findings: a blocking one rolls the write back

Nothing is written when any issue is found; a failure during the write rolls everything back.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import functools
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from jingzhun.audit.models import Action, append_entries, to_audit_value
from jingzhun.core import bulkwrite
from jingzhun.core import codes as region_codes
from jingzhun.core.batching import chunked
from jingzhun.exchange.layout import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_SHEET,
    MEMBER_COLUMNS,
    CellError,
    Column,
    cell_converter,
    cell_text,
    export_value,
    match_headers,
)
from jingzhun.exchange.reader import Sheet, read_files
from jingzhun.policy import services as policy
from jingzhun.policy.income import compute_income
from jingzhun.regions.models import Region
from jingzhun.registry import quality
from jingzhun.registry.idcard import IdNumberError, parse_id_number
from jingzhun.registry.models import HEAD_RELATIONSHIP, Household, HouseholdYear, Member, MemberStatus
from jingzhun.registry.quality_pool import HouseholdInput, QualityChecks
from jingzhun.registry.services import NumberAllocator

Progress = Callable[..., None]
CHUNK = 2000
QUALITY_BATCH = 1000  # households per batch sent to the data-quality rules

HOUSEHOLD_FIELDS = [c.key for c in HOUSEHOLD_COLUMNS if c.target == "household" and c.key != "region_code"]
YEAR_FIELDS = [c.key for c in HOUSEHOLD_COLUMNS if c.target == "year" and c.key != "year"]
MEMBER_FIELDS = [c.key for c in MEMBER_COLUMNS if c.target == "member" and c.key != "member_number"]
DERIVED_YEAR_FIELDS = ["member_count", "total_income", "net_income", "per_capita_net_income"]
# Set on member rows after parsing, from the ID number (birth date, and a 残疾人证号's category and grade).
DERIVED_ROW_KEYS = ["birth_date", "id_type", "disability_category", "disability_grade"]


@dataclass
class Issue:
    """One problem, located where the clerk will look for it."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet} 第 {self.row} 行" if self.row else self.sheet
        column = f"“{self.column}”" if self.column else ""
        value = f"（值：{self.value}）" if self.value else ""
        return f"{where}{column}{value}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


_ABSENT = object()


class RowValues:
    """A parsed row's values: read and written like a dict, stored as one list per row against an index
    of keys shared by every row of the sheet.

    A dict per row cost about 1.6 KB (members) to 3 KB (households) in hash table alone: at 220,000 rows,
    some 400 MB of a 50,000-household import's memory. A key missing from the index (set after parsing)
    goes to a small dict of its own."""

    __slots__ = ("_data", "_extra", "_index")

    def __init__(self, index: dict[str, int], data: list[Any]) -> None:
        self._index = index
        self._data = data
        self._extra: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        i = self._index.get(key)
        if i is not None:
            value = self._data[i]
            if value is not _ABSENT:
                return value
        elif self._extra is not None and key in self._extra:
            return self._extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        i = self._index.get(key)
        if i is not None:
            value = self._data[i]
            return default if value is _ABSENT else value
        return default if self._extra is None else self._extra.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        i = self._index.get(key)
        if i is not None:
            self._data[i] = value
        else:
            if self._extra is None:
                self._extra = {}
            self._extra[key] = value

    def __contains__(self, key: object) -> bool:
        i = self._index.get(key)  # type: ignore[call-overload]
        if i is not None:
            return self._data[i] is not _ABSENT
        return self._extra is not None and key in self._extra

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        self[key] = default
        return default

    def keys(self) -> list[str]:
        found = [k for k, i in self._index.items() if self._data[i] is not _ABSENT]
        return found + list(self._extra or ())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def clear(self) -> None:
        self._index, self._data, self._extra = {}, [], None


Mapping.register(RowValues)  # read as a mapping by the data-quality facts (quality._get)


@dataclass(eq=False)
class RowIn:
    """One parsed row. Only the converted values are kept (not the cells as read): at 200,000 rows the
    cells alone would cost hundreds of MB. A cell that fails to convert is reported with its raw text at
    once; later findings show the value as the sheet would (labels for codes, 是/否 for flags)."""

    sheet: str
    row: int
    values: RowValues | dict[str, Any]
    columns: dict[str, Column]
    member_pk: int | None = None  # set for member rows: the id of the Member it updates or created
    wanted: dict[str, Any] | None = None  # the record's fields as made for the quality rules, for the plan

    def raw_text(self, key: str) -> str:
        column = self.columns.get(key)
        value = self.values.get(key)
        return "" if column is None else str(export_value(column, value))


@dataclass(eq=False)
class HouseholdIn(RowIn):
    members: list[RowIn] = field(default_factory=list)
    kept_members: list[dict[str, Any]] = field(default_factory=list)  # stored members not in the file
    violations: list[Any] = field(default_factory=list)  # data-quality findings (warnings are recorded)
    year_values: dict[str, Any] | None = None  # the yearly record with derived income, once computed
    existing: dict[str, Any] | None = None  # current household fields, when it exists
    village_code: str = ""
    group_code: str | None = None
    number: str = ""
    pk: int | None = None  # the Household's id: the existing one's, or the new one's once written
    changed: bool = False  # the plan creates or changes the household, one of its members or its year


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    households: Counts = field(default_factory=Counts)
    members: Counts = field(default_factory=Counts)
    years: Counts = field(default_factory=Counts)
    issues: list[Issue] = field(default_factory=list)
    committed: bool = False
    rows: int = 0
    warnings: int = 0

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in (self.households, self.members, self.years))

    def summary(self) -> str:
        parts = []
        for label, c in (("户", self.households), ("成员", self.members), ("年度信息", self.years)):
            parts.append(f"{label}：新增 {c.created}，更新 {c.updated}，不变 {c.unchanged}")
        text = "；".join(parts)
        if self.issues:
            text += f"；错误 {len(self.issues)} 处，未写入任何数据"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "households": self.households.as_dict(),
            "members": self.members.as_dict(),
            "years": self.years.as_dict(),
            "issues": [i.as_dict() for i in self.issues[:5000]],
            "issue_count": len(self.issues),
            "committed": self.committed,
            "rows": self.rows,
            "warnings": self.warnings,
            "summary": self.summary(),
        }


class ImportFailed(Exception):
    """Raised inside the write transaction to roll it back (and by jobs, to report the failure)."""

    user_message = True

    def __init__(self, report: ImportReport):
        self.report = report
        self.result = report.as_dict()
        super().__init__(report.summary())


# ---- 2. parse --------------------------------------------------------------------------------------------------


def parse_sheet(sheet: Sheet, columns: tuple[Column, ...], issues: list[Issue]) -> list[RowIn]:
    mapping, missing = match_headers(sheet.headers, columns)
    for header in missing:
        issues.append(Issue(sheet.source, 1, header, "", "缺少必填列"))
    if missing:
        return []
    by_key = {c.key: c for c in mapping.values()}
    # Converters are made per import (they memoise labels, and code tables may change between imports).
    converters = [(position, column.key, cell_converter(column), column) for position, column in mapping.items()]
    # One key index for the sheet's rows: the columns read, then what checking adds (from the ID number).
    index = {key: i for i, key in enumerate(dict.fromkeys([c[1] for c in converters] + DERIVED_ROW_KEYS))}
    width_of_row = len(index)
    year_position = next((p for p, c in mapping.items() if c.key == "year"), None)
    year_converter = cell_converter(by_key["year"]) if "year" in by_key else None
    year_positions = [p for p, c in mapping.items() if c.target == "year"]
    required_with_year = [(p, c) for p, c in mapping.items() if c.required_with_year]
    parsed = []
    for row_number, cells in sheet.rows:
        width = len(cells)
        year = None
        if year_converter is not None and year_position < width:
            try:
                year = year_converter(cells[year_position], None)
            except CellError:
                year = None
        data = [_ABSENT] * width_of_row
        for i, (position, _key, converter, column) in enumerate(converters):
            value = cells[position] if position < width else None
            try:
                data[i] = converter(value, year)
            except CellError as exc:
                issues.append(Issue(sheet.source, row_number, column.header, cell_text(value), str(exc)))
        values = RowValues(index, data)
        if any(p < width and cells[p] not in (None, "") for p in year_positions):
            for p, column in required_with_year:
                if p >= width or cells[p] in (None, ""):
                    issues.append(Issue(sheet.source, row_number, column.header, "", "填写了年度信息时为必填项"))
        parsed.append(RowIn(sheet.source, row_number, values, by_key))
    missing_year = [c.header for c in columns if c.required_with_year and c.key not in by_key]
    if parsed and missing_year and any(c.target == "year" for c in by_key.values()):
        for header in missing_year:
            issues.append(Issue(sheet.source, 1, header, "", "有年度信息列时必须有此列"))
    return parsed


# ---- 3./4. link and validate -----------------------------------------------------------------------------------


def _issue(row: RowIn, key: str, message: str, issues: list[Issue]) -> None:
    column = row.columns.get(key)
    header = column.header if column else key
    issues.append(Issue(row.sheet, row.row, header, row.raw_text(key), message))


def _validate_head_ids(rows: Iterable[RowIn], issues: list[Issue]) -> None:
    """户主证件号码 wherever a row carries it (household sheet, and the member sheet's link column), so a
    mistyped head ID is reported at every cell at once, not one cell per upload. Rows keep the value:
    linking compares it as typed."""
    today = dt.date.today()
    checked: dict[str, str | None] = {}  # number → error message (None: valid); heads repeat on member rows
    for row in rows:
        number = row.values.get("head_id_number")
        if not number:
            continue
        if number not in checked:
            try:
                parse_id_number(number, today=today)
                checked[number] = None
            except IdNumberError as exc:
                checked[number] = str(exc)
        if checked[number] is not None:
            _issue(row, "head_id_number", checked[number], issues)


def _validate_ids(rows: list[RowIn], issues: list[Issue]) -> None:
    """Each member's ID (checksum, birth date) — the birth date is derived from it, never typed."""
    today = dt.date.today()
    for row in rows:
        number = row.values.get("id_number")
        if not number:
            continue
        try:
            info = parse_id_number(number, today=today)
        except IdNumberError as exc:
            _issue(row, "id_number", str(exc), issues)
            row.values["id_number"] = ""
            continue
        row.values["birth_date"] = info.birth_date
        if info.is_disability_certificate:
            row.values.setdefault("disability_category", info.disability_category)
            row.values.setdefault("disability_grade", info.disability_grade)
            if not row.values.get("id_type"):
                row.values["id_type"] = "2"
        elif not row.values.get("id_type"):
            row.values["id_type"] = "1"
        # Sex against the ID is data-quality rule 2_01_004, checked with the other rules (quality_issues).


def _resolve_regions(households: list[HouseholdIn], scope_prefix: str, issues: list[Issue]) -> None:
    wanted: set[str] = set()
    for h in households:
        code = h.values.get("region_code") or ""
        try:
            code = region_codes.normalize_code(code) if code else ""
        except region_codes.CodeError as exc:
            _issue(h, "region_code", str(exc), issues)
            code = ""
        h.values["region_code"] = code
        if code:
            wanted.add(code)
    known: dict[str, int] = {}
    for chunk in chunked(sorted(wanted), CHUNK):
        known.update(Region.objects.filter(code__in=chunk).values_list("code", "level"))
    for h in households:
        code = h.values["region_code"]
        if not code:
            continue
        level = known.get(code)
        if level is None:
            _issue(h, "region_code", "行政区划代码不存在", issues)
        elif level not in (region_codes.Level.VILLAGE, region_codes.Level.GROUP):
            _issue(h, "region_code", "应填写村或村民小组的区划代码", issues)
        elif not code.startswith(scope_prefix):
            _issue(h, "region_code", "该村不在您的管辖范围内", issues)
        else:
            h.village_code = code[:12]
            h.group_code = code if level == region_codes.Level.GROUP else None


def _load_existing(households: list[HouseholdIn], members: list[RowIn]) -> tuple[dict, dict, dict]:
    """Existing households (by number and by head ID) and active members (by ID), queried set-wise."""
    numbers = sorted({h.values["household_number"] for h in households if h.values.get("household_number")})
    numbers += sorted({m.values["household_number"] for m in members if m.values.get("household_number")})
    fields = ["id", "household_number", "village_id", "group_id", "status", *HOUSEHOLD_FIELDS]
    by_number: dict[str, Any] = {}
    stored = StoredRows(fields)
    for chunk in chunked(sorted(set(numbers)), CHUNK):
        for row in stored.load(Household.objects.filter(household_number__in=chunk)):
            by_number[row["household_number"]] = row
    ids = {m.values["id_number"] for m in members if m.values.get("id_number")}
    ids |= {h.values["head_id_number"] for h in households if h.values.get("head_id_number")}
    # Only what linking needs: where each person is now (the full rows of the households being updated
    # are loaded once, by _existing_members).
    by_id: dict[str, dict[str, Any]] = {}
    for chunk in chunked(sorted(ids), CHUNK):
        for row in Member.objects.filter(id_number__in=chunk, status=MemberStatus.ACTIVE).values(
            "id", "id_number", "household_id", "relationship", "name"
        ):
            by_id[row["id_number"]] = row
    # Households found through their head's ID, and any household a member currently belongs to.
    household_ids = {m["household_id"] for m in by_id.values()}
    known_ids = {row["id"] for row in by_number.values()}
    missing = sorted(household_ids - known_ids)
    by_pk = {row["id"]: row for row in by_number.values()}
    for chunk in chunked(missing, CHUNK):
        for row in stored.load(Household.objects.filter(pk__in=chunk)):
            by_pk[row["id"]] = row
            by_number[row["household_number"]] = row
    return by_number, by_pk, by_id


def link_and_validate(
    households: list[HouseholdIn], members: list[RowIn], scope_prefix: str, issues: list[Issue]
) -> dict[int, list[RowIn]]:
    _validate_ids(members, issues)
    _validate_head_ids([*households, *members], issues)
    _resolve_regions(households, scope_prefix, issues)
    by_number, by_pk, by_id = _load_existing(households, members)

    # Which existing household each household row is.
    file_numbers: dict[str, HouseholdIn] = {}
    file_heads: dict[str, HouseholdIn] = {}
    for h in households:
        number = h.values.get("household_number") or ""
        head_id = h.values.get("head_id_number") or ""
        if number:
            if number in file_numbers:
                _issue(h, "household_number", f"户编号重复（与第 {file_numbers[number].row} 行相同）", issues)
                continue
            file_numbers[number] = h
            h.existing = by_number.get(number)
        if head_id:
            if head_id in file_heads:
                _issue(h, "head_id_number", f"户主证件号码重复（与第 {file_heads[head_id].row} 行相同）", issues)
                continue
            file_heads[head_id] = h
        if h.existing is None and head_id in by_id and by_id[head_id]["relationship"] == HEAD_RELATIONSHIP:
            h.existing = by_pk.get(by_id[head_id]["household_id"])
            if number and h.existing and h.existing["household_number"] != number:
                _issue(h, "household_number", f"户主已在户 {h.existing['household_number']} 中，户编号不一致", issues)
        if h.existing is not None:
            h.number = h.existing["household_number"]
            if not h.existing["village_id"].startswith(scope_prefix):
                _issue(h, "region_code", "该户现属村不在您的管辖范围内", issues)
        else:
            h.number = number

    # Member rows to their household rows; a member row may also update a household not in the file.
    seen_ids: dict[str, RowIn] = {}
    orphan_members: dict[int, list[RowIn]] = defaultdict(list)
    for m in members:
        number = m.values.get("household_number") or ""
        head_id = m.values.get("head_id_number") or ""
        id_number = m.values.get("id_number") or ""
        if id_number:
            if id_number in seen_ids:
                _issue(
                    m,
                    "id_number",
                    f"同一人在文件中出现两次（与{seen_ids[id_number].sheet} 第 {seen_ids[id_number].row} 行相同）",
                    issues,
                )
                continue
            seen_ids[id_number] = m
        target = file_numbers.get(number) if number else None
        if target is None and head_id:
            target = file_heads.get(head_id)
        if target is not None:
            target.members.append(m)
            continue
        existing = by_number.get(number) if number else None
        if existing is None and head_id in by_id:
            existing = by_pk.get(by_id[head_id]["household_id"])
        if existing is None:
            _issue(m, "household_number" if number else "head_id_number", "找不到该成员所属的户", issues)
        elif not existing["village_id"].startswith(scope_prefix):
            _issue(m, "household_number", "该户不在您的管辖范围内", issues)
        else:
            orphan_members[existing["id"]].append(m)

    # One active household per person: a member may only be active in the household the row puts them in.
    for h in households:
        own_pk = h.existing["id"] if h.existing else None
        for m in h.members:
            current = by_id.get(m.values.get("id_number") or "")
            if current is not None and current["household_id"] != own_pk:
                other = by_pk.get(current["household_id"], {}).get("household_number", "")
                _issue(m, "id_number", f"此人已在户 {other}（{current['name']}）中在册，同一人只能在一个户中", issues)
    for pk, rows in orphan_members.items():
        for m in rows:
            current = by_id.get(m.values.get("id_number") or "")
            if current is not None and current["household_id"] != pk:
                other = by_pk.get(current["household_id"], {}).get("household_number", "")
                _issue(m, "id_number", f"此人已在户 {other}（{current['name']}）中在册，同一人只能在一个户中", issues)
    return orphan_members


def check_structure(
    households: list[HouseholdIn], existing_members: dict[int, list[dict]], issues: list[Issue]
) -> None:
    """Exactly one 户主, 家庭人口数 = active members after the import, head ID and name agree with the head row."""
    for h in households:
        in_file = {m.values.get("id_number") for m in h.members}
        kept = [e for e in existing_members.get(h.existing["id"], [])] if h.existing else []
        kept = [e for e in kept if e["id_number"] not in in_file]
        h.kept_members = kept
        relationships = [m.values.get("relationship") for m in h.members] + [e["relationship"] for e in kept]
        heads = [m for m in h.members if m.values.get("relationship") == HEAD_RELATIONSHIP]
        head_count = relationships.count(HEAD_RELATIONSHIP)
        if head_count == 0:
            _issue(h, "head_name", "该户没有户主（成员表中与户主关系为“户主”的成员）", issues)
        elif head_count > 1:
            _issue(h, "head_name", f"该户有 {head_count} 名户主，只能有一名", issues)
        size = h.values.get("household_size")
        actual = len(h.members) + len(kept)
        if size is not None and size != actual:
            _issue(h, "household_size", f"家庭人口数为 {size}，但成员为 {actual} 人", issues)
        if len(heads) == 1:
            head = heads[0]
            head_id = h.values.get("head_id_number")
            if head_id and head.values.get("id_number") and head_id != head.values["id_number"]:
                _issue(h, "head_id_number", "户主证件号码与成员表中户主的证件号码不一致", issues)
            if h.values.get("head_name") and head.values.get("name") and h.values["head_name"] != head.values["name"]:
                _issue(h, "head_name", f"户主姓名与成员表中户主姓名“{head.values['name']}”不一致", issues)


def check_member_only_updates(
    orphans: dict[int, list[RowIn]], existing_members: dict[int, list[dict]], issues: list[Issue]
) -> None:
    """Member rows for households not in the household sheet must not leave them with two 户主."""
    for pk, rows in orphans.items():
        in_file = {m.values.get("id_number") for m in rows}
        kept = [e for e in existing_members.get(pk, []) if e["id_number"] not in in_file]
        heads = [m for m in rows if m.values.get("relationship") == HEAD_RELATIONSHIP]
        heads_kept = sum(1 for e in kept if e["relationship"] == HEAD_RELATIONSHIP)
        if heads and len(heads) + heads_kept > 1:
            _issue(heads[0], "relationship", "该户已有户主，一户只能有一名户主", issues)


class StoredRows:
    """Stored rows loaded for comparison, as RowValues sharing one key index, with their short strings
    (codes such as "01", "1") shared too.

    The database driver returns a new string for every cell and ``.values()`` a dict per row: at 170,000
    members that was over 300 MB for rows that are only read and compared."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = list(dict.fromkeys(fields))
        self.index = {name: i for i, name in enumerate(self.fields)}
        self.strings: dict[str, str] = {}

    def load(self, queryset: Any) -> Iterator[RowValues]:
        seen = self.strings
        for values in queryset.values_list(*self.fields):
            data = [
                seen.setdefault(v, v) if v.__class__ is str and len(v) <= 4 else v  # type: ignore[union-attr]
                for v in values
            ]
            yield RowValues(self.index, data)


def _existing_members(household_pks: list[int]) -> dict[int, list[dict]]:
    fields = [
        "id",
        "household_id",
        "member_number",
        "name",
        "relationship",
        "birth_date",
        "disability_category",
        "disability_grade",
        "village_code",
        "status",
    ]
    result: dict[int, list[Any]] = defaultdict(list)
    stored = StoredRows(fields + MEMBER_FIELDS)
    for chunk in chunked(household_pks, CHUNK):
        for row in stored.load(Member.objects.filter(household_id__in=chunk, status=MemberStatus.ACTIVE)):
            result[row["household_id"]].append(row)
    return result


def _existing_years(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    by_household: dict[int, set[int]] = defaultdict(set)
    for pk, year in pairs:
        by_household[pk].add(year)
    fields = ["id", "household_id", "year", *YEAR_FIELDS, *DERIVED_YEAR_FIELDS]
    result = {}
    stored = StoredRows(fields)
    for chunk in chunked(sorted(by_household), CHUNK):
        for row in stored.load(HouseholdYear.objects.filter(household_id__in=chunk)):
            if row["year"] in by_household[row["household_id"]]:
                result[(row["household_id"], row["year"])] = row
    return result


# ---- 5. plan ---------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the write will do. Rows are plain dicts keyed by attname (core.bulkwrite writes them as they
    are); updates carry the full row, with its id, and the changed fields for the audit entry."""

    create_households: list[tuple[dict[str, Any], HouseholdIn]] = field(default_factory=list)
    update_households: list[tuple[dict[str, Any], dict]] = field(default_factory=list)
    # (field values, household row or None, member row, household pk for a member-only update)
    create_members: list[tuple[dict[str, Any], HouseholdIn | None, RowIn, int | None]] = field(default_factory=list)
    update_members: list[tuple[dict[str, Any], dict]] = field(default_factory=list)
    create_years: list[tuple[dict[str, Any], HouseholdIn]] = field(default_factory=list)
    update_years: list[tuple[dict[str, Any], dict, HouseholdIn]] = field(default_factory=list)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        a = Decimal("0") if a in (None, "") and isinstance(b, Decimal) and b == 0 else a
        b = Decimal("0") if b in (None, "") and isinstance(a, Decimal) and a == 0 else b
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return (a if a is not None else "") == (b if b is not None else "")


def _changes(current: dict[str, Any], wanted: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    return {
        f: [to_audit_value(current.get(f)), to_audit_value(wanted[f])]
        for f in fields
        if f in wanted and not _same(current.get(f), wanted[f])
    }


def _year_values(h: HouseholdIn, members: int) -> dict[str, Any]:
    values = {f: h.values[f] for f in YEAR_FIELDS if f in h.values}
    for money in (
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "claims_income",
        "production_expense",
        "compliant_out_of_pocket",
    ):
        if values.get(money) is None:
            values[money] = Decimal("0.00")
    spec = policy.formula_for(h.values["year"], h.village_code)
    result = compute_income(values, members, spec)
    values["member_count"] = members
    values["total_income"] = result.total_income
    values["net_income"] = result.net_income
    values["per_capita_net_income"] = result.per_capita_net_income
    return values


def _member_values(m: RowIn) -> dict[str, Any]:
    values = {f: m.values[f] for f in MEMBER_FIELDS if f in m.values}
    values["birth_date"] = m.values.get("birth_date")
    for extra in ("disability_category", "disability_grade"):
        if extra in m.values:
            values[extra] = m.values[extra]
    for flag in ("receives_medical_assistance", "is_active_military", "is_dibao", "is_tekun"):
        if values.get(flag) is None and flag in values:
            values[flag] = False
    if not values.get("ethnicity"):
        values.pop("ethnicity", None)
    if not values.get("health"):
        values.pop("health", None)
    return values


def _household_values(h: HouseholdIn) -> dict[str, Any]:
    values = {f: h.values[f] for f in HOUSEHOLD_FIELDS if f in h.values and f != "household_number"}
    for flag in (
        "is_military_family",
        "is_only_child",
        "is_two_daughters",
        "is_monitored",
        "in_mutual_fund",
        "in_cooperative",
        "is_relocated",
        "is_whole_household_no_labour",
    ):
        if flag in values and values[flag] is None:
            values[flag] = False
    return values


def make_plan(
    households: list[HouseholdIn],
    orphan_members: dict[int, list[RowIn]],
    existing_members: dict[int, list[dict]],
    each_batch: Callable[[list[HouseholdIn]], None] | None = None,
) -> tuple[Plan, ImportReport]:
    """Plan every record; ``each_batch`` sees the households a batch at a time before they are planned
    (the data-quality rules start on them, and the fields they make are planned without being made twice)."""
    plan = Plan()
    report = ImportReport()
    pairs = [(h.existing["id"], h.values["year"]) for h in households if h.existing and h.values.get("year")]
    existing_years = _existing_years(pairs)
    members_by_id = {row["id_number"]: row for rows in existing_members.values() for row in rows}
    next_numbers = NumberAllocator()

    for batch in chunked(households, QUALITY_BATCH):
        if each_batch is not None:
            each_batch(batch)
        for h in batch:
            _plan_household(h, plan, report, existing_years, members_by_id, next_numbers)
        # The rows' values stay until the data-quality findings are placed (their cells show them).
    for pk, rows in orphan_members.items():
        for m in rows:
            _plan_member(m, None, members_by_id, plan, report, next_numbers, household_pk=pk)
            m.values.clear()  # planned: the plan holds its own copy
    return plan, report


def _plan_household(
    h: HouseholdIn,
    plan: Plan,
    report: ImportReport,
    existing_years: dict[tuple[int, int], dict],
    members_by_id: dict[str, dict],
    next_numbers: NumberAllocator,
) -> None:
    """Plan one household, its members and its yearly record; ``h.changed`` says whether any changes."""
    wanted = h.wanted or _household_values(h)
    h.wanted = None
    location = {"village_id": h.village_code, "group_id": h.group_code}
    if h.existing is None:
        h.number = h.number or next_numbers.household(h.village_code)
        plan.create_households.append(({**wanted, **location, "household_number": h.number}, h))
        report.households.created += 1
        h.changed = True
    else:
        h.pk = h.existing["id"]
        changes = _changes(h.existing, {**wanted, **location}, [*wanted, "village_id", "group_id"])
        if changes:
            # Start from the stored row so fields absent from the sheet keep their values.
            plan.update_households.append(({**h.existing, **wanted, **location}, _named(changes)))
            report.households.updated += 1
            h.changed = True
        else:
            report.households.unchanged += 1
    for m in h.members:
        if _plan_member(m, h, members_by_id, plan, report, next_numbers):
            h.changed = True
    if h.values.get("year"):
        # Computed once, for the quality check; recomputed only for a household that check skipped.
        values = h.year_values or _year_values(h, h.values.get("household_size") or len(h.members))
        current = existing_years.get((h.existing["id"], h.values["year"])) if h.existing else None
        if current is None:
            plan.create_years.append(({**values, "year": h.values["year"], "village_code": h.village_code}, h))
            report.years.created += 1
            h.changed = True
        else:
            changes = _changes(current, values, [*values])
            if changes:
                plan.update_years.append(({**current, **values, "village_code": h.village_code}, changes, h))
                report.years.updated += 1
                h.changed = True
            else:
                report.years.unchanged += 1


def _plan_member(
    m: RowIn,
    h: HouseholdIn | None,
    members_by_id: dict[str, dict],
    plan: Plan,
    report: ImportReport,
    numbers: NumberAllocator,
    household_pk: int | None = None,
) -> bool:
    """Plan one member row; True when it creates or changes the member."""
    values = m.wanted or _member_values(m)
    m.wanted = None
    current = members_by_id.get(m.values.get("id_number") or "")
    if current is None:
        values.update(
            status=MemberStatus.ACTIVE,
            addition_reason=quality.REGISTERED if h and h.existing is None else "9",
            addition_date=dt.date.today(),
            member_number=m.values.get("member_number") or "",
        )
        # Model instances are made a chunk at a time when writing (memory), so keep the values here.
        plan.create_members.append((values, h, m, household_pk))
        report.members.created += 1
        return True
    m.member_pk = current["id"]
    changes = _changes(current, values, [*values])
    if changes:
        plan.update_members.append(({**current, **values, "status": MemberStatus.ACTIVE}, changes))
        report.members.updated += 1
        return True
    report.members.unchanged += 1
    return False


# ---- 6. write --------------------------------------------------------------------------------------------------

# Model field names by attname: audit entries name fields as audited saves do ("village", not "village_id").
_NAMES = {
    model: {f.attname: f.name for f in model._meta.concrete_fields} for model in (Household, Member, HouseholdYear)
}
HOUSEHOLD_AUDIT_FIELDS = ("household_number", "village_id", "group_id", *HOUSEHOLD_FIELDS)
MEMBER_AUDIT_FIELDS = ("member_number", "household_id", *MEMBER_FIELDS, "birth_date")
YEAR_AUDIT_FIELDS = ("household_id", "year", *YEAR_FIELDS, *DERIVED_YEAR_FIELDS)


def _named(changes: dict[str, Any], model: type = Household) -> dict[str, Any]:
    names = _NAMES[model]
    return {names.get(k, k): v for k, v in changes.items()}


def _created_state(row: dict[str, Any], fields: tuple[str, ...], model: type, *, skip_false: bool = False) -> dict:
    """The changes of a create entry, {name: [None, value]}, JSON-stable (append_entries(prepared=True));
    empty values (None, "", and with ``skip_false`` unset flags) are left out."""
    changes = {}
    for attname, name in _named_fields(model, fields):
        value = row.get(attname)
        if value is None or value == "" or (skip_false and value is False):
            continue
        # str, int and bool are JSON-stable as they are: most values, converted without a call.
        changes[name] = [None, value if value.__class__ in _AS_IS else to_audit_value(value)]
    return changes


@functools.cache
def _named_fields(model: type, fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """(attname, the name audit entries use) of the fields: as audited saves name them."""
    names = _NAMES[model]
    return [(f, names[f]) for f in fields]


_AS_IS = frozenset({str, int, bool})


def _audit_row(action: str, object_type: str, pk: Any, repr_: str, region: str, changes: dict) -> dict[str, Any]:
    return {
        "action": action,
        "object_type": object_type,
        "object_id": pk,
        "object_repr": repr_,
        "region_code": region,
        "changes": changes,
    }


def write_plan(plan: Plan, progress: Progress | None = None) -> None:
    """Apply the plan inside the caller's transaction, with one audit entry per created or changed record.

    Rows go in through core.bulkwrite (COPY on PostgreSQL, executemany on SQLite); audit entries are
    appended every few thousand rows, so memory stays flat and the chain is built in the same order."""
    audit: list[dict[str, Any]] = []
    done = 0
    total = (
        len(plan.create_households)
        + len(plan.update_households)
        + len(plan.create_members)
        + len(plan.update_members)
        + len(plan.create_years)
        + len(plan.update_years)
    )

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total, "写入数据库")

    def flush(force: bool = False) -> None:
        """Append the audit entries gathered so far (bounded memory; same transaction, same chain)."""
        if audit and (force or len(audit) >= 5000):
            append_entries(audit, prepared=True)
            audit.clear()

    hh_type = Household.audit_object_type()
    for chunk in chunked(plan.create_households, CHUNK):
        ids = bulkwrite.insert_rows(Household, [row for row, _h in chunk])
        for (row, h), pk in zip(chunk, ids, strict=True):
            h.pk = pk
            changes = _created_state(row, HOUSEHOLD_AUDIT_FIELDS, Household, skip_false=True)
            audit.append(_audit_row(Action.CREATE, hh_type, pk, h.number, h.group_code or h.village_code, changes))
        tick(len(chunk))
        flush()
    if plan.update_households:
        fields = ["village_id", "group_id", *[f for f in HOUSEHOLD_FIELDS if f != "household_number"]]
        for chunk in chunked(plan.update_households, CHUNK):
            bulkwrite.update_rows(Household, fields, [row for row, _c in chunk])
            for row, changes in chunk:
                region = row["group_id"] or row["village_id"]
                audit.append(_audit_row(Action.UPDATE, hh_type, row["id"], row["household_number"], region, changes))
            tick(len(chunk))
            flush()

    # Members: rows are made, written and audited a chunk at a time (memory stays flat).
    def household_of(h: HouseholdIn | None, pk: int | None) -> int:
        if pk is not None:
            return pk
        assert h is not None and h.pk is not None
        return h.pk

    info: dict[int, tuple[str, str]] = {}  # household pk → (户编号, village code)
    for _values, h, _row, pk in plan.create_members:
        if h is not None:
            info[household_of(h, pk)] = (h.number, h.village_code)
    missing = sorted({pk for _v, h, _r, pk in plan.create_members if h is None and pk is not None} - set(info))
    for chunk in chunked(missing, CHUNK):
        for pk, number, village in Household.objects.filter(pk__in=chunk).values_list(
            "id", "household_number", "village_id"
        ):
            info[pk] = (number, village)
    max_numbers = _max_member_numbers(
        {household_of(h, pk) for _v, h, _r, pk in plan.create_members if h is None or h.existing}
    )
    allocator = NumberAllocator()
    m_type = Member.audit_object_type()
    for chunk in chunked(plan.create_members, CHUNK):
        rows = []
        for values, h, _row, pk in chunk:
            household_pk = household_of(h, pk)
            number, village = info[household_pk]
            row = {**values, "household_id": household_pk, "village_code": village}
            if not row.get("member_number"):
                row["member_number"] = allocator.member(number, max_numbers.get(household_pk, ""))
            rows.append(row)
        ids = bulkwrite.insert_rows(Member, rows)
        for (_values, _h, member_row, _pk), row, pk in zip(chunk, rows, ids, strict=True):
            member_row.member_pk = pk
            changes = _created_state(row, MEMBER_AUDIT_FIELDS, Member)
            audit.append(_audit_row(Action.CREATE, m_type, pk, row["name"], row["village_code"], changes))
        tick(len(chunk))
        flush()
    if plan.update_members:
        fields = sorted({f for _m, changes in plan.update_members for f in changes})
        villages = {}
        for chunk in chunked(sorted({row["household_id"] for row, _c in plan.update_members}), CHUNK):
            villages.update(Household.objects.filter(pk__in=chunk).values_list("id", "village_id"))
        for chunk in chunked(plan.update_members, CHUNK):
            for row, _c in chunk:
                row["village_code"] = villages[row["household_id"]]
            bulkwrite.update_rows(Member, [*fields, "village_code"], [row for row, _c in chunk])
            for row, changes in chunk:
                changes = _named(changes, Member)
                audit.append(_audit_row(Action.UPDATE, m_type, row["id"], row["name"], row["village_code"], changes))
            tick(len(chunk))
            flush()

    y_type = HouseholdYear.audit_object_type()
    for chunk in chunked(plan.create_years, CHUNK):
        rows = [{**values, "household_id": h.pk} for values, h in chunk]
        ids = bulkwrite.insert_rows(HouseholdYear, rows)
        for (_values, h), row, pk in zip(chunk, rows, ids, strict=True):
            changes = _created_state(row, YEAR_AUDIT_FIELDS, HouseholdYear)
            repr_ = f"{h.number} {row['year']}年"  # as HouseholdYear.__str__
            audit.append(_audit_row(Action.CREATE, y_type, pk, repr_, row["village_code"], changes))
        tick(len(chunk))
        flush()
    if plan.update_years:
        fields = sorted({f for _r, changes, _h in plan.update_years for f in changes})
        for chunk in chunked(plan.update_years, CHUNK):
            bulkwrite.update_rows(HouseholdYear, [*fields, "village_code"], [row for row, _c, _h in chunk])
            for row, changes, h in chunk:
                repr_ = f"{h.number} {row['year']}年"
                audit.append(_audit_row(Action.UPDATE, y_type, row["id"], repr_, row["village_code"], changes))
            tick(len(chunk))
            flush()
    flush(force=True)


def _max_member_numbers(household_pks: set[int]) -> dict[int, str]:
    result: dict[int, str] = {}
    for chunk in chunked(sorted(pk for pk in household_pks if pk), CHUNK):
        rows = Member.objects.filter(household_id__in=chunk).values("household_id").annotate(m=Max("member_number"))
        result.update({row["household_id"]: row["m"] for row in rows})
    return result


# ---- the whole run ---------------------------------------------------------------------------------------------


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None


def _return_freed_memory() -> None:
    """Hand the heap pages freed so far back to the operating system.

    A loaded sheet lives in calamine's own (Rust) memory and its cells in many small Python objects;
    once parsed they are freed, but glibc keeps the pages for reuse, so the process would stay as large
    as at its peak for the rest of the import (about 120 MB more at 50,000 households)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while an import runs.

    An import builds millions of small containers that all stay alive until it ends (rows, values,
    audit changes). Each full collection walks every one of them, and allocation keeps triggering
    collections: measured on 50,000 households, about a third of the run went to the collector and
    freed nothing. Reference counting still frees everything the import drops; the import's own
    structures form no cycles, and the collector runs as usual once it is re-enabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_import(
    files: list[tuple[str, bytes]],
    *,
    scope_prefix: str,
    commit: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, check and (when ``commit`` and there is no issue) write. Returns the report either way."""
    with _cyclic_gc_paused():
        return _run_import(files, scope_prefix=scope_prefix, commit=commit, progress=progress)


def _run_import(
    files: list[tuple[str, bytes]],
    *,
    scope_prefix: str,
    commit: bool,
    progress: Progress | None,
) -> ImportReport:
    issues: list[Issue] = []
    if progress:
        progress(0, None, "读取文件")
    household_rows: list[HouseholdIn] = []
    member_rows: list[RowIn] = []
    for sheet in read_files(files):  # each sheet is parsed, then released, before the next is loaded
        if sheet.role == HOUSEHOLD_SHEET:
            for row in parse_sheet(sheet, HOUSEHOLD_COLUMNS, issues):
                household_rows.append(HouseholdIn(row.sheet, row.row, row.values, row.columns))
        else:
            member_rows += parse_sheet(sheet, MEMBER_COLUMNS, issues)
        if progress:
            progress(len(household_rows) + len(member_rows), None, "检查数据")
        del sheet  # let the parsed sheet's cells go before the next sheet loads
        _return_freed_memory()
    total_rows = len(household_rows) + len(member_rows)
    if progress:
        progress(total_rows // 3, total_rows, "核对已有数据")
    orphan_members = link_and_validate(household_rows, member_rows, scope_prefix, issues)
    existing_pks = [h.existing["id"] for h in household_rows if h.existing] + list(orphan_members)
    existing_members = _existing_members(existing_pks)
    check_structure(household_rows, existing_members, issues)
    check_member_only_updates(orphan_members, existing_members, issues)
    if progress:
        progress(total_rows // 2, total_rows, "数据质量检查")
    # Unless another issue already stops the file, the rules run in a helper process while the rows are
    # written, and a blocking finding rolls the write back; otherwise (a dry run, a file with issues)
    # the helper and this process share the households.
    will_write = commit and not issues
    helper = len(household_rows) >= settings.IMPORT_QUALITY_HELPER_MIN_HOUSEHOLDS
    with QualityChecks(helper=helper) as checks:
        send = quality_sender(checks, share=not will_write)
        plan, report = make_plan(household_rows, orphan_members, existing_members, send)
        report.rows = total_rows
        findings = QualityFindings(household_rows, checks, issues)
        if not will_write:
            findings.collect(wait=True)
            report.issues = sorted(issues + findings.blocking, key=lambda i: (i.sheet, i.row or 0))
            return report
        del member_rows

        def write_progress(done: int, total: int, message: str = "") -> None:
            findings.collect(wait=False)  # release the rows already checked as the write goes on
            if progress:
                progress(total_rows // 2 + done * (total_rows - total_rows // 2) // max(total, 1), total_rows, message)

        try:
            with transaction.atomic():
                write_plan(plan, write_progress)
                if progress:
                    progress(total_rows, total_rows, "数据质量检查")
                findings.collect(wait=True)
                if findings.blocking:
                    raise _Blocked
                report.warnings = record_warnings(household_rows)
        except _Blocked:
            report.issues = sorted(findings.blocking, key=lambda i: (i.sheet, i.row or 0))
            return report
    _return_freed_memory()
    report.committed = True
    if progress:
        progress(total_rows, total_rows, "完成")
    return report


class _Blocked(Exception):
    """A data-quality finding blocks a file whose rows were already being written: roll them back."""


def quality_input(h: HouseholdIn, numbers: quality.PolicyNumbers) -> HouseholdInput:
    """What the data-quality rules read of one imported household, as it will be after the import."""
    h.wanted = _household_values(h)
    data = {**(h.existing or {}), **h.wanted, "village_id": h.village_code}
    members = []
    for m in h.members:
        m.wanted = _member_values(m)
        members.append({**m.wanted, "name": m.values.get("name", "")})
    members += [{k: e[k] for k in e} for e in h.kept_members]  # stored members not in the file
    year = None
    if h.values.get("year"):
        h.year_values = _year_values(h, h.values.get("household_size") or len(h.members))
        year = numbers.year_facts({**h.year_values, "year": h.values["year"]}, h.village_code)
    return data, members, year, quality.reference_date(h.values.get("year"))


def quality_sender(checks: QualityChecks, *, share: bool) -> Callable[[list[HouseholdIn]], None]:
    """make_plan's ``each_batch``: send a batch of households to the data-quality rules. With ``share``
    every other batch is checked here at once, so this process and the helper work side by side."""
    numbers = quality.PolicyNumbers()
    sent = 0

    def send(batch: list[HouseholdIn]) -> None:
        nonlocal sent
        inputs = [quality_input(h, numbers) for h in batch if h.village_code]
        if inputs:
            checks.add(inputs, here=share and sent % 2 == 1)
            sent += 1

    return send


class QualityFindings:
    """The data-quality rules' findings on the imported households, placed as their batches come back.

    Error-level findings are placed at the member's or household's cell (unless that cell already has an
    error) and block the file if their household is created or changed: a household the file leaves
    exactly as stored does not block it over a problem it already has (it stays on the 数据质量 pages).
    All findings stay on the household and are recorded after the commit. Once a household's findings
    are placed its rows' values are released (they were kept to show the cells' values)."""

    def __init__(self, households: list[HouseholdIn], checks: QualityChecks, issues: list[Issue]) -> None:
        self._households = iter([h for h in households if h.village_code])
        self._checks = checks
        self._taken = {(i.sheet, i.row, i.column) for i in issues}
        self.blocking: list[Issue] = []

    def collect(self, *, wait: bool) -> None:
        """Place the findings that are back (with ``wait``: all of them)."""
        for violations in self._checks.results(wait=wait):
            h = next(self._households)
            h.violations = violations
            for v in violations:
                if v.is_error:
                    self._place(h, v)
            h.values.clear()
            for m in h.members:
                m.values.clear()

    def _place(self, h: HouseholdIn, v: quality.Violation) -> None:
        if v.member_index is not None and v.member_index < len(h.members):
            row: RowIn = h.members[v.member_index]
            key = v.field if v.field in row.columns else "id_number"
        else:
            row, key = h, v.field if v.field in h.columns else "head_name"
        column = row.columns.get(key)
        header = column.header if column else key
        if (row.sheet, row.row, header) in self._taken:
            return
        self._taken.add((row.sheet, row.row, header))
        if h.changed:
            message = f"{v.message}（规则 {v.rule_code}）"
            self.blocking.append(Issue(row.sheet, row.row, header, row.raw_text(key), message))


def record_warnings(households: list[HouseholdIn]) -> int:
    """After the write: the households' data-quality warnings replace their recorded issues (a new
    household has none to replace)."""
    from jingzhun.registry.models import QualityIssue

    rows = []
    existing_ids = []
    for h in households:
        if h.pk is None:
            continue
        if h.existing is not None:
            existing_ids.append(h.pk)
        # Findings name members by their place in the household; now the rows are written, by their id.
        member_ids = [m.member_pk for m in h.members] + [e["id"] for e in h.kept_members]
        violations = [
            v if v.member_index is None else replace(v, member_id=member_ids[v.member_index]) for v in h.violations
        ]
        rows += quality.issue_rows(h.pk, h.village_code, violations)
    for chunk in chunked(existing_ids, CHUNK):
        QualityIssue.objects.filter(household_id__in=chunk).delete()
    QualityIssue.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
