"""Personal data by role and purpose (issue 11, item 5): full ID numbers, phones, bank accounts and health
details only for the roles whose work needs them, on a page after a logged reveal and in logged downloads;
masked for leaders, auditors, helpers and the system administrator; every download in the audit log."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from huey.contrib.djhuey import HUEY
from openpyxl import load_workbook

from jingzhun.accounts.roles import PERSONAL_DATA_ROLES, ROLE_CAPABILITIES, Role
from jingzhun.audit.access import record_access
from jingzhun.audit.models import Action, AuditEntry
from jingzhun.core import privacy
from jingzhun.core.access import Capability
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.registry.models import Member
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members
from jingzhun.registry.tests.test_documents import pdf_text

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
BANK = "6230901234567890"
SCOPES: dict[str, str] = {
    Role.SYSTEM_ADMIN: "county",
    Role.COUNTY_ADMIN: "county",
    Role.LEADER: "county",
    Role.AUDITOR: "county",
    Role.TOWNSHIP: "township_a",
    Role.VILLAGE: "village_a1",
    Role.HELPER: "village_a1",
}
FULL_ROLES = sorted(PERSONAL_DATA_ROLES)
MASKED_ROLES = sorted(set(Role.values) - PERSONAL_DATA_ROLES)


# --------------------------------------------------------------------------- the masks, without the database


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("431102197005170019", "4311**********0019"),
        ("43110219700517001X", "4311**********001X"),
        ("43110219700517001942", "4311************1942"),  # 残疾人证号
        ("A1234567", "********"),
        ("", ""),
    ],
)
def test_id_numbers_keep_four_and_four(number: str, masked: str) -> None:
    assert privacy.MASKED.id_number(number) == masked
    assert privacy.FULL.id_number(number) == number


def test_phones_accounts_and_health() -> None:
    assert privacy.MASKED.phone("13812345678") == "138****5678"
    assert privacy.MASKED.phone("0746-8221234") == "074*****1234"
    assert privacy.MASKED.phone("8221234") == "***1234"
    assert privacy.MASKED.bank_account(BANK) == "************7890"
    assert privacy.MASKED.health("患有大病") == "（已隐藏）"
    assert privacy.MASKED.health("") == ""
    assert privacy.MASKED.field("head_id_number", "431102197005170019") == "4311**********0019"
    assert privacy.MASKED.field("name", "张大山") == "张大山"
    assert privacy.FULL.field("health", "患有大病") == "患有大病"


def test_only_registering_cadres_see_personal_data_in_full() -> None:
    holders = {role for role, held in ROLE_CAPABILITIES.items() if Capability.SEE_PERSONAL_DATA in held}
    assert holders == {Role.COUNTY_ADMIN, Role.TOWNSHIP, Role.VILLAGE}


def test_an_access_entry_is_not_a_change() -> None:
    with pytest.raises(ValueError, match="not an access"):
        record_access(Action.UPDATE, None, what="x")


# --------------------------------------------------------------------------- pages


@pytest.fixture
def family(tree: Any) -> Any:
    household = household_with_members(
        tree.village_a1, size=3, phone=PHONE, bank_account=BANK, household_number="431102100201001"
    )
    HouseholdYearFactory(household=household, year=2025)
    Member.objects.unscoped().filter(household=household, name="李秀英").update(health="3", phone="13900001111")
    return household


def client_for(make_user: Any, tree: Any, role: str) -> tuple[Client, Any]:
    user = make_user(role, getattr(tree, SCOPES[role]))
    client = Client()
    client.force_login(user)
    return client, user


def pages(household: Any) -> list[str]:
    head = household.members.get(name="张大山")
    spouse = household.members.get(name="李秀英")
    return [
        reverse("registry:household_detail", args=[household.pk]),
        reverse("registry:member_detail", args=[spouse.pk]),
        reverse("registry:household_card", args=[household.pk]),
        reverse("registry:member_card", args=[head.pk]),
    ]


def full_values(household: Any) -> list[str]:
    """What no masked view may show: every member's full ID number, the phones, the account, an illness."""
    ids = list(household.members.values_list("id_number", flat=True))
    return [*ids, PHONE, "13900001111", BANK, "患有大病"]


