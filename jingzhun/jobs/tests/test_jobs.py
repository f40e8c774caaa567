"""Background jobs: queued through huey, progress visible to their owner, writes correlated in the audit log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.jobs import progress as job_progress
from jingzhun.jobs.models import Job, JobStatus, failure_message
from jingzhun.jobs.progress import ProgressReporter
from jingzhun.jobs.runner import (
    enqueue,
    execute,
    fail_interrupted_jobs,
    job_kind,
    process_identity,
    run_job,
    run_job_task,
)
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


class RowRejected(ValueError):
    """A refusal written for the user (``user_message``), as the import's are."""

    user_message = True


@job_kind("test_failing")
def _failing(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    progress(3, 10)
    raise RowRejected("第 4 行：证件号码校验位错误")


@job_kind("test_crashing")
def _crashing(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    open("/srv/jingzhun/var/uploads/0123/missing.xlsx", "rb")  # noqa: SIM115 -- fails: the error names a path
    return {}


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


# ------------------------------------------------------------------ failures: what the user sees, what the log gets


def test_an_unexpected_error_shows_a_message_and_a_reference_never_the_traceback(client, tree, make_user, caplog):
    """A failed job used to show ``str(exc)`` and a Python traceback with the server's paths; the user now
    sees a Chinese message with the job id as reference, and the traceback is in the log."""
    owner = make_user(Role.VILLAGE, tree.village_a1)
    job = Job.objects.create(kind="test_crashing", label="导入", created_by=owner, region_code=tree.village_a1)
    with caplog.at_level("ERROR", logger="jingzhun.jobs.runner"):
        job = execute(str(job.pk))
    assert job.status == JobStatus.FAILED
    assert job.error == failure_message(job.pk) and str(job.pk) in job.error
    assert "Traceback" in caplog.text and "/srv/jingzhun" in caplog.text and str(job.pk) in caplog.text
    client.force_login(owner)
    for url in (reverse("jobs:detail", args=[job.pk]), reverse("jobs:progress", args=[job.pk])):
        page = client.get(url).content.decode()
        assert "系统内部出错" in page and str(job.pk) in page
        assert "Traceback" not in page and "/srv/" not in page and "FileNotFoundError" not in page


def test_a_traceback_stored_by_an_older_version_is_not_shown(client, tree, make_user):
    owner = make_user(Role.VILLAGE, tree.village_a1)
    job = Job.objects.create(
        kind="test_crashing",
        label="导入",
        created_by=owner,
        region_code=tree.village_a1,
        status=JobStatus.FAILED,
        error='boom\n\nTraceback (most recent call last):\n  File "/srv/jingzhun/jingzhun/jobs/runner.py", line 60',
    )
    client.force_login(owner)
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Traceback" not in page and "/srv/" not in page and str(job.pk) in page


# ------------------------------------------------------------------ the worker survives any one job


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("import os; os.abort()", -signal.SIGABRT),  # as calamine does when an allocation fails
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", -signal.SIGKILL),  # the kernel's OOM killer
        ("import sys; sys.exit(3)", 3),
        ("pass", 0),  # ended without a word: the job is still 排队中
    ],
)
def test_a_job_whose_process_dies_is_marked_failed_and_the_worker_goes_on(tree, make_user, caplog, code, status):
    """The worker runs each job in a process of its own: whatever ends that process, run_job returns, the
    job is marked failed with a reference instead of staying 运行中 for ever, and the next job runs."""
    owner = make_user(Role.TOWNSHIP, tree.township_a)
    dead = Job.objects.create(kind="test_rename_villages", label="会崩溃的任务", created_by=owner)
    Job.objects.unscoped().filter(pk=dead.pk).update(status=JobStatus.RUNNING, result={"runner": "x"})
    with caplog.at_level("ERROR", logger="jingzhun.jobs.runner"):
        job = run_job(str(dead.pk), python(code))
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert "意外终止" in job.error and str(job.pk) in job.error
    assert f"status {status}" in caplog.text
    # The worker process (this one) goes on with the queue.
    following = Job.objects.create(
        kind="test_rename_villages",
        label="下一个",
        created_by=owner,
        params={"prefix": tree.township_a, "suffix": "（新）"},
    )
    assert execute(str(following.pk)).status == JobStatus.SUCCEEDED


def test_the_worker_hands_each_job_to_its_own_process(tree, make_user, monkeypatch):
    """Outside immediate mode the queue's task does not run the job in the worker itself."""
    ran: list[str] = []
    monkeypatch.setattr("jingzhun.jobs.runner.run_job", lambda job_id: ran.append(job_id))
    monkeypatch.setattr(HUEY, "immediate", False)
    run_job_task.call_local("1234")
    assert ran == ["1234"]


def test_a_job_process_ends_when_the_worker_dies():
    """The job's process watches its input pipe: a worker killed mid-job leaves no job running behind it
    (its transaction rolls back; fail_interrupted_jobs marks the job failed at the next start)."""
    child = subprocess.Popen(
        python(
            "import threading, time\n"
            "from jingzhun.jobs.isolation import _end_with_parent\n"
            "threading.Thread(target=_end_with_parent, daemon=True).start()\n"
            "time.sleep(60)\n"
        ),
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert child.stdin is not None
    child.stdin.close()  # as when the worker's process ends
    assert child.wait(timeout=30) == 1


def _ended_process_identity() -> str:
    child = subprocess.Popen(python("import time; time.sleep(0.2)"))
    identity = process_identity(child.pid)
    child.wait()
    return identity


def test_jobs_left_running_by_a_dead_process_fail_when_the_worker_starts(tree, make_user):
    owner = make_user(Role.TOWNSHIP, tree.township_a)

    def running(runner: str) -> Job:
        job = Job.objects.create(kind="test_rename_villages", label="导入", created_by=owner)
        Job.objects.unscoped().filter(pk=job.pk).update(status=JobStatus.RUNNING, result={"runner": runner})
        return job

    orphan = running(_ended_process_identity())
    alive = running(process_identity())  # this process: still running it
    elsewhere = running("another-host:1:1")  # another machine's worker: not ours to judge
    fail_interrupted_jobs()
    statuses = dict(Job.objects.unscoped().values_list("pk", "status"))
    assert statuses[orphan.pk] == JobStatus.FAILED
    assert statuses[alive.pk] == statuses[elsewhere.pk] == JobStatus.RUNNING
    orphan.refresh_from_db()
    assert "意外终止" in orphan.error and str(orphan.pk) in orphan.error


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the job's own process needs the test database, which SQLite keeps in memory",
)
@pytest.mark.django_db(transaction=True)
def test_a_job_runs_in_its_own_process_end_to_end(tree, make_user, monkeypatch):
    owner = make_user(Role.TOWNSHIP, tree.township_a)
    job = Job.objects.create(
        kind="import_households",
        label="导入",
        created_by=owner,
        params={"files": [], "scope_prefix": tree.township_a, "commit": False},
    )
    settings_db = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL",
        f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/{settings_db['NAME']}",
    )
    job = run_job(str(job.pk))
    assert job.status == JobStatus.FAILED  # no file: a refusal written for the user, from the job's process
    assert job.error == "文件中没有找到“户信息”或“成员信息”工作表"
    assert job.result.get("runner") is None
