"""The one cell-writing path: what it does to each kind of value, for CSV and for both kinds of workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet.formula import ArrayFormula

from jingzhun.core.tabular import append_row, csv_stream, neutralise_workbook, safe_cell, unquote_formula


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-1+cmd", "'-1+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+8613800000000", "'+8613800000000"),  # kept as text, as before: not a number Excel would round
        ("-12.50", "-12.50"),  # a negative amount stays a number
        ("-3", "-3"),
        ("张大山", "张大山"),
        ("'=already", "'=already"),  # written twice, quoted once
        ("", ""),
        (None, None),
        (7, 7),
        (Decimal("-1.5"), Decimal("-1.5")),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 1)),
        (True, True),
    ],
)
def test_safe_cell(value: object, written: object) -> None:
    assert safe_cell(value) == written
    if isinstance(value, str) and not value.startswith("'"):
        assert unquote_formula(safe_cell(value)) == value  # the import reads back what was typed


def test_lazy_labels_are_text_too() -> None:
    label = "=1+1"  # a variable: not a message for the catalogue
    assert safe_cell(gettext_lazy(label)) == "'=1+1"


def test_csv_stream_quotes_every_cell_header_included() -> None:
    text = "".join(csv_stream(["=h"], [["=a", 1, None], ["@b", "-2", "ok"]]))
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [["'=h"], ["'=a", "1", ""], ["'@b", "-2", "ok"]]


def _reload(wb: Workbook) -> Workbook:
    out = io.BytesIO()
    wb.save(out)
    return load_workbook(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize("write_only", [True, False])
def test_append_row_keeps_styles_and_never_writes_a_formula(write_only: bool) -> None:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("s") if write_only else wb.active
    styled = WriteOnlyCell(ws, value="=bold()")
    styled.font = Font(bold=True)
    append_row(ws, [styled, "=1+1", 3, "ok"])
    cells = next(_reload(wb).worksheets[0].iter_rows())
    assert [c.value for c in cells] == ["'=bold()", "'=1+1", 3, "ok"]
    assert all(c.data_type != "f" for c in cells)
    assert cells[0].font.bold


def test_neutralise_workbook_turns_formulas_and_formula_like_text_into_text() -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "=SUM(1,2)"  # a formula typed into an uploaded workbook
    ws["B1"] = ArrayFormula("B1", "=A1*2")
    ws["C1"] = "@x"
    ws["D1"] = 5
    ws["E1"] = "plain"
    ws.cell(row=1, column=6).value = "+cmd"
    ws["F1"].data_type = "s"  # a text cell a loaded workbook holds as text
    neutralise_workbook(wb)
    cells = next(_reload(wb).worksheets[0].iter_rows())
    assert [c.value for c in cells] == ["'=SUM(1,2)", "'=A1*2", "'@x", 5, "plain", "'+cmd"]
    assert all(c.data_type != "f" for c in cells)