@pytest.mark.parametrize("role", Role.values)
def test_pages_show_personal_data_masked_to_every_role(make_user: Any, tree: Any, family: Any, role: str) -> None:
    client, _user = client_for(make_user, tree, role)
    head_id = family.members.get(name="张大山").id_number
    for url in pages(family):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        leaked = [value for value in full_values(family) if value in html]
        assert not leaked, f"{role} {url}: {leaked}"
        assert privacy.mask_id_number(head_id) in html or url.endswith(f"/{family.members.get(name='李秀英').pk}/")
        assert ("显示完整号码" in html) is (role in PERSONAL_DATA_ROLES), url
    detail = client.get(pages(family)[0]).content.decode()
    assert "138****5678" in detail and "************7890" in detail


@pytest.mark.parametrize("role", FULL_ROLES)
def test_a_reveal_shows_everything_and_is_logged(make_user: Any, tree: Any, family: Any, role: str) -> None:
    client, user = client_for(make_user, tree, role)
    spouse = family.members.get(name="李秀英")
    for url in pages(family):
        html = client.post(url).content.decode()
        assert "本次查看已记入操作日志" in html
        if "/members/" in url and "card" not in url:
            assert spouse.id_number in html and "13900001111" in html and "患有大病" in html
    household_page = client.post(pages(family)[0]).content.decode()
    for value in full_values(family):
        assert value in household_page or value == "13900001111"  # a member's phone is on the member's page
    entries = AuditEntry.objects.filter(action=Action.REVEAL, actor_id=user.pk)
    seen = {(e.object_type, e.object_id) for e in entries}
    assert ("registry.member", str(spouse.pk)) in seen and ("registry.household", str(family.pk)) in seen
    entry = entries.filter(object_type="registry.member", object_id=str(spouse.pk)).latest("id")
    assert entry.region_code == tree.village_a1 and entry.changes["个人信息"] == "证件号码、联系电话、健康状况"
    assert entry.actor_username == user.username and entry.source == "web"


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_roles_without_the_need_cannot_reveal(make_user: Any, tree: Any, family: Any, role: str) -> None:
    client, _user = client_for(make_user, tree, role)
    for url in pages(family):
        response = client.post(url)
        assert response.status_code == 403, url
        assert not any(value in response.content.decode() for value in full_values(family))
    assert not AuditEntry.objects.filter(action=Action.REVEAL).exists()


# --------------------------------------------------------------------------- downloads


