"""村情: derived counts beside typed ones, mismatches, flags by year, the audited edit form, scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.regions.models import RegionFlag, RegionFlagKind
from jingzhun.registry.models import HouseholdStatus, VillageYear
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members
from jingzhun.registry.views.village import compare_figures, derive_village_figures


@pytest.fixture
def village(tree):
    """甲一村: two registered households (3 + 2 people) with 2019 and 2020 records, one cancelled household,
    a minority member, one 低保 household, one unsafe house in 2020; 贫困村 from 2014, 出列 in 2018."""
    a = household_with_members(tree.village_a1, size=3, dibao_status="1", paddy_land_mu=Decimal("2.5"))
    b = household_with_members(tree.village_a1, size=2, dry_land_mu=Decimal("4"))
    spouse = b.members.get(relationship="02")
    spouse.ethnicity = "06"  # 苗族
    spouse.save()
    for household in (a, b):
        HouseholdYearFactory(household=household, year=2019)
    HouseholdYearFactory(household=a, year=2020, housing_secure=False)
    HouseholdYearFactory(household=b, year=2020, water_secure=False)
    gone = household_with_members(tree.village_a1, size=2)
    HouseholdYearFactory(household=gone, year=2020)
    gone.status = HouseholdStatus.CANCELLED
    gone.save()
    household_with_members(tree.village_a2, size=4)  # another village: never counted
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014, value=True)
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2018, value=False)
    return a, b


def typed(tree, year=2020, **values):
    defaults = {
        "total_households": 120,
        "total_population": 480,
        "minority_population": 12,
        "registered_households": 2,
        "registered_population": 5,
        "dibao_households": 3,
        "dangerous_house_households": 1,
        "households_without_safe_water": 0,  # fewer than the one household without safe water
        "cultivated_land_mu": Decimal("900"),
        "collective_income_wan": Decimal("6.5"),
        "has_bus_service": True,
        "first_secretary": "王书记",
    }
    defaults.update(values)
    return VillageYear.objects.create(village_id=tree.village_a1, year=year, **defaults)


def test_derived_figures(tree, village):
    d = derive_village_figures(tree.village_a1, 2020)
    assert (d.households, d.population, d.minority_population) == (2, 5, 1)  # the cancelled household is out
    assert d.dibao_households == 1
    # household a: 2.5 paddy + factory dry 1.00; household b: factory paddy 2.00 + 4 dry
    assert d.cultivated_land_mu == Decimal("9.50")
    assert (d.registered_households, d.registered_population) == (2, 5)
    assert (d.unsafe_housing, d.unsafe_water) == (1, 1)
    assert d.by_exit_status == [("1", 2, 5)]
    assert d.latest_record_year == 2020


def test_comparison_statuses(tree, village):
    record = typed(tree, registered_households=3)
    rows = {c.field: c for c in compare_figures(record, derive_village_figures(tree.village_a1, 2020))}
    assert rows["registered_households"].status == "mismatch"  # must equal: 3 typed, 2 registered
    assert rows["registered_population"].status == "ok"
    assert rows["total_households"].status == "ok"  # the village has more households than the registry
    assert rows["households_without_safe_water"].status == "mismatch"  # 0 typed < 1 known
    assert rows["dangerous_house_households"].status == "ok"
    assert rows["cultivated_land_mu"].status == "ok"
    missing = {c.field: c.status for c in compare_figures(None, derive_village_figures(tree.village_a1, 2020))}
    assert set(missing.values()) == {"missing"}


def test_current_figures_are_not_compared_with_past_years(tree, village):
    record = typed(tree, year=2019, total_households=1, registered_households=9)
    rows = {c.field: c for c in compare_figures(record, derive_village_figures(tree.village_a1, 2019))}
    assert rows["total_households"].status == "skipped"  # today's files say nothing of 2019's total
    assert rows["registered_households"].status == "mismatch"  # the 2019 records do


def test_village_page_shows_flags_typed_derived_and_mismatches(client, make_user, tree, village):
    typed(tree, registered_households=3)
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    response = client.get(reverse("registry:village_detail", args=[tree.village_a1]) + "?year=2020")
    assert response.status_code == 200
    html = response.content.decode()
    assert "甲一村" in html and "已出列（2018年）" in html
    assert "王书记" in html and "6.50" in html  # typed fields
    comparisons = {c.field: c for c in response.context["comparisons"]}
    assert comparisons["registered_households"].typed == 3 and comparisons["registered_households"].derived == 2
    assert response.context["mismatches"] == 2
    assert 'class="mismatch" data-field="registered_households"' in html
    assert 'class="ok" data-field="registered_population"' in html
    assert "2 项不一致" in html
    assert reverse("registry:village_register", args=[tree.village_a1]) + "?year=2020" in html
    assert reverse("registry:village_year_edit", args=[tree.village_a1, 2020]) in html
    assert reverse("registry:township_register", args=[tree.township_a]) not in html  # not in a village scope
    if response.context["household_list_url"]:
        assert f"?village={tree.village_a1}" in response.context["household_list_url"]


def test_village_page_flag_status_follows_the_year(client, make_user, tree, village):
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    response = client.get(reverse("registry:village_detail", args=[tree.village_a1]) + "?year=2016")
    assert response.context["poverty_status"] == "贫困村"
    assert response.context["is_poor_village"] is True
    assert "尚未填报2016年村情" in response.content.decode()


def test_village_page_defaults_to_the_latest_typed_year(client, make_user, tree, village):
    typed(tree, year=2019)
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    response = client.get(reverse("registry:village_detail", args=[tree.village_a1]))
    assert response.context["year"] == 2019
    assert response.context["years"] == [2020, 2019]
    assert reverse("registry:township_register", args=[tree.township_a]) in response.content.decode()


def test_edit_creates_the_year_and_is_audited(client, make_user, tree, village):
    user = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(user)
    url = reverse("registry:village_year_edit", args=[tree.village_a1, 2021])
    form = client.get(url)
    assert form.status_code == 200
    assert "户档案推算：2" in form.content.decode()  # derived figures as hints beside the typed fields
    response = client.post(
        url,
        {
            "opened_version": form.context["form"]["opened_version"].value(),
            "total_households": "130",
            "total_population": "500",
            "registered_households": "2",
            "registered_population": "5",
            "collective_income_wan": "8.25",
            "road_to_township_paved": "true",
            "has_bus_service": "unknown",
            "first_secretary": "李书记",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?year=2021")
    record = VillageYear.objects.unscoped().get(village_id=tree.village_a1, year=2021)
    assert record.total_households == 130 and record.collective_income_wan == Decimal("8.25")
    assert record.road_to_township_paved is True and record.has_bus_service is None
    entry = AuditEntry.objects.get(object_type="registry.villageyear", object_id=str(record.pk))
    assert entry.action == "create" and entry.actor_id == user.pk and entry.region_code == tree.village_a1
    assert entry.changes["total_households"] == [None, 130]


def test_edit_updates_an_existing_year(client, make_user, tree, village):
    record = typed(tree)
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    url = reverse("registry:village_year_edit", args=[tree.village_a1, 2020])
    version = client.get(url).context["form"]["opened_version"].value()
    data = {"total_households": "125", "first_secretary": "王书记", "opened_version": version}
    assert client.post(url, data).status_code == 302
    record.refresh_from_db()
    assert record.total_households == 125
    assert record.registered_households is None  # a blank field clears the figure
    assert VillageYear.objects.unscoped().filter(village_id=tree.village_a1).count() == 1
    update = AuditEntry.objects.get(object_type="registry.villageyear", object_id=str(record.pk), action="update")
    assert update.changes["total_households"] == [120, 125]


def test_edit_rejects_parts_larger_than_the_whole(client, make_user, tree, village):
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    url = reverse("registry:village_year_edit", args=[tree.village_a1, 2020])
    response = client.post(url, {"total_households": "10", "registered_households": "11", "total_population": "5"})
    assert response.status_code == 200
    assert "registered_households" in response.context["form"].errors
    assert not VillageYear.objects.unscoped().exists()


def test_read_only_role_cannot_edit(client, make_user, tree, village):
    client.force_login(make_user(Role.LEADER, tree.county))
    url = reverse("registry:village_year_edit", args=[tree.village_a1, 2020])
    assert client.get(reverse("registry:village_detail", args=[tree.village_a1])).status_code == 200
    assert client.get(url).status_code == 403
    assert client.post(url, {"total_households": "1"}).status_code == 403
    assert not VillageYear.objects.unscoped().exists()
    detail = client.get(reverse("registry:village_detail", args=[tree.village_a1]) + "?year=2020")
    assert url not in detail.content.decode()


def test_scope_on_village_pages(client, make_user, tree, village):
    client.force_login(make_user(Role.VILLAGE, tree.village_a2))
    assert client.get(reverse("registry:village_detail", args=[tree.village_a1])).status_code == 404
    edit = reverse("registry:village_year_edit", args=[tree.village_a1, 2020])
    assert client.post(edit, {"total_households": "1"}).status_code == 404
    assert not VillageYear.objects.unscoped().exists()
    # Not a village: a township code is not a 村情 page.
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    assert client.get(reverse("registry:village_detail", args=[tree.township_a])).status_code == 404
    assert client.get(reverse("registry:village_year_edit", args=[tree.village_a1, 1999])).status_code == 404


def test_the_township_register_is_offered_only_to_whom_the_township_is_in_scope(client, make_user, tree, village):
    register = reverse("registry:township_register", args=[tree.township_a])
    page = reverse("registry:village_detail", args=[tree.village_a1])
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    assert register in client.get(page).content.decode()
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))  # would only get a 404 for it
    assert register not in client.get(page).content.decode()


def test_village_page_queries_are_bounded(client, make_user, tree, village, django_assert_max_num_queries):
    typed(tree)
    for _i in range(5):
        h = household_with_members(tree.village_a1, size=3)
        HouseholdYearFactory(household=h, year=2020)
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    url = reverse("registry:village_detail", args=[tree.village_a1]) + "?year=2020"
    client.get(url)  # warm the code-table cache
    with django_assert_max_num_queries(22):
        assert client.get(url).status_code == 200
