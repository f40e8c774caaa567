"""What the household edit pages share: fetching for a write, refusing a cancelled household, saving
through the data-quality gate, and the one shape of a household change.

Every write goes through ``require_write`` (read-only roles get 403, also on GET of an edit page) and is
audited by AuditedModel; composition changes go through jingzhun.registry.services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.forms import BaseForm
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jingzhun.core.scope import get_visible_or_404, require_write
from jingzhun.core.types import AuthenticatedRequest
from jingzhun.registry.models import Household, HouseholdStatus, Member, MemberStatus
from jingzhun.registry.quality.gate import QualityRejected, checked_write
from jingzhun.registry.quality.rule import Violation
from jingzhun.registry.views.common import NAV

T = TypeVar("T")
F = TypeVar("F", bound=BaseForm)


def household_for_write(request: AuthenticatedRequest, pk: int) -> Household:
    household: Household = get_visible_or_404(Household.objects.select_related("village"), request.user, pk=pk)
    require_write(request.user, household.village_id)
    return household


def member_for_write(request: AuthenticatedRequest, pk: int) -> Member:
    member: Member = get_visible_or_404(Member.objects.select_related("household__village"), request.user, pk=pk)
    require_write(request.user, member.household.village_id)
    return member


def refuse_cancelled(request: AuthenticatedRequest, household: Household) -> HttpResponse | None:
    if household.status != HouseholdStatus.ACTIVE:
        messages.error(request, _("该户已注销，只能查看，不能修改"))
        return redirect("registry:household_detail", pk=household.pk)
    return None


# ------------------------------------------------------------------------------------ data-quality gate


def save_checked(
    request: AuthenticatedRequest,
    form: BaseForm,
    write: Callable[[], T],
    households: Callable[[T | None], Iterable[Household | None]],
    *,
    note: str = "",
) -> T | None:
    """Run ``write`` through the data-quality gate (jingzhun.registry.quality.gate.checked_write).

    A refusal by the services, a constraint violation or a new error-level rule undoes the write and
    becomes a Chinese message on ``form``; returns None then. Warnings are flashed.
    """
    try:
        result, warnings = checked_write(write, households, note=note)
    except QualityRejected as exc:
        _add_violations(form, exc.violations)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
    except IntegrityError:
        form.add_error(None, _("保存失败：数据与其他记录冲突（例如同一证件号码已在其他户中在册），请刷新后重试"))
    else:
        _flash_warnings(request, warnings)
        return result
    return None


def _flash_warnings(request: AuthenticatedRequest, warnings: list[Violation], limit: int = 3) -> None:
    """Saved, but the rules found something to look at: say so (the full list is in the 问题台账)."""
    messages_ = list(dict.fromkeys(v.message for v in warnings))
    for text in messages_[:limit]:
        messages.warning(request, _("数据质量提示：%(m)s") % {"m": text})
    if len(messages_) > limit:
        messages.warning(request, _("另有 %(n)s 条数据质量提示") % {"n": len(messages_) - limit})


def _add_violations(form: BaseForm, violations: list[Violation]) -> None:
    """On the field concerned when the form has it and edits that record, else at the top of the form."""
    instance = getattr(form, "instance", None)
    subject = instance.pk if isinstance(instance, Member) else None
    shown: set[tuple[str | None, str]] = set()
    for v in violations:
        field = v.field if v.field in form.fields and v.member_id == subject else None
        if (field, v.message) not in shown:
            shown.add((field, v.message))
            form.add_error(field, v.message)


# ------------------------------------------------------------------------------------ household changes


@dataclass(frozen=True)
class Change(Generic[T]):
    """What a valid household-change form does: ``write`` it (a service call), through the gate over the
    ``touched`` households (asked with None first, for their state before), then ``done`` (a message and
    the page to go to)."""

    write: Callable[[], T]
    touched: Callable[[T | None], Iterable[Household | None]]
    done: Callable[[T], HttpResponse]
    note: str = ""


def household_change(
    request: AuthenticatedRequest,
    household: Household,
    form: Callable[[QueryDict | None], F],
    change: Callable[[F], Change[T]],
    *,
    template: str,
    context: Mapping[str, Any],
    member: Member | None = None,
) -> HttpResponse:
    """The page of one change to a household (or to its ``member``), fetched for writing by the caller:
    refused when the household is cancelled or the member no longer in it; else the form, and on a valid
    POST the change saved through the data-quality gate."""
    if (refused := refuse_cancelled(request, household)) is not None:
        return refused
    if member is not None and member.status != MemberStatus.ACTIVE:
        messages.error(request, _("该成员已不在户内"))
        return redirect("registry:member_detail", pk=member.pk)
    bound = form(request.POST or None)
    if request.method == "POST" and bound.is_valid():
        planned = change(bound)
        result = save_checked(request, bound, planned.write, planned.touched, note=planned.note)
        if result is not None:
            return planned.done(result)
    page = {"form": bound, "household": household, "active_nav": NAV, **context}
    if member is not None:
        page["member"] = member
    return render(request, template, page)