def body(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


def text_of(name: str, data: bytes) -> str:
    if data.startswith(b"%PDF"):
        return pdf_text(data)
    if data.startswith(b"PK"):
        wb = load_workbook(io.BytesIO(data))
        return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    return "\n".join(",".join(r) for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def downloads(tree: Any, household: Any) -> list[tuple[str, str, dict[str, Any]]]:
    head = household.members.get(name="张大山")
    return [
        ("exchange:export_csv", reverse("exchange:export_csv"), {"year": 2025}),
        ("exchange:export_xlsx", reverse("exchange:export_xlsx"), {"year": 2025}),
        ("exchange:export_members_csv", reverse("exchange:export_members_csv"), {}),
        ("registry:village_register", reverse("registry:village_register", args=[tree.village_a1]), {"year": 2025}),
        ("registry:household_card_pdf", reverse("registry:household_card_pdf", args=[household.pk]), {}),
        ("registry:member_card_pdf", reverse("registry:member_card_pdf", args=[head.pk]), {}),
    ]


@pytest.mark.parametrize("role", Role.values)
def test_every_download_is_masked_or_full_by_role_and_logged(make_user: Any, tree: Any, family: Any, role: str) -> None:
    client, user = client_for(make_user, tree, role)
    head_id = family.members.get(name="张大山").id_number
    for name, url, query in downloads(tree, family):
        before = AuditEntry.objects.filter(action=Action.EXPORT).count()
        text = text_of(name, body(client.get(url, query)))
        if role in PERSONAL_DATA_ROLES:
            assert head_id in text, name
        else:
            assert not [v for v in full_values(family) if v in text], f"{role} {name}"
            assert privacy.mask_id_number(head_id) in text, name
        entries = AuditEntry.objects.filter(action=Action.EXPORT)
        assert entries.count() == before + 1, name
        entry = entries.latest("id")
        assert entry.actor_id == user.pk and entry.changes["行数"] >= 1, name
        assert entry.changes["个人信息"] == ("完整" if role in PERSONAL_DATA_ROLES else "脱敏")
        assert entry.region_code.startswith(user.scope_prefix or ""), name


def test_a_leader_downloading_every_member_leaves_a_trace_and_no_full_number(
    make_user: Any, tree: Any, family: Any
) -> None:
    """The attack as reported: a leader took members.csv with every full ID number, and nothing recorded it."""
    household_with_members(tree.village_b1, size=2)
    client, leader = client_for(make_user, tree, Role.LEADER)
    text = text_of("csv", body(client.get(reverse("exchange:export_members_csv"))))
    numbers = Member.objects.unscoped().values_list("id_number", flat=True)
    assert len(numbers) == 5 and not [n for n in numbers if n in text]
    assert len(re.findall(r"4311\*{10}\d{3}[\dX]", text)) == 5 + 5  # each member's and their head's
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert entry.actor_username == leader.username and entry.region_code == tree.county[:6]
    assert entry.object_type == "regions.region" and entry.object_id == tree.county
    assert entry.changes["行数"] == 5 and entry.changes["内容"] == "成员信息 CSV"
    assert "status=active" in entry.changes["范围"]
    auditor, _user = client_for(make_user, tree, Role.AUDITOR)
    found = auditor.get(reverse("audit:search"), {"action": Action.EXPORT}).content.decode()
    assert leader.username in found and "导出下载" in found
    detail = auditor.get(reverse("audit:detail", args=[entry.pk])).content.decode()
    assert "成员信息 CSV" in detail and "脱敏" in detail
    history = auditor.get(reverse("audit:history", args=["regions.region", tree.county])).content.decode()
    assert "成员信息 CSV" in history or "导出下载" in history


@pytest.mark.parametrize(("role", "full"), [(Role.VILLAGE, True), (Role.HELPER, False)])
def test_background_exports_follow_the_role_and_each_download_is_logged(
    make_user: Any,
    tree: Any,
    family: Any,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
    role: str,
    full: bool,
) -> None:
    settings.VAR_DIR = tmp_path
    settings.EXPORT_BACKGROUND_MIN_HOUSEHOLDS = 1
    client, user = client_for(make_user, tree, role)
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("exchange:export_xlsx") + "?year=2025")
    finally:
        HUEY.immediate = False
    job = Job.objects.unscoped().get()
    assert job.status == JobStatus.SUCCEEDED, job.error
    url = reverse("exchange:export_file", args=[job.pk])
    text = text_of("xlsx", body(client.get(url)))
    head_id = family.members.get(name="张大山").id_number
    assert (head_id in text) is full
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert entry.actor_id == user.pk and entry.changes["行数"] == 4  # one household, three members
    if full:  # no longer a village cadre: the full file is not handed out any more
        user.role = Role.HELPER
        user.save()
        assert client.get(url).status_code == 403


# --------------------------------------------------------------------------- the audit log's own pages


@pytest.mark.parametrize("role", [Role.HELPER, Role.LEADER, Role.VILLAGE])
def test_a_records_history_shows_its_personal_data_masked(make_user: Any, tree: Any, family: Any, role: str) -> None:
    """修改历史 is open to whoever sees the record: its creation entry must not hand out the full number."""
    client, _user = client_for(make_user, tree, role)
    spouse = family.members.get(name="李秀英")
    html = client.get(reverse("audit:history", args=["registry.member", spouse.pk])).content.decode()
    assert privacy.mask_id_number(spouse.id_number) in html and "（已隐藏）" in html
    assert spouse.id_number not in html and "13900001111" not in html


def test_the_audit_log_shows_personal_data_masked_to_its_readers(make_user: Any, tree: Any, family: Any) -> None:
    client, _user = client_for(make_user, tree, Role.AUDITOR)
    ids = list(family.members.values_list("id_number", flat=True))
    entry = AuditEntry.objects.filter(object_type="registry.member").latest("id")
    for response in (
        client.get(reverse("audit:search"), {"object_type": "registry.member"}),
        client.get(reverse("audit:detail", args=[entry.pk])),
        client.get(reverse("audit:export"), {"object_type": "registry.household"}),
        client.get(reverse("audit:export"), {"object_type": "registry.member"}),
    ):
        text = body(response).decode("utf-8-sig")
        assert not [v for v in [*ids, PHONE, BANK] if v in text]
    assert privacy.mask_phone(PHONE) in text or "4311**********" in text
