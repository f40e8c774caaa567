"""An uploaded .xlsx inspected before a spreadsheet library opens it, so that no file makes a read allocate
beyond the limits (core.tabular.TableLimits).

python-calamine builds each sheet as one dense block from A1 to the last row and column holding a value:
two cells, at A1 and XFD1048576, make a block of 17 billion cells (550 GB), and calamine aborts the whole
process when that allocation fails. openpyxl keeps an object for every cell element, and a ZIP member may
inflate a thousandfold. Neither library bounds any of this, so the package is checked first, from what it
actually holds (a sheet's declared ``<dimension>`` may only speed the check up; it is never trusted):

- the ZIP: one end record, at the end of the file; a bounded directory of unique names; no encryption;
  stored or deflated members whose inflated size and CRC are exactly what they declare, MAX_UNPACKED_BYTES
  in all; no DOCTYPE (entity expansion); an XLSX, not an ODS or XLSB that calamine would read instead;
- every member calamine may read as a sheet (under xl/worksheets/, xl/chartsheets/, xl/dialogsheets/):
  the last row and column holding a cell, the block they span and the number of cell elements.

A sheet is checked in one of two ways. Excel, WPS, LibreOffice and openpyxl state the used range in
``<dimension>`` and give every cell its reference first (``<c r="B7" …>``): one pass of a regular
expression then confirms that no cell element lies outside that range (when it is within the limits).
Anything else is parsed with expat following calamine's own rules (xlsx/cells_reader.rs: a cell without a
reference continues its row, a self-closing element is skipped), and the cells with content are measured.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from xml.parsers import expat
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo

from jingzhun.core.tabular import TableError, TableLimits, TableTooLarge

MAX_PARTS = 10_000
MAX_DIRECTORY_BYTES = 4 << 20
MAX_UNPACKED_BYTES = 1 << 30
SHEET_FOLDERS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/")
CHUNK = 1 << 20  # inflated bytes examined at a time

CORRUPT = "无法读取 Excel 文件：文件已损坏，或不是 .xlsx 工作簿；请在 Excel 中打开后另存为 .xlsx 再上传"

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"')
_QUALIFIED_CELL = re.compile(rb":c[\s/>]")  # <x:c …>: a cell element with a namespace prefix
_ELEMENT_START = re.compile(rb"<[A-Za-z_]")
_REFERENCE = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_CANONICAL_CELL = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"[\s/>]')
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_ROW_NUMBER = re.compile(r"[1-9][0-9]{0,6}")
_TAIL = 64  # bytes kept between chunks: more than the longest token the fast check looks at
MAX_GROWTH = 1000
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"


def check_xlsx(data: bytes, limits: TableLimits) -> None:
    """Raise TableError (TableTooLarge beyond ``limits``) unless ``data`` is an XLSX package whose sheets
    calamine and openpyxl can load within ``limits``."""
    try:
        _check_package(data, limits)
    except TableError:
        raise
    except Exception as exc:  # zlib, zipfile, struct and expat each raise their own kinds for a bad file
        raise TableError(CORRUPT) from exc


def column_letters(number: int) -> str:
    """1 → A, 27 → AA, 16384 → XFD."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = LETTERS[rest] + letters
    return letters


def column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + LETTERS.index(letter) + 1
    return number


def _check_package(data: bytes, limits: TableLimits) -> None:
    _check_directory(data)
    archive = ZipFile(io.BytesIO(data))
    members = archive.infolist()
    names = [m.filename for m in members]
    if len(names) > MAX_PARTS:
        raise TableError(f"文件包含 {len(names):,} 个部件，超过上限 {MAX_PARTS:,} 个，不是正常的 Excel 工作簿")
    if len(set(names)) != len(names):
        raise TableError(CORRUPT)  # which of two same-named members a reader takes is the reader's choice
    # calamine tries XLSX first and falls back to XLSB and ODS, whose readers these checks do not cover.
    if "xl/_rels/workbook.xml.rels" not in names or {"xl/workbook.bin", "content.xml"} & set(names):
        raise TableError(CORRUPT)
    for member in members:
        if member.flag_bits & 0x1:
            raise TableError("文件已加密，请在 Excel 中取消密码后另存为 .xlsx 再上传")
        if member.compress_type not in (ZIP_STORED, ZIP_DEFLATED):
            raise TableError(CORRUPT)
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise _unpacked_too_large()
    unpacked = 0
    for member in members:
        if _is_sheet(member.filename):
            unpacked += _check_sheet(functools.partial(_inflate, data, member), limits, _Where(archive, data, member))
        else:
            unpacked += _check_other(_inflate(data, member))
        if unpacked > MAX_UNPACKED_BYTES:
            raise _unpacked_too_large()


