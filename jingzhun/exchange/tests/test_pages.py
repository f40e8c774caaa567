"""The import and export pages as a township clerk uses them, and the command-line import."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from huey.contrib.djhuey import HUEY
from openpyxl import load_workbook

from jingzhun.accounts.roles import Role
from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.exchange.layout import HOUSEHOLD_SHEET
from jingzhun.exchange.tests.test_import import do_import, family, workbook
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.registry.models import Household
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def immediate_queue(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def upload(client, data: bytes, name: str = "导入.xlsx", capture=None):
    file = SimpleUploadedFile(name, data, content_type=XLSX)
    with capture(execute=True):
        return client.post(reverse("exchange:upload"), {"files": [file]})


def test_upload_dry_run_then_confirm_writes_and_links_to_the_audit_set(
    client, tree, make_user, django_capture_on_commit_callbacks
):
    clerk = make_user(Role.TOWNSHIP, tree.township_a)
    client.force_login(clerk)
    hh, members = family(village=tree.village_a1)
    response = upload(client, workbook([hh], members), capture=django_capture_on_commit_callbacks)
    dry_run = Job.objects.unscoped().get()
    assert response.url == reverse("exchange:import_detail", args=[dry_run.pk])
    assert dry_run.status == JobStatus.SUCCEEDED
    assert Household.objects.unscoped().count() == 0
    page = client.get(response.url).content.decode()
    assert "预检结果" in page and "确认导入" in page
    # Finished: no stale progress bar, and no button leading to this same page.
    assert "<progress" not in page and f'href="{response.url}"' not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exchange:commit", args=[dry_run.pk]))
    job = Job.objects.unscoped().exclude(pk=dry_run.pk).get()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Household.objects.unscoped().count() == 1
    entries = AuditEntry.objects.filter(request_id=job.pk)
    assert entries.count() == 5 and set(entries.values_list("actor_username", flat=True)) == {clerk.username}
    page = client.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    assert "已写入" in page
    # "What this import changed" links to the audit log only for those who may open it: not the clerk.
    assert f"request={job.pk}" not in page
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    page = client.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    audit = reverse("audit:search") + f"?request={job.pk}"
    assert f'href="{audit}"' in page and client.get(audit).status_code == 200


def test_errors_are_listed_and_the_marked_workbook_downloads(
    client, tree, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    hh, members = family(village=tree.village_a1)
    hh[7] = "小康户"
    response = upload(client, workbook([hh], members), capture=django_capture_on_commit_callbacks)
    page = client.get(response.url).content.decode()
    assert "发现 1 处错误" in page and "小康户" in page and "确认导入" not in page
    job = Job.objects.unscoped().get()
    download = client.get(reverse("exchange:error_workbook", args=[job.pk]))
    marked = load_workbook(io.BytesIO(download.content))
    assert "不是有效的贫困户属性" in marked[HOUSEHOLD_SHEET]["H2"].comment.text
    # A refused dry run cannot be committed.
    client.post(reverse("exchange:commit", args=[job.pk]))
    assert Household.objects.unscoped().count() == 0 and Job.objects.unscoped().count() == 1


def test_read_only_roles_cannot_import_and_others_cannot_see_an_import(
    client, tree, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(Role.LEADER, tree.county))
    hh, members = family(village=tree.village_a1)
    assert upload(client, workbook([hh], members), capture=django_capture_on_commit_callbacks).status_code == 403
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    upload(client, workbook([hh], members), capture=django_capture_on_commit_callbacks)
    job = Job.objects.unscoped().get()
    client.force_login(make_user(Role.TOWNSHIP, tree.township_b))
    assert client.get(reverse("exchange:import_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("exchange:error_workbook", args=[job.pk])).status_code == 404


def test_a_dry_run_refuses_rows_outside_the_uploaders_scope(
    client, tree, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    hh, members = family(village=tree.village_b1)  # the next village of the same township
    response = upload(client, workbook([hh], members), capture=django_capture_on_commit_callbacks)
    page = client.get(response.url).content.decode()
    assert "管辖范围" in page and "确认导入" not in page
    assert Job.objects.unscoped().get().result["issue_count"] == 1


def test_a_commit_checks_the_scope_again_against_the_households_as_they_are_then(
    client, tree, make_user, django_capture_on_commit_callbacks
):
    """A household moved to another county between the dry run and the commit is not taken back by the file."""
    hh, members = family(village=tree.village_a1)
    assert do_import(workbook([hh], members)).committed
    stored = Household.objects.unscoped().get()
    for row in (hh, *members):
        row[0] = stored.household_number
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    response = upload(client, workbook([hh], members), capture=django_capture_on_commit_callbacks)
    dry_run = Job.objects.unscoped().get()
    assert "确认导入" in client.get(response.url).content.decode()
    stored.village_id, stored.group_id = tree.other_village, None
    with audit_context(None, source="test"):
        stored.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:commit", args=[dry_run.pk]))
    job = Job.objects.unscoped().exclude(pk=dry_run.pk).get()
    assert "该户现属村不在您的管辖范围内" in str(job.result["issues"])
    assert Household.objects.unscoped().get().village_id == tree.other_village


def test_the_import_page_lists_ones_own_imports_in_ones_current_scope(client, tree, make_user):
    clerk = make_user(Role.TOWNSHIP, tree.township_a)
    colleague = make_user(Role.TOWNSHIP, tree.township_a)
    for user, label in ((clerk, "导入预检：本人的表.xlsx"), (colleague, "导入预检：同事的表.xlsx")):
        Job.objects.create(kind="import_households", label=label, created_by=user, region_code=tree.township_a)
    client.force_login(clerk)

    def pages() -> list[str]:
        """The import page, and the same page again after a refused upload."""
        refused = client.post(reverse("exchange:upload"), {"files": [SimpleUploadedFile("说明.txt", b"x")]})
        assert "只支持 .xlsx 或 .csv 文件" in refused.content.decode()
        return [client.get(reverse("exchange:index")).content.decode(), refused.content.decode()]

    for page in pages():
        assert "本人的表" in page and "同事的表" not in page
    # Moved to another township: the import stays with the region its households belong to.
    clerk.scope_region_id = tree.township_b
    clerk.save()
    for page in pages():
        assert "本人的表" not in page


def test_exports_follow_scope_and_filters(client, tree, make_user):
    mine = household_with_members(tree.village_a1, size=3)
    HouseholdYearFactory(household=mine, year=2025, exit_status="1")
    other = household_with_members(tree.village_b1, size=2)
    HouseholdYearFactory(household=other, year=2025)
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    csv_text = b"".join(client.get(reverse("exchange:export_csv") + "?year=2025").streaming_content).decode("utf-8-sig")
    assert mine.household_number in csv_text and other.household_number not in csv_text
    members = b"".join(client.get(reverse("exchange:export_members_csv")).streaming_content).decode("utf-8-sig")
    assert members.count("\n") == 4  # header + three members of the one visible household
    response = client.get(reverse("exchange:export_xlsx") + "?year=2025&exit_status=0")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb[HOUSEHOLD_SHEET].max_row == 1  # filtered to 未脱贫: none


def test_a_large_excel_export_is_made_in_the_background_for_its_owner_only(
    client, tree, make_user, settings, django_capture_on_commit_callbacks
):
    from jingzhun.exchange import storage
    from jingzhun.exchange.importer import run_import

    settings.EXPORT_BACKGROUND_MIN_HOUSEHOLDS = 2
    mine = [household_with_members(tree.village_a1, size=3) for _ in range(2)]
    other = household_with_members(tree.village_b1, size=2)
    for household in [*mine, other]:
        HouseholdYearFactory(household=household, year=2025)
    clerk = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(clerk)
    url = reverse("exchange:export_xlsx") + "?year=2025"

    page = client.get(url).content.decode()  # a GET only asks: it starts nothing
    assert "共 2 户（2025 年度）" in page and "在后台生成 Excel" in page and not Job.objects.unscoped().exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    job = Job.objects.unscoped().get()
    assert response.url == reverse("jobs:detail", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED, job.error
    detail = client.get(response.url).content.decode()
    download = reverse("exchange:export_file", args=[job.pk])
    assert "已导出 2 户、6 名成员（2025 年度）" in detail and f'href="{download}"' in detail

    response = client.get(download)
    assert response["Content-Type"] == XLSX and "2025" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    rows = load_workbook(io.BytesIO(data))[HOUSEHOLD_SHEET].iter_rows(min_row=2, values_only=True)
    assert {row[0] for row in rows} == {h.household_number for h in mine}  # the clerk's village only
    report = run_import([("导出.xlsx", data)], scope_prefix=clerk.scope_prefix, commit=False)
    assert report.ok and report.changed == 0 and report.households.unchanged == 2  # imports back as no change

    client.force_login(make_user(Role.VILLAGE, tree.village_a1))  # a colleague in the same village
    assert client.get(download).status_code == 404
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))  # follows the job, but the file is the clerk's
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 200
    assert client.get(download).status_code == 404
    client.force_login(clerk)
    storage.export_path(job.pk).unlink()  # past its keeping time
    assert client.get(download).status_code == 404


def test_a_background_export_whose_requester_was_deactivated_is_refused(tree, make_user):
    from jingzhun.exchange.jobs import export_households_job

    clerk = make_user(Role.VILLAGE, tree.village_a1)
    job = Job.objects.create(kind="export_households", label="导出 Excel", created_by=clerk)
    clerk.is_active = False
    clerk.save()
    with pytest.raises(PermissionError, match="发起人已无数据范围"):
        export_households_job(job, lambda *args, **kwargs: None, query={})


def test_old_background_exports_are_deleted(settings, tmp_path):
    import os
    import time

    from jingzhun.exchange import storage

    old = storage.write_export("0" * 32, lambda out: out.write(b"old"))
    new = storage.write_export("1" * 32, lambda out: out.write(b"new"))
    week_ago = time.time() - storage.EXPORT_KEEP_SECONDS - 60
    os.utime(old, (week_ago, week_ago))
    assert storage.prune_exports() == 1
    assert not old.exists() and new.read_bytes() == b"new"


def test_template_download(client, tree, make_user):
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    response = client.get(reverse("exchange:template") + "?year=2024")
    assert response["Content-Type"] == XLSX
    assert "2024" in response["Content-Disposition"]


def test_command_dry_run_and_commit(tree, tmp_path, capsys):
    hh, members = family(village=tree.village_a1)
    path = tmp_path / "导入.xlsx"
    path.write_bytes(workbook([hh], members))
    call_command("import_households", str(path), "--dry-run", "--no-progress")
    assert "预检（未写入）" in capsys.readouterr().out
    assert Household.objects.unscoped().count() == 0
    call_command("import_households", str(path))
    out = capsys.readouterr()
    assert "已写入" in out.out and "行/秒" in out.err  # the progress bar goes to stderr
    assert Household.objects.unscoped().count() == 1


def test_command_reports_errors_and_exits_non_zero(tree, tmp_path, make_user):
    hh, members = family(village=tree.village_b1)
    path = tmp_path / "越界.xlsx"
    path.write_bytes(workbook([hh], members))
    make_user(Role.TOWNSHIP, tree.township_a, username="zhen")
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_households", str(path), "--user", "zhen", "--no-progress")
    assert Household.objects.unscoped().count() == 0


def test_the_template_defaults_to_the_latest_year_with_records_in_the_users_area(client, tree, make_user):
    from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

    HouseholdYearFactory(household=household_with_members(tree.village_a1, size=1), year=2024)
    HouseholdYearFactory(household=household_with_members(tree.village_b1, size=1), year=2025)
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    for query in ("", "?year=abc", "?year=1900"):  # nothing, or nothing usable, asked for
        response = client.get(reverse("exchange:template") + query)
        assert response.status_code == 200
        assert "_2024.xlsx" in response["Content-Disposition"], query
