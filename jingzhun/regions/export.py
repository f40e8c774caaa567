"""Export of a region subtree as CSV or XLSX, in a form the importer reads back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db.models import Q
from django.utils.translation import gettext as _

from jingzhun.core.scope import code_prefix_q
from jingzhun.core.tabular import append_row, csv_stream
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind, RegionLevel, not_retired_q

# 代码 / 名称 / 城乡分类代码 are headers the importer recognises, so an export can be edited and re-imported;
# they are a file format, not UI text, and stay untranslated.
HEADERS = ["代码", "名称", "层级", "上级代码", "城乡分类代码", "启用日期", "停用日期", "标识"]
COLUMN_WIDTHS = [16, 24, 6, 16, 12, 12, 12, 48]


def safe_title(value: str, limit: int = 31) -> str:
    """A sheet title or file-name part: Excel refuses []:*?/\\ in titles, file systems refuse / and \\."""
    cleaned = "".join("_" if c in '[]:*?/\\"<>|' or ord(c) < 32 else c for c in value).strip("' ")
    return cleaned[:limit] or "行政区划"


def _flag_text(changes: list[tuple[str, int, bool]]) -> str:
    labels = dict(RegionFlagKind.choices)
    yes, no = _("是"), _("否")
    parts = [
        _("%(flag)s：%(year)d年起%(value)s")
        % {"flag": labels.get(flag, flag), "year": year, "value": yes if value else no}
        for flag, year, value in changes
    ]
    return "；".join(parts)


def export_rows(user: Any, region: Region, *, include_retired: bool = False) -> Iterator[list[str]]:
    """The rows of ``region``'s subtree that ``user`` may see (the region itself first), parents first."""
    regions = Region.objects.visible_to(user).subtree(region)
    if not include_retired:
        # The exported region itself is always listed, even if retired.
        regions = regions.filter(not_retired_q() | Q(code=region.code))
    flags: dict[str, list[tuple[str, int, bool]]] = defaultdict(list)
    flag_rows = (
        RegionFlag.objects.visible_to(user)
        .filter(code_prefix_q("region_id", region.prefix))
        .order_by("region_id", "flag", "year")
        .values_list("region_id", "flag", "year", "value")
    )
    for code, flag, year, value in flag_rows:
        flags[code].append((flag, year, value))
    levels = dict(RegionLevel.choices)
    fields = ("code", "name", "level", "parent_id", "urban_rural_code", "valid_from", "valid_to")
    for code, name, level, parent, urban_rural, valid_from, valid_to in regions.order_by("code").values_list(*fields):
        yield [
            code,
            name,
            str(levels.get(level, level)),
            parent or "",
            urban_rural,
            valid_from.isoformat() if valid_from else "",
            valid_to.isoformat() if valid_to else "",
            _flag_text(flags.get(code, [])),
        ]


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """The export as CSV lines to stream (UTF-8 with a BOM, so Excel on Chinese Windows reads it right)."""
    return csv_stream(HEADERS, rows)


def write_xlsx(rows: Iterable[list[str]], title: str, out: IO[bytes]) -> None:
    """The export as a workbook written to ``out``; openpyxl's write-only mode streams the rows."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=safe_title(title))
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    append_row(sheet, HEADERS)
    for row in rows:
        append_row(sheet, row)  # codes stay strings: Excel shows 431102100201, not 4.31E+11
    workbook.save(out)
