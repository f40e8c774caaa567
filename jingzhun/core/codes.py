"""Pure functions over 12-digit statistical region codes (统计用区划代码).

Layout: 2 province + 2 city + 2 county + 3 township + 3 village; a 村民小组 (group) appends 3 more digits
to its village's code (15 digits, a local scheme). Shorter official codes (2/4/6/9 digits) are the
significant prefix of a level and are padded with zeros to 12.

Four prefecture-level cities have no county level (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202): the
national table lists their townships with county digits ``00`` (441900003000 东城街道), so a township or
village whose county digits are ``00`` belongs directly to its city. The parent rule needs no special
case: the 6-digit prefix of 441900003000 is the city's own code.
"""

from __future__ import annotations

import unicodedata
from enum import IntEnum

from django.utils.translation import gettext as _

CODE_LENGTH = 12
GROUP_CODE_LENGTH = 15
ACCEPTED_LENGTHS = (2, 4, 6, 9, 12, 15)
# Significant prefix length of each level (index = level).
PREFIX_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12, 6: 15}


class Level(IntEnum):
    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWNSHIP = 4
    VILLAGE = 5
    GROUP = 6


class CodeError(ValueError):
    """A code that is not a valid statistical region code; the message is shown to users."""


def normalize_code(raw: object) -> str:
    """Return the 12-digit (or 15-digit group) form of ``raw``; raise CodeError with a Chinese reason."""
    if raw is None:
        raise CodeError(_("区划代码为空"))
    if isinstance(raw, float) and raw.is_integer():  # spreadsheets hand numbers over as floats
        raw = int(raw)
    # NFKC folds full-width digits typed with a Chinese input method (４３１１) to ASCII.
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if not text:
        raise CodeError(_("区划代码为空"))
    if not text.isascii() or not text.isdigit():
        raise CodeError(_("区划代码“%(code)s”含有非数字字符") % {"code": text})
    if len(text) not in ACCEPTED_LENGTHS:
        raise CodeError(
            _("区划代码“%(code)s”长度为 %(n)d 位，应为 2、4、6、9、12 或 15 位") % {"code": text, "n": len(text)}
        )
    if len(text) < CODE_LENGTH:
        text = text.ljust(CODE_LENGTH, "0")
    level = _level_or_none(text)
    if level is None:
        raise CodeError(_("区划代码“%(code)s”无法确定层级") % {"code": text})
    return text


def _level_or_none(code: str) -> int | None:
    if len(code) == GROUP_CODE_LENGTH:
        # A group's first 12 digits must be a village's code.
        if code[12:] == "000" or _level_or_none(code[:12]) != Level.VILLAGE:
            return None
        return Level.GROUP
    if len(code) != CODE_LENGTH or code[:2] == "00":
        return None
    if code[2:] == "0" * 10:
        return Level.PROVINCE
    if code[4:] == "0" * 8:
        return Level.CITY
    if code[6:] == "0" * 6:
        return Level.COUNTY
    if code[2:4] == "00":
        # Below a province every code needs its city: 43000000x000 skips levels.
        return None
    if code[9:] == "000":
        return Level.TOWNSHIP
    if code[6:9] == "000":
        return None
    return Level.VILLAGE


def level_of(code: str) -> Level:
    level = _level_or_none(code)
    if level is None:
        raise CodeError(_("区划代码“%(code)s”无法确定层级") % {"code": code})
    return Level(level)


def prefix_of(code: str) -> str:
    """The significant digits of a code: '431102' for the county 431102000000."""
    return code[: PREFIX_LENGTHS[level_of(code)]]


def parent_code(code: str) -> str | None:
    """The code of the region directly above, derived from the digits (None for a province)."""
    level = level_of(code)
    if level == Level.PROVINCE:
        return None
    if level == Level.GROUP:
        return code[:12]
    keep = PREFIX_LENGTHS[level - 1]
    return code[:keep].ljust(CODE_LENGTH, "0")


def ancestor_codes(code: str) -> list[str]:
    """Codes from the province down to ``code`` itself."""
    chain = [code]
    parent = parent_code(code)
    while parent is not None:
        chain.append(parent)
        parent = parent_code(parent)
    return list(reversed(chain))


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest digit string of the same length greater than every code starting with ``prefix``.

    Subtree queries use ``prefix <= code < upper`` so both SQLite and PostgreSQL use the B-tree index
    on the code column (LIKE 'x%' does not, under PostgreSQL's default collations).
    """
    digits = list(prefix)
    for i in range(len(digits) - 1, -1, -1):
        if digits[i] != "9":
            digits[i] = str(int(digits[i]) + 1)
            return "".join(digits[: i + 1]) + "0" * (len(digits) - i - 1)
        digits[i] = "0"
    return None


def is_within(code: str, prefix: str) -> bool:
    return code.startswith(prefix)
