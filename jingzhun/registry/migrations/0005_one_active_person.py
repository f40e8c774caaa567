# One person, one active membership: the database refuses a second active row of the same person (the
# first 18 characters of the normalised ID number), whatever writes it.
#
# An installation may already hold such rows (an ID typed with full-width digits beside the same ID in
# ASCII, or an 18-digit ID beside the 残疾人证号 built on it). Which household is right is a person's
# decision, so this migration changes no data: it marks every row after the first of each person as
# held_duplicate (outside the constraint), creates the constraint, and says what it found. The rows stay
# listed by `manage.py check_id_numbers` (which can be run before migrating too) until they are resolved.

from collections import defaultdict

import django.db.models.functions.text
from django.db import migrations, models

from jingzhun.registry.idcard import normalize_identifier, person_key

CHUNK = 500


def hold_existing_duplicates(apps, schema_editor):
    Member = apps.get_model("registry", "Member")
    members = Member._default_manager.using(schema_editor.connection.alias)
    by_person = defaultdict(list)
    not_normalised = 0
    rows = members.filter(status="active").order_by("pk").values_list("pk", "id_number")
    for pk, id_number in rows.iterator(chunk_size=2000):
        normalised = normalize_identifier(id_number)
        not_normalised += normalised != id_number
        by_person[person_key(normalised)].append(pk)
    held = [pk for pks in by_person.values() for pk in pks[1:]]
    for start in range(0, len(held), CHUNK):
        members.filter(pk__in=held[start : start + CHUNK]).update(held_duplicate=True)
    people = sum(1 for pks in by_person.values() if len(pks) > 1)
    if held:
        print(
            f"\n  registry 0005：发现 {people} 人同时在多个户中在册，其中 {len(held)} 条在册记录已标记为"
            "“约束建立前已重复在册”（数据未改动）。\n"
            "  请运行 manage.py check_id_numbers 查看明细，由县级管理员核实后减少或迁移多余的在册记录。"
        )
    if not_normalised:
        print(
            f"\n  registry 0005：有 {not_normalised} 个在册证件号码的写法不规范（全角或其他文字的数字、小写 x、"
            "空格）。请运行 manage.py check_id_numbers 查看，并用 --normalise 统一写法。"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_scoped_managers"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="held_duplicate",
            field=models.BooleanField(default=False, editable=False, verbose_name="约束建立前已重复在册"),
        ),
        migrations.RunPython(hold_existing_duplicates, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(
            model_name="member",
            name="member_one_active_household",
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Substr("id_number", 1, 18),
                condition=models.Q(("held_duplicate", False), ("status", "active")),
                name="member_one_active_person",
                violation_error_message="该证件号码已在其他户中在册，同一人只能在一个户中",
            ),
        ),
    ]