def _unpacked_too_large() -> TableTooLarge:
    return TableTooLarge(f"文件解压后超过 {MAX_UNPACKED_BYTES >> 20:,} MB 的上限，请分批导入")


def _check_directory(data: bytes) -> None:
    """The ZIP's directory read as zipfile and calamine's zip crate both read it: no prefix before the
    first member, the end record closing the file, a directory of bounded size right before it."""
    if not data.startswith(b"PK\x03\x04"):
        raise TableError(CORRUPT)
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _END.size - 0xFFFF))
    if at < 0 or at + _END.size > len(data):
        raise TableError(CORRUPT)
    _sig, _disk, _directory_disk, _here, entries, size, offset, comment = _END.unpack_from(data, at)
    if at + _END.size + comment != len(data):
        raise TableError(CORRUPT)
    end = at
    locator = at - _END64_LOCATOR.size
    if locator >= 0 and data.startswith(b"PK\x06\x07", locator):
        _sig, _disk, end, _disks = _END64_LOCATOR.unpack_from(data, locator)
        if end + _END64.size > locator or not data.startswith(b"PK\x06\x06", end):
            raise TableError(CORRUPT)
        fields = _END64.unpack_from(data, end)
        entries, size, offset = fields[7], fields[8], fields[9]
    if entries > MAX_PARTS or size > MAX_DIRECTORY_BYTES:
        raise TableError(f"文件包含的部件超过上限 {MAX_PARTS:,} 个，不是正常的 Excel 工作簿")
    if offset + size != end:
        raise TableError(CORRUPT)


def _inflate(data: bytes, member: ZipInfo) -> Iterator[bytes]:
    """The member's bytes, CHUNK at a time, refusing one that inflates to more (or less) than it declares
    or whose CRC differs: a reader that trusts the declared size never meets a larger member."""
    header = _LOCAL.unpack_from(data, member.header_offset)
    if header[0] != b"PK\x03\x04":
        raise TableError(CORRUPT)
    start = member.header_offset + _LOCAL.size + header[9] + header[10]
    packed = memoryview(data)[start : start + member.compress_size]
    if len(packed) != member.compress_size:
        raise TableError(CORRUPT)
    crc = 0
    produced = 0
    if member.compress_type == ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(packed[i : i + CHUNK]) for i in range(0, len(packed), CHUNK))
    else:
        pieces = _deflated(packed)
    for piece in pieces:
        produced += len(piece)
        if produced > member.file_size:
            raise TableError(CORRUPT)
        crc = zlib.crc32(piece, crc)
        yield piece
    if produced != member.file_size or crc != member.CRC:
        raise TableError(CORRUPT)


def _deflated(packed: memoryview) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for start in range(0, len(packed), CHUNK):
        pending = bytes(packed[start : start + CHUNK])
        while pending and not inflater.eof:
            piece = inflater.decompress(pending, CHUNK)  # at most CHUNK out, whatever the ratio
            pending = inflater.unconsumed_tail
            if piece:
                yield piece
        if inflater.eof:
            break
    if not inflater.eof:
        rest = inflater.flush()  # no input is left: only what inflate held back
        if rest:
            yield rest
    if not inflater.eof:
        raise TableError(CORRUPT)


def _is_sheet(name: str) -> bool:
    # calamine resolves a sheet's target to one of these folders and reads the member of that name; any
    # member there is checked as a sheet, whatever its extension or spelling.
    return name.replace("\\", "/").lstrip("/").lower().startswith(SHEET_FOLDERS)


