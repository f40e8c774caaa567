"""The uploaded workbook handed back with every error cell marked (red fill and a comment giving the reason).

It is made in the web request, with openpyxl, which keeps some 400 bytes per cell: the files are checked
against ERROR_WORKBOOK_LIMITS first, smaller than an import's own."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from jingzhun.core.tabular import TableLimits, decode_bytes, neutralise_workbook
from jingzhun.core.xlsx_guard import check_xlsx
from jingzhun.exchange.layout import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, header_index, normalise_header

ERROR_FILL = PatternFill("solid", fgColor="FF9999")
ERROR_WORKBOOK_LIMITS = TableLimits(cells=1_000_000)  # per sheet: some 400 MB in openpyxl


def _csv_workbook(name: str, data: bytes) -> Workbook:
    import csv

    text, _enc = decode_bytes(data)
    ERROR_WORKBOOK_LIMITS.check_csv_text(text)
    wb = Workbook()
    ws = wb.active
    ws.title = name[:31].replace("/", "_") or "Sheet1"
    for row in ERROR_WORKBOOK_LIMITS.checked_rows(csv.reader(io.StringIO(text, newline=""))):
        ws.append(row)
    return wb


def marked_workbook(files: list[tuple[str, bytes]], issues: list[dict[str, Any]]) -> bytes:
    """One workbook with all input sheets; for CSV input each file becomes a sheet. Raises TableError
    (TableTooLarge) for a file beyond ERROR_WORKBOOK_LIMITS."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for issue in issues:
        by_source[issue["sheet"]].append(issue)
    output: Workbook | None = None
    for name, data in files:
        if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
            check_xlsx(data, ERROR_WORKBOOK_LIMITS)
            wb = load_workbook(io.BytesIO(data))
            for ws in wb.worksheets:
                _mark(ws, by_source.get(f"{name}·{ws.title}", []))
            if output is None:
                output = wb
                continue
            target = output
            sheets = wb.worksheets
        else:
            wb = _csv_workbook(name, data)
            _mark(wb.active, by_source.get(name, []))
            if output is None:
                output = wb
                continue
            target = output
            sheets = [wb.active]
        for ws in sheets:  # copy values and marks into the first workbook
            copy = target.create_sheet(ws.title[:31])
            for row in ws.iter_rows():
                for cell in row:
                    new = copy.cell(row=cell.row, column=cell.column, value=cell.value)
                    if cell.comment:
                        new.comment = Comment(cell.comment.text, "精准")
                        new.fill = ERROR_FILL
    out = io.BytesIO()
    assert output is not None
    neutralise_workbook(output)  # the uploader's text and formulas come back as text, never run
    output.save(out)
    return out.getvalue()


def _mark(ws: Any, issues: list[dict[str, Any]]) -> None:
    if not issues:
        return
    # Issues name the official header; the sheet may use a synonym, so map both to the column position.
    index = {**header_index(MEMBER_COLUMNS), **header_index(HOUSEHOLD_COLUMNS)}
    headers: dict[str, int] = {}
    for c in next(ws.iter_rows(min_row=1, max_row=1), []):
        key = normalise_header(c.value)
        headers[key] = c.column
        if key in index:
            headers.setdefault(normalise_header(index[key].header), c.column)
    for issue in issues:
        row = issue.get("row") or 1
        column = headers.get(normalise_header(issue.get("column", "")), 1)
        cell = ws.cell(row=row, column=column)
        cell.fill = ERROR_FILL
        text = issue["message"]
        if cell.comment:
            text = cell.comment.text + "\n" + text
        cell.comment = Comment(text, "精准")
