"""Import of region files: each error kind, encodings, XLSX, idempotence, audit, scope, all or nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from jingzhun.audit.context import audit_context
from jingzhun.audit.models import AuditEntry
from jingzhun.core.tests.xlsx_files import cell, sheet_xml, xlsx_package
from jingzhun.regions.importer import import_regions
from jingzhun.regions.models import Region


def csv_bytes(rows, header=("代码", "名称"), encoding="utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows, header=("统计用区划代码", "名称")) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def counts() -> tuple[int, int]:
    return Region.objects.unscoped().count(), AuditEntry.objects.count()


GUANGDONG = [
    ("440000000000", "广东省"),
    ("440100000000", "广州市"),
    ("440103000000", "荔湾区"),
    ("440103001000", "沙面街道"),
    ("440103001001", "沙面社区"),
]


@pytest.mark.django_db
def test_file_with_every_error_kind_names_each_line_and_writes_nothing(tree):
    before = counts()
    data = csv_bytes(
        [
            ("440000000000", "广东省"),  # line 2: fine
            ("44010A", "坏代码"),  # line 3: malformed (not digits)
            ("440100000000", "广州市"),  # line 4: fine
            ("440100000000", "广州市（重复）"),  # line 5: duplicate of line 4
            ("440199100000", "孤儿镇"),  # line 6: orphan, county 440199 nowhere
            ("440103000000", ""),  # line 7: missing name
            ("4401031", "七位代码"),  # line 8: malformed (length)
            ("430000100000", "跳级镇"),  # line 9: malformed (skips the city)
            ("431102100201", "甲一村"),  # line 10: fine, already in the database
        ]
    )
    result = import_regions(data, "bad.csv")
    assert not result.ok
    by_line = {e.line: e.message for e in result.errors}
    assert set(by_line) == {3, 5, 6, 7, 8, 9}
    assert "非数字" in by_line[3]
    assert "重复" in by_line[5] and "第 4 行" in by_line[5]
    assert "上级 440199000000 不存在" in by_line[6]
    assert "缺少名称" in by_line[7]
    assert "长度为 7 位" in by_line[8]
    assert "无法确定层级" in by_line[9]
    assert [str(e).split("：")[0] for e in result.errors] == [f"第 {n} 行" for n in (3, 5, 6, 7, 8, 9)]
    assert result.created == result.updated == result.unchanged == 0
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (("编号", "地名"), ["代码列", "名称列"]),
        (("code", "地名"), ["名称列"]),
        (("区域", "名称"), ["代码列"]),
    ],
)
def test_bad_header_is_rejected_on_line_1(tree, header, missing):
    before = counts()
    result = import_regions(csv_bytes(GUANGDONG, header=header), "bad-header.csv")
    assert [e.line for e in result.errors] == [1]
    for word in missing:
        assert word in result.errors[0].message
    assert counts() == before


@pytest.mark.django_db
def test_every_accepted_header_synonym(tree):
    for code_header in ("code", "代码", "统计用区划代码", "区划代码", " CODE "):
        for name_header in ("name", "名称", "Name"):
            result = import_regions(csv_bytes(GUANGDONG, header=(code_header, name_header)), "x.csv", dry_run=True)
            assert result.ok, (code_header, name_header, result.errors)
            assert result.created == len(GUANGDONG)


@pytest.mark.django_db
def test_short_codes_are_normalised_to_12_digits(tree):
    data = csv_bytes([("44", "广东省"), ("4401", "广州市"), ("440103", "荔湾区"), ("440103001", "沙面街道")])
    result = import_regions(data, "short.csv")
    assert result.ok, result.errors
    assert result.created == 4
    township = Region.objects.unscoped().get(code="440103001000")
    assert township.level == 4
    assert township.parent_id == "440103000000"
    county = township.parent
    city = county.parent if county else None
    province = city.parent if city else None
    assert province is not None and province.code == "440000000000"


@pytest.mark.django_db
def test_gbk_csv(tree):
    data = csv_bytes(GUANGDONG, header=("统计用区划代码", "名称"), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GBK, not UTF-8 by accident
    result = import_regions(data, "gbk.csv")
    assert result.ok, result.errors
    assert result.created == 5
    assert Region.objects.unscoped().get(code="440103001000").name == "沙面街道"


@pytest.mark.django_db
def test_gb18030_only_characters(tree):
    # 㘵 is outside GBK's repertoire but in GB18030 (some village names need it).
    data = csv_bytes([*GUANGDONG, ("440103001002", "㘵村")], encoding="gb18030")
    result = import_regions(data, "gb18030.csv")
    assert result.ok, result.errors
    assert Region.objects.unscoped().get(code="440103001002").name == "㘵村"


@pytest.mark.django_db
def test_utf8_with_bom(tree):
    data = csv_bytes(GUANGDONG, header=("code", "name"), encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    result = import_regions(data, "bom.csv")
    assert result.ok, result.errors  # the BOM must not stick to the first header
    assert result.created == 5


@pytest.mark.django_db
def test_xlsx_with_numeric_and_text_codes_and_extra_columns(tree):
    rows = [
        (440000000000, "广东省", "", "备注"),  # numeric cell
        ("440100000000", "广州市", "", ""),
        ("440103", "荔湾区", "", "6 位"),
        (440103001000, "沙面街道", "", ""),
        ("440103001001", "沙面社区", "111", ""),
    ]
    data = xlsx_bytes(rows, header=("统计用区划代码", "名称", "城乡分类代码", "备注"))
    result = import_regions(data, "table.xlsx")
    assert result.ok, result.errors
    assert result.created == 5
    community = Region.objects.unscoped().get(code="440103001001")
    assert community.urban_rural_code == "111"
    assert community.level == 5


@pytest.mark.django_db
def test_xlsx_errors_carry_sheet_row_numbers(tree):
    data = xlsx_bytes([("440000000000", "广东省"), ("4401X", "坏"), ("440100000000", "")])
    result = import_regions(data, "bad.xlsx")
    assert [e.line for e in result.errors] == [3, 4]


@pytest.mark.django_db
def test_reimport_is_idempotent_and_a_rename_is_one_audited_update(tree):
    data = csv_bytes(GUANGDONG)
    first = import_regions(data, "gd.csv")
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    before = counts()

    second = import_regions(data, "gd.csv")
    assert second.ok
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert counts() == before  # no rows, no audit entries

    renamed = [(c, "沙面街道办事处" if c == "440103001000" else n) for c, n in GUANGDONG]
    third = import_regions(csv_bytes(renamed), "gd2.csv")
    assert (third.created, third.updated, third.unchanged) == (0, 1, 4)
    assert Region.objects.unscoped().get(code="440103001000").name == "沙面街道办事处"
    entry = AuditEntry.objects.get(object_id="440103001000", action="update")
    assert entry.object_type == "regions.region"
    assert entry.region_code == "440103001000"
    assert entry.changes == {"name": ["沙面街道", "沙面街道办事处"]}
    assert AuditEntry.objects.count() == before[1] + 1


@pytest.mark.django_db
def test_created_regions_are_audited_once_each(tree):
    before = AuditEntry.objects.count()
    with audit_context(None, source="command", reason="测试导入"):
        import_regions(csv_bytes(GUANGDONG), "gd.csv")
    assert AuditEntry.objects.count() == before + 5
    entries = AuditEntry.objects.order_by("id")[before:]
    assert sorted(e.object_id for e in entries) == sorted(c for c, _ in GUANGDONG)
    assert {(e.object_type, e.action, e.source) for e in entries} == {("regions.region", "create", "command")}
    entries = AuditEntry.objects.filter(pk__in=[e.pk for e in entries])
    assert len(set(entries.values_list("request_id", flat=True))) == 1
    assert set(entries.values_list("reason", flat=True)) == {"测试导入"}
    village = entries.get(object_id="440103001001")
    assert village.changes["name"] == [None, "沙面社区"]
    assert village.changes["parent"] == [None, "440103001000"]


@pytest.mark.django_db
def test_parent_already_in_database_is_not_an_orphan(tree):
    data = csv_bytes([("431102100203", "甲三村"), ("431102100203001", "第一村民小组")])
    result = import_regions(data, "more.csv")
    assert result.ok, result.errors
    assert result.created == 2
    assert Region.objects.unscoped().get(code="431102100203001").parent_id == "431102100203"


@pytest.mark.django_db
def test_dry_run_counts_without_writing(tree):
    before = counts()
    renamed = csv_bytes([(tree.village_a1, "甲一新村"), ("431102100203", "甲三村")])
    result = import_regions(renamed, "x.csv", dry_run=True)
    assert result.ok and result.dry_run
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert result.changes[0].changes == {"name": ["甲一村", "甲一新村"]}
    assert counts() == before
    assert Region.objects.unscoped().get(code=tree.village_a1).name == "甲一村"


@pytest.mark.django_db
def test_urban_rural_code_checked_stored_and_kept_when_blank(tree):
    header = ("代码", "名称", "城乡分类代码")
    bad = import_regions(csv_bytes([(tree.village_a1, "甲一村", "999")], header=header), "x.csv")
    assert [e.line for e in bad.errors] == [2]
    assert "城乡分类代码" in bad.errors[0].message

    ok = import_regions(csv_bytes([(tree.village_a1, "甲一村", "220")], header=header), "x.csv")
    assert (ok.updated, ok.unchanged) == (1, 0)
    assert Region.objects.unscoped().get(code=tree.village_a1).urban_rural_code == "220"

    blank = import_regions(csv_bytes([(tree.village_a1, "甲一村", "")], header=header), "x.csv")
    assert blank.unchanged == 1
    assert Region.objects.unscoped().get(code=tree.village_a1).urban_rural_code == "220"


@pytest.mark.django_db
def test_scope_limits_creates_and_updates_but_not_unchanged_ancestors(tree):
    before = counts()
    data = csv_bytes(
        [
            (tree.province, "湖南省"),  # unchanged ancestor outside the township: fine
            (tree.township_a, "水口山镇"),
            ("431102100203", "甲三村"),  # inside: fine
            ("431102101203", "乙三村"),  # other township: refused
            (tree.other_county, "冷水滩区（改）"),  # change outside: refused
        ]
    )
    result = import_regions(data, "x.csv", within="431102100")
    assert [e.line for e in result.errors] == [5, 6]
    assert all("不在您的管辖范围内" in e.message for e in result.errors)
    assert counts() == before
    inside = import_regions(data.split(b"\n431102101203")[0] + b"\n", "x.csv", within="431102100")
    assert inside.ok, inside.errors
    assert (inside.created, inside.unchanged) == (1, 2)


@pytest.mark.django_db
def test_retired_code_reappearing_is_a_warning(tree):
    Region.objects.unscoped().filter(code=tree.village_b2).update(valid_to=dt.date(2020, 1, 1))
    result = import_regions(csv_bytes([(tree.village_b2, "乙二新村")]), "x.csv", dry_run=True)
    assert result.ok
    assert result.updated == 1
    assert [w.line for w in result.warnings] == [2]
    assert "已于 2020-01-01 停用" in result.warnings[0].message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "文件为空"),
        ("代码,名称\n".encode(), "header-only.csv", "没有数据行"),
        (b"\xd0\xcf\x11\xe0old", "old.xls", "不支持旧版 .xls"),
        (b"PK\x03\x04not really a zip", "broken.xlsx", "无法读取 Excel"),
    ],
)
def test_unreadable_files_are_file_level_errors(tree, data, filename, message):
    before = counts()
    result = import_regions(data, filename)
    assert len(result.errors) == 1
    assert result.errors[0].line is None
    assert message in result.errors[0].message
    assert str(result.errors[0]).startswith("文件：")
    assert counts() == before


@pytest.mark.django_db
def test_a_workbook_beyond_the_limits_of_a_read_is_refused_before_it_is_loaded(tree):
    """The region table is read in the web request: a 1.6 KB workbook with a cell at XFD1048576 made
    calamine abort the web server's process. It is now a file-level error naming the limit."""
    rows = f'<row r="1">{cell("A1", "代码")}{cell("B1", "名称")}</row><row r="1048576">{cell("XFD1048576", "x")}</row>'
    before = counts()
    result = import_regions(xlsx_package({"区划": sheet_xml(rows)}), "区划.xlsx", dry_run=True)
    (error,) = result.errors
    assert str(error).startswith("文件：工作表“区划”在第 XFD 列") and "超过上限 256 列" in str(error)
    assert counts() == before


