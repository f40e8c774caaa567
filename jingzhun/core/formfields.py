"""Typed access to a form's fields where a page sets them up per request."""

from __future__ import annotations

from django import forms


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The select ``name`` of ``form`` (a declared ChoiceField, or a model field with choices), to set its
    choices for this request."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field
