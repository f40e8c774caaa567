"""Region pages: scope (404 outside the subtree), exports, the administrators' edit, flags and import."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils.http import content_disposition_header
from openpyxl import load_workbook

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.regions.importer import import_regions
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind
from jingzhun.regions.views import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def national_admin(tree, make_user):
    return make_user(Role.SYSTEM_ADMIN, None)


@pytest.fixture
def village_user(tree, make_user):
    return make_user(Role.VILLAGE, tree.village_a1)


@pytest.fixture
def township_user(tree, make_user):
    return make_user(Role.TOWNSHIP, tree.township_a)


def detail_url(code: str) -> str:
    return reverse("regions:detail", args=[code])


def download(response) -> bytes:
    """The body of a streamed export; read once and kept, so a test can look at it more than once."""
    if not hasattr(response, "downloaded"):
        response.downloaded = b"".join(response.streaming_content)
    return response.downloaded


def csv_rows(response) -> list[list[str]]:
    text = download(response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# ---- Scope -----------------------------------------------------------------------------------------


def test_village_user_starts_at_own_village_and_sees_only_its_groups(tree, village_user, login):
    client = login(village_user)
    assert client.get(reverse("regions:browse")).url == detail_url(tree.village_a1)
    page = client.get(detail_url(tree.village_a1))
    assert page.status_code == 200
    assert [c.code for c in page.context["children"]] == [tree.group_a1]
    # The breadcrumb stops at the top of the user's scope.
    assert [r.code for r in page.context["breadcrumb"]] == [tree.village_a1]


@pytest.mark.parametrize("target", ["village_a2", "village_b1", "township_a", "township_b", "county", "province"])
def test_village_user_cannot_open_expand_or_export_outside_their_village(tree, village_user, login, target):
    client = login(village_user)
    code = getattr(tree, target)
    for name in ("regions:detail", "regions:children", "regions:export_csv", "regions:export_xlsx"):
        assert client.get(reverse(name, args=[code])).status_code == 404, name


@pytest.mark.parametrize("target", ["village_a2", "village_b1", "township_a", "county"])
def test_village_user_cannot_change_another_region(tree, village_user, login, target):
    client = login(village_user)
    code = getattr(tree, target)
    before = Region.objects.unscoped().get(code=code).name
    # The role is refused before any region is looked up, so the answer says nothing about the region.
    response = client.post(reverse("regions:edit", args=[code]), {"name": "改名", "reason": "x"})
    assert response.status_code == 403
    response = client.post(
        reverse("regions:flag_add", args=[code]), {"flag": "poor_village", "year": 2014, "value": "1", "reason": "x"}
    )
    assert response.status_code == 403
    assert Region.objects.unscoped().get(code=code).name == before
    assert not RegionFlag.objects.unscoped().exists()


def test_village_user_cannot_change_even_their_own_village(tree, village_user, login):
    client = login(village_user)
    assert client.get(reverse("regions:edit", args=[tree.village_a1])).status_code == 403
    response = client.post(reverse("regions:edit", args=[tree.village_a1]), {"name": "改名", "reason": "x"})
    assert response.status_code == 403
    assert Region.objects.unscoped().get(code=tree.village_a1).name == "甲一村"


def test_township_user_sees_all_its_villages_and_nothing_else(tree, township_user, login):
    client = login(township_user)
    assert client.get(reverse("regions:browse")).url == detail_url(tree.township_a)
    page = client.get(detail_url(tree.township_a))
    assert [c.code for c in page.context["children"]] == [tree.village_a1, tree.village_a2]
    assert "甲一村" in page.content.decode() and "甲二村" in page.content.decode()
    for village in (tree.village_a1, tree.village_a2):
        assert client.get(detail_url(village)).status_code == 200
    for outside in (tree.township_b, tree.village_b1, tree.county, tree.other_village):
        assert client.get(detail_url(outside)).status_code == 404
    fragment = client.get(reverse("regions:children", args=[tree.township_a]))
    assert fragment.status_code == 200
    assert tree.village_a1 in fragment.content.decode() and tree.village_a2 in fragment.content.decode()

    rows = csv_rows(client.get(reverse("regions:export_csv", args=[tree.township_a])))
    codes = [r[0] for r in rows[1:]]
    assert codes == [tree.township_a, tree.village_a1, tree.group_a1, tree.village_a2]


def test_county_tree_fragment_lists_townships_with_child_counts(tree, county_admin, login):
    client = login(county_admin)
    fragment = client.get(reverse("regions:children", args=[tree.county]))
    children = fragment.context["children"]
    assert [(c.code, c.child_count) for c in children] == [(tree.township_a, 2), (tree.township_b, 2)]


def test_anonymous_is_sent_to_login(tree, client):
    response = client.get(detail_url(tree.county))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


# ---- Detail page -----------------------------------------------------------------------------------


def test_detail_shows_level_counts_flags_and_hides_retired_children(tree, county_admin, login):
    Region.objects.unscoped().filter(code=tree.village_a2).update(valid_to=dt.date(2020, 6, 30))
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014, value=True)
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2018, value=False)
    client = login(county_admin)

    page = client.get(detail_url(tree.township_a))
    assert [c.code for c in page.context["children"]] == [tree.village_a1]
    assert page.context["retired_children"] == 1
    assert dict(page.context["level_counts"]) == {"村": 1, "组": 1}

    with_retired = client.get(detail_url(tree.township_a) + "?retired=1")
    children = with_retired.context["children"]
    assert [c.code for c in children] == [tree.village_a1, tree.village_a2]
    assert children[1].is_retired
    assert "已停用" in with_retired.content.decode()

    village = client.get(detail_url(tree.village_a1))
    table = village.context["flag_table"]
    assert table["years"][:5] == [2014, 2015, 2016, 2017, 2018]
    (row,) = table["rows"]
    assert row["label"] == "贫困村"
    values = {c["year"]: c["value"] for c in row["cells"]}
    assert values[2014] is True and values[2017] is True and values[2018] is False
    assert row["now"] is False
    retired_page = client.get(detail_url(tree.village_a2))
    assert retired_page.status_code == 200  # retired codes keep their page and history
    assert "已停用" in retired_page.content.decode()


def test_national_admin_browses_provinces_with_import_link(tree, national_admin, login):
    page = login(national_admin).get(reverse("regions:browse"))
    assert page.status_code == 200
    assert [c.code for c in page.context["children"]] == [tree.province]
    assert reverse("regions:import") in page.content.decode()


def test_empty_table_offers_import_to_admins_only(db, make_user, login, client):
    admin = make_user(Role.SYSTEM_ADMIN, None)
    page = login(admin).get(reverse("regions:browse"))
    assert "尚未导入行政区划" in page.content.decode()
    assert reverse("regions:import") in page.content.decode()


def test_import_link_only_for_reference_data_admins(tree, system_admin, county_admin, login, client):
    assert reverse("regions:import") in login(system_admin).get(detail_url(tree.county)).content.decode()
    client.logout()
    assert reverse("regions:import") not in login(county_admin).get(detail_url(tree.county)).content.decode()


# ---- Export ------------------------------------------------------------------------------------------


def test_csv_export_columns_flags_and_reimport(tree, county_admin, login):
    Region.objects.unscoped().filter(code=tree.village_a1).update(urban_rural_code="220")
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014, value=True)
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2018, value=False)
    response = login(county_admin).get(reverse("regions:export_csv", args=[tree.township_a]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    assert download(response).startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese correctly
    rows = csv_rows(response)
    assert rows[0] == ["代码", "名称", "层级", "上级代码", "城乡分类代码", "启用日期", "停用日期", "标识"]
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[tree.village_a1] == [
        tree.village_a1,
        "甲一村",
        "村",
        tree.township_a,
        "220",
        "",
        "",
        "贫困村：2014年起是；贫困村：2018年起否",
    ]
    assert by_code[tree.group_a1][2] == "组"
    # The export is a valid import file: everything unchanged.
    result = import_regions(download(response), "export.csv")
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)


def test_xlsx_export(tree, county_admin, login):
    response = login(county_admin).get(reverse("regions:export_xlsx", args=[tree.county]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(download(response))).active
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["代码", "名称", "层级", "上级代码"]
    codes = [r[0] for r in rows[1:]]
    assert codes[0] == tree.county
    assert tree.group_a1 in codes and tree.village_b2 in codes
    assert tree.other_county not in codes
    assert all(isinstance(c, str) for c in codes)  # text, not numbers Excel would round
    result = import_regions(download(response), "export.xlsx")
    assert result.ok and result.unchanged == len(codes)


def test_exports_stream_with_the_region_in_the_file_name(tree, county_admin, login):
    client = login(county_admin)
    stamp = dt.date.today().strftime("%Y%m%d")
    for fmt in ("csv", "xlsx"):
        response = client.get(reverse(f"regions:export_{fmt}", args=[tree.township_a]))
        assert response.streaming  # written as it is read, never built whole in memory
        name = f"行政区划_水口山镇_{tree.township_a}_{stamp}.{fmt}"
        assert response["Content-Disposition"] == content_disposition_header(True, name)
        assert download(response)


def test_export_leaves_out_retired_codes_unless_asked(tree, county_admin, login):
    Region.objects.unscoped().filter(code=tree.village_a2).update(valid_to=dt.date(2020, 6, 30))
    client = login(county_admin)
    codes = [r[0] for r in csv_rows(client.get(reverse("regions:export_csv", args=[tree.township_a])))[1:]]
    assert tree.village_a2 not in codes
    rows = csv_rows(client.get(reverse("regions:export_csv", args=[tree.township_a]) + "?retired=1"))
    retired = next(r for r in rows if r[0] == tree.village_a2)
    assert retired[6] == "2020-06-30"


def test_export_defuses_spreadsheet_formulas(tree, county_admin, login):
    Region.objects.unscoped().filter(code=tree.village_a1).update(name='=HYPERLINK("http://x")')
    client = login(county_admin)
    rows = csv_rows(client.get(reverse("regions:export_csv", args=[tree.village_a1])))
    assert rows[1][1].startswith("'=")
    xlsx = download(client.get(reverse("regions:export_xlsx", args=[tree.village_a1])))
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet["B2"].data_type == "s"


# ---- Edit and flags ----------------------------------------------------------------------------------


def test_reference_admin_edits_a_region_with_an_audited_reason(tree, system_admin, login):
    client = login(system_admin)
    assert client.get(reverse("regions:edit", args=[tree.village_a1])).status_code == 200
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("regions:edit", args=[tree.village_a1]),
        {
            "name": "甲一新村",
            "urban_rural_code": "220",
            "valid_from": "2015-01-01",
            "valid_to": "",
            "reason": "民政批复",
        },
    )
    assert response.status_code == 302
    region = Region.objects.unscoped().get(code=tree.village_a1)
    assert (region.name, region.urban_rural_code, region.valid_from) == ("甲一新村", "220", dt.date(2015, 1, 1))
    entry = AuditEntry.objects.order_by("id").last()
    assert entry is not None
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.object_id, entry.actor_id, entry.reason) == (
        "update",
        tree.village_a1,
        system_admin.pk,
        "民政批复",
    )
    assert entry.changes["name"] == ["甲一村", "甲一新村"]
    assert entry.changes["valid_from"] == [None, "2015-01-01"]


def test_edit_requires_reason_and_checks_dates(tree, system_admin, login):
    client = login(system_admin)
    url = reverse("regions:edit", args=[tree.village_a1])
    no_reason = client.post(url, {"name": "甲一新村"})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["form"].errors
    backwards = client.post(
        url, {"name": "甲一村", "valid_from": "2020-01-01", "valid_to": "2019-01-01", "reason": "x"}
    )
    assert backwards.status_code == 400 and "valid_to" in backwards.context["form"].errors
    assert Region.objects.unscoped().get(code=tree.village_a1).valid_to is None


def test_retiring_a_region_with_children_needs_them_retired_too(tree, system_admin, login):
    client = login(system_admin)
    url = reverse("regions:edit", args=[tree.township_a])
    data = {"name": "水口山镇", "valid_to": "2021-01-01", "reason": "乡镇合并"}
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "3 个" in str(refused.context["form"].errors["valid_to"])  # two villages and a group
    assert Region.objects.unscoped().get(code=tree.township_a).valid_to is None

    done = client.post(url, {**data, "retire_descendants": "on"})
    assert done.status_code == 302
    retired = Region.objects.unscoped().subtree(tree.township_a).values_list("code", "valid_to")
    assert {v for _c, v in retired} == {dt.date(2021, 1, 1)}
    assert AuditEntry.objects.filter(action="update", reason="乡镇合并").count() == 4

    # A child cannot outlive its retired parent.
    reopen = client.post(reverse("regions:edit", args=[tree.village_a1]), {"name": "甲一村", "reason": "x"})
    assert reopen.status_code == 400


@pytest.mark.parametrize("role", [Role.COUNTY_ADMIN, Role.LEADER, Role.TOWNSHIP])
def test_other_roles_cannot_edit_regions(tree, make_user, login, role):
    client = login(make_user(role, tree.county))
    assert client.get(reverse("regions:edit", args=[tree.village_a1])).status_code == 403
    response = client.post(reverse("regions:edit", args=[tree.village_a1]), {"name": "改名", "reason": "x"})
    assert response.status_code == 403
    assert Region.objects.unscoped().get(code=tree.village_a1).name == "甲一村"


def test_scoped_reference_admin_cannot_edit_outside_scope(tree, system_admin, login):
    response = login(system_admin).post(
        reverse("regions:edit", args=[tree.other_village]), {"name": "改名", "reason": "x"}
    )
    assert response.status_code == 404


def test_add_and_delete_a_per_year_flag(tree, system_admin, login):
    client = login(system_admin)
    url = reverse("regions:flag_add", args=[tree.village_a1])
    for year, value in ((2014, "1"), (2018, "0")):
        response = client.post(url, {"flag": "poor_village", "year": year, "value": value, "reason": "建档立卡"})
        assert response.status_code == 302
    region = Region.objects.unscoped().get(code=tree.village_a1)
    assert region.flag_values(2016) == {"poor_village": True}
    assert region.flag_values(2019) == {"poor_village": False}
    entries = AuditEntry.objects.filter(object_type="regions.regionflag", action="create")
    assert entries.count() == 2 and {e.region_code for e in entries} == {tree.village_a1}

    duplicate = client.post(url, {"flag": "poor_village", "year": 2014, "value": "1", "reason": "x"})
    assert duplicate.status_code == 400
    wrong_level = client.post(url, {"flag": "poor_county", "year": 2014, "value": "1", "reason": "x"})
    assert wrong_level.status_code == 400 and "flag" in wrong_level.context["flag_form"].errors
    too_early = client.post(url, {"flag": "deep_poor_village", "year": 1900, "value": "1", "reason": "x"})
    assert too_early.status_code == 400
    assert RegionFlag.objects.unscoped().count() == 2

    flag = RegionFlag.objects.unscoped().get(year=2018)
    delete_url = reverse("regions:flag_delete", args=[tree.village_a1, flag.pk])
    client.post(delete_url, {})  # no reason: refused
    assert RegionFlag.objects.unscoped().filter(pk=flag.pk).exists()
    assert client.post(delete_url, {"reason": "误录"}).status_code == 302
    assert not RegionFlag.objects.unscoped().filter(pk=flag.pk).exists()
    assert AuditEntry.objects.get(object_type="regions.regionflag", action="delete").reason == "误录"
    # A flag id under another region's URL is not found.
    other_url = reverse("regions:flag_delete", args=[tree.village_a2, RegionFlag.objects.unscoped().get().pk])
    assert client.post(other_url, {"reason": "x"}).status_code == 404


def test_county_admin_cannot_add_flags(tree, county_admin, login):
    response = login(county_admin).post(
        reverse("regions:flag_add", args=[tree.village_a1]),
        {"flag": "poor_village", "year": 2014, "value": "1", "reason": "x"},
    )
    assert response.status_code == 403
    assert not RegionFlag.objects.unscoped().exists()


# ---- Import page ---------------------------------------------------------------------------------------

GD_CSV = "统计用区划代码,名称\n44,广东省\n4401,广州市\n440103,荔湾区\n440103001,沙面街道\n"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def upload_files(var_dir):
    folder = var_dir / "uploads" / "region-imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def upload(client, content: bytes, name: str = "gd.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("regions:import"), {"file": SimpleUploadedFile(name, content)})


@pytest.mark.parametrize(
    ("role", "scope_attr", "page", "preview"),
    [
        (Role.SYSTEM_ADMIN, None, 200, 200),
        (Role.SYSTEM_ADMIN, "county", 200, 400),  # may import, but not 广东 from a county scope
        (Role.COUNTY_ADMIN, "county", 403, 403),
        (Role.TOWNSHIP, "township_a", 403, 403),
        (Role.VILLAGE, "village_a1", 403, 403),
        (Role.LEADER, "county", 403, 403),
        (Role.AUDITOR, "county", 403, 403),
    ],
)
def test_import_page_is_for_reference_data_admins(tree, make_user, login, var_dir, role, scope_attr, page, preview):
    user = make_user(role, getattr(tree, scope_attr) if scope_attr else None)
    client = login(user)
    assert client.get(reverse("regions:import")).status_code == page
    before = Region.objects.unscoped().count()
    assert upload(client, GD_CSV.encode()).status_code == preview
    if page == 403:
        assert client.post(reverse("regions:import_confirm"), {"token": "0" * 32}).status_code == 403
        assert client.post(reverse("regions:import_cancel")).status_code == 403
        assert upload_files(var_dir) == []
    assert Region.objects.unscoped().count() == before


def test_upload_previews_then_confirm_writes_once(tree, national_admin, login, var_dir):
    client = login(national_admin)
    before = (Region.objects.unscoped().count(), AuditEntry.objects.count())
    preview = upload(client, GD_CSV.encode("gbk"))
    assert preview.status_code == 200
    result = preview.context["result"]
    assert (result.created, result.updated, result.unchanged, result.errors) == (4, 0, 0, [])
    assert "确认导入" in preview.content.decode()
    assert (Region.objects.unscoped().count(), AuditEntry.objects.count()) == before  # preview writes nothing
    (stored,) = upload_files(var_dir)
    token = client.session[SESSION_KEY]["token"]
    assert stored.name == f"{token}.csv"

    done = client.post(reverse("regions:import_confirm"), {"token": token})
    assert done.status_code == 302
    assert Region.objects.unscoped().count() == before[0] + 4
    entries = AuditEntry.objects.order_by("id")[before[1] :]
    assert len(entries) == 4
    assert {(e.actor_id, e.source, e.reason) for e in entries} == {(national_admin.pk, "web", "导入行政区划：gd.csv")}
    assert len({e.request_id for e in entries}) == 1
    assert upload_files(var_dir) == []
    assert SESSION_KEY not in client.session

    # The token is spent: confirming again writes nothing.
    again = client.post(reverse("regions:import_confirm"), {"token": token})
    assert again.status_code == 302 and again.url == reverse("regions:import")
    assert Region.objects.unscoped().count() == before[0] + 4


def test_upload_with_errors_lists_lines_and_keeps_nothing(tree, national_admin, login, var_dir):
    client = login(national_admin)
    before = (Region.objects.unscoped().count(), AuditEntry.objects.count())
    bad = "代码,名称\n44,广东省\n44A1,坏\n4401,广州市\n4401,重复\n440199001,孤儿\n"
    response = upload(client, bad.encode())
    assert response.status_code == 400
    assert [e.line for e in response.context["result"].errors] == [3, 5, 6]
    html = response.content.decode()
    for line in (3, 5, 6):
        assert f"第 {line} 行" in html
    assert "确认导入" not in html
    assert upload_files(var_dir) == []
    assert SESSION_KEY not in client.session
    assert (Region.objects.unscoped().count(), AuditEntry.objects.count()) == before


def test_upload_rejects_other_file_types(tree, national_admin, login, var_dir):
    response = upload(login(national_admin), b"\xd0\xcf\x11\xe0", name="old.xls")
    assert response.status_code == 400
    assert "file" in response.context["form"].errors
    assert upload_files(var_dir) == []


def test_xlsx_upload(tree, national_admin, login, var_dir):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["代码", "名称"])
    workbook.active.append(["44", "广东省"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = login(national_admin)
    preview = upload(client, buffer.getvalue(), name="gd.xlsx")
    assert preview.context["result"].created == 1
    client.post(reverse("regions:import_confirm"), {"token": client.session[SESSION_KEY]["token"]})
    assert Region.objects.unscoped().filter(code="440000000000").exists()


def test_confirm_with_a_wrong_token_writes_nothing(tree, national_admin, login, var_dir):
    client = login(national_admin)
    upload(client, GD_CSV.encode())
    before = Region.objects.unscoped().count()
    response = client.post(reverse("regions:import_confirm"), {"token": "f" * 32})
    assert response.status_code == 302
    assert Region.objects.unscoped().count() == before
    assert upload_files(var_dir) == []


def test_cancel_discards_the_upload(tree, national_admin, login, var_dir):
    client = login(national_admin)
    upload(client, GD_CSV.encode())
    assert len(upload_files(var_dir)) == 1
    client.post(reverse("regions:import_cancel"))
    assert upload_files(var_dir) == []
    assert SESSION_KEY not in client.session


def test_confirm_revalidates_against_the_database(tree, national_admin, login, var_dir):
    client = login(national_admin)
    child_only = "代码,名称\n431102100203,甲三村\n"
    assert upload(client, child_only.encode()).context["result"].created == 1
    token = client.session[SESSION_KEY]["token"]
    # Between preview and confirmation the parent goes away: the confirmation must not half-write.
    Region.objects.unscoped().filter(code=tree.group_a1).delete()
    Region.objects.unscoped().filter(code__in=[tree.village_a1, tree.village_a2]).delete()
    Region.objects.unscoped().filter(code=tree.township_a).delete()
    before = (Region.objects.unscoped().count(), AuditEntry.objects.count())
    response = client.post(reverse("regions:import_confirm"), {"token": token})
    assert response.status_code == 409
    assert "上级 431102100000 不存在" in response.content.decode()
    assert (Region.objects.unscoped().count(), AuditEntry.objects.count()) == before


def test_scoped_admin_cannot_import_outside_scope(tree, system_admin, login, var_dir):
    response = upload(login(system_admin), GD_CSV.encode())
    assert response.status_code == 400
    errors = response.context["result"].errors
    assert len(errors) == 4 and all("管辖范围" in e.message for e in errors)
    assert not Region.objects.unscoped().filter(code__startswith="44").exists()


def test_preview_lists_each_change_with_before_and_after(tree, national_admin, login, var_dir):
    client = login(national_admin)
    renamed = f"代码,名称,城乡分类代码\n{tree.village_a1},甲一新村,220\n{tree.village_a2},甲二村,\n"
    preview = upload(client, renamed.encode())
    result = preview.context["result"]
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    html = preview.content.decode()
    assert "<del>甲一村</del> → <ins>甲一新村</ins>" in html
    assert "<del>—</del> → <ins>220</ins>" in html
    assert Region.objects.unscoped().get(code=tree.village_a1).name == "甲一村"