def _check_other(chunks: Iterator[bytes]) -> int:
    """Any other member: its size, and no DOCTYPE (openpyxl's parser would expand its entities)."""
    size = 0
    prolog = _Prolog()
    for chunk in chunks:
        prolog.check(chunk)
        size += len(chunk)
    return size


class _Prolog:
    """Refuses a DOCTYPE, which XML allows only before the first element: looked for until one starts."""

    def __init__(self) -> None:
        self.seen = b""
        self.done = False

    def check(self, chunk: bytes) -> None:
        if self.done:
            return
        text = self.seen + chunk
        element = _ELEMENT_START.search(text)
        if b"<!DOCTYPE" in (text if element is None else text[: element.start()]):
            raise TableError(CORRUPT)
        self.done = element is not None
        self.seen = text[-16:]


class _Where:
    """How a message names a sheet: by the name the user gave it, found only when a message needs it."""

    def __init__(self, archive: ZipFile, data: bytes, member: ZipInfo) -> None:
        self.archive = archive
        self.data = data
        self.member = member

    def __str__(self) -> str:
        try:
            name = _sheet_names(self.archive, self.data).get(self.member.filename)
        except Exception:  # a name is a courtesy; the file is refused either way
            name = None
        return f"工作表“{name}”" if name else f"工作表（{self.member.filename}）"


def _small_xml(archive: ZipFile, data: bytes, name: str) -> ET.Element:
    member = archive.getinfo(name)
    if member.file_size > CHUNK:
        raise TableError(CORRUPT)
    text = b"".join(_inflate(data, member))
    if b"<!DOCTYPE" in text:
        raise TableError(CORRUPT)
    return ET.fromstring(text)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _sheet_names(archive: ZipFile, data: bytes) -> dict[str, str]:
    """Member name → sheet name, resolved as calamine resolves them."""
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in _small_xml(archive, data, "xl/_rels/workbook.xml.rels").iter()
        if _local(r.tag) == "Relationship"
    }
    names = {}
    for sheet in _small_xml(archive, data, "xl/workbook.xml").iter():
        if _local(sheet.tag) != "sheet":
            continue
        target = next((targets.get(v) for k, v in sheet.attrib.items() if _local(k) == "id"), None) or ""
        path = target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else f"xl/{target}"
        names[path] = sheet.get("name", "")
    return names


def _check_sheet(open_member: Callable[[], Iterator[bytes]], limits: TableLimits, where: _Where) -> int:
    """Check one sheet member within ``limits``; returns its inflated size."""
    chunks = open_member()
    first = next(chunks, b"")
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first:
        raise TableError(f"{where}不是 UTF-8 编码，请在 Excel 中另存为 .xlsx 后再上传")
    size = _cells_within(_chain(first, chunks), _declared_range(first, limits), limits, where)
    return size if size is not None else _measure_cells(open_member(), limits, where)


def _declared_range(first: bytes, limits: TableLimits) -> tuple[int, int]:
    """The sheet's <dimension> as a first guess at the range its cells span, if within the limits."""
    declared = _DIMENSION.search(first)
    if declared:
        rows, columns = int(declared[2]), column_number(declared[1].decode())
        if _within(rows, columns, limits):
            return rows, columns
    return 1, 1


def _within(rows: int, columns: int, limits: TableLimits) -> bool:
    return rows <= limits.rows and columns <= limits.columns and rows * columns <= limits.cells


def _not_above(limit: str, leading: str, alphabet: str) -> str:
    """A pattern for the strings of ``alphabet`` (first character from ``leading``) not above ``limit`` in
    the order where a shorter string comes first and strings as long compare character by character:
    the order of row numbers and of column letters alike."""

    def one_of(chars: str) -> str:
        return "[" + chars + "]"

    options = []
    if len(limit) > 1:
        options.append(f"{one_of(leading)}{one_of(alphabet)}{{0,{len(limit) - 2}}}")
    for i, char in enumerate(limit):
        pool = leading if i == 0 else alphabet
        lower = pool[: pool.index(char)]
        if lower:
            rest = len(limit) - i - 1
            options.append(limit[:i] + one_of(lower) + (f"{one_of(alphabet)}{{{rest}}}" if rest else ""))
    options.append(limit)
    return "(?:" + "|".join(options) + ")"


