"""Housekeeping deletes by age what is kept only for a while, and the pages cope when it has."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from jingzhun.accounts.models import LoginAttempt
from jingzhun.accounts.roles import Role
from jingzhun.accounts.throttle import prune_attempts
from jingzhun.exchange import storage
from jingzhun.exchange.tests.test_import import family, workbook
from jingzhun.jobs.models import Job, JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _age(path, days: float) -> None:
    then = time.time() - days * 24 * 3600
    os.utime(path, (then, then))


def test_login_attempts_are_kept_for_the_configured_days_and_never_inside_the_window(settings):
    for days in (0, 179, 181, 400):
        attempt = LoginAttempt.objects.create(username=f"u{days}", remote_addr="10.0.0.1")
        LoginAttempt.objects.filter(pk=attempt.pk).update(timestamp=timezone.now() - dt.timedelta(days=days))
    assert prune_attempts() == 2
    assert sorted(LoginAttempt.objects.values_list("username", flat=True)) == ["u0", "u179"]

    settings.LOGIN_ATTEMPT_KEEP_DAYS = 0  # misconfigured: the throttling window still counts
    LoginAttempt.objects.filter(username="u0").update(timestamp=timezone.now() - dt.timedelta(minutes=5))
    assert prune_attempts() == 1
    assert list(LoginAttempt.objects.values_list("username", flat=True)) == ["u0"]


def test_old_uploads_are_deleted_whole_and_recent_ones_kept(settings):
    old = storage.store([("旧.xlsx", b"old")])
    new = storage.store([("新.xlsx", b"new")])
    _age(os.path.dirname(old[0]["path"]), settings.UPLOAD_KEEP_DAYS + 1)
    assert storage.prune_uploads() == 1
    with pytest.raises(storage.UploadGone, match=r"旧\.xlsx 已超过保存期限"):
        storage.load(old)
    assert storage.load(new) == [("新.xlsx", b"new")]


def test_another_apps_folder_under_uploads_loses_old_files_not_the_folder(settings):
    regions = storage.upload_dir() / "region-imports"  # the region import keeps its previews here
    regions.mkdir()
    old, fresh = regions / "old.csv", regions / "fresh.csv"
    old.write_text("x")
    fresh.write_text("y")
    _age(old, settings.UPLOAD_KEEP_DAYS + 1)
    _age(regions, settings.UPLOAD_KEEP_DAYS + 1)
    assert storage.prune_uploads() == 1
    assert regions.is_dir() and not old.exists() and fresh.exists()


def test_a_pruned_upload_is_explained_on_the_import_pages(
    client, tree, make_user, settings, django_capture_on_commit_callbacks
):
    clerk = make_user(Role.VILLAGE, tree.village_a1)
    client.force_login(clerk)
    hh, members = family(village=tree.village_a1)
    hh[3] = "不是身份证号"  # an error, so the page offers the marked workbook
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            upload = SimpleUploadedFile("导入.xlsx", workbook([hh], members))
            client.post(reverse("exchange:upload"), {"files": [upload]})
    finally:
        HUEY.immediate = False
    job = Job.objects.unscoped().get()
    assert job.status == JobStatus.SUCCEEDED and job.result["issue_count"]
    _age(os.path.dirname(job.params["files"][0]["path"]), settings.UPLOAD_KEEP_DAYS + 1)
    call_command("housekeeping", stdout=open(os.devnull, "w"))  # noqa: SIM115

    response = client.get(reverse("exchange:error_workbook", args=[job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("exchange:import_detail", args=[job.pk])
    assert "已超过保存期限被删除，请重新上传" in response.content.decode()


def test_the_command_reports_every_step(capsys):
    call_command("housekeeping")
    out = capsys.readouterr().out
    for label in ("过期会话", "登录尝试记录", "导入文件", "后台导出文件"):
        assert f"{label}：删除" in out
