"""The 操作日志 names code-table values by their labels, as the pages do."""

from __future__ import annotations

import pytest

from jingzhun.audit.models import AuditEntry
from jingzhun.audit.search import changes_text, field_changes
from jingzhun.policy import services as policy
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db


def test_code_fields_show_their_labels_in_the_audit_log(tree):
    record = HouseholdYearFactory.create(household=household_with_members(tree.village_a1, size=1), year=2025)
    cause = policy.code_for_label("poverty_cause", "因学")
    assert cause is not None
    record.main_cause = cause
    record.save()
    entry = AuditEntry.objects.filter(object_type="registry.householdyear").order_by("-id").first()
    assert entry is not None
    change = next(c for c in field_changes(entry) if c.name == "main_cause")
    assert change.after == f"因学（{cause}）"
    assert "因学" in changes_text(entry)
