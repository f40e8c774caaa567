"""Import of the region table (行政区划) from CSV or XLSX: validate everything, then write all or nothing.

The steps are separate so the upload page can preview (``dry_run``) with the same checks the real
import makes: read → parse (codes, names, duplicates) → orphans → plan (create / update / unchanged,
scope) → apply (bulk writes and one audit entry per created or changed region, in one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingzhun.audit.bulk import AuditBatch
from jingzhun.audit.models import diff_states
from jingzhun.core import bulkwrite, codes
from jingzhun.core.batching import chunked
from jingzhun.core.tabular import Table, TableError, find_column, read_table
from jingzhun.regions.models import Region, UrbanRuralCode

CODE_HEADERS = ("code", "代码", "统计用区划代码", "区划代码")
NAME_HEADERS = ("name", "名称")
URBAN_RURAL_HEADERS = ("城乡分类代码", "urban_rural_code", "城乡分类")
VALID_URBAN_RURAL = {c.value for c in UrbanRuralCode}
NAME_MAX_LENGTH = Region._meta.get_field("name").max_length or 100


@dataclass
class RegionRow:
    line: int
    code: str
    name: str
    urban_rural_code: str = ""


@dataclass
class LineError:
    """A problem with one line of the file; ``line`` is None for the file as a whole."""

    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return _("文件：%(message)s") % {"message": self.message}
        return _("第 %(line)d 行：%(message)s") % {"line": self.line, "message": self.message}


@dataclass
class RowChange:
    """An existing region the import changes, for the preview: {field: [before, after]}."""

    line: int
    code: str
    name: str
    changes: dict[str, list[Any]]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)
    # Not errors: facts the administrator should know before confirming (e.g. a retired code reappears).
    warnings: list[LineError] = field(default_factory=list)
    changes: list[RowChange] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class RegionImportError(Exception):
    def __init__(self, errors: list[LineError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class ImportPlan:
    """What applying ``rows`` would do to the database as it is now."""

    to_create: list[RegionRow] = field(default_factory=list)
    to_update: list[tuple[RegionRow, dict[str, Any], dict[str, list[Any]]]] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[LineError] = field(default_factory=list)

    def result(self, *, dry_run: bool = False) -> ImportResult:
        return ImportResult(
            created=len(self.to_create),
            updated=len(self.to_update),
            unchanged=self.unchanged,
            warnings=list(self.warnings),
            changes=[RowChange(row.line, row.code, row.name, changes) for row, _after, changes in self.to_update],
            dry_run=dry_run,
        )


def _in_chunk_size() -> int:
    # Django does not split long IN lists; SQLite refuses more than its variable limit in one statement.
    limit = connection.features.max_query_params
    return min(limit - 10, 5000) if limit else 5000


def parse_table(table: Table) -> tuple[list[RegionRow], list[LineError]]:
    """Rows with normalised codes, and an error for every malformed, duplicated or unnamed row."""
    code_col = find_column(table.headers, CODE_HEADERS)
    name_col = find_column(table.headers, NAME_HEADERS)
    if code_col is None or name_col is None:
        missing = []
        if code_col is None:
            missing.append(_("代码列（code / 代码 / 统计用区划代码 / 区划代码）"))
        if name_col is None:
            missing.append(_("名称列（name / 名称）"))
        return [], [LineError(1, _("表头缺少%(columns)s") % {"columns": _("和").join(missing)})]
    ur_col = find_column(table.headers, URBAN_RURAL_HEADERS)
    rows: list[RegionRow] = []
    errors: list[LineError] = []
    first_line: dict[str, int] = {}
    for line, cells in table.rows:
        raw_code = cells[code_col] if code_col < len(cells) else ""
        name = cells[name_col].strip() if name_col < len(cells) else ""
        try:
            code = codes.normalize_code(raw_code)
        except codes.CodeError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        # Registered before the other checks so a duplicate of a faulty line is still named as one.
        if code in first_line:
            errors.append(
                LineError(
                    line,
                    _("区划代码 %(code)s 重复（与第 %(first)d 行相同）") % {"code": code, "first": first_line[code]},
                )
            )
            continue
        first_line[code] = line
        if not name:
            errors.append(LineError(line, _("区划代码 %(code)s 缺少名称") % {"code": code}))
            continue
        if len(name) > NAME_MAX_LENGTH:
            errors.append(
                LineError(line, _("名称过长（%(n)d 字，最多 %(max)d 字）") % {"n": len(name), "max": NAME_MAX_LENGTH})
            )
            continue
        urban_rural = cells[ur_col].strip() if ur_col is not None and ur_col < len(cells) else ""
        if urban_rural and urban_rural not in VALID_URBAN_RURAL:
            errors.append(LineError(line, _("城乡分类代码“%(value)s”无效") % {"value": urban_rural}))
            continue
        rows.append(RegionRow(line=line, code=code, name=name, urban_rural_code=urban_rural))
    return rows, errors


def _existing_codes(candidates: Iterable[str]) -> set[str]:
    wanted = sorted(set(candidates))
    found: set[str] = set()
    for chunk in chunked(wanted, _in_chunk_size()):
        found.update(Region.objects.unscoped().filter(code__in=chunk).values_list("code", flat=True))
    return found


def find_orphans(rows: list[RegionRow]) -> list[LineError]:
    """Rows whose parent is neither in the file nor already in the database."""
    in_file = {r.code for r in rows}
    parent_of = {r.code: codes.parent_code(r.code) for r in rows}
    missing = {p for p in parent_of.values() if p is not None and p not in in_file}
    existing = _existing_codes(missing) if missing else set()
    errors = []
    for r in rows:
        parent = parent_of[r.code]
        if parent is not None and parent not in in_file and parent not in existing:
            message = _("区划代码 %(code)s（%(name)s）的上级 %(parent)s 不存在")
            errors.append(LineError(r.line, message % {"code": r.code, "name": r.name, "parent": parent}))
    return errors


def plan_rows(rows: list[RegionRow], *, within: str | None = None) -> tuple[ImportPlan, list[LineError]]:
    """Sort ``rows`` into creates, updates and unchanged against the database, reading only.

    ``within`` is the code prefix the importing user may change ('' = everywhere, None = no user, as for
    the command). Rows outside it that would create or change a region are errors; unchanged rows outside
    it (the ancestors a county file usually repeats) are fine.
    """
    plan = ImportPlan()
    errors: list[LineError] = []
    existing: dict[str, tuple[str, str, dt.date | None]] = {}
    wanted = [r.code for r in rows]
    for chunk in chunked(wanted, _in_chunk_size()):
        for code, name, urban_rural, valid_to in (
            Region.objects.unscoped().filter(code__in=chunk).values_list("code", "name", "urban_rural_code", "valid_to")
        ):
            existing[code] = (name, urban_rural, valid_to)
    today = dt.date.today()
    for row in sorted(rows, key=lambda r: (len(codes.prefix_of(r.code)), r.code)):
        current = existing.get(row.code)
        if current is None:
            if within is not None and not row.code.startswith(within):
                message = _("区划代码 %(code)s 不在您的管辖范围内，不能新增")
                errors.append(LineError(row.line, message % {"code": row.code}))
                continue
            plan.to_create.append(row)
            continue
        name, urban_rural, valid_to = current
        before = {"name": name, "urban_rural_code": urban_rural}
        # An empty 城乡分类代码 cell keeps the stored one: most tables do not carry the column.
        after = {"name": row.name, "urban_rural_code": row.urban_rural_code or urban_rural}
        changes = diff_states(before, after)
        if not changes:
            plan.unchanged += 1
            continue
        if within is not None and not row.code.startswith(within):
            message = _("区划代码 %(code)s 不在您的管辖范围内，不能修改")
            errors.append(LineError(row.line, message % {"code": row.code}))
            continue
        if valid_to is not None and valid_to <= today:
            plan.warnings.append(
                LineError(
                    row.line,
                    _("区划代码 %(code)s 已于 %(date)s 停用；导入只更新名称，不恢复启用")
                    % {"code": row.code, "date": valid_to.isoformat()},
                )
            )
        plan.to_update.append((row, after, changes))
    return plan, errors


def apply_plan(plan: ImportPlan) -> ImportResult:
    """Write a plan in one transaction, parents before children, with one audit entry per written region."""
    now = timezone.now()
    with transaction.atomic(), AuditBatch() as audit:
        new_regions = []
        for row in plan.to_create:  # already ordered parents first
            level = codes.level_of(row.code)
            parent = codes.parent_code(row.code)
            new_regions.append(
                Region(
                    code=row.code,
                    name=row.name,
                    level=level,
                    parent_id=parent,
                    urban_rural_code=row.urban_rural_code,
                    created_at=now,
                    updated_at=now,
                )
            )
            state: dict[str, Any] = {"name": row.name, "level": int(level), "parent": parent}
            if row.urban_rural_code:
                state["urban_rural_code"] = row.urban_rural_code
            audit.created(Region, row.code, row.name, row.code, diff_states(None, state))
        Region.objects.bulk_create(new_regions, batch_size=2000)
        if plan.to_update:
            rows = [{"code": row.code, **after} for row, after, _changes in plan.to_update]
            bulkwrite.update_rows(Region, ["name", "urban_rural_code"], rows)
            for row, _after, changes in plan.to_update:
                audit.updated(Region, row.code, row.name, row.code, changes)
    return plan.result()


def apply_rows(rows: list[RegionRow]) -> ImportResult:
    """Create or update ``rows`` (already validated) in one transaction; used by the demo loader too."""
    with transaction.atomic():
        plan, errors = plan_rows(rows)
        if errors:  # only scope errors come from plan_rows, and there is no scope here
            raise RegionImportError(errors)
        return apply_plan(plan)


def import_regions(
    data: bytes | IO[bytes] | Path,
    filename: str = "",
    *,
    dry_run: bool = False,
    within: str | None = None,
) -> ImportResult:
    """Read, validate and (unless ``dry_run``) apply a region file. Any error: nothing is written.

    ``within`` limits creates and updates to a user's subtree (see ``plan_rows``); the command passes None.
    """
    try:
        table = read_table(data, filename)
    except TableError as exc:
        return ImportResult(errors=[LineError(None, str(exc))], dry_run=dry_run)
    rows, errors = parse_table(table)
    if not rows and not errors:
        return ImportResult(errors=[LineError(None, _("文件中没有数据行"))], dry_run=dry_run)
    if dry_run:
        return _check_and_plan(rows, errors, within, dry_run=True)
    # Validation and writes share one transaction, so the checks hold for what is written.
    try:
        with transaction.atomic():
            return _check_and_plan(rows, errors, within, dry_run=False)
    except IntegrityError:
        # Another import or edit committed the same codes after our checks read the table (PostgreSQL
        # reads committed data; SQLite's immediate transactions serialise instead). The savepoint is
        # rolled back, so nothing of this file is written.
        return ImportResult(errors=[LineError(None, _("导入期间区划表被其他操作修改，未写入任何数据，请重试"))])


def _check_and_plan(
    rows: list[RegionRow], errors: list[LineError], within: str | None, *, dry_run: bool
) -> ImportResult:
    errors = errors + find_orphans(rows)
    plan, scope_errors = plan_rows(rows, within=within)
    errors += scope_errors
    if errors:
        errors.sort(key=lambda e: (e.line or 0, e.message))
        return ImportResult(errors=errors, dry_run=dry_run)
    if dry_run:
        return plan.result(dry_run=True)
    return apply_plan(plan)
