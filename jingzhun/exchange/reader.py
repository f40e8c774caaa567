"""Reading import files: XLSX sheets (python-calamine, fast and streaming-friendly) and CSV in UTF-8 or GBK,
each within the limits of a read (core.tabular.TableLimits), checked before anything is loaded."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jingzhun.core.tabular import TABLE_LIMITS, TableError, TableLimits, decode_bytes
from jingzhun.core.xlsx_guard import check_xlsx
from jingzhun.exchange.layout import (
    CODE_LISTS_SHEET,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_SHEET,
    INSTRUCTIONS_SHEET,
    MEMBER_COLUMNS,
    MEMBER_SHEET,
    header_index,
    normalise_header,
)


@dataclass
class Sheet:
    """One sheet of input: its role (户信息 or 成员信息), the file it came from, headers and data rows.

    ``rows`` is an iterator over (row number as the user sees it, cells) that reads the file as it goes,
    so a 200,000-row sheet is never held twice in memory; it can be consumed once.
    """

    role: str
    source: str
    headers: list[Any]
    rows: Iterator[tuple[int, list[Any]]]


def _role_from_headers(headers: list[Any]) -> str | None:
    normalised = {normalise_header(h) for h in headers}
    hh = len(normalised & set(header_index(HOUSEHOLD_COLUMNS)))
    mm = len(normalised & set(header_index(MEMBER_COLUMNS)))
    if max(hh, mm) < 3:
        return None
    # Both sheets share 户编号/户主证件号码/联系电话; the member sheet alone has 姓名 and 与户主关系.
    if "与户主关系" in normalised or "姓名" in normalised:
        return MEMBER_SHEET
    return HOUSEHOLD_SHEET


def _data_rows(raw: Iterator[list[Any]], rows_before: int = 0) -> tuple[list[Any], Iterator[tuple[int, list[Any]]]]:
    """The first non-empty row as headers, and a lazy iterator over the non-empty rows after it.

    ``rows_before`` counts the sheet rows above the first one ``raw`` yields (calamine starts at the first
    used row), so row numbers match what the user sees in Excel."""
    iterator = iter(raw)
    headers: list[Any] = []
    row_number = rows_before
    for cells in iterator:
        row_number += 1
        if any(c not in (None, "") for c in cells):
            headers = list(cells)
            break

    def rows(start: int) -> Iterator[tuple[int, list[Any]]]:
        number = start
        for cells in iterator:
            number += 1
            if any(c not in (None, "") for c in cells):
                yield number, cells

    return headers, rows(row_number)


def read_xlsx(data: bytes, source: str, limits: TableLimits = TABLE_LIMITS) -> Iterator[Sheet]:
    """The workbook's household and member sheets, loaded one at a time: the caller parses each sheet
    before the next is read, so two large sheets are never in memory together."""
    from python_calamine import CalamineWorkbook

    try:
        check_xlsx(data, limits)  # before calamine allocates anything
    except TableError as exc:
        raise type(exc)(f"{source}：{exc}") from exc
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own types for corrupt or encrypted files
        raise TableError(f"{source}：无法读取 Excel 文件（{exc}）") from exc
    for name in workbook.sheet_names:
        if name in (INSTRUCTIONS_SHEET, CODE_LISTS_SHEET):
            continue  # the template's own sheets: its code lists are headed like member columns
        try:
            loaded = workbook.get_sheet_by_name(name)
        except Exception as exc:
            raise TableError(f"{source}·{name}：无法读取工作表（{exc}）") from exc
        # calamine yields rows from the top of the sheet (leading empty rows included), so numbers match Excel.
        headers, rows = _data_rows(loaded.iter_rows())
        role = name if name in (HOUSEHOLD_SHEET, MEMBER_SHEET) else _role_from_headers(headers)
        if role is not None:
            yield Sheet(role=role, source=f"{source}·{name}", headers=headers, rows=rows)
        del rows


def read_csv(data: bytes, source: str, limits: TableLimits = TABLE_LIMITS) -> list[Sheet]:
    text, _encoding = decode_bytes(data)
    try:
        limits.check_csv_text(text)
    except TableError as exc:
        raise type(exc)(f"{source}：{exc}") from exc
    headers, rows = _data_rows(limits.checked_rows(csv.reader(io.StringIO(text, newline=""))))
    role = _role_from_headers(headers)
    if role is None:
        raise TableError(f"{source}：无法识别表头，请使用导入模板（户信息或成员信息）")
    return [Sheet(role=role, source=source, headers=headers, rows=rows)]


def read_files(files: list[tuple[str, bytes]], limits: TableLimits = TABLE_LIMITS) -> Iterator[Sheet]:
    """The household and member sheets of the uploaded files (one workbook, or one or two CSVs), lazily;
    raises TableError when there is none, or when a file is beyond ``limits``."""
    found = False
    for name, data in files:
        lower = name.lower()
        if lower.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
            sheets: Iterator[Sheet] | list[Sheet] = read_xlsx(data, name, limits)
        elif lower.endswith(".xls"):
            raise TableError(f"{name}：不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV")
        else:
            sheets = read_csv(data, name, limits)
        for sheet in sheets:
            found = True
            yield sheet
    if not found:
        raise TableError("文件中没有找到“户信息”或“成员信息”工作表")
