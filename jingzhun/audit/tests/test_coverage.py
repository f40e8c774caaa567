"""Every model's writes are audited, or the model says why not: a new model cannot skip the audit unnoticed."""

# ruff: noqa: DJ008  (throw-away models of the test need no __str__)

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from jingzhun.audit.models import AuditedModel, unaudited_models


def test_every_installed_model_is_audited_or_exempt_with_a_reason():
    assert unaudited_models(apps.get_models(include_auto_created=True)) == []


@isolate_apps("jingzhun.registry")
def test_a_new_unaudited_model_is_reported():
    class AssistanceMeasure(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "registry"

    class Visit(AuditedModel):
        note = models.CharField(max_length=20)

        class Meta:
            app_label = "registry"

    class Alert(models.Model):
        audit_exempt = "derived from audited records"

        class Meta:
            app_label = "registry"

    class Careless(models.Model):
        audit_exempt = " "  # a reason must say something

        class Meta:
            app_label = "registry"

    assert unaudited_models([AssistanceMeasure, Visit, Alert, Careless]) == [
        "registry.AssistanceMeasure",
        "registry.Careless",
    ]
