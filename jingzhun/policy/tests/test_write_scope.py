"""Policy data has a scope (issue 11, item 2): an administrator changes only the items their scope covers.

The attack, as the 零陵区 系统管理员 tried it: change the national poverty line, the Hunan monitoring line, create
a line for Beijing and relabel a national code item. Each is refused; the county's own lines and formulas stay
theirs to set, and the pages show which items they may change.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.policy.models import CodeItem, IncomeFormula, PovertyLine
from jingzhun.policy.permissions import covers

pytestmark = pytest.mark.django_db


def line_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "monitoring",
        "year": 2024,
        "region_prefix": "431102000000",
        "amount": "7600",
        "source": "县文件",
    }
    return {**data, **overrides}


def formula_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"year_from": 2024, "region_prefix": "431102", "include_wage_income": "on"}
    return {**data, **overrides}


@pytest.fixture
def lines(db) -> dict[str, PovertyLine]:
    """The national line (shipped), Hunan's and the county's monitoring lines for 2024."""
    return {
        "national": PovertyLine.objects.get(kind="exit_acceptance", year=2018, region_prefix=""),
        "hunan": PovertyLine.objects.create(kind="monitoring", year=2024, region_prefix="43", amount=Decimal("7500")),
        "county": PovertyLine.objects.create(
            kind="monitoring", year=2024, region_prefix="431102", amount=Decimal("7600")
        ),
    }


@pytest.fixture
def county_system_admin(client, tree, make_user):
    admin = make_user(Role.SYSTEM_ADMIN, tree.county)
    client.force_login(admin)
    return admin


def test_the_rule(tree, make_user):
    unlimited = make_user(Role.SYSTEM_ADMIN, None)
    province = make_user(Role.SYSTEM_ADMIN, tree.province)
    county = make_user(Role.SYSTEM_ADMIN, tree.county)
    county_office = make_user(Role.COUNTY_ADMIN, tree.county)
    assert covers(unlimited, "") and covers(unlimited, "11") and covers(unlimited, "431102")
    assert not covers(province, "") and covers(province, "43") and covers(province, "431102")
    assert not covers(province, "11")
    assert not covers(county, "") and not covers(county, "43") and not covers(county, "4311")
    assert covers(county, "431102") and covers(county, "431102100")
    assert not covers(county, "431103")
    # The county's office (乡村振兴局) reads policy data; the administrator of its scope enters it.
    assert not covers(county_office, "431102")
    unlimited.is_active = False
    assert not covers(unlimited, "")


@pytest.mark.parametrize("item", ["national", "hunan"])
def test_county_administrator_cannot_change_a_line_above_the_county(client, county_system_admin, lines, item):
    line = lines[item]
    url = reverse("policy:line_edit", args=[line.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, line_data(kind=line.kind, year=line.year, region_prefix=line.region_prefix))
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.amount != Decimal("7600")


def test_county_administrator_cannot_create_a_line_for_beijing_or_the_nation(client, county_system_admin, lines):
    for prefix in ("11", "110000000000", "", "43", "431103000000"):
        response = client.post(reverse("policy:line_create"), line_data(region_prefix=prefix, year=2025))
        assert response.status_code == 200, prefix
        assert "不在您的管辖范围" in response.content.decode(), prefix
    assert not PovertyLine.objects.filter(year=2025).exists()


def test_county_administrator_cannot_move_its_line_out_of_the_county(client, county_system_admin, lines):
    line = lines["county"]
    response = client.post(reverse("policy:line_edit", args=[line.pk]), line_data(region_prefix="", amount="9000"))
    assert response.status_code == 200 and "不在您的管辖范围" in response.content.decode()
    line.refresh_from_db()
    assert line.region_prefix == "431102" and line.amount == Decimal("7600")


def test_county_administrator_sets_the_county_line(client, county_system_admin, lines):
    line = lines["county"]
    response = client.post(reverse("policy:line_edit", args=[line.pk]), line_data(amount="7800"))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("7800")
    response = client.post(reverse("policy:line_create"), line_data(year=2025, region_prefix="431102100000"))
    assert response.status_code == 302
    assert PovertyLine.objects.filter(year=2025, region_prefix="431102100").exists()


def test_a_regional_line_is_never_below_the_line_above_it(client, county_system_admin, lines):
    """地方标准不得低于上级标准: a county cannot make its households exit on a lower line than the province's."""
    response = client.post(reverse("policy:line_edit", args=[lines["county"].pk]), line_data(amount="7400"))
    assert response.status_code == 200
    assert "不得低于上级标准" in response.content.decode() and "7500" in response.content.decode()
    lines["county"].refresh_from_db()
    assert lines["county"].amount == Decimal("7600")
    # The national line applies where no province line is set.
    response = client.post(reverse("policy:line_create"), line_data(kind="exit_acceptance", year=2018, amount="3000"))
    assert "不得低于上级标准" in response.content.decode() and "3535" in response.content.decode()
    assert not PovertyLine.objects.filter(kind="exit_acceptance", region_prefix="431102").exists()


