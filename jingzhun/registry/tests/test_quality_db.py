"""Data-quality checks against the database: one household, the batch over a region, the command."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from jingzhun.registry.models import Member, MemberStatus, QualityIssue
from jingzhun.registry.quality import catalogue, db
from jingzhun.registry.quality.run import run_quality
from jingzhun.registry.tests.factories import (
    HouseholdYearFactory,
    MemberFactory,
    household_with_members,
    legacy_duplicate,
    valid_id,
)

pytestmark = pytest.mark.django_db

_phones = iter(range(10**6))


def clean_household(village: str, **kwargs):
    """A factory household without any violation (own phone, 脱贫年度 filled, a 2020 record)."""
    kwargs.setdefault("phone", f"139{next(_phones):08d}")
    kwargs.setdefault("exit_year", 2019)
    household = household_with_members(village, size=3, **kwargs)
    HouseholdYearFactory(household=household, year=2020)
    return household


def child_labourer(household) -> Member:
    return MemberFactory.create(
        household=household,
        name="童工甲",
        birth_date=dt.date.today().replace(year=dt.date.today().year - 12),
        relationship="03",
        education="",
        school_status="07",
        labour="1",
        has_resident_pension=None,
    )


def codes(violations) -> set[str]:
    return {v.rule_code for v in violations}


def test_factory_household_is_clean(tree):
    household = clean_household(tree.village_a1)
    assert db.check_household(household) == []
    assert db.check_household(household, 2020) == []


def test_check_household_finds_and_records_issues(tree):
    household = clean_household(tree.village_a1)
    kid = child_labourer(household)
    violations = db.check_household(household)
    [error] = [v for v in violations if v.rule_code == "2_01_011"]
    assert error.member_id == kid.pk and error.level == "error" and error.field == "labour"
    assert "3_11_002" in codes(violations)  # the 2020 record still counts 3 people: a stale derived figure

    assert db.record_issues(household, violations) == len(violations)
    rows = QualityIssue.objects.unscoped().filter(household=household)
    assert rows.count() == len(violations)
    assert rows.get(rule_code="2_01_011").member_id == kid.pk
    assert set(rows.values_list("village_code", flat=True)) == {tree.village_a1}

    kid.labour = "4"
    kid.save()
    found = db.refresh_issues(household)
    assert "2_01_011" not in codes(found)
    assert not QualityIssue.objects.unscoped().filter(household=household, rule_code="2_01_011").exists()


def test_year_selects_the_record(tree):
    household = clean_household(tree.village_a1)
    HouseholdYearFactory(household=household, year=2019, main_cause="")
    assert "JZ_801" in codes(db.check_household(household, 2019))
    assert "JZ_801" not in codes(db.check_household(household, 2020))
    assert "JZ_801" not in codes(db.check_household(household))  # latest = 2020


def test_exit_line_comes_from_policy(tree):
    household = clean_household(tree.village_a1)
    record = household.years.get()
    record.wage_income = Decimal("9000")  # (9000 + 3000 + 1500 − 1500) / 3 = 4000 ≥ 4000
    record.save()
    record.refresh_from_db()
    assert "JZ_703" not in codes(db.check_household(household, 2020))
    record.wage_income = Decimal("8990")
    from jingzhun.registry import services

    services.save_year(record)
    [v] = [v for v in db.check_household(household, 2020) if v.rule_code == "JZ_703"]
    assert "4,000.00 元" in v.message


def test_form_validation_with_an_unsaved_member(tree):
    household = clean_household(tree.village_a1)
    newcomer = Member(
        household=household,
        name="王新",
        sex="2",  # the ID says male
        id_number=valid_id(dt.date(1990, 1, 1), "1"),
        birth_date=dt.date(1990, 1, 1),
        relationship="05",
        education="3",
        labour="1",
        has_serious_illness_insurance=True,
        has_resident_medical_insurance=True,
        has_resident_pension=True,
    )
    members, index = db.with_member(household, newcomer)
    violations = db.check_household(household, members=members)
    errors = catalogue.errors_for_forms(violations, member_index=index, fields=["sex", "id_number"])
    assert list(errors) == ["sex"]
    assert errors["sex"][0].startswith("王新：性别为“女”")
    # The household form is not blocked by a member's error.
    assert catalogue.errors_for_forms(violations) == {}


def test_same_person_in_two_households_by_certificate_number(tree):
    first = clean_household(tree.village_a1)
    second = clean_household(tree.village_b1)
    person = first.members.get(relationship="01")
    legacy_duplicate(
        second, person.id_number + "41", name="同一人", relationship="21", id_type="2", health="4", labour="4"
    )
    assert "1_01_001" in codes(db.check_household(first))  # 18-digit side finds the certificate
    [v] = [v for v in db.check_household(second) if v.rule_code == "1_01_001"]
    assert first.household_number in v.message


def test_shared_phone_between_households(tree):
    first = clean_household(tree.village_a1, phone="13912345678")
    second = clean_household(tree.village_a2, phone="13912345678")
    [v] = [v for v in db.check_household(first) if v.rule_code == "2_01_014"]
    assert second.household_number in v.message and v.level == "warning"


def test_batch_replaces_issues_of_the_region_only(tree):
    a = [clean_household(tree.village_a1) for _ in range(3)]
    child_labourer(a[0])
    b = clean_household(tree.village_b1)
    child_labourer(b)
    stale = QualityIssue.objects.create(
        household=a[1], village_code=tree.village_a1, rule_code="OLD", level="warning", message="旧问题"
    )
    outside = QualityIssue.objects.create(
        household=b, village_code=tree.village_b1, rule_code="OLD", level="warning", message="区外旧问题"
    )
    calls = []
    result = run_quality(tree.village_a1, progress=lambda done, total: calls.append((done, total)), chunk_size=2)

    assert result.households == 3
    assert calls == [(0, 3), (2, 3), (3, 3)]
    assert result.per_rule["2_01_011"] == 1 and result.errors >= 1
    assert not QualityIssue.objects.unscoped().filter(pk=stale.pk).exists()
    assert QualityIssue.objects.unscoped().filter(pk=outside.pk).exists()
    recorded = QualityIssue.objects.unscoped().filter(village_code=tree.village_a1)
    assert recorded.count() == result.issues
    assert set(recorded.values_list("household_id", flat=True)) == {a[0].pk}


def test_batch_skips_cancelled_households_and_drops_their_issues(tree):
    household = clean_household(tree.village_a1)
    child_labourer(household)
    run_quality(tree.village_a1)
    assert QualityIssue.objects.unscoped().filter(household=household).exists()
    household.status = "cancelled"
    household.save()
    assert run_quality(tree.village_a1).households == 0
    assert not QualityIssue.objects.unscoped().filter(household=household).exists()


@pytest.mark.parametrize("small_run", [300, 0], ids=["per-member-lookup", "certificate-scan"])
def test_batch_matches_single_household_check(tree, monkeypatch, small_run):
    monkeypatch.setattr("jingzhun.registry.quality.run.SMALL_RUN", small_run)
    household = clean_household(tree.village_a1, phone="0746-1234567")
    child_labourer(household)
    spouse = household.members.get(relationship="02")
    spouse.status = MemberStatus.REMOVED
    spouse.removal_reason = "1"
    spouse.removal_date = dt.date(2021, 3, 1)
    spouse.save()
    other = clean_household(tree.village_a2)
    head = other.members.get(relationship="01")
    legacy_duplicate(household, head.id_number + "42", name="证号重复", relationship="21", id_type="2")
    single = sorted((v.rule_code, v.member_id, v.message) for v in db.check_household(household))
    run_quality(tree.township_a)
    batch = sorted(
        QualityIssue.objects.unscoped().filter(household=household).values_list("rule_code", "member_id", "message")
    )
    assert batch == single
    assert {"2_01_011", "2_01_013", "1_01_001"} <= {code for code, _m, _t in batch}


def test_batch_year_option(tree):
    household = clean_household(tree.village_a1)
    HouseholdYearFactory(household=household, year=2019, main_cause="")
    assert run_quality(tree.village_a1).per_rule["JZ_801"] == 0
    assert run_quality(tree.village_a1, 2019).per_rule["JZ_801"] == 1


def test_command_prints_counts_per_rule(tree):
    household = clean_household(tree.village_a1)
    child_labourer(household)
    out = io.StringIO()
    call_command("check_quality", "--region", tree.county, stdout=out)
    text = out.getvalue()
    assert "2_01_011" in text and "未满 16 周岁劳动技能应为无劳动力" in text
    assert "检查 1 户" in text
    assert QualityIssue.objects.unscoped().filter(rule_code="2_01_011").count() == 1


def test_command_options(tree):
    household = clean_household(tree.village_a1)
    HouseholdYearFactory(household=household, year=2019, main_cause="")
    out = io.StringIO()
    call_command("check_quality", "--year", "2019", "--as-of", "year-end", stdout=out)
    assert "JZ_801" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("check_quality", "--region", "12345", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("check_quality", "--as-of", "year-end", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("check_quality", "--as-of", "2020-13-01", stdout=io.StringIO())


def test_new_household_with_unsaved_members(tree):
    from jingzhun.registry.models import Household

    household = Household(household_number="431102100201999", village_id=tree.village_a1, phone="13700000000")
    head = Member(name="新户主", sex="1", id_number="123", relationship="01", education="3", labour="1")
    members, index = db.with_member(household, head)
    assert index == 0
    violations = db.check_household(household, members=members)
    errors = catalogue.errors_for_forms(violations, member_index=index, fields=["id_number"])
    assert errors["id_number"] == ["新户主：证件号码应为 18 位（残疾人证号 20 位），当前 3 位"]
