"""Loading the demo households: bulk, idempotent, one correlated audit set; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.demo import households as gen
from jingzhun.demo.loader import load_households
from jingzhun.policy.income import compute_income
from jingzhun.policy.models import IncomeFormula
from jingzhun.registry.models import Household, HouseholdYear, Member, MemberStatus
from jingzhun.registry.tests.factories import HouseholdFactory, MemberFactory

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Household.objects.unscoped().count(),
        Member.objects.unscoped().count(),
        HouseholdYear.objects.unscoped().count(),
        AuditEntry.objects.count(),
    )


def test_load_demo_with_households_is_idempotent_and_one_audit_set():
    out = StringIO()
    call_command("load_demo", households=50, stdout=out)
    assert "演示户：新增 50 户" in out.getvalue()
    expected = gen.generate(50)
    assert Household.objects.unscoped().count() == 50
    assert Member.objects.unscoped().count() == sum(len(hh.members) for hh in expected)
    assert HouseholdYear.objects.unscoped().count() == sum(len(hh.years) for hh in expected)

    # One audit entry per household, all entries of the run under one request id (one correlated set).
    entries = AuditEntry.objects.all()
    assert entries.filter(object_type="registry.household", action="create").count() == 50
    assert not entries.filter(object_type__in=["registry.member", "registry.householdyear"]).exists()
    assert entries.values("request_id").distinct().count() == 1
    assert set(entries.values_list("source", flat=True)) == {"demo"}
    sample = entries.filter(object_type="registry.household").order_by("id").first()
    assert sample is not None
    assert sample.changes["household_number"] == [None, expected[0].household_number]
    assert sample.region_code == expected[0].group_id

    before = _counts()
    out = StringIO()
    call_command("load_demo", households=50, stdout=out)
    assert _counts() == before  # nothing added, not even audit entries
    assert "新增 0 户" in out.getvalue() and "已存在 50 户" in out.getvalue()


def test_larger_load_adds_only_the_new_households():
    call_command("load_demo", households=20, quiet=True)
    call_command("load_demo", households=35, quiet=True)
    numbers = list(Household.objects.unscoped().order_by("id").values_list("household_number", flat=True))
    assert numbers == [hh.household_number for hh in gen.generate(35)]
    assert AuditEntry.objects.filter(object_type="registry.household").count() == 35


def test_loaded_rows_match_the_generated_data():
    call_command("load_demo", households=30, quiet=True)
    for hh in gen.generate(30):
        obj = Household.objects.unscoped().get(household_number=hh.household_number)
        assert obj.village_id == hh.village_id and obj.group_id == hh.group_id
        assert obj.paddy_land_mu == hh.paddy_land_mu and obj.exit_year == hh.exit_year
        assert obj.size() == len(hh.active_members)
        head = obj.head
        assert head is not None and head.name == hh.head.name
        for m in hh.members:
            row = Member.objects.unscoped().get(member_number=m.member_number)
            assert (row.id_number, row.birth_date, row.sex, row.status) == (m.id_number, m.birth_date, m.sex, m.status)
            assert row.village_code == hh.village_id and row.household_id == obj.pk
            assert row.addition_date == m.addition_date and row.removal_date == m.removal_date
            assert row.has_resident_medical_insurance is m.has_resident_medical_insurance
            assert row.created_at is not None
        for y in hh.years:
            record = HouseholdYear.objects.unscoped().get(household=obj, year=y.year)
            assert record.village_code == hh.village_id
            assert record.wage_income == y.wage_income and record.member_count == y.member_count
            result = compute_income(record.income_components(), record.member_count)
            assert record.net_income == result.net_income
            assert record.per_capita_net_income == result.per_capita_net_income == y.per_capita()
            assert record.two_assurances_three_guarantees in (True, False)


def test_derived_income_uses_the_formula_in_force():
    # A county formula from 2021 that adds 理赔收入 and deducts 合规自付支出 (风险测算收入).
    formula = IncomeFormula.objects.create(
        year_from=2021, region_prefix="431102", include_claims_income=True, deduct_compliant_out_of_pocket=True
    )
    call_command("load_demo", households=20, quiet=True)
    later = HouseholdYear.objects.unscoped().filter(year=2022, compliant_out_of_pocket__gt=0).first()
    assert later is not None
    spec = formula.spec()
    assert later.net_income == compute_income(later.income_components(), later.member_count, spec).net_income
    assert later.net_income < later.total_income - later.production_expense
    earlier = HouseholdYear.objects.unscoped().filter(year=2019, compliant_out_of_pocket__gt=0).first()
    assert earlier is not None
    assert earlier.net_income == earlier.total_income - earlier.production_expense  # national default


def test_household_with_an_id_already_active_elsewhere_is_skipped(tree):
    first = gen.generate(10)
    taken = first[4].head
    other = HouseholdFactory(household_number="9999999999999999", village_id=tree.village_a1)
    MemberFactory(household=other, id_number=taken.id_number, birth_date=taken.birth_date, sex=taken.sex)
    call_command("load_demo", households=0, quiet=True)
    with audit_context(None, source="demo"):
        result = load_households(10)
    assert (result.created, result.skipped_clash) == (9, 1)
    assert not Household.objects.unscoped().filter(household_number=first[4].household_number).exists()
    assert Member.objects.unscoped().filter(id_number=taken.id_number, status=MemberStatus.ACTIVE).count() == 1


def test_progress_lines_and_chunks():
    call_command("load_demo", households=0, quiet=True)
    lines = []
    with audit_context(None, source="demo"):
        result = load_households(25, chunk_size=7, progress=lambda d, t, s: lines.append((d, t)), progress_every=10)
    assert lines == [(10, 25), (20, 25), (25, 25)]
    assert result.created == 25 and result.audit_entries == 25
    assert Household.objects.unscoped().count() == 25


def test_members_are_plausible_in_the_database():
    call_command("load_demo", households=40, quiet=True)
    assert not Member.objects.unscoped().filter(id_number="").exists()
    heads = Member.objects.unscoped().active().filter(relationship="01").values_list("household_id", flat=True)
    assert sorted(heads) == sorted(Household.objects.unscoped().values_list("id", flat=True))
    assert Member.objects.unscoped().filter(birth_date__gt=dt.date(gen.LAST_YEAR, 12, 31)).count() == 0
