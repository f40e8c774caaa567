"""The audit search page, entry detail, CSV export and per-object history: access, scope and filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import MakeUser, UserFactory
from jingzhun.audit import models as audit_models
from jingzhun.audit import search as audit_search
from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind
from jingzhun.regions.testing import RegionTree, build_region_tree

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in March 2024, Beijing time."""
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Log:
    tree: RegionTree
    clerk_a: User  # works in 零陵区 (the county)
    clerk_b: User  # works in the neighbouring county
    rename_a1: AuditEntry
    late_night: AuditEntry
    rename_other: AuditEntry
    flag_b1: AuditEntry
    password: AuditEntry


def _rename(code: str, name: str) -> AuditEntry:
    region = Region.objects.unscoped().get(code=code)
    region.name = name
    region.save()
    return AuditEntry.objects.latest("id")


@pytest.fixture
def log(db: None, monkeypatch: pytest.MonkeyPatch) -> Log:
    now = {"t": at(1, 9)}
    monkeypatch.setattr(audit_models, "_clock", lambda: now["t"].astimezone(dt.UTC))
    tree = build_region_tree()
    clerk_a = UserFactory.create(role=Role.COUNTY_ADMIN, scope_region_id=tree.county, username="clerk_a")
    clerk_b = UserFactory.create(role=Role.COUNTY_ADMIN, scope_region_id=tree.other_county, username="clerk_b")
    now["t"] = at(5, 10)
    with audit_context(clerk_a, source="web"):
        rename_a1 = _rename(tree.village_a1, "甲一新村")
    now["t"] = at(6, 0, 30)  # just after midnight in Beijing, still 5 March in UTC
    with audit_context(clerk_a, source="web"):
        late_night = _rename(tree.village_a2, '=HYPERLINK("http://x")')
    now["t"] = at(10, 15)
    with audit_context(clerk_b, source="web"):
        rename_other = _rename(tree.other_village, "邻区新村")
    now["t"] = at(15, 11)
    with audit_context(clerk_a, source="import", reason="2014年建档立卡"):
        RegionFlag.objects.create(region_id=tree.village_b1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
        flag_b1 = AuditEntry.objects.latest("id")
    now["t"] = at(16, 8)
    with audit_context(clerk_a, source="web"):
        clerk = User.objects.unscoped().get(pk=clerk_a.pk)
        clerk.set_password("new-secret-pass-1")
        clerk.save()
        password = AuditEntry.objects.latest("id")
    return Log(tree, clerk_a, clerk_b, rename_a1, late_night, rename_other, flag_b1, password)


@pytest.fixture
def auditor(log: Log, make_user: MakeUser) -> User:
    return make_user(Role.AUDITOR, log.tree.county, username="jijian")


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def shown_ids(response) -> list[int]:
    return [row.entry.pk for row in response.context["rows"]]


def get_ids(client: Client, **params: str | int) -> list[int]:
    response = client.get(reverse("audit:search"), params)
    assert response.status_code == 200
    return shown_ids(response)


# --- access -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VILLAGE, Role.TOWNSHIP, Role.LEADER, Role.HELPER])
def test_other_roles_are_refused(client, log, make_user, role):
    login(client, make_user(role, log.tree.county))
    for url in (reverse("audit:search"), reverse("audit:export"), reverse("audit:detail", args=[log.rename_a1.pk])):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN])
def test_reader_roles_may_search(client, log, make_user, role):
    login(client, make_user(role, log.tree.county))
    assert client.get(reverse("audit:search")).status_code == 200


