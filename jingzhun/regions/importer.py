"""Import of the region table (行政区划) from CSV or XLSX: validate everything, then write all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.db import transaction

from jingzhun.audit.models import Action, append_entries, diff_states
from jingzhun.core.tabular import Table, find_column, read_table
from jingzhun.regions import codes
from jingzhun.regions.models import Region, UrbanRuralCode

CODE_HEADERS = ("code", "代码", "统计用区划代码", "区划代码")
NAME_HEADERS = ("name", "名称")
URBAN_RURAL_HEADERS = ("城乡分类代码", "urban_rural_code", "城乡分类")
VALID_URBAN_RURAL = {c.value for c in UrbanRuralCode}


@dataclass
class RegionRow:
    line: int
    code: str
    name: str
    urban_rural_code: str = ""


@dataclass
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RegionImportError(Exception):
    def __init__(self, errors: list[LineError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def parse_table(table: Table) -> tuple[list[RegionRow], list[LineError]]:
    """Rows with normalised codes, and an error for every malformed, duplicated or unnamed row."""
    code_col = find_column(table.headers, CODE_HEADERS)
    name_col = find_column(table.headers, NAME_HEADERS)
    if code_col is None or name_col is None:
        missing = "代码列（code/代码/统计用区划代码/区划代码）" if code_col is None else "名称列（name/名称）"
        return [], [LineError(1, f"表头缺少{missing}")]
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
        if not name:
            errors.append(LineError(line, f"区划代码 {code} 缺少名称"))
            continue
        if len(name) > 100:
            errors.append(LineError(line, f"名称过长（{len(name)} 字，最多 100 字）"))
            continue
        if code in first_line:
            errors.append(LineError(line, f"区划代码 {code} 重复（与第 {first_line[code]} 行相同）"))
            continue
        first_line[code] = line
        urban_rural = cells[ur_col].strip() if ur_col is not None and ur_col < len(cells) else ""
        if urban_rural and urban_rural not in VALID_URBAN_RURAL:
            errors.append(LineError(line, f"城乡分类代码“{urban_rural}”无效"))
            continue
        rows.append(RegionRow(line=line, code=code, name=name, urban_rural_code=urban_rural))
    return rows, errors


def find_orphans(rows: list[RegionRow]) -> list[LineError]:
    """Rows whose parent is neither in the file nor already in the database."""
    in_file = {r.code for r in rows}
    parents = {codes.parent_code(r.code) for r in rows} - in_file - {None}
    existing = set(Region.objects.filter(code__in=parents).values_list("code", flat=True)) if parents else set()
    errors = []
    for r in rows:
        parent = codes.parent_code(r.code)
        if parent is not None and parent not in in_file and parent not in existing:
            errors.append(LineError(r.line, f"区划代码 {r.code}（{r.name}）的上级 {parent} 不存在"))
    return errors


def apply_rows(rows: list[RegionRow]) -> ImportResult:
    """Create or update regions in one transaction, parents before children, with one audit entry each."""
    result = ImportResult()
    rows = sorted(rows, key=lambda r: (codes.level_of(r.code), r.code))
    with transaction.atomic():
        existing = {
            r.code: r
            for r in Region.objects.filter(code__in=[r.code for r in rows]).only(
                "code", "name", "urban_rural_code", "level", "parent"
            )
        }
        to_create: list[Region] = []
        to_update: list[Region] = []
        audit_rows = []
        for row in rows:
            current = existing.get(row.code)
            if current is None:
                region = Region(
                    code=row.code,
                    name=row.name,
                    level=codes.level_of(row.code),
                    parent_id=codes.parent_code(row.code),
                    urban_rural_code=row.urban_rural_code,
                )
                to_create.append(region)
                state = {"name": region.name, "level": region.level, "parent": region.parent_id}
                if region.urban_rural_code:
                    state["urban_rural_code"] = region.urban_rural_code
                audit_rows.append(_audit_row(Action.CREATE, region, diff_states(None, state)))
                continue
            before = {"name": current.name, "urban_rural_code": current.urban_rural_code}
            after = {"name": row.name, "urban_rural_code": row.urban_rural_code or current.urban_rural_code}
            changes = diff_states(before, after)
            if not changes:
                result.unchanged += 1
                continue
            current.name = after["name"]
            current.urban_rural_code = after["urban_rural_code"]
            to_update.append(current)
            audit_rows.append(_audit_row(Action.UPDATE, current, changes))
        Region.objects.bulk_create(to_create, batch_size=2000)
        Region.objects.bulk_update(to_update, ["name", "urban_rural_code"], batch_size=2000)
        append_entries(audit_rows)
        result.created = len(to_create)
        result.updated = len(to_update)
    return result


def _audit_row(action: str, region: Region, changes: dict) -> dict:
    return {
        "action": action,
        "object_type": Region.audit_object_type(),
        "object_id": region.code,
        "object_repr": region.name,
        "region_code": region.code,
        "changes": changes,
    }


def import_regions(data: bytes | IO[bytes] | Path, filename: str = "", *, dry_run: bool = False) -> ImportResult:
    """Read, validate and (unless ``dry_run``) apply a region file. Any error: nothing is written."""
    table = read_table(data, filename)
    rows, errors = parse_table(table)
    errors += find_orphans(rows)
    if errors:
        errors.sort(key=lambda e: e.line)
        return ImportResult(errors=errors)
    if dry_run:
        with transaction.atomic():
            result = apply_rows(rows)
            transaction.set_rollback(True)
        return result
    return apply_rows(rows)
