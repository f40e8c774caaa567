"""家庭纯收入 / 人均纯收入 (domain §4.2): the pure formula, its configuration per region, and
reproducibility of earlier years after later edits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jingzhun.audit.context import audit_context
from jingzhun.policy.income import IncomeFormulaSpec, compute_income
from jingzhun.policy.models import IncomeFormula
from jingzhun.registry import services
from jingzhun.registry.models import HouseholdYear, Member
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members, valid_id
from jingzhun.registry.tests.pages_fixtures import _fresh_policy_cache  # noqa: F401

D = Decimal
COMPONENTS = {
    "wage_income": D("12000"),
    "business_income": D("3000.50"),
    "property_income": D("200"),
    "transfer_income": D("1500"),
    "claims_income": D("4000"),
    "production_expense": D("1500.25"),
    "compliant_out_of_pocket": D("2600"),
}


class TestPureFormula:
    def test_national_default_four_incomes_minus_production_expense(self):
        result = compute_income(COMPONENTS, 3)
        assert result.total_income == D("16700.50")  # 理赔收入 not counted by default
        assert result.net_income == D("15200.25")
        assert result.per_capita_net_income == D("5066.75")

    def test_risk_assessment_variant_adds_claims_and_deducts_out_of_pocket(self):
        spec = IncomeFormulaSpec(
            included_income=frozenset(
                {"wage_income", "business_income", "property_income", "transfer_income", "claims_income"}
            ),
            included_deductions=frozenset({"production_expense", "compliant_out_of_pocket"}),
        )
        result = compute_income(COMPONENTS, 3, spec)
        assert result.total_income == D("20700.50")
        assert result.net_income == D("16600.25")
        assert result.per_capita_net_income == D("5533.42")  # 16600.25 / 3 rounded half up

    def test_rounding_half_up_and_empty_values(self):
        result = compute_income({"wage_income": "100.005", "business_income": None, "transfer_income": ""}, 1)
        assert result.net_income == D("100.01")

    def test_no_members_gives_zero_per_capita(self):
        assert compute_income(COMPONENTS, 0).per_capita_net_income == D("0.00")

    def test_net_income_may_be_negative(self):
        result = compute_income({"business_income": D("500"), "production_expense": D("800")}, 2)
        assert (result.net_income, result.per_capita_net_income) == (D("-300.00"), D("-150.00"))


@pytest.mark.django_db
class TestConfiguredFormula:
    def test_county_formula_with_claims_changes_that_county_only(self, tree):
        here = household_with_members(tree.village_a1, size=2)
        elsewhere = household_with_members(tree.other_village, size=2)
        kwargs = {"year": 2025, "claims_income": D("1000"), "wage_income": D("9000"), "business_income": D("0")}
        kwargs |= {"transfer_income": D("0"), "production_expense": D("0")}
        before_here = HouseholdYearFactory.create(household=here, **kwargs)
        assert before_here.net_income == D("9000.00")

        IncomeFormula.objects.create(year_from=2021, region_prefix="431102", include_claims_income=True)
        here_record = HouseholdYear.objects.unscoped().get(pk=before_here.pk)
        services.save_year(here_record)
        there_record = HouseholdYearFactory.create(household=elsewhere, **kwargs)

        assert (here_record.net_income, here_record.per_capita_net_income) == (D("10000.00"), D("5000.00"))
        assert (there_record.net_income, there_record.per_capita_net_income) == (D("9000.00"), D("4500.00"))

    def test_formula_applies_from_its_year_on(self, tree):
        IncomeFormula.objects.create(year_from=2023, region_prefix="431102", include_claims_income=True)
        h = household_with_members(tree.village_a1, size=1)
        old = HouseholdYearFactory.create(household=h, year=2020, claims_income=D("1000"))
        new = HouseholdYearFactory.create(household=h, year=2024, claims_income=D("1000"))
        assert new.net_income - old.net_income == D("1000.00")


@pytest.mark.django_db
class TestReproducibility:
    def test_2019_record_keeps_figures_after_member_added_and_2025_edited(self, tree):
        # "2025" is last year's record (the latest one, which follows the household); 2019 is history.
        last_year = dt.date.today().year - 1
        h = household_with_members(tree.village_a1, size=3)
        y2019 = HouseholdYearFactory.create(household=h, year=2019, wage_income=D("9000"))
        y2025 = HouseholdYearFactory.create(household=h, year=last_year, wage_income=D("20000"))
        snapshot = (y2019.member_count, y2019.net_income, y2019.per_capita_net_income)
        assert snapshot == (3, D("12000.00"), D("4000.00"))
        assert y2025.member_count == 3

        with audit_context(None, source="test"):
            born = dt.date.today() - dt.timedelta(days=30)
            baby = Member(name="张小宝", sex="2", birth_date=born, relationship="08", education="6")
            baby.id_number = valid_id(born, "2")
            services.add_member(h, baby, reason="2", date=born + dt.timedelta(days=10))
        y2025.refresh_from_db()
        assert y2025.member_count == 4  # the latest year follows the household's composition

        y2025.wage_income = D("24000")
        services.save_year(y2025)
        # Re-saving the 2019 record (e.g. a typo fixed elsewhere) must not pull in today's member count.
        y2019_again = HouseholdYear.objects.unscoped().get(pk=y2019.pk)
        services.save_year(y2019_again)

        y2019.refresh_from_db()
        assert (y2019.member_count, y2019.net_income, y2019.per_capita_net_income) == snapshot
        y2025.refresh_from_db()
        assert y2025.per_capita_net_income == D("6750.00")  # (24000+3000+1500-1500) / 4

    def test_2019_record_keeps_figures_when_a_later_formula_is_configured(self, tree):
        h = household_with_members(tree.village_a1, size=2)
        y2019 = HouseholdYearFactory.create(household=h, year=2019, claims_income=D("800"))
        before = y2019.net_income
        IncomeFormula.objects.create(year_from=2021, region_prefix="4311", include_claims_income=True)
        services.save_year(HouseholdYear.objects.unscoped().get(pk=y2019.pk))
        y2019.refresh_from_db()
        assert y2019.net_income == before
