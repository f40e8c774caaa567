"""Background jobs: queued through huey, progress visible to their owner, writes correlated in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.jobs import progress as job_progress
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.jobs.progress import ProgressReporter
from jingzhun.jobs.runner import enqueue, execute, job_kind
from jingzhun.regions.models import Region

pytestmark = pytest.mark.django_db


@job_kind("test_rename_villages")
def _rename_villages(job: Job, progress: ProgressReporter, *, prefix: str, suffix: str) -> dict[str, Any]:
    villages = list(Region.objects.in_region(prefix).filter(level=5))
    for i, village in enumerate(villages, start=1):
        village.name += suffix
        village.save()
        progress(i, len(villages))
    return {"summary": f"已更名 {len(villages)} 个村"}


@job_kind("test_failing")
def _failing(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    progress(3, 10)
    raise ValueError("第 4 行：证件号码校验位错误")


@pytest.fixture
def immediate_queue() -> Iterator[None]:
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def test_enqueue_runs_on_commit_and_records_progress(
    tree, make_user, immediate_queue, django_capture_on_commit_callbacks
):
    user = make_user(Role.TOWNSHIP, tree.township_a)
    with django_capture_on_commit_callbacks(execute=True):
        job = enqueue(
            "test_rename_villages",
            "村名批量修订",
            user=user,
            region_code=tree.township_a,
            prefix="431102100",
            suffix="（新）",
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["summary"] == "已更名 2 个村"
    assert (job.done, job.total) == (2, 2)
    progress = job_progress.read(job.pk)
    assert progress is not None and progress.percent == 100.0
    entries = AuditEntry.objects.filter(object_type="regions.region", action="update")
    assert entries.count() == 2
    # Everything one job wrote is one correlated set, attributed to the user who started it.
    assert {e.request_id for e in entries} == {job.pk}
    assert {e.actor_username for e in entries} == {user.username}


def test_a_failing_job_is_marked_failed_with_its_message(tree, make_user):
    user = make_user(Role.TOWNSHIP, tree.township_a)
    job = Job.objects.create(kind="test_failing", label="会失败的任务", created_by=user, region_code=tree.township_a)
    job = execute(str(job.pk))
    assert job.status == JobStatus.FAILED
    assert "第 4 行：证件号码校验位错误" in job.error
    assert job.done == 3


def test_progress_page_is_visible_to_its_owner_only(client, tree, make_user):
    owner = make_user(Role.TOWNSHIP, tree.township_a)
    other = make_user(Role.TOWNSHIP, tree.township_b)
    job = Job.objects.create(kind="test_failing", label="导入", created_by=owner, region_code=tree.township_a)
    client.force_login(owner)
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert page.status_code == 200 and "排队中" in page.content.decode()
    fragment = client.get(reverse("jobs:progress", args=[job.pk]))
    assert 'hx-trigger="every 1s"' in fragment.content.decode()
    client.force_login(other)
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 404


def test_finished_job_stops_polling(client, tree, make_user):
    owner = make_user(Role.TOWNSHIP, tree.township_a)
    job = Job.objects.create(kind="test_failing", label="导入", created_by=owner, region_code=tree.township_a)
    execute(str(job.pk))
    client.force_login(owner)
    fragment = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in fragment
    assert "失败" in fragment


@pytest.mark.parametrize(("role", "scope"), [(Role.TOWNSHIP, "township_a"), (Role.LEADER, "county")])
def test_other_users_of_the_region_do_not_follow_a_clerks_jobs(client, tree, make_user, role, scope):
    """Only administrators and auditors follow others' jobs: a colleague or a (read-only) leader does not."""
    clerk = make_user(Role.TOWNSHIP, tree.township_a)
    job = Job.objects.create(kind="test_failing", label="水口山镇导入", created_by=clerk, region_code=tree.township_a)
    client.force_login(make_user(role, getattr(tree, scope)))
    assert "水口山镇导入" not in client.get(reverse("jobs:list")).content.decode()
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.COUNTY_ADMIN, Role.AUDITOR])
def test_administrators_and_auditors_follow_the_jobs_of_their_subtree_only(client, tree, make_user, role):
    clerk = make_user(Role.TOWNSHIP, tree.township_a)
    neighbour = make_user(Role.VILLAGE, tree.other_village)  # 冷水滩区, the next county
    ours = Job.objects.create(kind="test_failing", label="零陵区导入", created_by=clerk, region_code=tree.township_a)
    theirs = Job.objects.create(
        kind="test_failing", label="冷水滩区导入", created_by=neighbour, region_code=tree.other_village
    )
    client.force_login(make_user(role, tree.county))
    page = client.get(reverse("jobs:list")).content.decode()
    assert "零陵区导入" in page and "冷水滩区导入" not in page
    assert client.get(reverse("jobs:detail", args=[ours.pk])).status_code == 200
    assert client.get(reverse("jobs:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("jobs:progress", args=[theirs.pk])).status_code == 404


def test_a_job_stays_with_its_region_when_its_owner_moves(client, tree, make_user):
    # Its result lists the households of the old region: a user moved elsewhere no longer sees it.
    clerk = make_user(Role.TOWNSHIP, tree.township_a)
    job = Job.objects.create(kind="test_failing", label="水口山镇导入", created_by=clerk, region_code=tree.township_a)
    clerk.scope_region_id = tree.township_b
    clerk.save()
    client.force_login(clerk)
    assert "水口山镇导入" not in client.get(reverse("jobs:list")).content.decode()
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
