"""The import normalises ID numbers with the registry's one normaliser (issue 11 item 3): a person typed
with full-width or Arabic-Indic digits is stored in ASCII, and is the same person as the stored one."""

from __future__ import annotations

import pytest

from jingzhun.audit.context import audit_context
from jingzhun.exchange.importer import run_import
from jingzhun.exchange.tests.test_import import family, workbook
from jingzhun.registry.models import Member, MemberStatus
from jingzhun.registry.tests.factories import household_with_members

pytestmark = pytest.mark.django_db

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_import_stores_and_compares_the_normalised_number(tree):
    hh, members = family(seq=300)
    ascii_ids = [m[4] for m in members]
    hh[3] = hh[3].translate(FULL_WIDTH)
    for m in members:
        m[1] = m[1].translate(FULL_WIDTH)
        m[4] = m[4].translate(ARABIC_INDIC)
    with audit_context(None, source="test"):
        report = run_import([("a.xlsx", workbook([hh], members))], scope_prefix="431102", commit=True)
    assert report.ok, [str(i) for i in report.issues]
    assert sorted(Member.objects.unscoped().values_list("id_number", flat=True)) == sorted(ascii_ids)


def test_import_of_a_person_active_elsewhere_in_other_digits_is_refused(tree):
    existing = household_with_members(tree.village_a2, size=2)
    wife = existing.members.get(relationship="02")
    hh, members = family(seq=320)
    members[1][4] = wife.id_number.translate(ARABIC_INDIC)  # NFKC alone leaves these digits
    with audit_context(None, source="test"):
        report = run_import([("a.xlsx", workbook([hh], members))], scope_prefix="431102", commit=True)
    assert not report.committed
    assert any(i.column == "证件号码" and "同一人只能在一个户中" in i.message for i in report.issues)
    assert Member.objects.unscoped().filter(status=MemberStatus.ACTIVE).count() == 2
