"""明白卡, 人有卡, 村有簿 and 乡有册: contents for a known household and village, scope, query counts."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zlib
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jingzhun.accounts.roles import Role
from jingzhun.core.privacy import FULL
from jingzhun.regions.models import RegionFlag, RegionFlagKind
from jingzhun.registry.documents import cards, pdf, registers
from jingzhun.registry.models import HouseholdStatus, Member
from jingzhun.registry.tests.factories import HouseholdYearFactory, household_with_members

TODAY = dt.date(2024, 6, 1)


# --------------------------------------------------------------------------- helpers


def pdf_text(data: bytes) -> str:
    """Text shown by a reportlab PDF: content streams are ASCII85+Flate, strings are UTF-16BE (the CID
    font's UniGB-UCS2-H encoding). Enough to assert on content without a PDF library."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(raw: bytes) -> bytes:
        out, i = bytearray(), 0
        while i < len(raw):
            c = raw[i : i + 1]
            if c != b"\\":
                out += c
                i += 1
                continue
            nxt = raw[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
            else:
                out += escapes.get(nxt, nxt)
                i += 2
        return bytes(out)

    texts = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = match.group(1).strip()
        try:
            stream = zlib.decompress(base64.a85decode(raw.removesuffix(b"~>")))
        except ValueError:
            continue
        except zlib.error:
            continue
        for s in re.finditer(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream, re.S):
            texts.append(unescape(s.group(1)).decode("utf-16-be", errors="replace"))
    return "\n".join(texts)


def sheet_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture
def known(tree):
    """甲一村第一村民小组: 张大山's household of three, with 2019 and 2020 records; one household elsewhere."""
    household = household_with_members(
        tree.village_a1,
        size=3,
        group_id=tree.group_a1,
        household_number="431102100201001",
        address="水口山镇甲一村1号",
        exit_year=2019,
        dibao_status="1",
    )
    HouseholdYearFactory(household=household, year=2019, exit_status="1", attribute="04", main_cause="01")
    HouseholdYearFactory(
        household=household,
        year=2020,
        exit_status="1",
        attribute="05",
        main_cause="02",
        other_cause_1="07",
        wage_income=Decimal("14000"),
        housing_secure=False,
    )
    other = household_with_members(tree.village_a2, size=2, household_number="431102100202001")
    HouseholdYearFactory(household=other, year=2020, exit_status="0", attribute="01", main_cause="05")
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014, value=True)
    RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2018, value=False)
    return household, other


def login(client, make_user, role, scope):
    user = make_user(role, scope)
    client.force_login(user)
    return user


# --------------------------------------------------------------------------- 明白卡


def test_household_card_contents(known):
    household, _other = known
    card = cards.build_household_card(
        cards.card_queryset().unscoped().get(pk=household.pk), disclosure=FULL, today=TODAY
    )
    assert card.household_number == "431102100201001"
    assert card.region_name == "湖南省永州市零陵区水口山镇甲一村第一村民小组"
    assert card.head_name == "张大山"
    summary = {f.label: f.value for f in card.summary.fields}
    assert summary["户主姓名"] == "张大山"
    assert summary["识别标准"] == "国家标准"
    assert summary["贫困户属性"] == "一般脱贫户"  # from the latest (2020) record
    assert summary["脱贫状态"] == "已脱贫（享受政策）"
    assert summary["脱贫年度"] == "2019"
    assert summary["主要致贫原因"] == "因残"
    assert summary["其他致贫原因"] == "缺技术"
    assert summary["家庭人口数"] == "3"
    assert summary["详细地址"] == "水口山镇甲一村1号"
    assert [m.name for m in card.members] == ["张大山", "李秀英", "张小1"]
    head = card.members[0]
    assert head.relationship == "户主" and head.sex == "男" and head.birth_date == "1970-05-17"
    # The full ID is on the household's own card.
    assert head.id_number == household.members.get(name="张大山").id_number
    assert len(head.id_number) == 18 and "*" not in head.id_number

    assert card.income.years == [2019, 2020]
    lines = {line.label: line.values for line in card.income.lines}
    assert lines["工资性收入"] == ["12000.00", "14000.00"]
    assert lines["家庭纯收入"] == ["15000.00", "17000.00"]  # 工资 + 经营 3000 + 转移 1500 − 支出 1500
    assert lines["家庭人口数"] == ["3", "3"]
    assert lines["人均纯收入"] == ["5000.00", "5666.67"]
    assert "理赔收入" not in lines  # monitoring-era items only when used

    guarantees = {f.label: f.value for f in card.guarantees.fields}
    assert card.guarantees.title == "两不愁三保障（2020年）"
    assert guarantees["住房安全有保障"] == "否"
    assert guarantees["两不愁三保障"] == "未达标"
    policies = {f.label: f.value for f in card.policies.fields}
    assert policies["享受低保政策情况"] == "农村低保"
    assert policies["享受特困供养政策情况"] == "不享受"


