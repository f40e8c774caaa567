"""No lost updates on the edit forms (户信息, 成员信息, 户年度信息, 村情): each form carries the version of
its record as it was opened — the values of the fields it edits, signed — and a save whose record changed
meanwhile in one of those fields is refused, with what changed (label, value then, value now), before
anything is written.

Only the fields the form writes count: a change the form cannot overwrite (a member added, so the yearly
record's 家庭人口数 is recomputed) is no conflict. The check and the write run in one transaction, after
the audit chain's lock that every audited writer takes first (audit.models.lock_chain), so a concurrent
save is either seen by the check or waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jingzhun.audit.models import lock_chain, to_audit_value

T = TypeVar("T")
VERSION_FIELD = "opened_version"
_SALT = "jingzhun.registry.versions"
EMPTY = gettext_lazy("（空）")


class StaleEdit(ValidationError):
    """The record changed since the form was opened; the messages say what (or that the page is no
    version of this record at all)."""


class VersionedForm(forms.BaseForm):
    """Mixin for a ModelForm: the hidden ``opened_version`` field holds the record's version when the form
    was made; a bound form carries back the version its page was opened on."""

    instance: models.Model

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[VERSION_FIELD] = forms.CharField(widget=forms.HiddenInput, required=False)
        self.fields[VERSION_FIELD].initial = version_of(self.instance, self._meta.fields)  # type: ignore[attr-defined]

    def opened_state(self) -> tuple[int | None, dict[str, Any]]:
        """The record's primary key and edited values when the form's page was opened; StaleEdit when
        the page carries no valid version of this record."""
        token = self.data.get(self.add_prefix(VERSION_FIELD)) or ""
        try:
            opened = signing.loads(token, salt=_version_salt(self.instance))
        except signing.BadSignature as exc:
            raise StaleEdit(_("本页面缺少有效的版本信息，未保存。请重新打开本页后再修改。")) from exc
        pk, state = opened["pk"], opened["state"]
        if pk is not None and pk != self.instance.pk:
            raise StaleEdit(_("本页面缺少有效的版本信息，未保存。请重新打开本页后再修改。"))
        return pk, state


def _version_salt(instance: models.Model) -> str:
    return f"{_SALT}:{instance._meta.label_lower}"


def _state(instance: models.Model, names: Any) -> dict[str, Any]:
    """The values of ``names`` (the form's model fields) in the form the audit log records them."""
    state: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in names:
            state[field.name] = to_audit_value(field.value_from_object(instance))
    return state


def version_of(instance: models.Model, names: Any) -> str:
    """The signed version of ``instance`` as a form over ``names`` shows it."""
    return signing.dumps(
        {"pk": instance.pk, "state": _state(instance, names)}, salt=_version_salt(instance), compress=True
    )


def refuse_if_changed(form: VersionedForm) -> None:
    """Inside the write's transaction: lock, read the record as stored now and refuse the save (StaleEdit)
    if a field the form writes differs from when the form was opened."""
    opened_pk, opened = form.opened_state()
    instance = form.instance
    if instance.pk is None:
        return  # a record still to be created (a new year): the unique constraint refuses a second one
    lock_chain()  # first, as every audited writer does, so writers never wait on each other in a cycle
    stored = type(instance)._base_manager.select_for_update().get(pk=instance.pk)
    writes = [name for name, field in form.fields.items() if not field.disabled]
    now = _state(stored, writes)
    changed = [name for name in now if opened.get(name) != now[name]]
    if changed:
        raise StaleEdit(_stale_messages(form, opened, now, changed, created=opened_pk is None))


def _stale_messages(
    form: VersionedForm, opened: dict[str, Any], now: dict[str, Any], names: list[str], *, created: bool
) -> list[str]:
    if created:  # opened as a new record, which someone else has entered since
        lines = [_("未保存：您打开本页后，他人已录入了这条记录。请重新打开本页，核对下列内容后再修改。")]
    else:
        lines = [_("未保存：您打开本页后，他人修改了这条记录。请重新打开本页，核对下列内容后再修改。")]
    for name in names:
        field = form.fields[name]
        then = _("（无记录）") if created else shown(field, opened.get(name))
        lines.append(
            _("%(label)s：打开时为“%(then)s”，现为“%(now)s”")
            % {"label": field.label, "then": then, "now": shown(field, now[name])}
        )
    return lines


def shown(field: forms.Field, value: Any) -> str:
    """A recorded value as the form shows it: a code's label, 是/否, a region's name."""
    if value is None or value == "":
        return str(EMPTY)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
        chosen = field.queryset.model._base_manager.filter(pk=value).first()
        return field.label_from_instance(chosen) if chosen is not None else str(value)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))  # type: ignore[arg-type]
    return str(value)


def versioned(form: VersionedForm, write: Callable[[], T]) -> Callable[[], T]:
    """``write``, refused first if the form's record changed since the form was opened."""

    def checked() -> T:
        refuse_if_changed(form)
        return write()

    return checked
