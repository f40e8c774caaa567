"""数据质量 pages: counts per rule and village within the user's scope, the village list, 重新检查."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.registry.models import QualityIssue
from jingzhun.registry.quality.run import run_quality
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members, valid_id
from jingzhun.registry.views.quality import household_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def issues(tree):
    """Village a1: a household with a child labourer (error) and a landline (warning); village b1: one
    household with a landline only."""
    a1 = household_with_members(tree.village_a1, size=3, phone="0746-1111111", exit_year=2019)
    HouseholdYearFactory(household=a1, year=2020)
    kid = a1.members.get(relationship="03")
    assert kid.birth_date is not None
    kid.birth_date = kid.birth_date.replace(year=2015)
    kid.id_number = valid_id(kid.birth_date, kid.sex)
    kid.labour = "1"
    kid.save()
    b1 = household_with_members(tree.village_b1, size=2, phone="0746-2222222", exit_year=2019)
    HouseholdYearFactory(household=b1, year=2020)
    run_quality("")
    return a1, b1


def test_summary_counts_per_rule_and_village(client, make_user, tree, issues):
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    response = client.get(reverse("registry:quality_summary"))
    assert response.status_code == 200
    rules = {r["code"]: r for r in response.context["rules"]}
    assert rules["2_01_013"]["count"] == 2 and rules["2_01_013"]["level"] == "warning"
    assert rules["2_01_011"]["count"] == 1 and rules["2_01_011"]["level"] == "error"
    assert rules["1_01_003"]["count"] == 0  # every catalogue rule is listed
    villages = {v["village_code"]: v for v in response.context["page"]}
    assert set(villages) == {tree.village_a1, tree.village_b1}
    assert villages[tree.village_a1]["name"] == "甲一村" and villages[tree.village_a1]["township"] == "水口山镇"
    assert villages[tree.village_a1]["errors"] >= 1
    html = response.content.decode()
    assert reverse("registry:quality_village", args=[tree.village_a1]) in html
    assert "数据质量" in html  # navigation item


def test_summary_filters_by_rule_and_region(client, make_user, tree, issues):
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    response = client.get(reverse("registry:quality_summary"), {"rule": "2_01_011"})
    assert [v["village_code"] for v in response.context["page"]] == [tree.village_a1]
    response = client.get(reverse("registry:quality_summary"), {"level": "error"})
    assert [v["village_code"] for v in response.context["page"]] == [tree.village_a1]
    response = client.get(reverse("registry:quality_summary"), {"region": tree.township_b})
    assert [v["village_code"] for v in response.context["page"]] == [tree.village_b1]
    assert response.context["totals"]["errors"] == 0


def test_village_user_sees_only_own_village(client, make_user, tree, issues):
    a1, b1 = issues
    client.force_login(make_user(Role.VILLAGE, tree.village_b1))
    summary = client.get(reverse("registry:quality_summary"))
    assert [v["village_code"] for v in summary.context["page"]] == [tree.village_b1]
    rules = {r["code"]: r["count"] for r in summary.context["rules"]}
    assert rules["2_01_011"] == 0 and rules["2_01_013"] == 1
    assert a1.household_number not in summary.content.decode()
    assert client.get(reverse("registry:quality_village", args=[tree.village_a1])).status_code == 404
    assert client.get(reverse("registry:quality_summary"), {"region": tree.village_a1}).status_code == 404
    assert client.post(reverse("registry:quality_recheck", args=[tree.village_a1])).status_code == 404
    own = client.get(reverse("registry:quality_village", args=[tree.village_b1]))
    assert own.status_code == 200
    assert [row["issue"].household_id for row in own.context["rows"]] == [b1.pk]


def test_village_page_lists_issues_with_household_links(client, make_user, tree, issues):
    a1, _b1 = issues
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    response = client.get(reverse("registry:quality_village", args=[tree.village_a1]))
    assert response.status_code == 200
    found = {row["issue"].rule_code for row in response.context["rows"]}
    assert {"2_01_011", "2_01_013"} <= found
    html = response.content.decode()
    assert "张小1：年龄" in html
    url = household_url(a1.pk)
    if url is not None:  # the household file page is another module's view
        assert f'href="{url}"' in html
    assert "重新检查" in html

    only_errors = client.get(reverse("registry:quality_village", args=[tree.village_a1]), {"level": "error"})
    assert {row["issue"].level for row in only_errors.context["rows"]} == {"error"}
    one_rule = client.get(reverse("registry:quality_village", args=[tree.village_a1]), {"rule": "2_01_013"})
    assert [row["issue"].rule_code for row in one_rule.context["rows"]] == ["2_01_013"]


def test_village_page_only_for_villages(client, make_user, tree, issues):
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    assert client.get(reverse("registry:quality_village", args=[tree.township_a])).status_code == 404


def test_recheck_reruns_the_village(client, make_user, tree, issues):
    a1, _b1 = issues
    kid = a1.members.get(relationship="03")
    kid.labour = "4"
    kid.save()
    b1_rows = set(QualityIssue.objects.unscoped().filter(village_code=tree.village_b1).values_list("pk", flat=True))
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    response = client.post(reverse("registry:quality_recheck", args=[tree.village_a1]), follow=True)
    assert response.status_code == 200
    assert "已重新检查甲一村" in response.content.decode()
    assert not QualityIssue.objects.unscoped().filter(village_code=tree.village_a1, rule_code="2_01_011").exists()
    assert QualityIssue.objects.unscoped().filter(village_code=tree.village_a1, rule_code="2_01_013").exists()
    # Other villages are untouched.
    assert (
        set(QualityIssue.objects.unscoped().filter(village_code=tree.village_b1).values_list("pk", flat=True))
        == b1_rows
    )


def test_recheck_refused_to_read_only_roles_and_needs_post(client, make_user, tree, issues):
    leader = make_user(Role.LEADER, tree.county)
    client.force_login(leader)
    page = client.get(reverse("registry:quality_village", args=[tree.village_a1]))
    assert page.status_code == 200 and "重新检查" not in page.content.decode()
    assert client.post(reverse("registry:quality_recheck", args=[tree.village_a1])).status_code == 403
    assert client.get(reverse("registry:quality_recheck", args=[tree.village_a1])).status_code == 405


def test_anonymous_users_are_sent_to_login(client, tree):
    response = client.get(reverse("registry:quality_summary"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_village_pager_keeps_the_filters(client, make_user, tree, issues):
    a1, _b1 = issues
    QualityIssue.objects.bulk_create(
        QualityIssue(household=a1, village_code=tree.village_a1, rule_code="2_01_013", level="warning", message="x")
        for _ in range(250)
    )
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    url = reverse("registry:quality_village", args=[tree.village_a1])
    first = client.get(url, {"level": "warning", "rule": "2_01_013"}).content.decode()
    assert 'href="?level=warning&amp;rule=2_01_013&amp;page=2"' in first
    second = client.get(url, {"level": "warning", "rule": "2_01_013", "page": "2"}).content.decode()
    assert 'href="?level=warning&amp;rule=2_01_013&amp;page=1"' in second
    assert "page=3" not in second and "page=2&amp;page" not in second
