"""Who may confirm an import preview, and which links its pages offer: only to pages the user may open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.exchange.tests.test_import import family, workbook
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.regions.testing import RegionTree
from jingzhun.registry.models import Household
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
MakeUser = Callable[..., Any]


@pytest.fixture(autouse=True)
def immediate_queue(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.VAR_DIR = tmp_path
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def preview(client: Client, capture: Capture, tree: RegionTree) -> Job:
    """A preview that passed, made by the user logged in to ``client``."""
    hh, members = family(village=tree.village_a1)
    with capture(execute=True):
        client.post(reverse("exchange:upload"), {"files": [SimpleUploadedFile("户.xlsx", workbook([hh], members))]})
    job: Job = Job.objects.unscoped().get()
    assert job.status == JobStatus.SUCCEEDED and not job.result.get("issue_count"), job.error
    return job


def commit(client: Client, capture: Capture, job: Job, **data: str) -> Any:
    with capture(execute=True):
        return client.post(reverse("exchange:commit", args=[job.pk]), data)


@pytest.mark.parametrize("role", [Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN, Role.AUDITOR, Role.LEADER])
def test_nobody_but_the_author_commits_a_preview_by_knowing_its_id(
    client: Client, tree: RegionTree, make_user: MakeUser, django_capture_on_commit_callbacks: Capture, role: str
) -> None:
    """The button was only hidden: an administrator who can see the preview could post its commit."""
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    job = preview(client, django_capture_on_commit_callbacks, tree)
    client.force_login(make_user(role, tree.county))
    response = commit(client, django_capture_on_commit_callbacks, job)
    assert response.status_code == 403
    assert Job.objects.unscoped().count() == 1 and Household.objects.unscoped().count() == 0


def test_a_colleague_cannot_even_see_another_users_preview(
    client: Client, tree: RegionTree, make_user: MakeUser, django_capture_on_commit_callbacks: Capture
) -> None:
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    job = preview(client, django_capture_on_commit_callbacks, tree)
    client.force_login(make_user(Role.TOWNSHIP, tree.township_a))
    assert commit(client, django_capture_on_commit_callbacks, job, take_over="1").status_code == 404
    assert Household.objects.unscoped().count() == 0


def test_an_administrator_takes_a_preview_over_explicitly_and_the_takeover_is_audited(
    client: Client, tree: RegionTree, make_user: MakeUser, django_capture_on_commit_callbacks: Capture
) -> None:
    author = make_user(Role.VILLAGE, tree.village_a1, username="cungan")
    client.force_login(author)
    job = preview(client, django_capture_on_commit_callbacks, tree)
    page = client.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    assert "确认导入" in page and "接管" not in page

    admin = make_user(Role.COUNTY_ADMIN, tree.county, username="xianguan")
    client.force_login(admin)
    page = client.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    assert "接管并确认导入" in page and 'name="take_over"' in page
    response = commit(client, django_capture_on_commit_callbacks, job, take_over="1")
    written = Job.objects.unscoped().exclude(pk=job.pk).get()
    assert response.url == reverse("exchange:import_detail", args=[written.pk])
    assert written.status == JobStatus.SUCCEEDED, written.error
    assert written.created_by == admin and "接管 cungan 的预检" in written.label
    assert written.params["scope_prefix"] == job.params["scope_prefix"]  # written within what was checked
    assert Household.objects.unscoped().count() == 1
    takeover = AuditEntry.objects.get(object_type="jobs.job", object_id=str(job.pk))
    assert takeover.actor_username == "xianguan" and takeover.reason == "管理员接管他人的导入预检并确认写入"
    assert takeover.changes == {"确认导入人": ["cungan", "xianguan"]}
    assert set(AuditEntry.objects.filter(request_id=written.pk).values_list("actor_username", flat=True)) == {
        "xianguan"
    }


def test_a_village_users_import_result_offers_no_link_to_the_audit_log(
    client: Client, tree: RegionTree, make_user: MakeUser, django_capture_on_commit_callbacks: Capture
) -> None:
    """The result page linked to /audit/?request=…, which a village user may not open (403)."""
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    job = preview(client, django_capture_on_commit_callbacks, tree)
    commit(client, django_capture_on_commit_callbacks, job)
    written = Job.objects.unscoped().exclude(pk=job.pk).get()
    page = client.get(reverse("exchange:import_detail", args=[written.pk])).content.decode()
    assert "已写入" in page and "/audit/" not in page
    assert client.get(reverse("audit:search") + f"?request={written.pk}").status_code == 403


def test_a_background_exports_download_is_offered_to_its_owner_only(
    client: Client, tree: RegionTree, make_user: MakeUser, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    """An administrator follows the clerk's export job but may not fetch the clerk's file (404): the job
    page offers the download to the owner alone."""
    settings.EXPORT_BACKGROUND_MIN_HOUSEHOLDS = 1
    HouseholdYearFactory(household=household_with_members(tree.village_a1, size=2), year=2025)
    clerk = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:export_xlsx") + "?year=2025")
    job = Job.objects.unscoped().get()
    download = reverse("exchange:export_file", args=[job.pk])
    for url in (reverse("jobs:detail", args=[job.pk]), reverse("jobs:progress", args=[job.pk])):
        assert f'href="{download}"' in client.get(url).content.decode()
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "已导出 1 户" in page and download not in page
    assert client.get(download).status_code == 404
