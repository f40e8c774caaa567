"""Personal data as each user may see it: ID numbers, phones, bank accounts and health details.

PIPL treats ID numbers and health data as sensitive personal information. Every page, card, register and
export shows them through a ``Disclosure``: masked (``4311**********1234``, ``138****5678``, the last four
digits of an account, health hidden) unless the user's role holds ``Capability.SEE_PERSONAL_DATA`` and
either asked to see them on that page (a reveal, logged by audit.access) or downloads a file (each download
logged). The audit log's change lists always show them masked. Plain functions over strings, tested without
the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from jingzhun.core.access import Capability, has_capability

MASK = "*"
HIDDEN = _("（已隐藏）")  # what a masked viewer sees instead of a health detail


def mask_id_number(number: str) -> str:
    """The first four and last four characters (``4311**********1234``): the county and the person's
    birth date stay hidden. A short value is masked whole."""
    if len(number) <= 8:
        return MASK * len(number)
    return number[:4] + MASK * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """A mobile number keeps its first three and last four digits (``138****5678``); a shorter number its
    last four."""
    if len(phone) >= 11:
        return phone[:3] + MASK * (len(phone) - 7) + phone[-4:]
    if len(phone) > 4:
        return MASK * (len(phone) - 4) + phone[-4:]
    return MASK * len(phone)


def mask_bank_account(account: str) -> str:
    """Only the last four digits, enough to tell two accounts apart."""
    if len(account) > 4:
        return MASK * (len(account) - 4) + account[-4:]
    return MASK * len(account)


@dataclass(frozen=True)
class Disclosure:
    """How one page or file shows personal data: in full, or masked."""

    full: bool

    def id_number(self, value: str) -> str:
        return value if self.full or not value else mask_id_number(value)

    def phone(self, value: str) -> str:
        return value if self.full or not value else mask_phone(value)

    def bank_account(self, value: str) -> str:
        return value if self.full or not value else mask_bank_account(value)

    def health(self, value: Any) -> Any:
        """A health detail (健康状况, 残疾类别, 残疾等级): hidden whole, since any part of it says something.
        Nothing to hide stays empty."""
        return value if self.full or value in ("", None) else str(HIDDEN)

    def field(self, name: str, value: Any) -> Any:
        """``value`` of the registry field (or export column) ``name`` as this disclosure shows it."""
        show = _FIELD_MASKS.get(name)
        return value if show is None else show(self, value)

    @property
    def description(self) -> str:
        """For the audit entry of a download: how the file shows personal data (the log is kept in Chinese)."""
        return "完整" if self.full else "脱敏"


# The fields that hold personal data (registry fields, export columns, keys of an audit entry's changes),
# by how each is masked.
_FIELD_MASKS = {
    "id_number": Disclosure.id_number,
    "head_id_number": Disclosure.id_number,
    "phone": Disclosure.phone,
    "bank_account": Disclosure.bank_account,
    "health": Disclosure.health,
    "disability_category": Disclosure.health,
    "disability_grade": Disclosure.health,
}

FULL = Disclosure(full=True)
MASKED = Disclosure(full=False)


def may_see_personal_data(user: Any) -> bool:
    return has_capability(user, Capability.SEE_PERSONAL_DATA)


def for_download(user: Any) -> Disclosure:
    """A file keeps personal data in full for a role whose work needs it (the download itself is logged),
    masked for everyone else."""
    return FULL if may_see_personal_data(user) else MASKED
