"""manage.py import_regions: counts on success; every faulty line and a non-zero exit on errors."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jingzhun.audit.models import AuditEntry
from jingzhun.regions.models import Region

GOOD = "统计用区划代码,名称\n44,广东省\n4401,广州市\n440103,荔湾区\n440103001,沙面街道\n"
BAD = "代码,名称\n44,广东省\n44A1,坏代码\n4401,广州市\n4401,重复\n440199001,孤儿\n440103,\n"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_regions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_command_imports_and_prints_counts(tree, tmp_path):
    path = tmp_path / "gd.csv"
    path.write_text(GOOD, encoding="gbk")
    before = AuditEntry.objects.count()
    out, _err = run(str(path))
    assert "新增 4，更新 0，未变 0" in out
    assert Region.objects.unscoped().filter(code__startswith="44").count() == 4
    entries = AuditEntry.objects.order_by("id")[before:]
    # One command run is one correlated set in the audit log.
    assert len({e.request_id for e in entries}) == 1
    assert {e.source for e in entries} == {"command"}
    assert {e.reason for e in entries} == {"导入行政区划：gd.csv"}
    assert {e.actor_id for e in entries} == {None}

    out, _err = run(str(path))
    assert "新增 0，更新 0，未变 4" in out


@pytest.mark.django_db
def test_command_reason_option(tree, tmp_path):
    path = tmp_path / "gd.csv"
    path.write_text(GOOD, encoding="utf-8")
    before = AuditEntry.objects.count()
    run(str(path), "--reason", "2023年统计用区划代码")
    assert set(AuditEntry.objects.order_by("id")[before:].values_list("reason", flat=True)) == {"2023年统计用区划代码"}


@pytest.mark.django_db
def test_command_dry_run_writes_nothing(tree, tmp_path):
    path = tmp_path / "gd.csv"
    path.write_text(GOOD, encoding="utf-8")
    before = (Region.objects.unscoped().count(), AuditEntry.objects.count())
    out, _err = run(str(path), "--dry-run")
    assert "试导入" in out and "新增 4" in out
    assert (Region.objects.unscoped().count(), AuditEntry.objects.count()) == before


@pytest.mark.django_db
def test_command_errors_print_each_line_exit_nonzero_and_write_nothing(tree, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    before = (Region.objects.unscoped().count(), AuditEntry.objects.count())
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_regions", str(path), stdout=io.StringIO(), stderr=err)
    assert "4 处错误" in str(exc.value) and "未写入" in str(exc.value)
    lines = err.getvalue().splitlines()
    assert [line.split("：")[0] for line in lines] == ["第 3 行", "第 5 行", "第 6 行", "第 7 行"]
    assert (Region.objects.unscoped().count(), AuditEntry.objects.count()) == before


@pytest.mark.django_db
def test_command_missing_file(tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        run(str(tmp_path / "nope.csv"))


def test_command_exit_status_is_nonzero(tmp_path):
    # Through manage.py's entry point, a CommandError becomes exit status 1.
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["manage.py", "import_regions", str(tmp_path / "nope.csv")])
    with pytest.raises(SystemExit) as exc:
        utility.execute()
    assert exc.value.code == 1
