"""Policy data: versioned code tables (代码表), poverty lines and the income formula. Edited by administrators."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jingzhun.audit.models import AuditedModel
from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS, IncomeFormulaSpec


class CodeTable(AuditedModel):
    key = models.SlugField(_("代码表标识"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("代码表")
        verbose_name_plural = _("代码表")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class CodeItem(AuditedModel):
    """One value of an enumeration, valid from/to a year (labels and lists changed over the years)."""

    table = models.ForeignKey(CodeTable, verbose_name=_("代码表"), on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("代码"), max_length=10)
    label = models.CharField(_("名称"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    valid_from = models.PositiveSmallIntegerField(_("起始年度"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("截止年度"), null=True, blank=True)

    class Meta:
        verbose_name = _("代码项")
        verbose_name_plural = _("代码项")
        ordering = ["table", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["table", "code"], name="codeitem_table_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class PovertyLineKind(models.TextChoices):
    STATISTICAL = "statistical", _("统计监测标准")
    EXIT_ACCEPTANCE = "exit_acceptance", _("脱贫验收收入标准")
    MONITORING = "monitoring", _("防返贫监测范围")


class PovertyLine(AuditedModel):
    """An annual income line in 元/人·年; region_prefix '' = national, else a province/city/county prefix."""

    scope_field = "region_prefix"

    kind = models.CharField(_("标准类型"), max_length=20, choices=PovertyLineKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    region_prefix = models.CharField(_("适用区划代码前缀"), max_length=12, blank=True, help_text=_("留空表示全国"))
    amount = models.DecimalField(_("标准（元/人·年）"), max_digits=10, decimal_places=2)
    source = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("收入标准")
        verbose_name_plural = _("收入标准")
        ordering = ["kind", "year", "region_prefix"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "region_prefix"], name="povertyline_kind_year_region")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year} {self.amount}"


class IncomeFormula(AuditedModel):
    """Which income items count in 家庭纯收入, from ``year_from`` on, for a region prefix ('' = everywhere)."""

    scope_field = "region_prefix"

    year_from = models.PositiveSmallIntegerField(_("起始年度"))
    region_prefix = models.CharField(_("适用区划代码前缀"), max_length=12, blank=True)
    include_wage_income = models.BooleanField(_("计入工资性收入"), default=True)
    include_business_income = models.BooleanField(_("计入生产经营性收入"), default=True)
    include_property_income = models.BooleanField(_("计入财产性收入"), default=True)
    include_transfer_income = models.BooleanField(_("计入转移性收入"), default=True)
    include_claims_income = models.BooleanField(_("计入理赔收入"), default=False)
    deduct_production_expense = models.BooleanField(_("扣除生产经营性支出"), default=True)
    deduct_compliant_out_of_pocket = models.BooleanField(_("扣除合规自付支出"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("收入计算口径")
        verbose_name_plural = _("收入计算口径")
        ordering = ["region_prefix", "year_from"]
        constraints = [models.UniqueConstraint(fields=["year_from", "region_prefix"], name="incomeformula_year_region")]

    def __str__(self) -> str:
        return f"{self.region_prefix or '全国'} {self.year_from}年起"

    def spec(self) -> IncomeFormulaSpec:
        return IncomeFormulaSpec(
            included_income=frozenset(k for k, _label in INCOME_ITEMS if getattr(self, f"include_{k}")),
            included_deductions=frozenset(k for k, _label in DEDUCTION_ITEMS if getattr(self, f"deduct_{k}")),
        )