def test_county_administrator_changes_only_the_county_formula(client, county_system_admin):
    national = IncomeFormula.objects.get(region_prefix="")
    url = reverse("policy:formula_edit", args=[national.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, formula_data(region_prefix="", include_claims_income="on")).status_code == 403
    national.refresh_from_db()
    assert not national.include_claims_income

    response = client.post(reverse("policy:formula_create"), formula_data(region_prefix="43"))
    assert response.status_code == 200 and "不在您的管辖范围" in response.content.decode()
    response = client.post(reverse("policy:formula_create"), formula_data())
    assert response.status_code == 302
    county = IncomeFormula.objects.get(region_prefix="431102")
    assert client.get(reverse("policy:formula_edit", args=[county.pk])).status_code == 200


def test_code_tables_are_national_data(client, county_system_admin):
    item = CodeItem.objects.get(table__key="poverty_cause", code="01")
    url = reverse("policy:code_item_edit", args=[item.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"code": "01", "label": "改名", "sort_order": 0}).status_code == 403
    item.refresh_from_db()
    assert item.label == "因病"
    table_url = reverse("policy:code_table", args=["poverty_cause"])
    response = client.post(table_url, {"code": "13", "label": "因意外事故", "sort_order": 20})
    assert response.status_code == 403
    assert not CodeItem.objects.filter(table__key="poverty_cause", code="13").exists()
    page = client.get(table_url).content.decode()
    assert "新增代码项" not in page and url not in page


def test_province_administrator_changes_the_province_line_not_the_national_one(client, tree, make_user, lines):
    client.force_login(make_user(Role.SYSTEM_ADMIN, tree.province))
    hunan = lines["hunan"]
    response = client.post(reverse("policy:line_edit", args=[hunan.pk]), line_data(region_prefix="43", amount="7550"))
    assert response.status_code == 302
    hunan.refresh_from_db()
    assert hunan.amount == Decimal("7550")
    assert client.get(reverse("policy:line_edit", args=[lines["national"].pk])).status_code == 403
    item = CodeItem.objects.get(table__key="poverty_cause", code="01")
    assert client.get(reverse("policy:code_item_edit", args=[item.pk])).status_code == 403


def test_unlimited_administrator_changes_national_data(client, make_user, lines):
    client.force_login(make_user(Role.SYSTEM_ADMIN, None))
    national = lines["national"]
    response = client.post(
        reverse("policy:line_edit", args=[national.pk]),
        line_data(kind="exit_acceptance", year=2018, region_prefix="", amount="3600"),
    )
    assert response.status_code == 302
    item = CodeItem.objects.get(table__key="poverty_cause", code="01")
    response = client.post(
        reverse("policy:code_item_edit", args=[item.pk]), {"code": "01", "label": "因病致贫", "sort_order": 0}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.label == "因病致贫"


def test_the_overview_shows_which_items_may_be_changed(client, county_system_admin, lines):
    page = client.get(reverse("policy:overview")).content.decode()
    assert reverse("policy:line_edit", args=[lines["county"].pk]) in page
    assert reverse("policy:line_edit", args=[lines["national"].pk]) not in page
    assert reverse("policy:line_edit", args=[lines["hunan"].pk]) not in page
    national_formula = IncomeFormula.objects.get(region_prefix="")
    assert reverse("policy:formula_edit", args=[national_formula.pk]) not in page
    assert reverse("policy:line_create") in page and "只读" in page
