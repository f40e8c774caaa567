"""What every registry page shares: the navigation key, field labels, the other household of a change, and
how a page shows personal data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy

from jingzhun.audit.access import record_access
from jingzhun.audit.models import Action, AuditedModel
from jingzhun.core import privacy
from jingzhun.core.access import Capability, require_capability, requires
from jingzhun.core.scope import can_see_code
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.registry.models import HouseholdChange

NAV = "households"  # the navigation entry of the household pages


def today() -> dt.date:
    return dt.date.today()


def verbose_name(model: type[models.Model], name: str) -> str:
    """The label of one of ``model``'s own fields."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a field of {model.__name__}"
    return str(field.verbose_name)


def with_other_visibility(changes: list[HouseholdChange], user: Any) -> list[HouseholdChange]:
    """Mark each change whose other household (关联户) the user may see: a move across counties must not
    show the other county's household number."""
    for change in changes:
        other = change.other_household
        change.other_visible = other is not None and can_see_code(user, other.village_id)  # type: ignore[attr-defined]
    return changes


# What a reveal shows of a household and of a person, as its audit entry says (the log is kept in Chinese).
HOUSEHOLD_PERSONAL_DATA = "联系电话、银行账号"
MEMBER_PERSONAL_DATA = "证件号码、联系电话、健康状况"

# A page with personal data: everyone with the view capability reads it masked; a POST to the same page is
# its "显示完整号码" button, admitted only for roles that may see personal data in full.
personal_data_page = requires(
    Capability.VIEW,
    write=Capability.SEE_PERSONAL_DATA,
    message=gettext_lazy("您的角色只能查看脱敏后的证件号码、电话、银行账号和健康信息"),
)


def page_disclosure(
    request: AuthenticatedRequest, page: str, shown: Iterable[tuple[AuditedModel, str]]
) -> privacy.Disclosure:
    """How ``page`` shows personal data: masked, unless this request is its reveal (a POST), which shows
    it in full and records, for each (record, what is shown of it) in ``shown``, who saw it."""
    if request.method != "POST":
        return privacy.MASKED
    require_capability(request.user, Capability.SEE_PERSONAL_DATA)  # the view's declaration did already
    with transaction.atomic():
        for subject, personal_data in shown:
            record_access(Action.REVEAL, subject, what=page, personal_data=personal_data)
    return privacy.FULL


def disclosure_context(request: AuthenticatedRequest, disclosure: privacy.Disclosure) -> dict[str, Any]:
    """What the reveal button (registry/_reveal.html) needs."""
    return {"disclosure": disclosure, "can_reveal": privacy.may_see_personal_data(request.user)}
