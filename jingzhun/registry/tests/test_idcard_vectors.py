"""公民身份号码 / 残疾人证号 vectors (GB 11643; domain §5 rules 1–3, 6)."""

from __future__ import annotations

import datetime as dt

import pytest

from jingzhun.registry.idcard import IdNumberError, check_char, make_id_number, mask_id_number, parse_id_number

TODAY = dt.date(2026, 6, 1)


def _with_check_char(first17: str) -> str:
    return first17 + check_char(first17)


def _first17_with_x() -> str:
    """A real-looking number whose check character is X (about one in eleven are)."""
    for seq in range(1000):
        first17 = f"43110219800517{seq:03d}"
        if check_char(first17) == "X":
            return first17
    raise AssertionError("no X check digit found")


def test_published_example_check_digit():
    # The GB 11643 worked example 11010519491231002X.
    assert check_char("11010519491231002") == "X"
    info = parse_id_number("11010519491231002X", today=TODAY)
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "2"  # 17th digit 2 is even


def test_valid_number_with_x_check_digit_and_lowercase_x():
    first17 = _first17_with_x()
    info = parse_id_number(first17 + "x", today=TODAY)  # typed in lower case
    assert info.number == first17 + "X"
    assert info.birth_date == dt.date(1980, 5, 17)
    assert info.sex == ("1" if int(first17[16]) % 2 else "2")


def test_bad_checksum_names_the_expected_digit():
    good = make_id_number("431102", dt.date(1975, 3, 9), 21, "1")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(IdNumberError, match=f"校验位错误（末位应为 {good[17]}）"):
        parse_id_number(wrong, today=TODAY)


def test_impossible_birth_date_19800230():
    with pytest.raises(IdNumberError, match="出生日期 19800230 不存在"):
        parse_id_number(_with_check_char("43110219800230001"), today=TODAY)


def test_birth_date_in_the_future():
    with pytest.raises(IdNumberError, match="不合理"):
        parse_id_number(_with_check_char("43110220300101001"), today=TODAY)


def test_placeholder_999999_refused():
    with pytest.raises(IdNumberError, match="占位号码"):
        parse_id_number(_with_check_char("99999919800101001"), today=TODAY)


@pytest.mark.parametrize("raw", ["", "4311021980", "43110219800517001234", "4311021980051700AB"])
def test_malformed(raw):
    with pytest.raises(IdNumberError):
        parse_id_number(raw, today=TODAY)


def test_twenty_digit_disability_certificate_accepted():
    base = make_id_number("431102", dt.date(1966, 8, 1), 33, "1")
    info = parse_id_number(base + "42", today=TODAY)  # 肢体残疾, 二级
    assert info.is_disability_certificate
    assert (info.number, info.disability_category, info.disability_grade) == (base, "4", "2")


@pytest.mark.parametrize("suffix,message", [("82", "残疾类别"), ("45", "残疾等级")])
def test_twenty_digit_with_bad_category_or_grade(suffix, message):
    base = make_id_number("431102", dt.date(1966, 8, 1), 33, "1")
    with pytest.raises(IdNumberError, match=message):
        parse_id_number(base + suffix, today=TODAY)


@pytest.mark.parametrize("sex", ["1", "2"])
def test_sex_from_17th_digit_parity(sex):
    number = make_id_number("431102", dt.date(1990, 1, 2), 40, sex)
    assert int(number[16]) % 2 == (1 if sex == "1" else 0)
    assert parse_id_number(number, today=TODAY).sex == sex


def test_mask_keeps_area_and_last_four():
    assert mask_id_number("431102198005170019") == "431102********0019"