def _outside(rows: int, columns: int) -> re.Pattern[bytes]:
    """Matches a cell element whose first attribute is not a reference within A1:<columns><rows>."""
    inside = _not_above(column_letters(columns), LETTERS, LETTERS) + _not_above(str(rows), DIGITS[1:], DIGITS)
    return re.compile(b'<c(?! r="' + inside.encode() + b'")[\\s/>]')


def _cells_within(chunks: Iterator[bytes], guess: tuple[int, int], limits: TableLimits, where: _Where) -> int | None:
    """The fast check, for sheets whose every cell element is ``<c r="…"`` (as spreadsheet programs write
    them): the range from A1 that holds every cell element, grown from ``guess`` as cells outside it turn
    up. Returns the member's size when that range is within the limits, None when it is not or a cell
    element is written otherwise (the exact check decides). Rows come in order in such files, so the last
    cell of each chunk gives its rows at once; only a wider column or a cell out of order grows the range
    mid-chunk, and MAX_GROWTH such cells send the sheet to the exact check."""
    rows, columns = guess
    outside = _outside(rows, columns)
    growth = 0
    prolog = _Prolog()
    cells = 0
    size = 0
    tail = b""
    for chunk in _chain(chunks, iter([b""])):
        prolog.check(chunk)
        size += len(chunk)
        text = tail + chunk
        cut = text.rfind(b"<", max(0, len(text) - _TAIL)) if chunk else len(text)
        body, tail = (text, b"") if cut < 0 else (text[:cut], text[cut:])
        if _QUALIFIED_CELL.search(body):
            return None
        last = _CANONICAL_CELL.match(body, body.rfind(b'<c r="'))
        if last and int(last[2]) > rows:
            rows = int(last[2])
            outside = _outside(rows, columns)
        found = outside.search(body)
        while found:
            cell = _CANONICAL_CELL.match(body, found.start())
            growth += 1
            if cell is None or growth > MAX_GROWTH:
                return None
            rows, columns = max(rows, int(cell[2])), max(columns, column_number(cell[1].decode()))
            if not _within(rows, columns, limits):
                return None  # perhaps empty cells: the exact check counts only those with content
            outside = _outside(rows, columns)
            found = outside.search(body, found.end())
        if not _within(rows, columns, limits):
            return None
        cells += body.count(b'<c r="')
        if cells > limits.cells:
            raise _too_many_cells(where, limits)
    return size


