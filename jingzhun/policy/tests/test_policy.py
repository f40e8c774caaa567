"""Policy data: code tables by year, the income formula in force, income lines, and the admin pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.policy import services
from jingzhun.policy.defaults import CODE_TABLES
from jingzhun.policy.income import IncomeFormulaSpec
from jingzhun.policy.models import CodeItem, IncomeFormula, PovertyLine

pytestmark = pytest.mark.django_db


def test_shipped_defaults_are_installed_by_migrations():
    for key, (_name, items) in CODE_TABLES.items():
        assert len(services.choices(key, blank=False)) == len(items), key
    assert services.label("poverty_cause", "01") == "因病"
    assert services.poverty_line("exit_acceptance", 2018) == Decimal("3535.00")


def test_choices_follow_the_year_of_the_record():
    labour_2015 = dict(services.choices("labour", 2015, blank=False))
    labour_2022 = dict(services.choices("labour", 2022, blank=False))
    assert "5" not in labour_2015  # 弱劳动力或半劳动力 appears in the monitoring era
    assert labour_2022["5"] == "弱劳动力或半劳动力"
    assert services.is_valid("education", "5", 2019)
    assert not services.is_valid("education", "5", 2022)  # split into 大专 / 本科及以上
    assert services.code_for_label("poverty_cause", "因病") == "01"
    assert services.code_for_label("poverty_cause", "01") == "01"
    assert services.code_for_label("poverty_cause", "不存在") is None


def test_formula_most_specific_region_and_latest_year_wins():
    assert services.formula_for(2020, "431102100201") == IncomeFormulaSpec()
    IncomeFormula.objects.create(year_from=2021, region_prefix="431102", include_claims_income=True)
    county_2022 = services.formula_for(2022, "431102100201")
    assert "claims_income" in county_2022.included_income
    assert "claims_income" not in services.formula_for(2020, "431102100201").included_income
    assert "claims_income" not in services.formula_for(2022, "431103100201").included_income


def test_poverty_line_prefers_the_province_line():
    PovertyLine.objects.create(kind="monitoring", year=2024, region_prefix="43", amount=Decimal("7500"))
    PovertyLine.objects.create(kind="monitoring", year=2024, region_prefix="", amount=Decimal("7000"))
    assert services.poverty_line("monitoring", 2024, "431102100201") == Decimal("7500")
    assert services.poverty_line("monitoring", 2024, "520102100201") == Decimal("7000")
    assert services.poverty_line("monitoring", 2030) is None


def test_everyone_reads_only_system_admin_edits(client, tree, make_user):
    county = make_user(Role.COUNTY_ADMIN, tree.county)
    client.force_login(county)
    assert client.get(reverse("policy:overview")).status_code == 200
    line = PovertyLine.objects.get(kind="exit_acceptance", year=2018, region_prefix="")
    response = client.post(reverse("policy:line_edit", args=[line.pk]), {"amount": "1"})
    assert response.status_code == 403


def test_admin_edits_a_line_and_it_is_audited(client, tree, make_user):
    admin = make_user(Role.SYSTEM_ADMIN, None)  # the national line: an administrator of the whole country
    client.force_login(admin)
    line = PovertyLine.objects.get(kind="exit_acceptance", year=2018, region_prefix="")
    response = client.post(
        reverse("policy:line_edit", args=[line.pk]),
        {
            "kind": "exit_acceptance",
            "year": 2018,
            "region_prefix": "431102000000",
            "amount": "3600",
            "source": "县文件",
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("3600") and line.region_prefix == "431102"
    entry = AuditEntry.objects.filter(object_type="policy.povertyline", object_id=str(line.pk)).first()
    assert entry is not None
    assert entry.actor_username == admin.username
    assert entry.changes["amount"] == ["3535", "3600"]


def test_admin_adds_a_code_item_with_validation(client, tree, make_user):
    client.force_login(make_user(Role.SYSTEM_ADMIN, None))  # code tables are national data
    url = reverse("policy:code_table", args=["poverty_cause"])
    bad = client.post(
        url, {"code": "13", "label": "因意外事故", "sort_order": 20, "valid_from": 2021, "valid_to": 2020}
    )
    assert "截止年度不能早于起始年度" in bad.content.decode()
    ok = client.post(url, {"code": "13", "label": "因意外事故", "sort_order": 20, "valid_from": 2021})
    assert ok.status_code == 302
    assert CodeItem.objects.filter(table__key="poverty_cause", code="13").exists()
    assert services.is_valid("poverty_cause", "13", 2022)
    assert not services.is_valid("poverty_cause", "13", 2019)
