"""Install or re-synchronise the shipped policy defaults (used by the data migration and a command)."""

from __future__ import annotations

from typing import Any

from jingzhun.policy.defaults import CODE_TABLES, POVERTY_LINES


def load_defaults(apps: Any = None) -> dict[str, int]:
    """Create missing tables, items and lines; never overwrite what an administrator edited."""
    if apps is None:
        from django.apps import apps as django_apps

        apps = django_apps
    CodeTable = apps.get_model("policy", "CodeTable")
    CodeItem = apps.get_model("policy", "CodeItem")
    PovertyLine = apps.get_model("policy", "PovertyLine")
    IncomeFormula = apps.get_model("policy", "IncomeFormula")
    counts = {"tables": 0, "items": 0, "lines": 0, "formulas": 0}
    for key, (name, items) in CODE_TABLES.items():
        table, created = CodeTable.objects.get_or_create(key=key, defaults={"name": name})
        counts["tables"] += created
        existing = set(CodeItem.objects.filter(table=table).values_list("code", flat=True))
        for order, item in enumerate(items):
            code, label = item[0], item[1]
            valid_from, valid_to = (item[2], item[3]) if len(item) > 2 else (None, None)
            if code in existing:
                continue
            CodeItem.objects.create(
                table=table, code=code, label=label, sort_order=order, valid_from=valid_from, valid_to=valid_to
            )
            counts["items"] += 1
    for kind, year, amount in POVERTY_LINES:
        _line, created = PovertyLine.objects.get_or_create(
            kind=kind, year=year, region_prefix="", defaults={"amount": amount, "source": "系统默认值（domain §4.1）"}
        )
        counts["lines"] += created
    _formula, created = IncomeFormula.objects.get_or_create(
        year_from=2013, region_prefix="", defaults={"note": "家庭纯收入 = 四项收入 − 生产经营性支出（全国口径）"}
    )
    counts["formulas"] += created
    return counts
