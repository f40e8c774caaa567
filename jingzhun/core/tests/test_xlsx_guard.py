"""Spreadsheet reads are bounded: a workbook is checked from the cells it actually holds before calamine or
openpyxl loads it, and a read refuses what is beyond the limits with a message naming the limit."""

from __future__ import annotations

import io
import struct
import tracemalloc
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineError, CalamineWorkbook

from jingzhun.core.tabular import TABLE_LIMITS, TableError, TableLimits, TableTooLarge, read_table
from jingzhun.core.tests.xlsx_files import cell, sheet_xml, xlsx_package
from jingzhun.core.xlsx_guard import CORRUPT, MAX_UNPACKED_BYTES, check_xlsx, column_letters, column_number


def one_sheet(rows: str, **kwargs: str) -> bytes:
    return xlsx_package({"成员信息": sheet_xml(rows, **kwargs)})


def refusal(data: bytes, limits: TableLimits = TABLE_LIMITS) -> str:
    with pytest.raises(TableError) as refused:
        check_xlsx(data, limits)
    return str(refused.value)


def test_column_letters_and_numbers() -> None:
    for number, letters in [(1, "A"), (26, "Z"), (27, "AA"), (256, "IV"), (702, "ZZ"), (16384, "XFD")]:
        assert column_letters(number) == letters and column_number(letters) == number


