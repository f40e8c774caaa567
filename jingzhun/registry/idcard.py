"""公民身份号码 (GB 11643) and 残疾人证号 validation: pure functions, no database."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
DISABILITY_CATEGORIES = {
    "1": "视力残疾",
    "2": "听力残疾",
    "3": "言语残疾",
    "4": "肢体残疾",
    "5": "智力残疾",
    "6": "精神残疾",
    "7": "多重残疾",
}
PLACEHOLDER_PREFIX = "999999"


class IdNumberError(ValueError):
    """The message is shown to cadres as is."""


@dataclass(frozen=True)
class IdInfo:
    number: str  # the 18-digit citizen ID part
    birth_date: dt.date
    sex: str  # "1" 男 / "2" 女 (GB/T 2261.1)
    disability_category: str = ""  # 1–7 for a 20-digit 残疾人证号
    disability_grade: str = ""  # 1–4

    @property
    def is_disability_certificate(self) -> bool:
        return bool(self.disability_category)


def normalize_identifier(raw: str | None) -> str:
    """The one stored and compared form of an identifier as typed anywhere (forms, import, search).

    NFKC folds full-width characters (４３１１, ｘ); digits of any other script (Arabic-Indic ٤٣١١,
    Devanagari …) become ASCII digits; spaces and invisible format characters (zero-width space, BOM) go;
    letters are upper case (the check character X). Without this, one person typed with other digits is
    another number to every uniqueness check.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    kept = []
    for char in text:
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        digit = unicodedata.decimal(char, None)
        kept.append(str(digit) if digit is not None else char)
    return "".join(kept).upper()


def person_key(number: str) -> str:
    """What identifies the person behind a normalised number: its first 18 characters (the citizen ID;
    a 残疾人证号 is the ID followed by category and grade)."""
    return number[:18]


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_in(number: str) -> dt.date | None:
    """The birth date in characters 7–14 of an 18-digit ID (None: no such day)."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def sex_in(number: str) -> str:
    """The sex code in an 18-digit ID, from the parity of the 17th digit: "1" 男, "2" 女 (GB/T 2261.1)."""
    return "1" if int(number[16]) % 2 == 1 else "2"


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdInfo:
    """Validate an 18-digit ID or a 20-digit disability certificate number (ID + category + grade)."""
    number = normalize_identifier(raw)
    if not number:
        raise IdNumberError("证件号码不能为空")
    if number.startswith(PLACEHOLDER_PREFIX):
        raise IdNumberError("证件号码为占位号码（以 999999 开头），请填写真实号码")
    category = grade = ""
    if len(number) == 20:
        category, grade = number[18], number[19]
        if category not in DISABILITY_CATEGORIES:
            raise IdNumberError(f"残疾人证号第 19 位残疾类别“{category}”无效（应为 1–7）")
        if grade not in "1234":
            raise IdNumberError(f"残疾人证号第 20 位残疾等级“{grade}”无效（应为 1–4）")
        number = number[:18]
    elif len(number) != 18:
        raise IdNumberError(f"证件号码应为 18 位（残疾人证号 20 位），当前 {len(number)} 位")
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("证件号码前 17 位应为数字，末位为数字或 X")
    expected = check_char(number[:17])
    if number[17] != expected:
        raise IdNumberError(f"证件号码校验位错误（末位应为 {expected}）")
    birth = birth_in(number)
    if birth is None:
        raise IdNumberError(f"证件号码中的出生日期 {number[6:14]} 不存在")
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise IdNumberError(f"证件号码中的出生日期 {birth:%Y-%m-%d} 不合理")
    return IdInfo(
        number=number, birth_date=birth, sex=sex_in(number), disability_category=category, disability_grade=grade
    )


def make_id_number(area: str, birth: dt.date, sequence: int, sex: str) -> str:
    """A valid ID for demo and test data: 6-digit area, birth date, 3-digit sequence with the sex parity."""
    seq = sequence % 1000
    if (seq % 2 == 1) != (sex == "1"):
        seq = (seq + 1) % 1000
    first17 = f"{area[:6]}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def mask_id_number(number: str) -> str:
    """For notices (公示): never show a full ID publicly."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