@pytest.mark.django_db
def test_blank_lines_keep_file_line_numbers(tree):
    data = "代码,名称\n\n440000000000,广东省\n,\n44010X,坏\n".encode()
    result = import_regions(data, "x.csv")
    assert [e.line for e in result.errors] == [5]


@pytest.mark.django_db
def test_thousands_of_rows_beyond_sqlite_variable_limits(tree):
    # More codes than one SQL statement may carry on SQLite: lookups must be chunked.
    rows = [(f"4311021{t:02d}000", f"镇{t}") for t in range(10, 20)]
    rows += [(f"4311021{t:02d}{v:03d}", f"村{t}-{v}") for t in range(10, 20) for v in range(1, 151)]
    first = import_regions(csv_bytes(rows), "many.csv")
    assert first.ok, first.errors[:3]
    assert first.created == 1510
    groups = [(f"4311021{t:02d}{v:03d}001", "第一村民小组") for t in range(10, 20) for v in range(1, 151)]
    second = import_regions(csv_bytes(groups), "groups.csv")  # 1,500 parents all found in the database
    assert second.ok, second.errors[:3]
    assert second.created == 1500
    again = import_regions(csv_bytes(rows + groups), "all.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3010)


@pytest.mark.django_db
def test_a_concurrent_writer_between_check_and_write_leaves_nothing_half_written(tree, monkeypatch):
    # Simulates another import committing 广州市 after this one planned to create it (possible under
    # PostgreSQL's READ COMMITTED): the insert collides, and the whole file is rolled back.
    from jingzhun.regions import importer

    real_plan_rows = importer.plan_rows

    def plan_then_collide(rows, **kwargs):
        plan, errors = real_plan_rows(rows, **kwargs)
        Region.objects.create(code="440000000000", name="广东省")
        return plan, errors

    monkeypatch.setattr(importer, "plan_rows", plan_then_collide)
    before = counts()
    result = import_regions(csv_bytes(GUANGDONG), "gd.csv")
    assert [e.line for e in result.errors] == [None]
    assert "未写入任何数据" in result.errors[0].message
    assert counts() == before
