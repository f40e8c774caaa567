"""Migration 0005 on an installation that already holds one person active in several households: it does
not fail, changes no data, marks the later rows, adds the constraint, and tells the administrator."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from jingzhun.regions.testing import build_region_tree
from jingzhun.registry.idcard import make_id_number
from jingzhun.registry.models import Household, Member
from jingzhun.registry.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("registry", "0004_scoped_managers")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_duplicates_are_held_and_reported(capsys):
    tree = build_region_tree()
    old = migrate([BEFORE])
    OldHousehold, OldMember = old.get_model("registry", "Household"), old.get_model("registry", "Member")
    person = make_id_number("431102", dt.date(1970, 5, 17), 11, "1")
    lone = make_id_number("431102", dt.date(1980, 1, 2), 13, "1")
    rows: dict[str, Any] = {}
    for n, (label, id_number, status) in enumerate(
        [
            ("first", person, "active"),
            ("full-width", person.translate(FULL_WIDTH), "active"),
            ("certificate", person + "42", "active"),
            ("left", person, "removed"),
            ("lone", lone.translate(FULL_WIDTH), "active"),
        ]
    ):
        household = OldHousehold.unscoped_objects.create(
            household_number=f"{tree.village_a1}{n:04d}", village_id=tree.village_a1, identification_standard="1"
        )
        rows[label] = OldMember.unscoped_objects.create(
            household=household,
            village_code=tree.village_a1,
            member_number=f"{household.household_number}01",
            name=label,
            sex="1",
            relationship="01",
            id_number=id_number,
            status=status,
        )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    printed = capsys.readouterr().out
    assert "发现 1 人同时在多个户中在册，其中 2 条在册记录已标记" in printed
    assert "有 2 个在册证件号码的写法不规范" in printed and "manage.py check_id_numbers" in printed
    stored = {m.name: m for m in Member.objects.unscoped().all()}
    assert {name: m.held_duplicate for name, m in stored.items()} == {
        "first": False,
        "full-width": True,
        "certificate": True,
        "left": False,
        "lone": False,
    }
    assert stored["full-width"].id_number == person.translate(FULL_WIDTH)  # no data changed
    # From now on the database refuses another active row of the person, whatever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(household=Household.objects.unscoped().get(pk=rows["left"].household_id), id_number=person)

    out = io.StringIO()
    call_command("check_id_numbers", stdout=out)
    report = out.getvalue()
    assert "同一人在多个户中同时在册：1 人" in report and "约束建立前已重复在册" in report
    assert "写法不规范的证件号码：2 个" in report
