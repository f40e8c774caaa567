"""The data behind the URL matrix: one user per role, scoped as in the demo, objects of every kind inside
their scope, and a canary county whose identifying strings must never reach any of them.

The canary county lies in another province, so no prefix of the scoped users' regions can cover it. Its
data is linked to the scoped data wherever the application could be tempted to follow a link: a person
who left the scoped household is registered again in the canary household under the same ID number (the
member page lists a person's rows in other households); a member of a second scoped household was moved
into the canary household (户间迁移 by someone whose scope covers both), so both households record the
move; the canary village has a 村民小组 (the group select fetches groups by a village code from the query
string); and the canary user has an import and an export of their own.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import Role
from jingzhun.accounts.testing import UserFactory
from jingzhun.audit.models import AuditEntry
from jingzhun.core import privacy
from jingzhun.exchange import storage
from jingzhun.exchange.importer import Issue
from jingzhun.jobs.models import Job, JobStatus
from jingzhun.regions.models import RegionFlag, RegionFlagKind
from jingzhun.regions.testing import RegionFactory, RegionTree, build_region_tree
from jingzhun.registry import services
from jingzhun.registry.filters import HouseholdQuery
from jingzhun.registry.idcard import make_id_number
from jingzhun.registry.models import Household, Member, MemberStatus, QualityIssue, QualityLevel, VillageYear
from jingzhun.registry.quality.catalogue import CATALOGUE
from jingzhun.registry.tests.factories import HouseholdFactory, HouseholdYearFactory, MemberFactory

RECORD_YEAR = 2024

# Each role scoped as in the demo (load_demo): the county's offices to the county, a township cadre to a
# township, village cadres and helpers to a village.
ROLE_SCOPES: dict[str, str] = {
    Role.SYSTEM_ADMIN: "county",
    Role.COUNTY_ADMIN: "county",
    Role.LEADER: "county",
    Role.AUDITOR: "county",
    Role.TOWNSHIP: "township_a",
    Role.VILLAGE: "village_a1",
    Role.HELPER: "village_a1",
}


@dataclass(frozen=True)
class CanaryCodes:
    """贵州省 › 黔东南州 › a county › a township › 金丝雀村 › 金丝雀一组: nothing of it is under 43."""

    province: str = "520000000000"
    city: str = "522600000000"
    county: str = "522631000000"
    township: str = "522631100000"
    village: str = "522631100201"
    group: str = "522631100201001"
    village_name: str = "金丝雀村"
    group_name: str = "金丝雀一组"
    household_number: str = "5226319977000417"
    member_name: str = "欧阳雀翎"
    member_id_number: str = make_id_number("522631", dt.date(1961, 2, 3), 417, "2")
    username: str = "canary_jsq_cadre"


@dataclass
class Canary:
    codes: CanaryCodes
    household: Household
    member: Member
    user: User
    flag: RegionFlag
    import_job: Job
    export_job: Job
    audit_entry: AuditEntry  # the canary household's creation

    @property
    def markers(self) -> dict[str, str]:
        """What identifies the canary county's people and places: none of it may appear elsewhere."""
        c = self.codes
        return {
            "household number": c.household_number,
            "member name": c.member_name,
            "member ID number": c.member_id_number,
            "village name": c.village_name,
            "village code": c.village,
            "group name": c.group_name,
            "group code": c.group,
            "username": c.username,
        }


@dataclass
class MatrixWorld:
    tree: RegionTree
    users: dict[str, User]  # by role
    unscoped_user: User  # a village cadre whose scope was never set: sees and does nothing
    target_user: User  # a village cadre in the county, whom the user managers may edit
    household: Household  # in 甲一村, seen by every role
    head: Member
    returnee: Member  # left the household; active again under the same ID number in the canary household
    mover_household: Household  # in 甲一村 too: one of its members was moved into the canary household
    mover: Member  # that member's closed row here
    flag: RegionFlag  # on 甲一村
    audit_entry: AuditEntry  # the household's creation
    import_jobs: dict[str, Job]  # a successful import dry run of each role's user
    export_jobs: dict[str, Job]  # a finished background export of each role's user
    canary: Canary


def workbook_bytes(rows: list[list[str]]) -> bytes:
    """A one-sheet workbook (for stored uploads and finished exports)."""
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import_job(user: User, region_code: str, label: str, rows: list[list[str]], issues: list[dict[str, Any]]) -> Job:
    files = storage.store([(f"{label}.xlsx", workbook_bytes(rows))])
    job: Job = Job.objects.create(
        kind="import_households",
        label=f"导入预检：{label}",
        status=JobStatus.SUCCEEDED,
        created_by=user,
        region_code=region_code,
        params={"files": files, "scope_prefix": user.scope_prefix, "commit": False},
        result={"summary": label, "issues": issues, "issue_count": len(issues)},
    )
    return job


def _export_job(user: User, region_code: str, rows: list[list[str]]) -> Job:
    job: Job = Job.objects.create(
        kind="export_households",
        label="导出 Excel",
        status=JobStatus.SUCCEEDED,
        created_by=user,
        region_code=region_code,
        params={"query": asdict(HouseholdQuery(year=RECORD_YEAR))},
        result={
            "filename": "建档立卡户.xlsx",
            "rows": len(rows) - 1,
            "personal_data": privacy.for_download(user).description,
        },
    )
    data = workbook_bytes(rows)

    def write(out: IO[bytes]) -> None:
        out.write(data)

    storage.write_export(job.pk, write)
    return job