def _chain(first: bytes | Iterator[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    if isinstance(first, bytes):
        yield first
    else:
        yield from first
    yield from rest


def _too_many_cells(where: _Where, limits: TableLimits) -> TableTooLarge:
    return TableTooLarge(f"{where}的单元格超过上限 {limits.cells:,} 个，请删除多余内容或分批导入")


def _measure_cells(chunks: Iterator[bytes], limits: TableLimits, where: _Where) -> int:
    """The exact check: the sheet parsed as calamine reads it, the block its cells with content span."""
    span = _CellSpan(limits, where)
    size = 0
    for chunk in chunks:
        size += len(chunk)
        span.feed(chunk)
    span.feed(b"", final=True)
    return size


class _CellSpan:
    """Follows calamine's reading of a sheet (xlsx/cells_reader.rs) through expat's events.

    calamine takes the cells between the first ``<sheetData>`` start tag and its end tag. A cell's place is
    its ``r`` attribute, or else the place after the previous cell of the row; a row's ``r`` sets the row,
    and each row's end tag moves to the next. Self-closing elements (``<c/>``, ``<row/>``) are a different
    event to calamine and move nothing. A cell with any child element counts as holding content (calamine
    keeps those whose value is not empty). Cells or rows inside a cell, rows inside a row and a DOCTYPE do
    not occur in a spreadsheet and are refused."""

    def __init__(self, limits: TableLimits, where: _Where) -> None:
        self.limits = limits
        self.where = where
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.StartDoctypeDeclHandler = self.refuse
        self.parser.EntityDeclHandler = self.refuse
        self.window = b""  # the chunk fed last and the one before: the start tags of the events being reported
        self.window_start = 0
        self.previous = b""
        self.fed = 0
        self.in_data = False
        self.done = False
        self.skip_end = False  # the next end event is a self-closing element's
        self.in_row = False
        self.row = 0  # calamine's row_index and col_index, from 0
        self.column = 0
        self.cell: tuple[int, int] | None = None  # the open cell's place
        self.cell_has_content = False
        self.elements = 0
        self.last_row = 0  # the block the cells with content span from A1, counted from 1
        self.last_column = 0

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        self.window = self.previous + chunk
        self.window_start = self.fed - len(self.previous)
        self.previous = chunk
        self.fed += len(chunk)
        self.parser.Parse(chunk, final)

    def refuse(self, *args: Any) -> None:
        raise TableError(CORRUPT)

    def structure(self) -> TableError:
        return TableError(f"{self.where}的结构不是 Excel 写出的结构，请在 Excel 中另存为 .xlsx 后再上传")

    def self_closing(self) -> bool:
        """Whether the element whose start is being reported is ``<x …/>`` (expat reports it as a start and
        an end, as it does ``<x …></x>``)."""
        at = self.parser.CurrentByteIndex - self.window_start
        tag = _START_TAG.match(self.window, at) if at >= 0 else None
        if tag is None:  # a start tag longer than a chunk: no spreadsheet writes one
            raise self.structure()
        return tag[1] == b"/"

    def start(self, qualified: str, attributes: dict[str, str]) -> None:
        if self.done:
            return
        name = qualified.rpartition(":")[2]
        if not self.in_data:
            if name == "sheetData" and not self.self_closing():
                self.in_data = True
            return
        if self.cell is not None:
            if name in ("c", "row"):
                raise self.structure()
            self.cell_has_content = True
            return
        if name == "row":
            if self.self_closing():
                self.skip_end = True
                return
            if self.in_row:
                raise self.structure()
            self.in_row = True
            number = attributes.get("r")
            if number is not None:
                if not _ROW_NUMBER.fullmatch(number):
                    raise self.structure()
                self.row = int(number) - 1
        elif name == "c":
            self.elements += 1
            if self.elements > self.limits.cells:
                raise _too_many_cells(self.where, self.limits)
            if self.self_closing():
                self.skip_end = True
                return
            reference = attributes.get("r")
            if reference is None:
                self.cell = (self.row, self.column)
            else:
                found = _REFERENCE.fullmatch(reference)
                if not found:
                    raise self.structure()
                self.cell = (int(found[2]) - 1, column_number(found[1]) - 1)
                self.column = self.cell[1]
            self.cell_has_content = False

    def end(self, qualified: str) -> None:
        if self.skip_end:
            self.skip_end = False
            return
        if self.done or not self.in_data:
            return
        name = qualified.rpartition(":")[2]
        if self.cell is not None:
            if name == "c":
                if self.cell_has_content:
                    self.extend(*self.cell)
                self.column += 1
                self.cell = None
        elif name == "row":
            self.row += 1
            self.column = 0
            self.in_row = False
        elif name == "sheetData":
            self.done = True

    def extend(self, row: int, column: int) -> None:
        self.last_row = max(self.last_row, row + 1)
        self.last_column = max(self.last_column, column + 1)
        limits = self.limits
        if self.last_column > limits.columns:
            raise TableTooLarge(
                f"{self.where}在第 {column_letters(self.last_column)} 列（第 {self.last_column:,} 列）有内容，"
                f"超过上限 {limits.columns} 列；请删除多余的列后再上传"
            )
        if self.last_row > limits.rows:
            raise TableTooLarge(
                f"{self.where}在第 {self.last_row:,} 行有内容，超过上限 {limits.rows:,} 行；请删除多余的行或分批导入"
            )
        if self.last_row * self.last_column > limits.cells:
            raise TableTooLarge(
                f"{self.where}的内容从 A1 延伸到 {column_letters(self.last_column)}{self.last_row}"
                f"（{self.last_row:,} 行 × {self.last_column:,} 列），超过上限 {limits.cells:,} 个单元格；"
                "请删除远处的多余内容或分批导入"
            )
