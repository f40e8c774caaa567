"""manage.py check_id_numbers [--normalise] [--check]: people active in more than one membership, and ID
numbers not stored in their normalised form (full-width or other-script digits, lower-case x, spaces).

Runs before migration 0005 as well (it then lists what the migration will mark), so an administrator can
resolve duplicates first. ID numbers are shown masked: the household and member numbers find the rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, transaction

from jingzhun.audit.context import audit_context
from jingzhun.registry.idcard import mask_id_number, normalize_identifier, person_key
from jingzhun.registry.models import Member, MemberStatus

NORMALISE_REASON = "统一证件号码写法（manage.py check_id_numbers --normalise）"


@dataclass(frozen=True)
class Row:
    pk: int
    id_number: str
    status: str
    member_number: str
    name: str
    household_number: str
    village_code: str
    held: bool

    def describe(self) -> str:
        held = "，约束建立前已重复在册" if self.held else ""
        return (
            f"户 {self.household_number}（村 {self.village_code}） 人编号 {self.member_number} {self.name}"
            f"（{MemberStatus(self.status).label}{held}）"
        )


@dataclass(frozen=True)
class Findings:
    duplicates: list[list[Row]]  # each: the active rows of one person, two or more
    not_normalised: list[Row]

    @property
    def any(self) -> bool:
        return bool(self.duplicates or self.not_normalised)


def _held_column_exists() -> bool:
    """Whether migration 0005 has added Member.held_duplicate (the command also runs before it)."""
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, Member._meta.db_table)
    return any(c.name == "held_duplicate" for c in columns)


def find_problems() -> Findings:
    """One pass over the member table, a few small tuples per row."""
    held_known = _held_column_exists()
    fields = ["pk", "id_number", "status", "member_number", "name", "household__household_number", "village_code"]
    query = Member.objects.unscoped().order_by("pk").values_list(*fields, *(["held_duplicate"] if held_known else []))
    by_person: dict[str, list[Row]] = defaultdict(list)
    not_normalised: list[Row] = []
    for values in query.iterator(chunk_size=2000):
        pk, id_number, status, member_number, name, household_number, village_code = values[:7]
        held = bool(values[7]) if held_known else False
        row = Row(pk, id_number, status, member_number, name, household_number, village_code, held)
        normalised = normalize_identifier(row.id_number)
        if normalised != row.id_number:
            not_normalised.append(row)
        if row.status == MemberStatus.ACTIVE:
            by_person[person_key(normalised)].append(row)
    return Findings([rows for rows in by_person.values() if len(rows) > 1], not_normalised)


class Command(BaseCommand):
    help = "查找同一人在多个户中同时在册的记录，以及写法不规范（全角数字、小写 x、空格等）的证件号码"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--normalise",
            action="store_true",
            help="将写法不规范的证件号码改为规范写法（记入操作日志）；会与他人冲突的不改，列出待处理",
        )
        parser.add_argument("--check", action="store_true", help="发现问题时以非零状态退出（供脚本使用）")

    def handle(self, *args: Any, **options: Any) -> None:
        findings = find_problems()
        if options["normalise"] and findings.not_normalised:
            if not _held_column_exists():
                raise CommandError("请先运行 manage.py migrate，再统一证件号码写法")
            self._normalise(findings.not_normalised)
            findings = find_problems()
        self._report(findings)
        if options["check"] and findings.any:
            raise CommandError("发现需要处理的证件号码问题", returncode=1)

    def _report(self, findings: Findings) -> None:
        self.stdout.write(f"同一人在多个户中同时在册：{len(findings.duplicates)} 人")
        for rows in findings.duplicates:
            self.stdout.write(f"  证件号码 {mask_id_number(person_key(normalize_identifier(rows[0].id_number)))}：")
            for row in rows:
                self.stdout.write(f"    {row.describe()}")
        self.stdout.write(f"写法不规范的证件号码：{len(findings.not_normalised)} 个")
        for row in findings.not_normalised:
            self.stdout.write(f"  {mask_id_number(normalize_identifier(row.id_number))}  {row.describe()}")
        if findings.duplicates:
            self.stdout.write("同一人多处在册的，请由县级管理员核实后在系统中减少或迁移多余的在册记录。")

    def _normalise(self, rows: list[Row]) -> None:
        with audit_context(None, source="command", reason=NORMALISE_REASON):
            for row in rows:
                member = Member.objects.unscoped().select_related("household").get(pk=row.pk)
                try:
                    with transaction.atomic():
                        member.save()  # Member.save stores the normalised form, audited
                except IntegrityError:
                    self.stderr.write(f"未改（规范后与他人在册记录冲突，请先处理重复）：{row.describe()}")
                else:
                    self.stdout.write(f"已统一写法：{row.describe()}")
