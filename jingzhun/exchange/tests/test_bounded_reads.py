"""The household import refuses a file beyond the limits of a read before loading it, as a failed job with a
message naming the limit; the error workbook is bounded the same way; the queue goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from jingzhun.accounts.roles import Role
from jingzhun.core.tabular import TableLimits, TableTooLarge
from jingzhun.core.tests.xlsx_files import cell, sheet_xml, xlsx_package
from jingzhun.exchange.errorbook import marked_workbook
from jingzhun.exchange.layout import HOUSEHOLD_SHEET
from jingzhun.exchange.reader import read_files
from jingzhun.exchange.tests.test_import import family, workbook
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.regions.testing import RegionTree
from jingzhun.registry.models import Household

pytestmark = pytest.mark.django_db

# The reported file: 1.6 KB, one header cell at A1 and one at XFD1048576 under a whole-sheet <dimension>.
FAR_CORNER = xlsx_package(
    {
        HOUSEHOLD_SHEET: sheet_xml(
            f'<row r="1">{cell("A1", "户编号")}</row><row r="1048576">{cell("XFD1048576", "x")}</row>',
            dimension="A1:XFD1048576",
        )
    }
)


@pytest.fixture(autouse=True)
def immediate_queue(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.VAR_DIR = tmp_path
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def upload(client: Client, capture: Callable[..., Any], data: bytes, name: str) -> Job:
    with capture(execute=True):
        client.post(reverse("exchange:upload"), {"files": [SimpleUploadedFile(name, data)]})
    job: Job = Job.objects.unscoped().latest("created_at")
    return job


def test_the_reported_workbook_fails_its_job_with_the_limit_named_and_the_queue_goes_on(
    client: Client, tree: RegionTree, make_user: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    assert len(FAR_CORNER) < 2000
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    job = upload(client, django_capture_on_commit_callbacks, FAR_CORNER, "户.xlsx")
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("户.xlsx：工作表“户信息”在第 XFD 列") and "超过上限 256 列" in job.error
    page = client.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    assert "超过上限 256 列" in page and "Traceback" not in page

    # The marked error workbook of that upload is refused as well: openpyxl never opens the file.
    response = client.get(reverse("exchange:error_workbook", args=[job.pk]))
    assert response.status_code == 302
    (message,) = get_messages(response.wsgi_request)
    assert "无法生成错误标注文件" in str(message) and "超过上限" in str(message)

    # The next upload runs as usual.
    hh, members = family(village=tree.village_a1)
    following = upload(client, django_capture_on_commit_callbacks, workbook([hh], members), "户.xlsx")
    assert following.status == JobStatus.SUCCEEDED, following.error
    assert Household.objects.unscoped().count() == 0


def test_a_csv_beyond_the_limits_fails_its_job_before_it_is_split(
    client: Client, tree: RegionTree, make_user: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    wide = ("户编号," * 300 + "\n").encode()
    job = upload(client, django_capture_on_commit_callbacks, wide, "户.csv")
    assert job.status == JobStatus.FAILED and "超过上限 256 列" in job.error


def test_the_reader_applies_its_limits_to_every_sheet_and_csv() -> None:
    limits = TableLimits(rows=100, columns=5, cells=200)
    rows = '<row r="1">' + "".join(cell(f"{c}1", "户编号") for c in "ABCDEF") + "</row>"
    with pytest.raises(TableTooLarge, match=r"^宽\.xlsx：.*超过上限 5 列"):
        list(read_files([("宽.xlsx", xlsx_package({HOUSEHOLD_SHEET: sheet_xml(rows)}))], limits))
    with pytest.raises(TableTooLarge, match=r"^长\.csv：文件有 101 行"):
        list(read_files([("长.csv", "户编号,行政区划代码,户主姓名\n".encode() * 101)], limits))


def test_the_error_workbook_has_its_own_smaller_limits() -> None:
    """It is made with openpyxl in the web request, some 400 bytes a cell."""
    rows = "".join(f'<row r="{r}">{cell(f"A{r}")}</row>' for r in range(1, 4))
    small = xlsx_package({HOUSEHOLD_SHEET: sheet_xml(rows)})
    assert marked_workbook([("a.xlsx", small)], [])
    wide = "".join(f'<row r="{r}">{cell(f"IV{r}")}</row>' for r in range(1, 4000))
    with pytest.raises(TableTooLarge, match="1,000,000 个单元格"):
        marked_workbook([("a.xlsx", xlsx_package({HOUSEHOLD_SHEET: sheet_xml(wide)}))], [])