def test_anonymous_is_sent_to_login(client, log):
    response = client.get(reverse("audit:search"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


# --- scope ----------------------------------------------------------------------------------------------


def test_county_auditor_sees_nothing_of_another_county(client, log, auditor):
    login(client, auditor)
    ids = get_ids(client)
    assert log.rename_a1.pk in ids and log.flag_b1.pk in ids
    assert log.rename_other.pk not in ids
    codes = set(AuditEntry.objects.filter(pk__in=ids).values_list("region_code", flat=True))
    assert all(c.startswith("431102") for c in codes)
    # Not by asking for it either: by region, by user, by request id, by object, or directly.
    assert get_ids(client, region=log.tree.other_county) == []
    assert get_ids(client, actor="clerk_b") == []
    assert get_ids(client, request=str(log.rename_other.request_id)) == []
    assert get_ids(client, q=log.tree.other_village) == []
    assert client.get(reverse("audit:detail", args=[log.rename_other.pk])).status_code == 404


def test_other_county_auditor_sees_only_theirs(client, log, make_user):
    login(client, make_user(Role.AUDITOR, log.tree.other_county))
    ids = get_ids(client)
    assert log.rename_other.pk in ids
    assert {e.region_code[:6] for e in AuditEntry.objects.filter(pk__in=ids)} == {"431103"}


def test_whole_system_reader_sees_everything(client, log, make_user):
    login(client, make_user(Role.SYSTEM_ADMIN, None))
    ids = get_ids(client)
    assert {log.rename_a1.pk, log.rename_other.pk} <= set(ids)
    # Entries without a region (a user account without a scope) are for the whole-system scope only.
    assert AuditEntry.objects.filter(pk__in=ids, region_code="").exists()


def test_entries_without_region_are_hidden_from_regional_readers(client, log, auditor, make_user):
    make_user(Role.SYSTEM_ADMIN, None, username="root2")  # its entries have no region code
    login(client, auditor)
    ids = get_ids(client, actor="")
    assert not AuditEntry.objects.filter(pk__in=ids, region_code="").exists()


# --- filters ------------------------------------------------------------------------------------------


def test_filter_by_region_prefix(client, log, auditor):
    login(client, auditor)
    ids = get_ids(client, region=log.tree.township_a)
    assert set(ids) >= {log.rename_a1.pk, log.late_night.pk}
    assert log.flag_b1.pk not in ids
    assert get_ids(client, region="431102100") == ids  # the significant digits work the same
    # A region above the scope is narrowed to the scope, not widened.
    assert log.rename_other.pk not in get_ids(client, region=log.tree.city)


def test_filter_by_user(client, log, auditor):
    login(client, auditor)
    ids = get_ids(client, actor="clerk_a")
    assert set(ids) == {log.rename_a1.pk, log.late_night.pk, log.flag_b1.pk, log.password.pk}


def test_filter_by_user_survives_a_rename(client, log, auditor):
    with audit_context(None):
        User.objects.unscoped().filter(pk=log.clerk_a.pk).update(username="clerk_a_renamed")
    login(client, auditor)
    assert log.rename_a1.pk in get_ids(client, actor="clerk_a_renamed")


def test_filter_by_dates_in_beijing_time(client, log, auditor):
    login(client, auditor)
    assert get_ids(client, date_from="2024-03-05", date_to="2024-03-05") == [log.rename_a1.pk]
    assert get_ids(client, date_from="2024-03-06", date_to="2024-03-06") == [log.late_night.pk]
    assert set(get_ids(client, date_from="2024-03-05", date_to="2024-03-15")) == {
        log.rename_a1.pk,
        log.late_night.pk,
        log.flag_b1.pk,
    }
    assert min(get_ids(client, date_from="2024-03-16")) == log.password.pk  # and the auditor's own account
    assert get_ids(client, date_from="2024-04-01") == []
    assert log.password.pk not in get_ids(client, date_to="2024-03-15")


def test_bad_dates_are_reported(client, log, auditor):
    login(client, auditor)
    response = client.get(reverse("audit:search"), {"date_from": "2024-03-10", "date_to": "2024-03-01"})
    assert "开始日期不能晚于结束日期" in response.content.decode()
    assert "rows" not in response.context


def test_filter_by_object_type_action_and_text(client, log, auditor):
    login(client, auditor)
    assert get_ids(client, object_type="regions.regionflag") == [log.flag_b1.pk]
    assert set(get_ids(client, object_type="regions.region", action="update")) == {
        log.rename_a1.pk,
        log.late_night.pk,
    }
    assert get_ids(client, q="甲一新") == [log.rename_a1.pk]
    flag_id = log.flag_b1.object_id
    assert get_ids(client, object_type="regions.regionflag", object_id=flag_id) == [log.flag_b1.pk]
    assert get_ids(client, q=log.tree.village_a1, action="update") == [log.rename_a1.pk]


def test_object_type_choices_are_the_audited_models_by_name(client, log, auditor):
    login(client, auditor)
    choices = dict(client.get(reverse("audit:search")).context["form"].fields["object_type"].choices)
    assert choices["regions.region"] == "行政区划"
    assert choices["regions.regionflag"] == "区划标识"
    assert choices["accounts.user"] == "用户"


def test_request_id_shows_the_correlated_set(client, log, auditor):
    with audit_context(log.clerk_a, source="import") as ctx:
        for code in log.tree.villages:
            _rename(code, f"{code}村")
    login(client, auditor)
    response = client.get(reverse("audit:search"), {"request": str(ctx.request_id)})
    assert len(shown_ids(response)) == 4
    assert response.context["request_summary"]["count"] == 4
    assert "共 4 条" in response.content.decode()


def test_pages_are_newest_first_without_a_total(client, log, auditor, monkeypatch):
    monkeypatch.setattr(audit_search, "PAGE_SIZE", 3)
    login(client, auditor)
    everything = list(audit_search.visible_entries(auditor).order_by("-id").values_list("id", flat=True))
    assert len(everything) > 6
    seen: list[int] = []
    params: dict[str, int] = {}
    while True:
        response = client.get(reverse("audit:search"), params)
        page = response.context["page"]
        seen += shown_ids(response)
        html = response.content.decode()
        assert "共" not in html.split("<table")[0]  # no total over more than a page
        if not page.has_older:
            break
        assert "下一页" in html
        params = {"before": page.oldest_id}
    assert seen == everything
    # And back: the previous page of the second page is the first page.
    second = client.get(reverse("audit:search"), {"before": everything[2]})
    back = client.get(reverse("audit:search"), {"after": second.context["page"].newest_id})
    assert shown_ids(back) == everything[:3]


def test_no_count_query_on_the_search_page(client, log, auditor):
    login(client, auditor)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("audit:search"), {"region": log.tree.county, "date_from": "2024-03-01"})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


# --- entry detail ---------------------------------------------------------------------------------------


def test_detail_shows_the_diff_with_field_names(client, log, auditor):
    login(client, auditor)
    html = client.get(reverse("audit:detail", args=[log.rename_a1.pk])).content.decode()
    assert "名称" in html  # the field's verbose name, not just "name"
    assert "<del>甲一村</del>" in html and "<ins>甲一新村</ins>" in html
    assert "clerk_a" in html and str(log.rename_a1.request_id) in html
    assert "内容与哈希一致" in html and "与前一条衔接" in html
    assert f"?request={log.rename_a1.request_id}" in html


def test_detail_hides_masked_values(client, log, auditor):
    login(client, auditor)
    html = client.get(reverse("audit:detail", args=[log.password.pk])).content.decode()
    assert "（已隐藏）" in html
    before, after = log.password.changes["password"]
    assert before not in html and after not in html


def test_detail_shows_choice_labels(client, log, auditor):
    login(client, auditor)
    html = client.get(reverse("audit:detail", args=[log.flag_b1.pk])).content.decode()
    assert "贫困村（poor_village）" in html and "2014年建档立卡" in html


# --- CSV export -----------------------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 with a BOM
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_export_is_limited_to_scope_and_filters(client, log, auditor):
    login(client, auditor)
    rows = read_csv(client.get(reverse("audit:export")))
    ids = {int(r["编号"]) for r in rows}
    assert ids == set(audit_search.visible_entries(auditor).values_list("id", flat=True))
    assert log.rename_other.pk not in ids
    rows = read_csv(client.get(reverse("audit:export"), {"actor": "clerk_a", "object_type": "regions.region"}))
    assert [int(r["编号"]) for r in rows] == [log.late_night.pk, log.rename_a1.pk]
    first = rows[-1]
    assert first["操作"] == "修改" and first["对象类型"] == "行政区划"
    assert first["变更内容"] == "名称：甲一村 → 甲一新村"
    assert first["时间"] == "2024-03-05 10:00:00"
    assert first["哈希"] == log.rename_a1.hash


def test_export_quotes_formula_like_text(client, log, auditor):
    login(client, auditor)
    rows = read_csv(client.get(reverse("audit:export"), {"q": "HYPERLINK"}))
    assert rows[0]["对象"].startswith("'=")


def test_export_for_another_county_is_empty(client, log, auditor):
    login(client, auditor)
    assert read_csv(client.get(reverse("audit:export"), {"region": log.tree.other_county})) == []


# --- per-object history ---------------------------------------------------------------------------------


def history_url(obj_type: str, obj_id: str) -> str:
    return reverse("audit:history", args=[obj_type, obj_id])


def test_history_lists_the_objects_entries_newest_first(client, log, auditor):
    login(client, auditor)
    response = client.get(history_url("regions.region", log.tree.village_a1))
    assert response.status_code == 200
    ids = [r.entry.pk for r in response.context["rows"]]
    expected = list(
        AuditEntry.objects.filter(object_type="regions.region", object_id=log.tree.village_a1)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    assert ids == expected and ids[0] == log.rename_a1.pk
    html = response.content.decode()
    assert "<del>甲一村</del>" in html and "新增" in html


def test_history_of_another_county_is_not_found(client, log, auditor):
    login(client, auditor)
    response = client.get(history_url("regions.region", log.tree.other_village))
    assert response.status_code == 404
    assert "邻区" not in response.content.decode()  # not even the name


def test_history_keeps_the_entries_of_an_object_that_left_the_scope(client, log, auditor):
    flag = RegionFlag.objects.unscoped().get(region_id=log.tree.village_b1)
    flag.region_id = log.tree.other_village  # moved to the neighbouring county
    flag.save()
    login(client, auditor)
    response = client.get(history_url("regions.regionflag", str(flag.pk)))
    assert [r.entry.pk for r in response.context["rows"]] == [log.flag_b1.pk]


def test_record_users_see_the_history_of_what_they_can_see(client, log, make_user):
    cadre = make_user(Role.VILLAGE, log.tree.village_a1)
    login(client, cadre)
    assert client.get(history_url("regions.region", log.tree.village_a1)).status_code == 200
    assert client.get(history_url("regions.region", log.tree.village_a2)).status_code == 404
    # User accounts' histories are for audit readers.
    assert client.get(history_url("accounts.user", str(cadre.pk))).status_code == 404
    assert client.get(history_url("no.such", "1")).status_code == 404


def test_record_users_lose_the_history_of_a_record_that_left_their_scope(client, log, make_user):
    """Unlike an auditor, a record user reads a history only while they can see the record itself."""
    flag = RegionFlag.objects.unscoped().get(region_id=log.tree.village_b1)
    login(client, make_user(Role.VILLAGE, log.tree.village_b1))
    assert client.get(history_url("regions.regionflag", str(flag.pk))).status_code == 200
    flag.region_id = log.tree.other_village  # moved to the neighbouring county; its old entry stays in 乙一村
    flag.save()
    assert client.get(history_url("regions.regionflag", str(flag.pk))).status_code == 404


def test_history_of_a_deleted_object_stays_readable(client, log, auditor):
    flag = RegionFlag.objects.unscoped().get(region_id=log.tree.village_b1)
    pk = flag.pk
    flag.delete()
    login(client, auditor)
    response = client.get(history_url("regions.regionflag", str(pk)))
    assert [r.entry.action for r in response.context["rows"]] == ["delete", "create"]
    assert "已不存在" in response.content.decode()


def test_region_page_links_to_its_history(client, log, make_user):
    login(client, make_user(Role.VILLAGE, log.tree.village_a1))
    html = client.get(reverse("regions:detail", args=[log.tree.village_a1])).content.decode()
    link = re.search(rf'href="([^"]*/audit/history/regions.region/{log.tree.village_a1}/[^"]*)"', html)
    assert link and "变更历史" in html
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200


def test_entry_detail_survives_keys_that_name_reverse_relations(client, tree, make_user):
    """Bulk writers summarise related rows under keys such as "members" (a reverse relation of Household)."""
    from jingzhun.audit.context import audit_context
    from jingzhun.audit.models import append_entries

    with audit_context(None, source="demo"):
        (entry_id,) = append_entries(
            [
                {
                    "action": "create",
                    "object_type": "registry.household",
                    "object_id": 1,
                    "object_repr": "示例户",
                    "region_code": tree.village_a1,
                    "changes": {"members": [None, 5], "years": [None, "2014–2025"], "household_number": [None, "1"]},
                }
            ]
        )
    client.force_login(make_user("auditor", tree.county))
    assert client.get(reverse("audit:detail", args=[entry_id])).status_code == 200
    assert client.get(reverse("audit:search")).status_code == 200
