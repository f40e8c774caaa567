"""Read: the files' sheets into rows of typed values, headers matched tolerantly, each cell converted; a cell
that does not convert becomes an issue at its sheet, row and column."""

from __future__ import annotations

from jingzhun.exchange.importer.memory import return_freed_memory
from jingzhun.exchange.importer.report import Issue, Progress
from jingzhun.exchange.importer.rows import ABSENT, DERIVED_ROW_KEYS, HouseholdIn, RowIn, RowValues
from jingzhun.exchange.layout import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_SHEET,
    MEMBER_COLUMNS,
    CellError,
    Column,
    cell_converter,
    cell_text,
    match_headers,
)
from jingzhun.exchange.reader import Sheet, read_files


def read_rows(
    files: list[tuple[str, bytes]], issues: list[Issue], progress: Progress | None
) -> tuple[list[HouseholdIn], list[RowIn]]:
    """The household rows and member rows of every sheet in ``files``."""
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
        return_freed_memory()
    return household_rows, member_rows


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
        if year_converter is not None and year_position is not None and year_position < width:
            try:
                year = year_converter(cells[year_position], None)
            except CellError:
                year = None
        data = [ABSENT] * width_of_row
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
