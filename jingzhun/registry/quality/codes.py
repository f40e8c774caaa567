"""The code-table codes the data-quality rules name (policy.defaults), and their labels for messages."""

from __future__ import annotations

from jingzhun.policy.defaults import CODE_TABLES

HEAD = "01"
SPOUSE = "02"
# 人员增加原因 建档立卡: the member's addition date is when the household was registered, not when the
# person joined it, so it says nothing about who was in the household in earlier years.
REGISTERED = "1"
# 与户主关系 codes that name a sex (domain §2.4 order; see policy.defaults).
MALE_RELATIONSHIPS = frozenset({"03", "06", "07", "09", "11", "13", "15", "17", "19", "23", "25", "27"})
FEMALE_RELATIONSHIPS = frozenset({"04", "05", "08", "10", "12", "14", "16", "18", "20", "22", "24", "26"})

NOT_IN_SCHOOL = frozenset({"", "00"})
PRESCHOOL = "01"
LOW_EDUCATION = frozenset({"1", "2", "6"})  # 文盲或半文盲 / 小学 / 学龄前儿童
COMPLETED_JUNIOR = frozenset({"3", "4", "5", "51", "52"})  # 初中及以上: finished compulsory schooling

HEALTHY = "1"
DISABLED = "4"
ABLE_LABOUR = frozenset({"1", "2"})  # 普通 / 技能劳动力
NO_LABOUR = "4"
WEAK_OR_NO_LABOUR = frozenset({"3", "4", "5"})  # 丧失 / 无 / 弱或半劳动力
LOST_OR_NO_LABOUR = frozenset({"3", "4"})
OUTSIDE_TOWNSHIP_WORK = frozenset({"2", "3", "4"})
OUTSIDE_COUNTY_WORK = frozenset({"3", "4"})
DROPOUT_HEALTH_REASONS = frozenset({"1", "2"})  # 因病 / 因残
ID_TYPE_ID_CARD = "1"
ID_TYPE_DISABILITY = "2"
ID_TYPE_OTHER = "9"  # passports etc.: the ID-number rules do not apply
SEX_CODES = frozenset({"1", "2"})

EXITED = frozenset({"1", "4"})  # 已脱贫（享受 / 不再享受政策）
NOT_EXITED = frozenset({"0", "3"})  # 未脱贫 / 返贫
POOR_ATTRIBUTES = frozenset({"01", "04", "06", "07"})
EXITED_ATTRIBUTES = frozenset({"02", "03", "05"})
DIBAO_ATTRIBUTES = frozenset({"02", "04", "07", "08"})
TEKUN_ATTRIBUTES = frozenset({"03", "06", "07", "08", "09"})
GENERAL_ATTRIBUTES = frozenset({"01", "05"})
RECEIVING = frozenset({"1", "2"})  # 享受低保 / 特困: 农村 or 城市
DANGEROUS_GRADES = frozenset({"C", "D"})


def _code_labels() -> dict[str, dict[str, str]]:
    # Shipped labels, so messages need no database (administrators may rename labels; codes stay).
    return {key: {item[0]: item[1] for item in items} for key, (_name, items) in CODE_TABLES.items()}


LABELS = _code_labels()


def label(table: str, code: str) -> str:
    return LABELS.get(table, {}).get(code, code)


def quoted(table: str, code: str) -> str:
    """A code's label in Chinese quotes, for messages."""
    return f"“{label(table, code)}”"