def _creation_entry(obj: Household) -> AuditEntry:
    return AuditEntry.objects.get(object_type=Household.audit_object_type(), object_id=str(obj.pk), action="create")


def _quality_issue(household: Household, member: Member, message: str) -> QualityIssue:
    rule = next(iter(CATALOGUE.values()))
    issue: QualityIssue = QualityIssue.objects.create(
        household=household,
        member=member,
        village_code=household.village_id,
        rule_code=rule.code,
        level=QualityLevel.ERROR,
        message=message,
        field="id_number",
    )
    return issue


def build_canary() -> Canary:
    c = CanaryCodes()
    names = {
        c.province: "贵州省",
        c.city: "黔东南苗族侗族自治州",
        c.county: "雀岭县",
        c.township: "雀岭镇",
        c.village: c.village_name,
        c.group: c.group_name,
    }
    for code in sorted(names, key=lambda code: (len(code), code)):
        RegionFactory.create(code=code, name=names[code])
    household: Household = HouseholdFactory.create(
        household_number=c.household_number, village_id=c.village, group_id=c.group
    )
    member: Member = MemberFactory.create(
        household=household, name=c.member_name, id_number=c.member_id_number, sex="2", birth_date=dt.date(1961, 2, 3)
    )
    # Registered here after leaving a household of the scoped county (see build_world).
    MemberFactory.create(household=household, name="吴远行", relationship="03", birth_date=dt.date(1995, 4, 1))
    HouseholdYearFactory.create(household=household, year=RECORD_YEAR)
    _quality_issue(household, member, f"{c.member_name}（{c.member_id_number}）的证件号码与出生日期不符")
    VillageYear.objects.create(village_id=c.village, year=RECORD_YEAR, first_secretary=c.member_name)
    user: User = UserFactory.create(username=c.username, role=Role.VILLAGE, scope_region_id=c.village)
    rows = [
        ["户编号", "户主", "证件号码", "行政区划"],
        [c.household_number, c.member_name, c.member_id_number, c.village],
    ]
    issue = asdict(Issue(f"{c.village_name}.xlsx·Sheet", 2, "户编号", c.household_number, "户编号已存在"))
    return Canary(
        codes=c,
        household=household,
        member=member,
        user=user,
        flag=RegionFlag.objects.create(region_id=c.village, flag=RegionFlagKind.POOR_VILLAGE, year=2014),
        import_job=_import_job(user, c.village, c.village_name, rows, [issue]),
        export_job=_export_job(user, c.village, rows),
        audit_entry=_creation_entry(household),
    )


def build_world() -> MatrixWorld:
    tree = build_region_tree()
    canary = build_canary()
    users: dict[str, User] = {
        role: UserFactory.create(username=f"matrix_{role}", role=role, scope_region_id=getattr(tree, scope))
        for role, scope in ROLE_SCOPES.items()
    }
    unscoped_user: User = UserFactory.create(username="matrix_unscoped", role=Role.VILLAGE, scope_region_id=None)
    target_user: User = UserFactory.create(username="matrix_target", role=Role.VILLAGE, scope_region_id=tree.village_a1)
    household: Household = HouseholdFactory.create(
        village_id=tree.village_a1, group_id=tree.group_a1, paddy_land_mu=Decimal("3.00")
    )
    head: Member = MemberFactory.create(household=household, name="张大山")
    MemberFactory.create(household=household, name="李秀英", sex="2", relationship="02", birth_date=dt.date(1972, 3, 8))
    returnee: Member = MemberFactory.create(
        household=household,
        name="吴远行",
        relationship="03",
        birth_date=dt.date(1995, 4, 1),
        id_number=canary.household.members.get(name="吴远行").id_number,
        status=MemberStatus.REMOVED,
        removal_reason="3",
        removal_date=dt.date(2019, 3, 1),
    )
    # Someone whose scope covers both counties moved a member into the canary household.
    mover_household: Household = HouseholdFactory.create(village_id=tree.village_a1)
    MemberFactory.create(household=mover_household, name="赵守田")
    mover: Member = MemberFactory.create(household=mover_household, name="赵远嫁", relationship="04", sex="2")
    services.move_member(mover, canary.household, relationship="02", date=dt.date(2020, 6, 1))
    mover.refresh_from_db()
    HouseholdYearFactory.create(household=household, year=RECORD_YEAR)
    _quality_issue(household, head, "张大山的证件号码与出生日期不符")
    VillageYear.objects.create(village_id=tree.village_a1, year=RECORD_YEAR, first_secretary="王驻村")
    rows = [["户编号", "户主"], [household.household_number, head.name]]
    return MatrixWorld(
        tree=tree,
        users=users,
        unscoped_user=unscoped_user,
        target_user=target_user,
        household=household,
        head=head,
        returnee=returnee,
        mover_household=mover_household,
        mover=mover,
        flag=RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014),
        audit_entry=_creation_entry(household),
        import_jobs={
            role: _import_job(user, user.scope_region_id or "", "甲一村", rows, []) for role, user in users.items()
        },
        export_jobs={role: _export_job(user, user.scope_region_id or "", rows) for role, user in users.items()},
        canary=canary,
    )
