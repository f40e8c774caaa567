"""行政区划: the region tree keyed by statistical codes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from jingzhun.audit.models import AuditedModel
from jingzhun.core import codes
from jingzhun.core.scope import ScopedManager, ScopedQuerySet

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class RegionLevel(models.IntegerChoices):
    PROVINCE = codes.Level.PROVINCE, _("省")
    CITY = codes.Level.CITY, _("市")
    COUNTY = codes.Level.COUNTY, _("县")
    TOWNSHIP = codes.Level.TOWNSHIP, _("乡")
    VILLAGE = codes.Level.VILLAGE, _("村")
    GROUP = codes.Level.GROUP, _("组")


class UrbanRuralCode(models.TextChoices):
    """城乡分类代码 of the statistical division table."""

    MAIN_URBAN = "111", _("主城区")
    URBAN_FRINGE = "112", _("城乡结合区")
    TOWN_CENTRE = "121", _("镇中心区")
    TOWN_FRINGE = "122", _("镇乡结合区")
    SPECIAL = "123", _("特殊区域")
    TOWNSHIP_CENTRE = "210", _("乡中心区")
    VILLAGE = "220", _("村庄")


def not_retired_q(on: dt.date | None = None, prefix: str = "") -> models.Q:
    """Regions not yet retired on a date (``prefix`` reaches through a relation, e.g. 'children__')."""
    on = on or dt.date.today()
    return models.Q(**{f"{prefix}valid_to__isnull": True}) | models.Q(**{f"{prefix}valid_to__gt": on})


class RegionQuerySet(ScopedQuerySet["Region"]):
    def not_retired(self, on: dt.date | None = None) -> RegionQuerySet:
        """Regions without a past 停用日期 (includes codes whose 启用日期 is still ahead)."""
        return self.filter(not_retired_q(on))

    def current(self, on: dt.date | None = None) -> RegionQuerySet:
        """Regions in force on a date (retired codes stay in the table with their history)."""
        on = on or dt.date.today()
        return self.filter(
            models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=on),
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=on),
        )

    def subtree(self, region: Region | str, include_self: bool = True) -> RegionQuerySet:
        code = region.code if isinstance(region, Region) else region
        qs = self.in_region(codes.prefix_of(code))
        return qs if include_self else qs.exclude(code=code)


class Region(AuditedModel):
    scope_field = "code"

    code = models.CharField(_("区划代码"), max_length=15, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_constraint=True,
    )
    urban_rural_code = models.CharField(_("城乡分类代码"), max_length=3, choices=UrbanRuralCode.choices, blank=True)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True, help_text=_("撤销或调整后的代码保留历史"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(RegionQuerySet)()
    unscoped_objects = models.Manager.from_queryset(RegionQuerySet)()

    audit_exclude = ("created_at", "updated_at")

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="region_parent_code")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.code = codes.normalize_code(self.code)
        except codes.CodeError as exc:
            raise ValidationError({"code": str(exc)}) from exc

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Level and parent are facts of the code, never typed.
        self.code = codes.normalize_code(self.code)
        self.level = codes.level_of(self.code)
        self.parent_id = codes.parent_code(self.code)
        super().save(*args, **kwargs)

    @property
    def prefix(self) -> str:
        return codes.prefix_of(self.code)

    @property
    def is_retired(self) -> bool:
        return self.valid_to is not None and self.valid_to <= dt.date.today()

    @property
    def is_pending(self) -> bool:
        """A code announced with a 启用日期 still ahead."""
        return self.valid_from is not None and self.valid_from > dt.date.today()

    def ancestors(self, include_self: bool = False) -> list[Region]:
        chain = codes.ancestor_codes(self.code)
        if not include_self:
            chain = chain[:-1]
        # The names above a region are no secret: every page trail and address shows them.
        found = {r.code: r for r in Region.objects.unscoped().filter(code__in=chain)}
        return [found[c] for c in chain if c in found]

    def breadcrumb(self, user: Any) -> list[Region]:
        """The region's chain from the top of ``user``'s scope down to it (itself last): the page trail."""
        prefix = user.scope_prefix or ""
        return [r for r in self.ancestors(include_self=True) if r.code.startswith(prefix)]

    def full_name(self) -> str:
        return full_name_of(self.code)

    def flag_values(self, year: int) -> dict[str, bool]:
        """Each flag's value in force in ``year`` (the latest change at or before that year)."""
        values: dict[str, bool] = {}
        for flag in self.flags.filter(year__lte=year).order_by("flag", "year"):
            values[flag.flag] = flag.value
        return values


