"""家庭纯收入 and 年人均纯收入 (domain §4.2): a pure function over components and a configurable formula."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

StrOrPromise = str | Promise

# Labels are lazy so pages show them in the reader's language.
INCOME_ITEMS: tuple[tuple[str, StrOrPromise], ...] = (
    ("wage_income", _("工资性收入")),
    ("business_income", _("生产经营性收入")),
    ("property_income", _("财产性收入")),
    ("transfer_income", _("转移性收入")),
    ("claims_income", _("理赔收入")),
)
DEDUCTION_ITEMS: tuple[tuple[str, StrOrPromise], ...] = (
    ("production_expense", _("生产经营性支出")),
    ("compliant_out_of_pocket", _("合规自付支出")),
)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IncomeFormulaSpec:
    """Which items count. The national default: four income kinds minus production expense.

    Monitoring-era 风险测算收入 adds 理赔收入 and deducts 合规自付支出; some places divide by resident
    (常住) rather than registered members.
    """

    included_income: frozenset[str] = frozenset(
        {"wage_income", "business_income", "property_income", "transfer_income"}
    )
    included_deductions: frozenset[str] = frozenset({"production_expense"})
    divide_by_resident: bool = False


@dataclass(frozen=True)
class IncomeResult:
    total_income: Decimal
    net_income: Decimal
    per_capita_net_income: Decimal


def _money(value: object) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    return Decimal(str(value))


def compute_income(
    components: Mapping[str, object], members: int, spec: IncomeFormulaSpec | None = None
) -> IncomeResult:
    """家庭纯收入 = Σ included income − Σ included deductions; 人均 = 纯收入 / 人口 (0 people → 0)."""
    spec = spec or IncomeFormulaSpec()
    total = sum((_money(components.get(k)) for k, _ in INCOME_ITEMS if k in spec.included_income), Decimal("0"))
    deductions = sum(
        (_money(components.get(k)) for k, _ in DEDUCTION_ITEMS if k in spec.included_deductions), Decimal("0")
    )
    net = (total - deductions).quantize(CENT, ROUND_HALF_UP)
    per_capita = (net / members).quantize(CENT, ROUND_HALF_UP) if members > 0 else Decimal("0.00")
    return IncomeResult(total.quantize(CENT, ROUND_HALF_UP), net, per_capita)