def test_household_card_income_shows_only_latest_three_years(tree):
    household = household_with_members(tree.village_a1, size=1)
    for year in (2016, 2017, 2018, 2019):
        HouseholdYearFactory(household=household, year=year)
    card = cards.build_household_card(cards.card_queryset().unscoped().get(pk=household.pk), disclosure=FULL)
    assert card.income.years == [2017, 2018, 2019]


def test_household_card_without_records(tree):
    household = household_with_members(tree.village_a1, size=1)
    card = cards.build_household_card(cards.card_queryset().unscoped().get(pk=household.pk), disclosure=FULL)
    assert card.income.years == []
    assert card.record_year is None
    assert pdf.household_card_pdf(card).startswith(b"%PDF")


def test_household_card_page(client, make_user, tree, known):
    household, _other = known
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    head_id = household.members.get(name="张大山").id_number
    masked = client.get(reverse("registry:household_card", args=[household.pk])).content.decode()
    assert head_id not in masked and f"{head_id[:4]}**********{head_id[-4:]}" in masked
    response = client.post(reverse("registry:household_card", args=[household.pk]))  # 显示完整号码, for printing
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("精准扶贫明白卡", "431102100201001", "张大山", "李秀英", head_id, "一般脱贫户", "5666.67"):
        assert text in html
    assert "帮扶责任人（签字）" in html
    assert "registry/documents.css" in html  # the A4 / @media print sheet
    assert reverse("registry:household_card_pdf", args=[household.pk]) in html