def full_name_of(code: str) -> str:
    """The names down the chain to ``code``, province first (湖南省永州市零陵区), in one query."""
    chain = codes.ancestor_codes(code)
    names = dict(Region.objects.unscoped().filter(code__in=chain).values_list("code", "name"))  # as ancestors()
    return "".join(names[c] for c in chain if c in names)


class RegionFlagKind(models.TextChoices):
    POOR_COUNTY = "poor_county", _("贫困县")
    DEEP_POOR_COUNTY = "deep_poor_county", _("深度贫困县")
    POOR_VILLAGE = "poor_village", _("贫困村")
    DEEP_POOR_VILLAGE = "deep_poor_village", _("深度贫困村")
    CONTIGUOUS_AREA = "contiguous_area", _("集中连片特困地区")
    KEY_ASSISTANCE_COUNTY = "key_assistance_county", _("乡村振兴重点帮扶县")
    RELOCATION_SITE = "relocation_site", _("易地扶贫搬迁安置点")


# Which levels each flag describes: a 贫困县 flag on a village is a data error, not a choice.
FLAG_LEVELS: dict[str, frozenset[int]] = {
    RegionFlagKind.POOR_COUNTY: frozenset({RegionLevel.COUNTY}),
    RegionFlagKind.DEEP_POOR_COUNTY: frozenset({RegionLevel.COUNTY}),
    RegionFlagKind.CONTIGUOUS_AREA: frozenset({RegionLevel.COUNTY}),
    RegionFlagKind.KEY_ASSISTANCE_COUNTY: frozenset({RegionLevel.COUNTY}),
    RegionFlagKind.POOR_VILLAGE: frozenset({RegionLevel.VILLAGE}),
    RegionFlagKind.DEEP_POOR_VILLAGE: frozenset({RegionLevel.VILLAGE}),
    # Relocation sites are new communities or settlements inside one: village level or next to it.
    RegionFlagKind.RELOCATION_SITE: frozenset({RegionLevel.TOWNSHIP, RegionLevel.VILLAGE, RegionLevel.GROUP}),
}


def flag_choices_for_level(level: int) -> list[tuple[str, StrOrPromise]]:
    return [(value, label) for value, label in RegionFlagKind.choices if level in FLAG_LEVELS.get(value, ())]


class RegionFlag(AuditedModel):
    """A flag that changes by year: a row says 'from ``year`` on, ``flag`` is ``value``'.

    A poor village registered in 2014 and exited (出列) in 2018 has two rows: (2014, True), (2018, False).
    """

    scope_field = "region_id"

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="flags")
    flag = models.CharField(_("标识"), max_length=32, choices=RegionFlagKind.choices)
    year = models.PositiveSmallIntegerField(_("起始年度"))
    value = models.BooleanField(_("是否"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(ScopedQuerySet)()
    unscoped_objects = models.Manager.from_queryset(ScopedQuerySet)()

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("区划标识")
        verbose_name_plural = _("区划标识")
        ordering = ["region", "flag", "year"]
        constraints = [models.UniqueConstraint(fields=["region", "flag", "year"], name="region_flag_year_unique")]
        indexes = [models.Index(fields=["flag", "year", "region"], name="regionflag_flag_year")]

    def __str__(self) -> str:
        state = "是" if self.value else "否"
        return f"{self.region_id} {self.get_flag_display()} {self.year}起{state}"


def regions_flagged(flag: str, year: int, within: str = "") -> set[str]:
    """Codes whose ``flag`` is true in ``year`` (optionally under the prefix ``within``)."""
    latest: dict[str, bool] = {}
    rows = RegionFlag.objects.in_region(within).filter(flag=flag, year__lte=year)
    for code, value in rows.order_by("region_id", "year").values_list("region_id", "value"):
        latest[code] = value
    return {code for code, value in latest.items() if value}
