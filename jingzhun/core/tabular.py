"""Tables in and out: reading uploaded tables (CSV in UTF-8/GBK, XLSX) into rows of strings with their line
numbers, within limits on their size, and what every table we write needs: one cell-writing path that keeps
formula-like text as text (``safe_cell`` and the writers built on it), streamed CSV for Excel, streamed XLSX
downloads."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.http import FileResponse

ENCODINGS = ("utf-8-sig", "gb18030")


class TableError(ValueError):
    """A file that cannot be read as a table at all; its text is written for the user."""

    user_message = True


class TableTooLarge(TableError):
    """A table beyond the limits of a read (TableLimits): refused before it is loaded."""


@dataclass(frozen=True)
class TableLimits:
    """How large a table a read accepts, counted from the cells the file actually holds.

    ``rows`` and ``columns`` bound the last row and column holding a cell (a reader builds each sheet as
    one block from A1 to there), ``cells`` that block's area and the number of cells the file lists. The
    defaults take a county's 建档立卡 workbook (50,000 households: 3 million cells in 户信息, 5 million
    in 成员信息) with room to spare, and keep one read of a sheet to a few hundred MB."""

    rows: int = 1_048_576  # Excel's own limit
    columns: int = 256
    cells: int = 10_000_000

    def check_csv_text(self, text: str) -> None:
        """Refuse CSV text with more lines or fields than the limits, before it is split into rows."""
        lines = text.count("\n") + (not text.endswith("\n"))
        if lines > self.rows:
            raise TableTooLarge(f"文件有 {lines:,} 行，超过上限 {self.rows:,} 行，请分批导入")
        fields = text.count(",") + lines
        if fields > self.cells:
            raise TableTooLarge(f"文件有 {fields:,} 个单元格，超过上限 {self.cells:,} 个，请分批导入")

    def checked_rows(self, rows: Iterable[list[str]]) -> Iterator[list[str]]:
        """``rows`` of a CSV file, refusing one wider than the column limit."""
        for number, row in enumerate(rows, start=1):
            if len(row) > self.columns:
                raise TableTooLarge(f"第 {number} 行有 {len(row):,} 列，超过上限 {self.columns} 列")
            yield row


TABLE_LIMITS = TableLimits()


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str | None = None


def normalise_header(text: object) -> str:
    """Header text compared tolerantly: full-width folded, spaces and brackets' content kept."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip()
    return "".join(value.split()).lower()


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise TableError("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_csv_bytes(data: bytes, limits: TableLimits = TABLE_LIMITS) -> Table:
    text, encoding = decode_bytes(data)
    limits.check_csv_text(text)
    rows = list(limits.checked_rows(csv.reader(io.StringIO(text, newline=""))))
    if not rows:
        raise TableError("文件为空")
    headers = [c.strip() for c in rows[0]]
    body = [(i + 2, [c.strip() for c in row]) for i, row in enumerate(rows[1:]) if any(c.strip() for c in row)]
    return Table(headers=headers, rows=body, encoding=encoding)


def read_xlsx_bytes(data: bytes, sheet: str | int = 0, limits: TableLimits = TABLE_LIMITS) -> Table:
    from python_calamine import CalamineWorkbook

    from jingzhun.core.xlsx_guard import check_xlsx

    check_xlsx(data, limits)  # before calamine allocates anything
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        name = workbook.sheet_names[sheet] if isinstance(sheet, int) else sheet
        raw = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise TableError(f"无法读取 Excel 文件：{exc}") from exc
    if not raw:
        raise TableError("工作表为空")
    headers = [_cell(c) for c in raw[0]]
    body = []
    for i, row in enumerate(raw[1:]):
        cells = [_cell(c) for c in row]
        if any(cells):
            body.append((i + 2, cells))
    return Table(headers=headers, rows=body)


def read_table(data: bytes | IO[bytes] | Path, filename: str = "", limits: TableLimits = TABLE_LIMITS) -> Table:
    """Read CSV or XLSX by file name (or content sniffing: XLSX is a ZIP), refusing one beyond ``limits``."""
    if isinstance(data, Path):
        filename = filename or data.name
        data = data.read_bytes()
    elif not isinstance(data, bytes):
        data = data.read()
    lower = filename.lower()
    if lower.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return read_xlsx_bytes(data, limits=limits)
    if lower.endswith(".xls"):
        raise TableError("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV")
    return read_csv_bytes(data, limits)


def find_column(headers: list[str], synonyms: tuple[str, ...]) -> int | None:
    wanted = {normalise_header(s) for s in synonyms}
    for index, header in enumerate(headers):
        if normalise_header(header) in wanted:
            return index
    return None


# A cell starting with one of these is run as a formula by spreadsheets (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A negative number is a constant, not a formula: written as it is, it stays a number where it was one.
_NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?")


def formula_safe(text: str) -> str:
    """Text that starts like a formula, kept as text by a leading apostrophe (Excel shows it so;
    ``unquote_formula`` removes it again on import)."""
    if text.startswith(FORMULA_START) and not _NEGATIVE_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unquote_formula(text: str) -> str:
    """The reverse of ``formula_safe``, for a cell read back from one of our exports."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1] in FORMULA_START else text


def safe_cell(value: Any) -> Any:
    """The value to write into a cell of any table the system produces: text through ``formula_safe``;
    numbers, dates, booleans and None as they are. Every writer goes through here (``safe_row``,
    ``append_row``, ``neutralise_workbook``, ``csv_stream``), so a name typed as ``=HYPERLINK(…)`` never
    becomes a live formula in a download."""
    if isinstance(value, str):
        return formula_safe(value)
    if isinstance(value, Promise):  # a lazily translated label
        return formula_safe(str(value))
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet (write-only or not) through ``safe_cell``; styled cells
    (``WriteOnlyCell``) keep their style and get their value made safe."""
    from openpyxl.cell.cell import Cell

    row = []
    for value in values:
        if isinstance(value, Cell):
            value.value = safe_cell(value.value)
            row.append(value)
        else:
            row.append(safe_cell(value))
    sheet.append(row)


def neutralise_workbook(workbook: Any) -> None:
    """Make every cell of a workbook built cell by cell safe before it is saved: formulas and text that
    starts like one become text (for workbooks holding values users typed, such as the error workbook)."""
    for sheet in workbook.worksheets:
        # The cells that exist, not the sheet's rectangle (iter_rows would create every cell it spans).
        for cell in list(sheet._cells.values()):
            value = cell.value
            if cell.data_type == "f":  # a formula (a string, or an array formula object holding one)
                cell.value = formula_safe(value if isinstance(value, str) else str(getattr(value, "text", "")))
            elif isinstance(value, str) and formula_safe(value) != value:
                cell.value = formula_safe(value)


class _Echo:
    """A file-like object whose write returns what was written: csv.writer then yields lines to stream."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV lines for a StreamingHttpResponse, UTF-8 with a BOM so Excel on Chinese Windows reads it right;
    every cell through ``safe_cell``."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(safe_row(header))
    for row in rows:
        yield writer.writerow(safe_row(row))


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment_disposition(filename: str) -> str:
    """The Content-Disposition header of a download saved as ``filename`` (non-ASCII names included)."""
    from django.utils.http import content_disposition_header

    disposition = content_disposition_header(True, filename)
    assert disposition is not None  # None only for an inline response without a file name
    return disposition


def xlsx_response(write: Callable[[IO[bytes]], None], filename: str) -> FileResponse:
    """A download of the workbook ``write`` produces: openpyxl's write-only mode streams rows into a
    temporary file, and the response streams that file, so a county-wide export never sits in memory."""
    from django.http import FileResponse

    out = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it once sent
    try:
        write(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
