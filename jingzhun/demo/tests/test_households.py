"""The demo generator: deterministic, internally consistent, with the shapes of domain.md §6."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from decimal import Decimal

import pytest

from jingzhun.demo import households as gen
from jingzhun.registry.idcard import parse_id_number

MOBILE = re.compile(r"^1[3-9]\d{9}$")


@pytest.fixture(scope="module")
def small() -> list[gen.HouseholdData]:
    return gen.generate(200)


@pytest.fixture(scope="module")
def large() -> list[gen.HouseholdData]:
    return gen.generate(5000)


def _clean(hh: gen.HouseholdData) -> bool:
    return not hh.violations


def _targets(hh: gen.HouseholdData) -> set[str]:
    return {number for _kind, number in hh.violations}


def test_same_seed_same_data(small):
    assert gen.generate(200) == small
    assert gen.generate(20, seed=gen.SEED + 1) != small[:20]


def test_stream_is_prefix_stable_and_numbers_are_cheap(small):
    assert gen.generate(60) == small[:60]
    assert gen.DemoGenerator().household_numbers(200) == [hh.household_number for hh in small]


def test_ids_valid_unique_and_consistent(small):
    seen = set()
    for hh in small:
        for m in hh.members:
            info = parse_id_number(m.id_number, today=gen.AS_OF)
            assert info.birth_date == m.birth_date
            assert m.id_number[:6] == gen.AREA
            if m.member_number not in _targets(hh):
                assert info.sex == m.sex
            if len(m.id_number) == 20:
                assert m.id_type == "2"
                assert (info.disability_category, info.disability_grade) == (m.disability_category, m.disability_grade)
            assert info.number not in seen
            seen.add(info.number)
    assert len(seen) == sum(len(hh.members) for hh in small)


def test_one_head_and_relationships_fit(small):
    for hh in small:
        heads = [m for m in hh.active_members if m.relationship == gen.HEAD]
        assert len(heads) == 1
        head = heads[0]
        assert head.birth_date.year <= hh.first_identified_year - 18  # an adult when identified
        spouse = next((m for m in hh.members if m.relationship == gen.SPOUSE), None)
        mother = head if head.sex == "2" else spouse
        for m in hh.active_members:
            if m.member_number in _targets(hh):
                continue
            gap = m.birth_date.year - head.birth_date.year
            if m.relationship == gen.SPOUSE:
                assert m.sex != head.sex
                assert abs(gap) <= 8
            elif m.relationship in (gen.SON, gen.DAUGHTER) and mother is not None:
                assert 20 <= m.birth_date.year - mother.birth_date.year <= 37, (hh.household_number, m)
            elif m.relationship in (gen.SON, gen.DAUGHTER):
                assert 18 <= gap <= 40, (hh.household_number, m)
            elif m.relationship in (gen.GRANDSON, gen.GRANDDAUGHTER, gen.DAUGHTERS_SON, gen.DAUGHTERS_DAUGHTER):
                assert gap >= 38
            elif m.relationship in (gen.FATHER, gen.MOTHER):
                assert -34 <= gap <= -20
            if m.relationship in gen.MALE_RELATIONS:
                assert m.sex == "1"
            if m.relationship in gen.FEMALE_RELATIONS:
                assert m.sex == "2"


def test_children_of_one_mother_are_spaced(small):
    for hh in small:
        births = sorted(m.birth_date for m in hh.members if m.relationship in (gen.SON, gen.DAUGHTER))
        assert all((b - a).days >= 300 for a, b in itertools.pairwise(births))


def test_member_attributes_follow_the_age_rules(small):
    for hh in small:
        for m in hh.active_members:
            if m.member_number in _targets(hh):
                continue
            age = m.age()
            assert bool(m.education) != bool(m.school_status)  # exactly one (domain §5.15)
            if age < 16 or m.school_status:
                assert m.labour == "4"
            if age >= 60:
                assert m.labour not in ("1", "2")
            if 6 <= age <= 16 and not m.school_status:
                assert m.dropout_reason and m.health == "4"
            if 16 <= age <= 22 and not m.school_status:
                assert m.education not in ("1", "2")
            assert m.has_resident_medical_insurance != m.has_employee_medical_insurance
            if m.health == "4":
                assert m.id_type == "2" and len(m.id_number) == 20
            if m.work_status:
                assert m.labour not in ("3", "4") and not m.school_status
            if m.public_welfare_job:
                assert 16 <= age < 70 and m.public_welfare_months
            if m.phone:
                assert MOBILE.match(m.phone)
            if hh.kind == "tekun" and 18 <= age < 60:
                assert m.health != "1"
        if _clean(hh):
            assert MOBILE.match(hh.phone)


def test_main_cause_is_visible_in_the_members(small):
    for hh in small:
        if hh.main_cause == "01":
            assert any(m.health in ("2", "3") for m in hh.members)
        if hh.main_cause == "02":
            assert any(m.health == "4" for m in hh.members)


def test_yearly_records_follow_the_exit(small):
    for hh in small:
        years = [y.year for y in hh.years]
        assert years == list(range(hh.first_identified_year, gen.LAST_YEAR + 1))
        assert hh.first_identified_year in (2014, 2015, 2016)
        assert 2015 <= hh.exit_year <= 2020 and hh.exit_year > hh.first_identified_year
        for y in hh.years:
            assert y.member_count == sum(1 for m in hh.members if m.in_household_at_end_of(y.year))
            if y.exit_status in ("0", "3"):
                assert y.per_capita() < gen.line_low(y.year)
            if y.year == hh.exit_year:
                assert y.exit_status == "1" and y.per_capita() > gen.line_high(y.year)
            if y.year >= hh.exit_year:
                assert y.food_clothing_secure and y.education_secure and y.medical_secure
                assert y.housing_secure and y.water_secure
        assert hh.years[-1].member_count == len(hh.active_members)


def test_cause_share_sizes_and_attributes(large):
    n = len(large)
    causes = Counter(hh.main_cause for hh in large)
    assert 0.38 <= causes["01"] / n <= 0.46  # 因病 ≈ 42 % (domain §6)
    ranked = [code for code, _count in causes.most_common(4)]
    assert ranked[0] == "01" and "09" in ranked  # then 缺资金 …
    sizes = [len(hh.active_members) for hh in large]
    assert 2.9 <= statistics.mean(sizes) <= 3.7
    assert max(sizes) >= 8 and Counter(sizes)[1] > 0.08 * n  # long tail and many single households
    small_share = {
        kind: statistics.mean(len(hh.active_members) <= 2 for hh in large if hh.kind == kind)
        for kind in ("general", "dibao", "tekun")
    }
    assert small_share["tekun"] > small_share["dibao"] > small_share["general"]
    members = sum(sizes)
    assert 3.0 <= members / n <= 3.6  # 12,187 households → about 40,000 members


def test_exits_identification_and_monitoring(large):
    exits = Counter(hh.exit_year for hh in large)
    assert set(exits) <= set(range(2015, 2021))
    assert sum(exits[y] for y in range(2016, 2020)) > 0.8 * len(large)  # mostly 2016–2019
    assert 0 < exits[2020] < exits[2019]
    assert Counter(hh.first_identified_year for hh in large)[2014] > 0.8 * len(large)
    monitored = [hh for hh in large if hh.is_monitored]
    assert 0.01 * len(large) < len(monitored) < 0.04 * len(large)
    assert all(hh.monitoring_category in ("1", "3") and hh.monitored_from >= 2020 for hh in monitored)
    assert 0 < sum(1 for hh in large if hh.returned_year) < 0.03 * len(large)


def test_incomes_rise_after_exit(large):
    checked = 0
    for hh in large:
        if hh.violations or hh.returned_year or hh.is_monitored:
            continue
        pcs = {y.year: y.per_capita() for y in hh.years}
        if hh.exit_year - 1 in pcs:
            assert pcs[hh.exit_year] > pcs[hh.exit_year - 1] * Decimal("1.2")
        after = [pcs[y] for y in range(hh.exit_year, gen.LAST_YEAR + 1)]
        assert all(b >= a for a, b in itertools.pairwise(after))
        assert 4000 <= pcs[2020] <= 30000
        checked += 1
    assert checked > 0.9 * len(large)
    mean_2020 = statistics.mean(float(hh.years[2020 - hh.first_identified_year].per_capita()) for hh in large)
    assert 6000 < mean_2020 < 15000


def test_deliberate_violations_are_rare_and_visible(large):
    flagged = [hh for hh in large if hh.violations]
    assert 0.008 * len(large) <= len(flagged) <= 0.025 * len(large)
    kinds = Counter(kind for hh in flagged for kind, _m in hh.violations)
    assert set(kinds) == set(gen.VIOLATION_KINDS)
    for hh in flagged:
        kind, number = hh.violations[0]
        m = next((m for m in hh.members if m.member_number == number), None)
        if kind == "child_labour":
            assert m is not None and m.age() < 16 and m.labour == "1"
        elif kind == "elderly_labour":
            assert m is not None and m.age() >= 60 and m.labour == "1"
        elif kind == "no_medical_insurance":
            assert m is not None and not m.has_resident_medical_insurance and not m.has_employee_medical_insurance
        elif kind == "sex_relationship":
            head = hh.head
            assert m is not None
            assert (m.relationship == gen.SPOUSE and m.sex == head.sex) or (
                (m.relationship in gen.MALE_RELATIONS) != (m.sex == "1")
            )
        elif kind == "landline_phone":
            assert not MOBILE.match(hh.phone)
        elif kind == "dropout_no_reason":
            assert m is not None and 6 <= m.age() <= 16 and not m.school_status and not m.dropout_reason
        elif kind == "disabled_without_certificate":
            assert m is not None and m.health == "4" and m.id_type == "1" and len(m.id_number) == 18
        elif kind == "welfare_job_too_old":
            assert m is not None and m.age() >= 70 and m.public_welfare_job
        elif kind == "student_working":
            assert m is not None and m.school_status and m.work_status
        elif kind == "land_out_of_range":
            assert hh.paddy_land_mu > 100
        elif kind == "low_income_not_monitored":
            last = hh.years[-1]
            assert not hh.is_monitored and last.per_capita() < gen.MONITORING_LINE[last.year]
        elif kind == "worker_without_wage":
            assert any(m.work_status for m in hh.active_members) and hh.years[-1].wage_income == 0
