"""The per-column converters used for whole sheets give exactly what ``convert`` gives, errors included."""

from __future__ import annotations

import datetime as dt

import pytest

from jingzhun.exchange.layout import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, CellError, cell_converter, convert

pytestmark = pytest.mark.django_db

SAMPLES = [
    None,
    "",
    "  ",
    0,
    1,
    -3,
    3.0,
    2.5,
    -0.5,
    1e16,
    float("inf"),
    float("nan"),
    True,
    False,
    "True",
    "1",
    " 12 ",
    "１２",  # full-width digits
    "1,200.50",
    "abc",
    "是",
    "否",
    " 有 ",
    "因病",
    "国家标准",
    "已脱贫（享受政策）",
    "户主",
    "汉族",
    "431102197005170011",
    " 43110219700517001x ",
    "４３１１０２１９７００５１７００１１",
    "2024-05-01",
    dt.datetime(2024, 5, 1, 8, 0),
    "张  大山",
    "张" * 60,
]


def outcome(fn, raw, year):
    try:
        return ("ok", fn(raw, year))
    except CellError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("column", HOUSEHOLD_COLUMNS + MEMBER_COLUMNS, ids=lambda c: c.key)
def test_converter_matches_convert(column):
    converter = cell_converter(column)
    for year in (None, 2016, 2025):
        for raw in SAMPLES:
            expected = outcome(lambda r, y: convert(column, r, y), raw, year)
            assert outcome(converter, raw, year) == expected, (column.key, raw, year)
            assert outcome(converter, raw, year) == expected, (column.key, raw, year)  # from the memo


def test_free_text_keeps_chinese_punctuation_and_folds_full_width_digits():
    by_key = {c.key: c for c in HOUSEHOLD_COLUMNS}
    note = "子女就读高中（中职）或大学，教育支出大；“两不愁”已保障"
    assert convert(by_key["cause_note"], note) == note
    assert convert(by_key["phone"], "１３８０７４６００００") == "13807460000"
    assert convert(by_key["address"], "五云口村　３组１２号") == "五云口村 3组12号"
    # Codes are still matched whatever the width of their brackets.
    assert convert(by_key["exit_status"], "已脱贫(享受政策)") == convert(by_key["exit_status"], "已脱贫（享受政策）")


def test_text_that_looks_like_a_formula_is_exported_quoted_and_read_back_as_typed():
    from jingzhun.core.tabular import safe_cell
    from jingzhun.exchange.layout import export_value

    address = {c.key: c for c in HOUSEHOLD_COLUMNS}["address"]
    for text in ('=HYPERLINK("http://x")', "-3组", "@某处", "+86"):
        exported = safe_cell(export_value(address, text))  # as every export writes its cells
        assert exported == "'" + text
        assert convert(address, exported) == text
    assert safe_cell(export_value(address, "五云口村3组")) == "五云口村3组"
