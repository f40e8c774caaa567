"""The Excel door in and out: round trip, every error kind at its cell, CSV encodings, updates, all-or-nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from jingzhun.audit import bulk as audit_bulk
from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.core.privacy import FULL
from jingzhun.exchange import export
from jingzhun.exchange.errorbook import marked_workbook
from jingzhun.exchange.importer import plan as import_plan
from jingzhun.exchange.importer import run_import
from jingzhun.exchange.layout import HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET
from jingzhun.exchange.template import build_template
from jingzhun.registry.idcard import make_id_number
from jingzhun.registry.models import Household, HouseholdYear, Member
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

pytestmark = pytest.mark.django_db

HH_HEADERS = [
    "户编号",
    "行政区划代码",
    "户主姓名",
    "户主证件号码",
    "家庭人口数",
    "年度",
    "脱贫状态",
    "贫困户属性",
    "主要致贫原因",
    "工资性收入",
    "生产经营性收入",
    "转移性收入",
    "生产经营性支出",
    "住房面积（㎡）",
]
M_HEADERS = [
    "户编号",
    "户主证件号码",
    "姓名",
    "性别",
    "证件号码",
    "与户主关系",
    "文化程度",
    "在校生状况",
    "健康状况",
    "劳动技能",
    "是否参加城乡居民基本医疗保险",
    "是否参加城镇职工基本医疗保险",
]


def ident(year: int, seq: int, sex: str) -> str:
    return make_id_number("431102", dt.date(year, 6, 1), seq, sex)


def workbook(households: list[list], members: list[list], hh_headers=HH_HEADERS, m_headers=M_HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = HOUSEHOLD_SHEET
    ws.append(hh_headers)
    for row in households:
        ws.append(row)
    ws2 = wb.create_sheet(MEMBER_SHEET)
    ws2.append(m_headers)
    for row in members:
        ws2.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def family(village: str = "431102100201", number: str = "", seq: int = 10) -> tuple[list, list[list]]:
    head, wife, child = ident(1968, seq, "1"), ident(1970, seq + 1, "2"), ident(2011, seq + 2, "1")
    household = [
        number,
        village,
        "王建国",
        head,
        3,
        2025,
        "已脱贫（享受政策）",
        "一般脱贫户",
        "因病",
        "15000",
        "4000",
        "2600",
        "1600",
        "88",
    ]
    members = [
        [number, head, "王建国", "男", head, "户主", "初中", "非在校生", "健康", "普通劳动力", "是", "否"],
        [number, head, "刘桂兰", "女", wife, "配偶", "小学", "非在校生", "长期慢性病", "普通劳动力", "是", "否"],
        [number, head, "王小虎", "男", child, "之子", "", "八年级", "健康", "无劳动力", "是", "否"],
    ]
    return household, members


def counts() -> tuple[int, int, int, int]:
    return (
        Household.objects.unscoped().count(),
        Member.objects.unscoped().count(),
        HouseholdYear.objects.unscoped().count(),
        AuditEntry.objects.count(),
    )


def do_import(data: bytes, name: str = "导入.xlsx", *, scope: str = "431102", commit: bool = True):
    with audit_context(None, source="test"):
        return run_import([(name, data)], scope_prefix=scope, commit=commit)


def test_new_household_is_created_with_derived_income_and_one_correlated_audit_set(tree):
    hh, members = family()
    with audit_context(None, source="test") as ctx:
        report = run_import([("a.xlsx", workbook([hh], members))], scope_prefix="431102", commit=True)
    assert report.ok, [str(i) for i in report.issues]
    assert (report.households.created, report.members.created, report.years.created) == (1, 3, 1)
    household = Household.objects.unscoped().get()
    assert household.village_id == "431102100201"
    assert household.household_number.startswith("431102100201")
    record = household.years.get()
    assert record.net_income == Decimal("20000.00")  # 15000 + 4000 + 2600 − 1600
    assert record.per_capita_net_income == Decimal("6666.67")
    head = household.members.get(relationship="01")
    assert head.birth_date == dt.date(1968, 6, 1)  # derived from the ID, never typed
    entries = AuditEntry.objects.filter(request_id=ctx.request_id)
    assert entries.count() == 5
    assert set(entries.values_list("object_type", flat=True)) == {
        "registry.household",
        "registry.member",
        "registry.householdyear",
    }


def test_template_example_imports_and_export_round_trip_is_a_no_op(tree):
    household = household_with_members(tree.village_a1, size=3)
    HouseholdYearFactory(household=household, year=2025)
    household_with_members(tree.village_b1, size=2)
    out = io.BytesIO()
    export.write_xlsx(Household.objects.unscoped().all(), 2025, out, disclosure=FULL)
    data = out.getvalue()
    before = counts()
    report = do_import(data, "export.xlsx")
    assert report.ok, [str(i) for i in report.issues]
    assert report.changed == 0
    assert report.households.unchanged == 2 and report.members.unchanged == 5
    assert counts() == before


def test_template_download_has_sheets_dropdowns_and_a_valid_example(tree):
    data = build_template(2025)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["填表说明", HOUSEHOLD_SHEET, MEMBER_SHEET, "代码表"]
    headers = [c.value for c in wb[HOUSEHOLD_SHEET][1]]
    assert headers == [c.header for c in HOUSEHOLD_COLUMNS]
    assert [c.value for c in wb[MEMBER_SHEET][1]] == [c.header for c in MEMBER_COLUMNS]
    validations = wb[MEMBER_SHEET].data_validations.dataValidation
    assert any("代码表" in (v.formula1 or "") for v in validations)
    code_headers = [c.value for c in wb["代码表"][1]]
    assert "脱贫状态" in code_headers and all(not str(h).isascii() for h in code_headers)  # no table keys
    # The example rows are valid data: a dry run over the template reports them as new, with no error.
    report = do_import(data, "模板.xlsx", commit=False)
    assert report.ok, [str(i) for i in report.issues]
    assert (report.households.created, report.members.created) == (1, 3)


def test_every_error_kind_is_reported_at_its_cell_and_nothing_is_written(tree):
    good, good_members = family(seq=10)
    bad_id, bad_id_members = family(seq=20)
    bad_id_members[1][4] = bad_id_members[1][4][:-1] + ("0" if bad_id_members[1][4][-1] != "0" else "1")
    unknown_enum, unknown_members = family(seq=30)
    unknown_enum[7] = "小康户"
    no_head, no_head_members = family(seq=40)
    no_head_members[0][5] = "之父"
    size_mismatch, size_members = family(seq=50)
    size_mismatch[4] = 5
    duplicate, duplicate_members = family(seq=60)
    duplicate_members[2][4] = good_members[2][4]  # the same child in two households
    outside, outside_members = family(village="431103100201", seq=70)
    wrong_type, wrong_type_members = family(seq=80)
    wrong_type[9] = "一万二"
    wrong_type_members[2][10] = "也许"
    households = [good, bad_id, unknown_enum, no_head, size_mismatch, duplicate, outside, wrong_type]
    members = (
        good_members
        + bad_id_members
        + unknown_members
        + no_head_members
        + size_members
        + duplicate_members
        + outside_members
        + wrong_type_members
    )
    before = counts()
    report = do_import(workbook(households, members), "错误.xlsx")
    assert not report.committed
    assert counts() == before
    found = {(i.sheet.split("·")[1], i.row, i.column): i.message for i in report.issues}
    hh, mm = HOUSEHOLD_SHEET, MEMBER_SHEET
    assert "校验位" in found[(mm, 6, "证件号码")]  # member row 6 = second member of the second household
    assert "不是有效的贫困户属性" in found[(hh, 4, "贫困户属性")]
    assert "没有户主" in found[(hh, 5, "户主姓名")]
    assert "家庭人口数为 5，但成员为 3 人" in found[(hh, 6, "家庭人口数")]
    assert "同一人在文件中出现两次" in found[(mm, 19, "证件号码")]
    assert "不在您的管辖范围内" in found[(hh, 8, "行政区划代码")]
    assert found[(hh, 9, "工资性收入")] == "应为数字"
    assert found[(mm, 25, "是否参加城乡居民基本医疗保险")] == "应填“是”或“否”"
    issue = next(i for i in report.issues if i.column == "贫困户属性")
    assert issue.value == "小康户"
    # The error workbook marks those cells.
    marked = load_workbook(
        io.BytesIO(
            marked_workbook([("错误.xlsx", workbook(households, members))], [i.as_dict() for i in report.issues])
        )
    )
    cell = marked[HOUSEHOLD_SHEET]["H4"]
    assert "不是有效的贫困户属性" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("FF9999")


def test_person_already_active_in_another_household_in_the_database_is_refused(tree):
    existing = household_with_members(tree.village_a2, size=2)
    wife = existing.members.get(relationship="02")
    hh, members = family(seq=90)
    members[1][4] = wife.id_number
    members[1][3] = "女"
    before = counts()
    report = do_import(workbook([hh], members))
    assert counts() == before
    assert any("已在户" in i.message and i.column == "证件号码" and i.row == 3 for i in report.issues)


def test_sex_contradicting_the_id_is_an_error(tree):
    hh, members = family(seq=100)
    members[1][3] = "男"
    report = do_import(workbook([hh], members), commit=False)
    assert any(i.column == "性别" and "证件号码" in i.message for i in report.issues)


def test_gbk_csv_files_with_synonym_headers_in_another_order(tree):
    hh, members = family(seq=110)
    hh_headers = [
        "年度",
        "村代码",
        "户主身份证号",
        "户主姓名",
        "家庭人口",
        "脱贫标志",
        "户属性",
        "主要致贫原因",
        "工资性收入（元）",
        "家庭经营性收入",
        "转移性收入",
        "生产经营费用支出",
        "住房面积",
        "户编号",
    ]
    hh_row = [hh[5], hh[1], hh[3], hh[2], hh[4], hh[6], hh[7], hh[8], hh[9], hh[10], hh[11], hh[12], hh[13], hh[0]]
    m_headers = [
        "姓名",
        "身份证号",
        "户主身份证号",
        "性别",
        "与户主关系",
        "文化程度",
        "在校生状况",
        "健康状况",
        "劳动能力",
        " 是否参加城乡居民基本医疗保险 ",
        "是否参加城镇职工基本医疗保险",
    ]
    m_rows = [[m[2], m[4], m[1], m[3], m[5], m[6], m[7], m[8], m[9], m[10], m[11]] for m in members]

    def csv_bytes(headers, rows):
        lines = [",".join(headers)] + [",".join(str(c) for c in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode("gbk")

    with audit_context(None, source="test"):
        report = run_import(
            [("户信息.csv", csv_bytes(hh_headers, [hh_row])), ("成员信息.csv", csv_bytes(m_headers, m_rows))],
            scope_prefix="431102",
            commit=True,
        )
    assert report.ok, [str(i) for i in report.issues]
    assert Household.objects.unscoped().get().members.filter(name="刘桂兰").exists()


def test_update_of_existing_household_by_number_changes_only_what_differs(tree):
    household = household_with_members(tree.village_a1, size=3)
    HouseholdYearFactory(household=household, year=2025)
    path = io.BytesIO()
    export.write_xlsx(Household.objects.unscoped().all(), 2025, path, disclosure=FULL)
    wb = load_workbook(path)
    hh_ws, m_ws = wb[HOUSEHOLD_SHEET], wb[MEMBER_SHEET]
    headers = [c.value for c in hh_ws[1]]
    hh_ws.cell(row=2, column=headers.index("工资性收入") + 1, value="20000")
    m_headers = [c.value for c in m_ws[1]]
    m_ws.cell(row=4, column=m_headers.index("在校生状况") + 1, value="普通高中一年级")
    out = io.BytesIO()
    wb.save(out)
    report = do_import(out.getvalue())
    assert report.ok, [str(i) for i in report.issues]
    assert (report.households.unchanged, report.years.updated, report.members.updated) == (1, 1, 1)
    record = HouseholdYear.objects.unscoped().get(household=household, year=2025)
    assert record.wage_income == Decimal("20000.00")
    assert record.net_income == Decimal("23000.00")  # recomputed, never typed
    entry = AuditEntry.objects.filter(object_type="registry.householdyear", action="update").get()
    assert entry.changes["wage_income"] == ["12000", "20000"]


def test_dry_run_writes_nothing(tree):
    hh, members = family(seq=120)
    before = counts()
    report = do_import(workbook([hh], members), commit=False)
    assert report.ok and report.households.created == 1
    assert counts() == before


def test_a_failure_half_way_through_the_write_leaves_the_database_unchanged(tree, monkeypatch):
    rows = [family(seq=200 + 10 * i) for i in range(3)]
    before = counts()

    def explode(chunk, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(audit_bulk, "append_entries", explode)
    with pytest.raises(RuntimeError, match="磁盘已满"):
        do_import(workbook([h for h, _m in rows], [m for _h, ms in rows for m in ms]))
    # Households, members and years had been inserted before the audit write failed: all rolled back.
    assert counts() == before


def test_scope_limits_the_import_to_the_users_villages(tree):
    hh, members = family(village=tree.village_b1, seq=130)
    report = do_import(workbook([hh], members), scope="431102100")
    assert any(i.column == "行政区划代码" and "管辖范围" in i.message for i in report.issues)
    assert Household.objects.unscoped().count() == 0


def test_scope_covers_the_stored_households_a_file_updates(tree):
    hh, members = family(village=tree.village_b1, seq=140)
    assert do_import(workbook([hh], members)).committed
    number = Household.objects.unscoped().get().household_number
    hh[0], hh[1] = number, tree.village_a1  # into the clerk's own village, from one outside their scope
    for row in members:
        row[0] = number
    before = counts()
    moved = do_import(workbook([hh], members), scope="431102100")
    assert [(i.column, i.message) for i in moved.issues] == [("行政区划代码", "该户现属村不在您的管辖范围内")]
    members_only = do_import(workbook([], members[1:2]), scope="431102100")
    assert [(i.column, i.message) for i in members_only.issues] == [("户编号", "该户不在您的管辖范围内")]
    assert counts() == before
    assert do_import(workbook([hh], members), scope="431102").committed  # the county's clerk may


def test_rows_pass_the_same_data_quality_rules_as_the_forms(tree):
    hh, members = family(seq=300)
    members[2][9] = "普通劳动力"  # a 14-year-old pupil marked as labour (rule 2_01_011, error level)
    report = do_import(workbook([hh], members))
    assert Household.objects.unscoped().count() == 0
    issue = next(i for i in report.issues if i.column == "劳动技能")
    assert issue.row == 4 and "2_01_011" in issue.message and "王小虎" in issue.message


def test_data_quality_warnings_do_not_block_and_are_recorded(tree):
    from jingzhun.registry.models import QualityIssue

    hh, members = family(seq=310)
    members[0][11] = "是"  # both medical insurances: a warning-level contradiction
    report = do_import(workbook([hh], members))
    assert report.ok and report.committed, [str(i) for i in report.issues]
    assert report.warnings >= 1
    recorded = QualityIssue.objects.unscoped().filter(household=Household.objects.unscoped().get())
    assert recorded.count() == report.warnings
    assert {i.level for i in recorded} == {"warning"}
    assert any("医疗保险" in i.message and i.member is not None and i.member.name == "王建国" for i in recorded)

    # Importing the corrected row again replaces the household's recorded issues.
    members[0][11] = "否"
    again = do_import(workbook([hh], members))
    assert again.committed and again.households.unchanged == 1
    recorded = QualityIssue.objects.unscoped().filter(household=Household.objects.unscoped().get())
    assert recorded.count() == again.warnings
    assert not any("医疗保险" in i.message for i in recorded)


def test_row_numbers_match_excel_when_the_table_does_not_start_at_a1(tree):
    wb = Workbook()
    ws = wb.active
    ws.title = MEMBER_SHEET
    ws["B3"], ws["C3"], ws["D3"], ws["E3"], ws["F3"] = "户编号", "姓名", "性别", "证件号码", "与户主关系"
    ws["B4"], ws["C4"], ws["D4"], ws["E4"], ws["F4"] = "不存在的户", "张三", "男", ident(1980, 400, "1"), "户主"
    out = io.BytesIO()
    wb.save(out)
    report = do_import(out.getvalue(), "偏移.xlsx", commit=False)
    (issue,) = report.issues
    assert (issue.row, issue.column) == (4, "户编号") and "找不到" in issue.message


def test_new_household_numbers_continue_the_villages_own_width(tree):
    """A village numbered with 5-digit sequences (…00029) gets …00030 next, not a 4-digit …0030 — and a
    stray shorter number (which sorts higher as text) does not restart the sequence."""
    from jingzhun.registry.tests.factories import HouseholdFactory

    village = "431102100201"
    HouseholdFactory(village_id=village, household_number=f"{village}00029")
    HouseholdFactory(village_id=village, household_number=f"{village}0005")
    hh, members = family(village=village, seq=700)
    report = do_import(workbook([hh], members))
    assert report.committed, [str(i) for i in report.issues]
    created = Household.objects.unscoped().get(members__id_number=members[0][4])
    assert created.household_number == f"{village}00030"
    assert sorted(created.members.values_list("member_number", flat=True)) == [
        f"{village}0003001",
        f"{village}0003002",
        f"{village}0003003",
    ]


def test_a_stored_problem_blocks_only_a_file_that_changes_that_household(tree):
    """An export of a household that already breaks a blocking rule re-imports as "no change"; editing the
    household in the file makes its rows pass the rules again, as a form save would."""
    from jingzhun.policy import services as policy
    from jingzhun.registry.models import QualityIssue

    hh, members = family(seq=320)
    assert do_import(workbook([hh], members)).committed
    # The pupil recorded as 普通劳动力 (rule 2_01_011) in the stored data, e.g. from before the rule existed.
    Member.objects.unscoped().filter(id_number=members[2][4]).update(
        labour=policy.code_for_label("labour", "普通劳动力")
    )
    number = Household.objects.unscoped().get().household_number
    hh[0] = number
    for row in members:
        row[0] = number
    members[2][9] = "普通劳动力"

    unchanged = do_import(workbook([hh], members))
    assert unchanged.committed, [str(i) for i in unchanged.issues]
    assert (unchanged.households.unchanged, unchanged.members.unchanged) == (1, 3)
    assert QualityIssue.objects.unscoped().filter(rule_code="2_01_011").count() == 1  # still listed for the village

    hh[11] = "16000"  # any change to the household: now its rows must pass
    changed = do_import(workbook([hh], members))
    assert not changed.committed
    assert any(i.column == "劳动技能" and "2_01_011" in i.message for i in changed.issues)


def test_a_mistyped_head_id_is_reported_at_every_cell_in_one_pass(tree):
    hh, members = family(seq=330)
    bad = hh[3][:-1] + ("0" if hh[3][-1] != "0" else "1")  # wrong check digit
    hh[3] = bad
    for row in members:
        row[1] = bad  # the member sheet's 户主证件号码 link column
    members[0][4] = bad  # the head's own 证件号码
    report = do_import(workbook([hh], members))
    assert not report.committed
    cells = {(i.sheet.split("·")[-1], i.row, i.column) for i in report.issues if "校验" in i.message}
    assert {
        ("户信息", 2, "户主证件号码"),
        ("成员信息", 2, "户主证件号码"),
        ("成员信息", 3, "户主证件号码"),
        ("成员信息", 4, "户主证件号码"),
        ("成员信息", 2, "证件号码"),
    } <= cells


def test_yearly_records_are_named_by_household_number_in_the_audit_log(tree):
    hh, members = family(seq=340)
    assert do_import(workbook([hh], members)).committed
    record = HouseholdYear.objects.unscoped().get()
    entry = AuditEntry.objects.get(object_type="registry.householdyear", object_id=str(record.pk))
    assert entry.object_repr == f"{record.household.household_number} 2025年" == str(record)


def test_a_stored_sex_that_contradicts_the_id_does_not_block_an_unchanged_household(tree):
    hh, members = family(seq=350)
    assert do_import(workbook([hh], members)).committed
    Member.objects.unscoped().filter(id_number=members[1][4]).update(sex="1")  # stored before the rule existed
    number = Household.objects.unscoped().get().household_number
    hh[0] = number
    for row in members:
        row[0] = number
    members[1][3] = "男"  # the export shows what is stored
    report = do_import(workbook([hh], members), commit=False)
    assert report.ok and report.changed == 0, [str(i) for i in report.issues]


@pytest.fixture
def quality_helper(settings, monkeypatch):
    """Every import checks its households in the helper process, two households a batch."""
    settings.IMPORT_QUALITY_HELPER_MIN_HOUSEHOLDS = 1
    monkeypatch.setattr(import_plan, "QUALITY_BATCH", 2)


def test_with_the_quality_helper_a_finding_rolls_the_write_back_and_is_placed_as_inline(tree, quality_helper):
    rows = [family(seq=500 + 10 * i) for i in range(5)]
    rows[3][1][2][9] = "普通劳动力"  # the fourth household's pupil as labour: rule 2_01_011, error level
    data = workbook([h for h, _m in rows], [m for _h, ms in rows for m in ms])
    before = counts()

    dry = do_import(data, commit=False)
    committed = do_import(data)
    assert not committed.committed and counts() == before  # households 1–3 had been written: rolled back
    assert [str(i) for i in committed.issues] == [str(i) for i in dry.issues]
    (issue,) = committed.issues
    assert (issue.sheet, issue.row, issue.column, issue.value) == ("导入.xlsx·成员信息", 13, "劳动技能", "普通劳动力")
    assert "2_01_011" in issue.message and "王小虎" in issue.message


def test_with_the_quality_helper_warnings_are_recorded_as_inline(tree, quality_helper, settings):
    from jingzhun.registry.models import QualityIssue

    def recorded() -> list[tuple[str, str, str]]:
        return sorted(
            QualityIssue.objects.unscoped().values_list("household__household_number", "rule_code", "message")
        )

    rows = [family(seq=600 + 10 * i) for i in range(5)]
    for _h, members in rows[1::2]:
        members[0][11] = "是"  # both medical insurances: a warning
    data = workbook([h for h, _m in rows], [m for _h, ms in rows for m in ms])

    report = do_import(data)
    assert report.committed and report.warnings >= 2, [str(i) for i in report.issues]
    with_helper = recorded()

    settings.IMPORT_QUALITY_HELPER_MIN_HOUSEHOLDS = 10**9  # the same file again, checked inline
    Member.objects.unscoped().all().delete()
    HouseholdYear.objects.unscoped().all().delete()
    Household.objects.unscoped().all().delete()
    again = do_import(data)
    assert again.committed and again.warnings == report.warnings
    assert recorded() == with_helper