def test_the_reported_attack_a_tiny_file_with_cells_at_both_ends_of_the_sheet_is_refused_before_loading() -> None:
    """Two cells, at A1 and XFD1048576, in 1.6 KB: calamine would build a block of 17 billion cells (550 GB)
    and abort the whole process. The check refuses it, naming the limit, before anything is loaded."""
    data = one_sheet(
        f'<row r="1">{cell("A1", "户编号")}</row><row r="1048576">{cell("XFD1048576", "x")}</row>',
        dimension="A1:XFD1048576",
    )
    assert len(data) < 2000
    tracemalloc.start()
    try:
        message = refusal(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "XFD" in message and "256 列" in message and "成员信息" in message
    assert peak < 8 << 20
    with pytest.raises(TableTooLarge, match="超过上限 256 列"):
        read_table(data, "户.xlsx")


@pytest.mark.parametrize(
    "rows",
    [
        # a reference on every cell, as Excel writes them (the fast check)
        f'<row r="1">{cell("A1")}</row><row r="1000001">{cell("J1000001")}</row>',
        # cells without references continue their row (calamine's rule; the exact check)
        f'<row r="1">{cell("A1")}</row><row r="1000001">{"".join(cell(None) for _ in range(10))}</row>',
        # references out of row order
        f'<row r="1000001">{cell("J1000001")}</row><row r="1">{cell("A1")}</row>',
    ],
)
def test_the_block_the_cells_span_from_a1_is_bounded(rows: str) -> None:
    message = refusal(one_sheet(rows))
    assert "J1000001" in message and "10,000,000 个单元格" in message


def test_the_rows_a_sheet_reaches_are_bounded() -> None:
    limits = TableLimits(rows=1000, columns=10, cells=100_000)
    message = refusal(one_sheet(f'<row r="1">{cell("A1")}</row><row r="1001">{cell("A1001")}</row>'), limits)
    assert "第 1,001 行" in message and "1,000 行" in message


def test_cells_with_a_namespace_prefix_are_cells_too() -> None:
    """calamine matches elements by their local name: <x:c> is a cell."""
    rows = f'<x:row r="1">{cell("A1", prefix="x")}{cell("XFD1", prefix="x")}</x:row>'
    assert "XFD" in refusal(one_sheet(rows, prefix="x"))


def test_a_declared_range_is_never_trusted() -> None:
    # A truthful-looking <dimension> over a cell far outside it.
    rows = f'<row r="1">{cell("A1")}{cell("XFD1")}</row>'
    assert "XFD" in refusal(one_sheet(rows, dimension="A1:B1"))
    # A huge <dimension> over two cells is read: only the cells count.
    data = one_sheet(f'<row r="1">{cell("A1", "户编号")}{cell("B1")}</row>', dimension="A1:XFD1048576")
    check_xlsx(data, TABLE_LIMITS)
    assert read_table(data, "户.xlsx").headers == ["户编号", "1"]


def test_empty_formatted_cells_far_away_are_read_as_calamine_reads_them() -> None:
    """A self-closing, styled cell has no value: calamine does not place it, so it does not widen the
    block (Excel writes such cells for formatted ranges)."""
    data = one_sheet(f'<row r="1">{cell("A1", "户编号")}<c r="XFD1048576" s="1"/></row>')
    check_xlsx(data, TABLE_LIMITS)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("成员信息")
    assert sheet.end == (0, 0)


def test_too_many_cell_elements_are_refused_even_within_the_block() -> None:
    limits = TableLimits(rows=10, columns=10, cells=100)
    rows = '<row r="1">' + cell("A1") * 101 + "</row>"
    assert "100 个" in refusal(one_sheet(rows, dimension="A1:A1"), limits)
    rows = '<row r="1">' + '<c s="1"/>' * 101 + "</row>"
    assert "100 个" in refusal(one_sheet(rows), limits)


@pytest.mark.parametrize(
    "sheet",
    [
        # an empty <sheetData/> first: calamine reads on to the next one
        f'<worksheet><sheetData/><sheetData><row r="1">{cell("XFD1")}</row></sheetData></worksheet>',
        # a self-closing row inside a row moves nothing for calamine, and the row goes on
        sheet_xml(f'<row r="1">{cell(None)}<row r="5"/>{"".join(cell(None) for _ in range(300))}</row>'),
        # a reference on a row, not on its cells
        sheet_xml(f'<row r="1">{cell("A1")}</row><row r="1000001">{"".join(cell(None) for _ in range(10))}</row>'),
    ],
)
def test_the_exact_check_follows_calamine_through_unusual_structures(sheet: str) -> None:
    message = refusal(xlsx_package({"a": sheet}))
    assert "超过上限 256 列" in message or "超过上限 10,000,000 个单元格" in message


def test_structures_no_spreadsheet_writes_are_refused() -> None:
    nested = '<row r="1"><c r="A1"><c r="XFD1"><v>1</v></c></c></row>'
    assert "结构" in refusal(one_sheet(nested))
    odd_reference = '<row r="1"><c r="a1"><v>1</v></c></row>'
    assert "结构" in refusal(one_sheet(odd_reference))


def test_a_doctype_is_refused_in_any_part() -> None:
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    sheet = sheet_xml(f'<row r="1">{cell("A1")}</row>', dimension="A1").replace("?>", "?>" + doctype, 1)
    assert refusal(xlsx_package({"a": sheet})) == CORRUPT
    strings = f'<?xml version="1.0"?>{doctype}<sst xmlns="x"><si><t>&a;</t></si></sst>'.encode()
    data = xlsx_package({"a": sheet_xml("")}, extra={"xl/sharedStrings.xml": strings})
    assert refusal(data) == CORRUPT


def _find_entry(data: bytes, name: str) -> int:
    at = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name.encode():
            return at
        extra, comment = struct.unpack_from("<HH", data, at + 30)
        at += 46 + name_length + extra + comment


def patched(data: bytes, name: str, offset: int, value: int) -> bytes:
    """``data`` with the 4-byte field at ``offset`` of ``name``'s directory entry set to ``value``."""
    at = _find_entry(data, name) + offset
    return data[:at] + struct.pack("<L", value) + data[at + 4 :]


def test_a_member_that_inflates_beyond_its_declared_size_is_refused_as_it_inflates() -> None:
    """A deflated member of 50 MB declared as 100 bytes (a reader trusting the directory would meet the
    50 MB): refused once the 100 bytes are passed, without inflating the rest."""
    bomb = b"<sst>" + b"a" * (50 << 20)
    data = xlsx_package({"a": sheet_xml("")}, extra={"xl/sharedStrings.xml": bomb})
    data = patched(data, "xl/sharedStrings.xml", 24, 100)  # uncompressed size
    tracemalloc.start()
    try:
        assert refusal(data) == CORRUPT
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_members_declaring_more_than_the_unpacked_limit_are_refused_unopened() -> None:
    data = xlsx_package({"a": sheet_xml("")}, extra={"xl/sharedStrings.xml": b"<sst/>"})
    data = patched(data, "xl/sharedStrings.xml", 24, MAX_UNPACKED_BYTES + 1)
    assert "MB 的上限" in refusal(data)


def test_encrypted_duplicated_and_foreign_packages_are_refused() -> None:
    data = xlsx_package({"a": sheet_xml("")})
    flags = _find_entry(data, "xl/workbook.xml") + 8
    encrypted = data[:flags] + struct.pack("<H", 1) + data[flags + 2 :]
    assert "加密" in refusal(encrypted)
    twice = io.BytesIO(data)
    with warnings.catch_warnings(), zipfile.ZipFile(twice, "a") as archive:
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate, and writes it
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
    assert refusal(twice.getvalue()) == CORRUPT
    ods = xlsx_package({"a": sheet_xml("")}, extra={"content.xml": b"<office:document-content/>"})
    assert refusal(ods) == CORRUPT
    assert refusal(b"PK\x03\x04" + b"\x00" * 100) == CORRUPT
    assert refusal(b"\xd0\xcf\x11\xe0" + b"\x00" * 100) == CORRUPT  # an .xls renamed .xlsx
    # Another archive hidden behind the end record's comment.
    assert refusal(data + b"PK\x05\x06" + b"\x00" * 18) == CORRUPT


def test_ordinary_workbooks_pass() -> None:
    from openpyxl import Workbook

    for write_only in (False, True):  # openpyxl's write-only mode (our exports) states no <dimension>
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("户信息") if write_only else book.active
        for i in range(300):
            sheet.append([f"43110210{i:04d}", "张三", i, 3.5, None, "是"])
        out = io.BytesIO()
        book.save(out)
        check_xlsx(out.getvalue(), TableLimits(rows=300, columns=6, cells=1800))
        assert len(read_table(out.getvalue(), "户.xlsx").rows) == 299


def test_csv_reads_are_bounded() -> None:
    limits = TableLimits(rows=100, columns=5, cells=200)
    with pytest.raises(TableTooLarge, match="101 行"):
        read_table(b"a\n" * 101, "x.csv", limits)
    with pytest.raises(TableTooLarge, match="超过上限 200 个"):
        read_table(b"," * 300, "x.csv", limits)
    with pytest.raises(TableTooLarge, match="第 2 行有 6 列"):
        read_table(b"a,b\n1,2,3,4,5,6\n", "x.csv", limits)


# --------------------------------------------------------------------------------------------- fuzzing

FUZZ_LIMITS = TableLimits(rows=2000, columns=40, cells=4000)
MEMORY_BOUND = 24 << 20  # Python allocations of one read of a file of a few KB


@st.composite
def sheets(draw: st.DrawFn) -> str:
    """Sheet XML with cells anywhere (mostly near A1, sometimes at the sheet's far ends), with or without
    references, in or out of order, self-closing or not, under a <dimension> that may lie."""
    near = st.integers(1, 30)
    if draw(st.booleans()):
        coordinate = column = near
    else:
        coordinate = st.one_of(near, st.integers(1, 1_048_576), st.sampled_from([1_048_576, 2001, 2000]))
        column = st.one_of(near, st.integers(1, 16384), st.sampled_from([16384, 41, 40]))
    prefix = draw(st.sampled_from(["", "", "x"]))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        cells = []
        for _ in range(draw(st.integers(0, 6))):
            ref = f"{column_letters(draw(column))}{draw(coordinate)}" if draw(st.booleans()) else None
            cells.append(cell(ref, draw(st.sampled_from(["1", "x", None])), prefix=prefix))
        p = f"{prefix}:" if prefix else ""
        number = f' r="{draw(coordinate)}"' if draw(st.booleans()) else ""
        rows.append(f"<{p}row{number}>{''.join(cells)}</{p}row>")
    dimension = draw(st.sampled_from([None, "A1", "A1:XFD1048576", "A1:AN2000", "B2:C3"]))
    return sheet_xml("".join(rows), dimension=dimension, prefix=prefix)


@st.composite
def packages(draw: st.DrawFn) -> bytes:
    data = xlsx_package({"户信息": draw(sheets()), "成员信息": draw(sheets())})
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "flip", "garbage", "bomb"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif damage == "garbage":
        data = draw(st.binary(max_size=2000))
    elif damage == "bomb":
        data = patched(data, "xl/worksheets/sheet1.xml", 24, draw(st.integers(0, 200)))
    return data


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(packages())
def test_fuzzed_workbooks_are_read_within_the_limits_or_refused(data: bytes) -> None:
    """Whatever the file, a read either returns a table within the limits or raises TableError; calamine
    never holds a sheet beyond them, and the read's own allocations stay small."""
    tracemalloc.start()
    try:
        try:
            table = read_table(data, "户.xlsx", FUZZ_LIMITS)
        except TableError:
            table = None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND
    if table is None:
        return
    assert len(table.rows) < FUZZ_LIMITS.rows and len(table.headers) <= FUZZ_LIMITS.columns
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in workbook.sheet_names:
        try:
            end = workbook.get_sheet_by_name(name).end
        except CalamineError:  # a damaged sheet the read did not need: refused by calamine, not loaded
            continue
        if end is not None:
            rows, columns = end[0] + 1, end[1] + 1
            assert rows <= FUZZ_LIMITS.rows and columns <= FUZZ_LIMITS.columns
            assert rows * columns <= FUZZ_LIMITS.cells