def test_household_card_pdf(client, make_user, tree, known):
    household, _other = known
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    response = client.get(reverse("registry:household_card_pdf", args=[household.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF") and len(data) > 5000
    assert b"/STSong-Light" in data and b"UniGB-UCS2-H" in data  # the built-in CID font, not embedded
    text = pdf_text(data)
    head_id = household.members.get(name="张大山").id_number
    for expected in ("精准扶贫明白卡", "张大山", "李秀英", head_id, "一般脱贫户", "5666.67", "帮扶责任人"):
        assert expected in text


def test_card_pdf_survives_markup_in_names(tree):
    household = household_with_members(tree.village_a1, size=1, address="<b>&1号")
    card = cards.build_household_card(cards.card_queryset().unscoped().get(pk=household.pk), disclosure=FULL)
    assert "<b>&1号" in pdf_text(pdf.household_card_pdf(card))


# --------------------------------------------------------------------------- 人有卡


def test_member_card_contents(known):
    household, _other = known
    spouse = household.members.get(name="李秀英")
    card = cards.build_member_card(
        cards.member_card_queryset().unscoped().get(pk=spouse.pk), disclosure=FULL, today=TODAY
    )
    fields = {f.label: f.value for s in card.sections for f in s.fields}
    assert card.household_number == "431102100201001"
    assert fields["姓名"] == "李秀英"
    assert fields["性别"] == "女"
    assert fields["与户主关系"] == "配偶"
    assert fields["证件号码"] == spouse.id_number
    assert fields["出生日期"] == "1972-03-08"
    assert fields["年龄"] == "52"
    assert fields["户主姓名"] == "张大山"
    assert fields["贫困户属性"] == "一般脱贫户"
    assert fields["基本医疗保险"] == "是"
    assert fields["低保对象"] == "否"


def test_member_card_page_and_pdf(client, make_user, tree, known):
    household, _other = known
    spouse = household.members.get(name="李秀英")
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    html = client.get(reverse("registry:member_card", args=[spouse.pk])).content.decode()
    assert "精准扶贫人员信息卡" in html and "李秀英" in html and spouse.id_number not in html
    html = client.post(reverse("registry:member_card", args=[spouse.pk])).content.decode()  # 显示完整号码
    assert "精准扶贫人员信息卡" in html and "李秀英" in html and spouse.id_number in html
    response = client.get(reverse("registry:member_card_pdf", args=[spouse.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "李秀英" in text and spouse.id_number in text and "配偶" in text


# --------------------------------------------------------------------------- 村有簿


def test_village_register_contents(client, make_user, tree, known):
    household, _other = known
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    response = client.get(reverse("registry:village_register", args=[tree.village_a1]) + "?year=2020")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["户名册", "成员名册"]
    ws = wb["户名册"]
    rows = sheet_rows(ws)
    assert rows[0][0] == "湖南省永州市零陵区水口山镇甲一村村有簿（2020年度）"
    assert rows[1] == (
        "序号",
        "组",
        "户编号",
        "户主姓名",
        "户主证件号码",
        "家庭人口数",
        "贫困户属性",
        "脱贫状态",
        "脱贫年度",
        "主要致贫原因",
        "其他致贫原因",
        "家庭纯收入（元）",
        "人均纯收入（元）",
        "是否监测对象",
        "联系电话",
    )
    head_id = household.members.get(name="张大山").id_number
    assert rows[2:] == [
        (
            1,
            "第一村民小组",
            "431102100201001",
            "张大山",
            head_id,
            3,
            "一般脱贫户",
            "已脱贫（享受政策）",
            2019,
            "因残",
            "缺技术",
            17000,
            5666.67,
            "否",
            "13800000000",
        )
    ]  # only this village's households
    assert ws.freeze_panes == "A3"
    assert "A1:O1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.column_dimensions["E"].width >= 20  # the ID column is wide enough for 18 digits

    members = sheet_rows(wb["成员名册"])
    assert members[1][:7] == ("序号", "组", "户编号", "人编号", "姓名", "性别", "与户主关系")
    assert [r[4] for r in members[2:]] == ["张大山", "李秀英", "张小1"]
    assert members[3][5:8] == ("女", "配偶", household.members.get(name="李秀英").id_number)


def test_village_register_year_selects_records(client, make_user, tree, known):
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    response = client.get(reverse("registry:village_register", args=[tree.village_a1]) + "?year=2019")
    rows = sheet_rows(load_workbook(io.BytesIO(b"".join(response.streaming_content)))["户名册"])
    assert rows[0][0].endswith("（2019年度）")
    assert rows[2][6:8] == ("低保贫困户", "已脱贫（享受政策）")
    assert rows[2][11:13] == (15000, 5000)


def test_village_register_default_year_is_latest_and_skips_cancelled(client, make_user, tree, known):
    cancelled = household_with_members(tree.village_a1, size=1, household_number="431102100201099")
    cancelled.status = HouseholdStatus.CANCELLED
    cancelled.save()
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    response = client.get(reverse("registry:village_register", args=[tree.village_a1]))
    assert "2020" in response["Content-Disposition"] or "2020" in response.get("Content-Disposition", "")
    rows = sheet_rows(load_workbook(io.BytesIO(b"".join(response.streaming_content)))["户名册"])
    assert [r[2] for r in rows[2:]] == ["431102100201001"]


def test_register_rows_without_year_record(tree):
    household_with_members(tree.village_a1, size=2, household_number="431102100201005")
    from jingzhun.regions.models import Region

    rows = list(
        registers.iter_register_rows(
            registers.register_households(Region.objects.unscoped().get(pk=tree.village_a1)), 2020, FULL
        )
    )
    assert len(rows) == 1
    assert rows[0].size == 2 and rows[0].attribute == "" and rows[0].net_income is None


# --------------------------------------------------------------------------- 乡有册


def test_township_register_contents(client, make_user, tree, known):
    login(client, make_user, Role.TOWNSHIP, tree.township_a)
    response = client.get(reverse("registry:township_register", args=[tree.township_a]) + "?year=2020")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["村汇总", "户名册"]
    summary = sheet_rows(wb["村汇总"])
    assert summary[0][0] == "湖南省永州市零陵区水口山镇乡有册（2020年度）"
    groups, labels = summary[1], summary[2]
    assert groups[:7] == ("序号", "行政村", "区划代码", "贫困村状态", "在册户数", "在册人数", "已录入年度信息户数")
    assert "脱贫状态（户）" in groups and "贫困户属性（户）" in groups and "主要致贫原因（户）" in groups
    assert wb["村汇总"].freeze_panes == "A4"

    def cell(row, label, group):
        start = groups.index(group)
        return row[labels.index(label, start)]

    by_name = {r[1]: r for r in summary[3:]}
    assert set(by_name) == {"甲一村", "甲二村", "合计"}
    a1, a2, total = by_name["甲一村"], by_name["甲二村"], by_name["合计"]
    assert a1[2:7] == (tree.village_a1, "已出列（2018年）", 1, 3, 1)
    assert a2[2:7] == (tree.village_a2, "非贫困村", 1, 2, 1)
    assert cell(a1, "已脱贫（享受政策）", "脱贫状态（户）") == 1
    assert cell(a2, "未脱贫", "脱贫状态（户）") == 1
    assert cell(a1, "一般脱贫户", "贫困户属性（户）") == 1
    assert cell(a2, "一般贫困户", "贫困户属性（户）") == 1
    assert cell(a1, "因残", "主要致贫原因（户）") == 1
    assert cell(a2, "缺土地", "主要致贫原因（户）") == 1
    assert total[4:7] == (2, 5, 2)
    assert cell(total, "未脱贫", "脱贫状态（户）") == 1

    households = sheet_rows(wb["户名册"])
    assert households[1][:4] == ("序号", "行政村", "组", "户编号")
    assert [(r[1], r[3]) for r in households[2:]] == [("甲一村", "431102100201001"), ("甲二村", "431102100202001")]


def test_township_summary_counts_codes_outside_the_table(tree):
    household = household_with_members(tree.village_b1, size=1)
    HouseholdYearFactory(household=household, year=2020, main_cause="")
    from jingzhun.regions.models import Region

    summary = registers.build_township_summary(Region.objects.unscoped().get(pk=tree.township_b), 2020)
    causes = dict(summary.groups)["by_cause"].codes
    assert ("", "未填") in causes
    assert summary.total.by_cause[""] == 1


@pytest.mark.parametrize(
    ("rows", "year", "expected"),
    [
        ([], 2020, "非贫困村"),
        ([(2014, True)], 2016, "贫困村"),
        ([(2014, True), (2018, False)], 2017, "贫困村"),
        ([(2014, True), (2018, False)], 2018, "已出列（2018年）"),
        ([(2014, True), (2018, False)], 2013, "非贫困村"),
        ([(2014, False)], 2020, "非贫困村"),
    ],
)
def test_poor_village_status(rows, year, expected):
    assert registers.poor_village_status(rows, year) == expected


# --------------------------------------------------------------------------- scope on every page and download


def _urls(tree, household, member):
    return [
        reverse("registry:household_card", args=[household.pk]),
        reverse("registry:household_card_pdf", args=[household.pk]),
        reverse("registry:member_card", args=[member.pk]),
        reverse("registry:member_card_pdf", args=[member.pk]),
        reverse("registry:village_register", args=[tree.village_a1]),
        reverse("registry:village_detail", args=[tree.village_a1]),
        reverse("registry:village_year_edit", args=[tree.village_a1, 2020]),
    ]


def test_other_village_user_gets_404_everywhere(client, make_user, tree, known):
    household, _other = known
    member = household.members.first()
    login(client, make_user, Role.VILLAGE, tree.village_a2)
    for url in _urls(tree, household, member):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("registry:township_register", args=[tree.township_a])).status_code == 404


def test_other_township_user_gets_404_everywhere(client, make_user, tree, known):
    household, _other = known
    member = household.members.first()
    login(client, make_user, Role.TOWNSHIP, tree.township_b)
    for url in _urls(tree, household, member):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("registry:township_register", args=[tree.township_a])).status_code == 404


def test_own_village_user_sees_everything_but_the_township_register(client, make_user, tree, known):
    household, _other = known
    member = household.members.first()
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    for url in _urls(tree, household, member):
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("registry:township_register", args=[tree.township_a])).status_code == 404


def test_township_user_downloads_registers_of_their_township(client, make_user, tree, known):
    household, _other = known
    login(client, make_user, Role.TOWNSHIP, tree.township_a)
    assert client.get(reverse("registry:village_register", args=[tree.village_a1])).status_code == 200
    assert client.get(reverse("registry:village_register", args=[tree.village_a2])).status_code == 200
    assert client.get(reverse("registry:township_register", args=[tree.township_a])).status_code == 200
    assert client.get(reverse("registry:township_register", args=[tree.township_b])).status_code == 404
    assert client.get(reverse("registry:household_card", args=[household.pk])).status_code == 200


def test_register_of_wrong_level_is_404(client, make_user, tree, known):
    login(client, make_user, Role.COUNTY_ADMIN, tree.county)
    assert client.get(reverse("registry:village_register", args=[tree.township_a])).status_code == 404
    assert client.get(reverse("registry:township_register", args=[tree.village_a1])).status_code == 404
    assert client.get(reverse("registry:township_register", args=[tree.other_county])).status_code == 404


def test_anonymous_is_sent_to_login(client, tree, known):
    household, _other = known
    response = client.get(reverse("registry:household_card_pdf", args=[household.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_registers_index_lists_only_scope(client, make_user, tree, known):
    login(client, make_user, Role.TOWNSHIP, tree.township_a)
    html = client.get(reverse("registry:registers")).content.decode()
    assert reverse("registry:township_register", args=[tree.township_a]) in html
    assert reverse("registry:village_register", args=[tree.village_a2]) in html
    assert tree.township_b not in html and tree.village_b1 not in html
    client.force_login(make_user(Role.VILLAGE, tree.village_a1))
    html = client.get(reverse("registry:registers")).content.decode()
    assert reverse("registry:village_register", args=[tree.village_a1]) in html
    assert reverse("registry:township_register", args=[tree.township_a]) not in html


# --------------------------------------------------------------------------- query counts (no N+1)


def _add_households(tree, n: int, size: int) -> None:
    for i in range(n):
        h = household_with_members(
            tree.village_a1, size=size, group_id=tree.group_a1, household_number=f"4311021002019{i:02d}"
        )
        HouseholdYearFactory(household=h, year=2020)


# The page shell costs about nine queries (session, user, its scope region's name, savepoints, session save);
# the bounds below are the same whatever the household's size, which is the point. A download also writes
# its audit entry (lock the chain head, insert, move the head: three; the household's name needs its head).
@pytest.mark.parametrize("size", [1, 6])
def test_household_card_queries_do_not_grow_with_members(client, make_user, tree, size, django_assert_max_num_queries):
    household = household_with_members(tree.village_a1, size=size, group_id=tree.group_a1)
    for year in (2018, 2019, 2020):
        HouseholdYearFactory(household=household, year=year)
    login(client, make_user, Role.VILLAGE, tree.village_a1)
    client.get(reverse("registry:household_card", args=[household.pk]))  # warm the code-table cache
    with django_assert_max_num_queries(13):
        assert client.get(reverse("registry:household_card", args=[household.pk])).status_code == 200
    with django_assert_max_num_queries(11 + 4):
        assert client.get(reverse("registry:household_card_pdf", args=[household.pk])).status_code == 200
    member = Member.objects.unscoped().filter(household=household).last()
    assert member is not None
    with django_assert_max_num_queries(14):
        assert client.get(reverse("registry:member_card", args=[member.pk])).status_code == 200
    with django_assert_max_num_queries(12 + 3):
        assert client.get(reverse("registry:member_card_pdf", args=[member.pk])).status_code == 200


@pytest.mark.parametrize("households", [1, 12])
def test_register_queries_do_not_grow_with_households(
    client, make_user, tree, households, django_assert_max_num_queries
):
    _add_households(tree, households, size=3)
    login(client, make_user, Role.TOWNSHIP, tree.township_a)
    client.get(reverse("registry:registers"))  # warm the code-table cache
    with django_assert_max_num_queries(14 + 3):  # + the download's audit entry
        response = client.get(reverse("registry:village_register", args=[tree.village_a1]) + "?year=2020")
        b"".join(response.streaming_content)
    with django_assert_max_num_queries(20 + 3):
        response = client.get(reverse("registry:township_register", args=[tree.township_a]) + "?year=2020")
        b"".join(response.streaming_content)


def test_register_batches_large_villages(tree, monkeypatch, django_assert_max_num_queries):
    """Past one batch, a register costs three more queries per CHUNK households, not per household."""
    monkeypatch.setattr(registers, "CHUNK", 4)
    _add_households(tree, 10, size=2)
    from jingzhun.regions.models import Region

    village = Region.objects.unscoped().get(pk=tree.village_a1)
    with django_assert_max_num_queries(1 + 3 * 3 + 1):
        rows = list(registers.iter_register_rows(registers.register_households(village), 2020, FULL))
    assert len(rows) == 10
    assert [r.household_number for r in rows] == sorted(r.household_number for r in rows)
