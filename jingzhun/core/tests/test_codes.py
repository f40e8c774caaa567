"""Code parsing and normalisation: pure functions, no database."""

from __future__ import annotations

import pytest

from jingzhun.core import codes
from jingzhun.core.codes import Level


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("43", "430000000000"),
        ("4311", "431100000000"),
        ("431102", "431102000000"),
        ("431102100", "431102100000"),
        ("431102100201", "431102100201"),
        ("431102100201001", "431102100201001"),
        (" 431102 ", "431102000000"),
        ("431 102", "431102000000"),
        ("４３１１０２", "431102000000"),  # full-width digits from a Chinese input method
        ("431102\u3000", "431102000000"),  # ideographic space
        (431102100201, "431102100201"),  # numeric cell
        (431102100201.0, "431102100201"),  # spreadsheet float
        ("441900003000", "441900003000"),  # 东莞: township directly under a city without counties
        ("441900003001", "441900003001"),
    ],
)
def test_normalize_accepts_each_length(raw, expected):
    assert codes.normalize_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "为空"),
        ("", "为空"),
        ("   ", "为空"),
        ("43110A", "非数字"),
        ("4311-02", "非数字"),
        ("٤٣", "非数字"),  # Arabic-Indic digits are digits to Python, not to us
        ("4311.5", "非数字"),
        ("4", "长度为 1 位"),
        ("431", "长度为 3 位"),
        ("4311021", "长度为 7 位"),
        ("43110210020", "长度为 11 位"),
        ("4311021002011", "长度为 13 位"),
        ("4311021002010011", "长度为 16 位"),
        ("000000000000", "无法确定层级"),
        ("00", "无法确定层级"),
        ("430000100000", "无法确定层级"),  # township without city
        ("430000100201", "无法确定层级"),  # village without city
        ("431102000201", "无法确定层级"),  # village without township
        ("431102100201000", "无法确定层级"),  # group number 000
        ("431102100000001", "无法确定层级"),  # group under a township, not a village
        ("000000000000001", "无法确定层级"),
    ],
)
def test_normalize_rejects_bad_codes(raw, reason):
    with pytest.raises(codes.CodeError) as exc:
        codes.normalize_code(raw)
    assert reason in str(exc.value)


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("430000000000", Level.PROVINCE, None),
        ("431100000000", Level.CITY, "430000000000"),
        ("431102000000", Level.COUNTY, "431100000000"),
        ("431102100000", Level.TOWNSHIP, "431102000000"),
        ("431102100201", Level.VILLAGE, "431102100000"),
        ("431102100201001", Level.GROUP, "431102100201"),
        ("110101000000", Level.COUNTY, "110100000000"),  # 北京市 › 市辖区 › 东城区
        ("429004000000", Level.COUNTY, "429000000000"),  # 省直辖县级行政区划 › 仙桃市
        ("441900003000", Level.TOWNSHIP, "441900000000"),  # 东莞市 › 东城街道
        ("441900003001", Level.VILLAGE, "441900003000"),
    ],
)
def test_level_and_parent(code, level, parent):
    assert codes.level_of(code) == level
    assert codes.parent_code(code) == parent


def test_level_of_rejects_unparseable():
    with pytest.raises(codes.CodeError):
        codes.level_of("431102000201")


def test_prefix_of_is_the_significant_digits():
    assert codes.prefix_of("430000000000") == "43"
    assert codes.prefix_of("431100000000") == "4311"
    assert codes.prefix_of("431102000000") == "431102"
    assert codes.prefix_of("431102100000") == "431102100"
    assert codes.prefix_of("431102100201") == "431102100201"
    assert codes.prefix_of("431102100201001") == "431102100201001"


def test_ancestor_codes_from_province_down():
    assert codes.ancestor_codes("431102100201001") == [
        "430000000000",
        "431100000000",
        "431102000000",
        "431102100000",
        "431102100201",
        "431102100201001",
    ]


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [
        ("43", "44"),
        ("4311", "4312"),
        ("431102", "431103"),
        ("4319", "4320"),  # carry one digit
        ("431199", "431200"),  # carry two digits
        ("431102199", "431102200"),
        ("439999", "440000"),
        ("1", "2"),
        ("09", "10"),
        ("9", None),
        ("99", None),  # all nines: nothing of that length is greater
        ("999999999999", None),
    ],
)
def test_prefix_upper_bound(prefix, upper):
    assert codes.prefix_upper_bound(prefix) == upper


@pytest.mark.parametrize("prefix", ["43", "4319", "431199", "431102100"])
def test_prefix_range_contains_exactly_the_subtree(prefix):
    # Every code with the prefix lies in [prefix, upper); the neighbours just outside do not.
    upper = codes.prefix_upper_bound(prefix)
    assert upper is not None
    inside = [prefix.ljust(12, "0"), prefix.ljust(12, "9"), prefix.ljust(15, "9")]
    for code in inside:
        assert prefix <= code < upper
    before = str(int(prefix) - 1).zfill(len(prefix)).ljust(12, "9")
    assert not (prefix <= before < upper)
    assert not (prefix <= upper.ljust(12, "0") < upper)


def test_is_within():
    assert codes.is_within("431102100201", "431102")
    assert not codes.is_within("431103100201", "431102")
