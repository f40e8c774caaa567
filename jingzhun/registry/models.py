"""建档立卡 registry: households (户), members (人), yearly records and village records (村情).

Enumerated fields hold codes of the policy code tables (see jingzhun.policy), never free text.
Derived figures (family size, net and per-capita income, village counts) are computed, never typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from jingzhun.audit.models import AuditedModel
from jingzhun.core.scope import ScopedManager, ScopedQuerySet
from jingzhun.policy import services as policy
from jingzhun.registry.idcard import normalize_identifier, person_key

if TYPE_CHECKING:
    from django.db.models.expressions import Combinable
    from django_stubs_ext import StrOrPromise


def money_field(verbose_name: StrOrPromise) -> models.DecimalField[str | float | Decimal | Combinable, Decimal]:
    """An amount in 元: always present, 0 until entered."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, default=Decimal("0"))


def area_field(
    verbose_name: StrOrPromise,
) -> models.DecimalField[str | float | Decimal | Combinable | None, Decimal | None]:
    """An area (亩, ㎡): empty when not surveyed."""
    return models.DecimalField(verbose_name, max_digits=8, decimal_places=2, null=True, blank=True)


HEAD_RELATIONSHIP = "01"


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    CANCELLED = "cancelled", _("已注销")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("在户")
    REMOVED = "removed", _("已减少")


class CodedFields:
    """Fields holding codes of a policy code table (CODE_FIELDS), shown by their labels: on pages
    (``label``) and in the 操作日志 (``audit_value_label``)."""

    def label(self, field: str) -> str:
        return policy.label(CODE_FIELDS[field], getattr(self, field))

    @classmethod
    def audit_value_label(cls, field: str, value: Any) -> str | None:
        table = CODE_FIELDS.get(field)
        return policy.label(table, value) if table and isinstance(value, str) else None


class HouseholdQuerySet(ScopedQuerySet["Household"]):
    def active(self) -> HouseholdQuerySet:
        return self.filter(status=HouseholdStatus.ACTIVE)


class Household(CodedFields, AuditedModel):
    """户: the household collection form (domain §2.2). Yearly figures live in HouseholdYear."""

    scope_field = "village_id"

    household_number = models.CharField(_("户编号"), max_length=20, unique=True)
    # No single-column index: hh_village_number and hh_village_status both start with the village.
    village = models.ForeignKey(
        "regions.Region",
        verbose_name=_("行政村"),
        on_delete=models.PROTECT,
        related_name="households",
        db_index=False,
    )
    group = models.ForeignKey(
        "regions.Region",
        verbose_name=_("村民小组"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_households",
    )
    status = models.CharField(
        _("户状态"), max_length=10, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=60, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=32, blank=True)
    identification_standard = models.CharField(_("识别标准"), max_length=2, blank=True)
    first_identified_year = models.PositiveSmallIntegerField(_("首次识别年度"), null=True, blank=True)
    exit_year = models.PositiveSmallIntegerField(_("脱贫年度"), null=True, blank=True)
    is_military_family = models.BooleanField(_("是否军烈属"), default=False)
    is_only_child = models.BooleanField(_("是否独生子女户"), default=False)
    is_two_daughters = models.BooleanField(_("是否双女户"), default=False)
    is_monitored = models.BooleanField(_("是否监测对象"), default=False)
    monitoring_category = models.CharField(_("监测对象类别"), max_length=2, blank=True)

    # 生产条件
    paddy_land_mu = area_field(_("水田面积（亩）"))
    dry_land_mu = area_field(_("旱地面积（亩）"))
    forest_land_mu = area_field(_("林地面积（亩）"))
    returned_forest_mu = area_field(_("退耕还林（草）面积（亩）"))
    orchard_mu = area_field(_("林果面积（亩）"))
    pasture_mu = area_field(_("牧草地面积（亩）"))
    water_surface_mu = area_field(_("水面面积（亩）"))
    in_mutual_fund = models.BooleanField(_("是否参加扶贫互助资金组织"), default=False)
    in_cooperative = models.BooleanField(_("是否加入农民专业合作社"), default=False)

    # 生活条件
    housing_area_m2 = area_field(_("住房面积（㎡）"))
    housing_structure = models.CharField(_("房屋主要结构"), max_length=2, blank=True)
    housing_built_year = models.PositiveSmallIntegerField(_("建房年份"), null=True, blank=True)
    is_dangerous_house = models.BooleanField(_("是否危房户"), null=True, blank=True)
    dangerous_house_grade = models.CharField(_("危房等级"), max_length=1, blank=True)
    has_electricity = models.BooleanField(_("是否通生活用电"), null=True, blank=True)
    fuel = models.CharField(_("主要燃料类型"), max_length=2, blank=True)
    drinking_water = models.CharField(_("饮水情况"), max_length=2, blank=True)
    has_safe_water = models.BooleanField(_("是否解决安全饮用水"), null=True, blank=True)
    road_type = models.CharField(_("入户路类型"), max_length=2, blank=True)
    distance_to_main_road_km = models.DecimalField(
        _("与村主干路距离（公里）"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    has_sanitary_toilet = models.BooleanField(_("有无卫生厕所"), null=True, blank=True)
    is_relocated = models.BooleanField(_("是否易地扶贫搬迁户"), default=False)
    relocation_year = models.PositiveSmallIntegerField(_("搬迁年度"), null=True, blank=True)

    # 社会保障
    dibao_status = models.CharField(_("享受低保政策情况"), max_length=2, blank=True)
    tekun_status = models.CharField(_("享受特困供养政策情况"), max_length=2, blank=True)
    is_whole_household_no_labour = models.BooleanField(_("是否整户无劳动能力兜底保障户"), default=False)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(HouseholdQuerySet)()
    unscoped_objects = models.Manager.from_queryset(HouseholdQuerySet)()
    audit_exclude = ("created_at", "updated_at")

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["household_number"]
        indexes = [
            models.Index(fields=["village", "household_number"], name="hh_village_number"),
            models.Index(fields=["village", "status", "is_monitored"], name="hh_village_status"),
        ]

    def __str__(self) -> str:
        head = self.head
        return f"{self.household_number} {head.name if head else ''}".strip()

    @property
    def head(self) -> Member | None:
        cached = getattr(self, "_prefetched_objects_cache", {}).get("members")
        if cached is not None:
            return next(
                (m for m in cached if m.relationship == HEAD_RELATIONSHIP and m.status == MemberStatus.ACTIVE), None
            )
        return self.members.filter(relationship=HEAD_RELATIONSHIP, status=MemberStatus.ACTIVE).first()

    @property
    def region_code(self) -> str:
        return self.group_id or self.village_id

    def active_members(self) -> models.QuerySet[Member]:
        return self.members.filter(status=MemberStatus.ACTIVE)

    def size(self) -> int:
        """家庭人口数: always the count of active members."""
        return self.active_members().count()

    def land_total(self) -> Decimal:
        parts = [self.paddy_land_mu, self.dry_land_mu]
        return sum((p or Decimal("0") for p in parts), Decimal("0"))


class MemberQuerySet(ScopedQuerySet["Member"]):
    def active(self) -> MemberQuerySet:
        return self.filter(status=MemberStatus.ACTIVE)

    def heads_of(self, household_ids: list[int]) -> dict[int, tuple[str, str]]:
        """{household id: (户主 name, ID number)} for a batch of households (exports, registers)."""
        rows = self.active().filter(household_id__in=household_ids, relationship=HEAD_RELATIONSHIP)
        return {pk: (name, id_number) for pk, name, id_number in rows.values_list("household_id", "name", "id_number")}

    def sizes_of(self, household_ids: list[int]) -> dict[int, int]:
        """{household id: active members} for a batch of households (absent: none)."""
        rows = self.active().filter(household_id__in=household_ids).values_list("household_id")
        return dict(rows.annotate(n=models.Count("pk")).order_by())


class Member(CodedFields, AuditedModel):
    """人 (domain §2.3). Removed members stay, with the reason and date, so history is kept."""

    scope_field = "village_code"

    member_number = models.CharField(_("人编号"), max_length=24, unique=True)
    # Indexed by member_household_status and member_village_status, which start with these columns.
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="members", db_index=False
    )
    # Copied from the household (kept equal on save) so member lists filter by region without a join.
    village_code = models.CharField(_("村代码"), max_length=12, editable=False)
    status = models.CharField(_("人员状态"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1)
    id_type = models.CharField(_("证件类型"), max_length=1, default="1")
    id_number = models.CharField(_("证件号码"), max_length=22)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    relationship = models.CharField(_("与户主关系"), max_length=2)
    ethnicity = models.CharField(_("民族"), max_length=2, default="01")
    education = models.CharField(_("文化程度"), max_length=2, blank=True)
    school_status = models.CharField(_("在校生状况"), max_length=2, blank=True)
    dropout_reason = models.CharField(_("义务教育阶段未上学原因"), max_length=2, blank=True)
    health = models.CharField(_("健康状况"), max_length=1, default="1")
    disability_category = models.CharField(_("残疾类别"), max_length=1, blank=True)
    disability_grade = models.CharField(_("残疾等级"), max_length=1, blank=True)
    labour = models.CharField(_("劳动技能"), max_length=1, blank=True)
    work_status = models.CharField(_("务工状况"), max_length=1, blank=True)
    work_location = models.CharField(_("务工所在地"), max_length=100, blank=True)
    work_months = models.PositiveSmallIntegerField(_("务工时间（月）"), null=True, blank=True)
    has_serious_illness_insurance = models.BooleanField(_("是否参加大病保险"), null=True, blank=True)
    has_resident_medical_insurance = models.BooleanField(_("是否参加城乡居民基本医疗保险"), null=True, blank=True)
    has_employee_medical_insurance = models.BooleanField(_("是否参加城镇职工基本医疗保险"), null=True, blank=True)
    has_resident_pension = models.BooleanField(_("是否参加城乡居民基本养老保险"), null=True, blank=True)
    has_employee_pension = models.BooleanField(_("是否参加城镇职工基本养老保险"), null=True, blank=True)
    receives_medical_assistance = models.BooleanField(_("是否接受医疗救助"), default=False)
    is_active_military = models.BooleanField(_("是否现役军人"), default=False)
    is_dibao = models.BooleanField(_("是否低保对象"), default=False)
    is_tekun = models.BooleanField(_("是否特困供养对象"), default=False)
    public_welfare_job = models.CharField(_("公益性岗位"), max_length=50, blank=True)
    public_welfare_months = models.PositiveSmallIntegerField(_("公益性岗位（月数）"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # Set only by migration 0005 on the rows that were already a second active membership of the same
    # person when the database began to refuse them, so the constraint could be added; they await a
    # decision (manage.py check_id_numbers lists them). A new row never carries it.
    held_duplicate = models.BooleanField(_("约束建立前已重复在册"), default=False, editable=False)
    addition_reason = models.CharField(_("人员增加原因"), max_length=1, blank=True)
    addition_date = models.DateField(_("增加日期"), null=True, blank=True)
    removal_reason = models.CharField(_("人员减少原因"), max_length=1, blank=True)
    removal_date = models.DateField(_("减少日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(MemberQuerySet)()
    unscoped_objects = models.Manager.from_queryset(MemberQuerySet)()
    audit_exclude = ("created_at", "updated_at")

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household", "relationship", "birth_date"]
        constraints = [
            # One person (the first 18 characters: the ID, also inside a 残疾人证号) is active in at most one
            # household across the whole system, whatever writes the row.
            models.UniqueConstraint(
                Substr("id_number", 1, 18),
                condition=Q(status="active", held_duplicate=False),
                name="member_one_active_person",
                violation_error_message=_("该证件号码已在其他户中在册，同一人只能在一个户中"),
            ),
        ]
        indexes = [
            models.Index(fields=["id_number"], name="member_id_number"),
            models.Index(fields=["household", "status"], name="member_household_status"),
            models.Index(fields=["name"], name="member_name"),
            models.Index(fields=["village_code", "status"], name="member_village_status"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.village_code = self.household.village_id
        self.id_number = normalize_identifier(self.id_number)
        if self.held_duplicate and (self._state.adding or not self._still_duplicate()):
            self.held_duplicate = False
        super().save(*args, **kwargs)

    def _still_duplicate(self) -> bool:
        """Whether this held row is still a second active membership of its person."""
        if self.status != MemberStatus.ACTIVE:
            return False
        others = Member.unscoped_objects.annotate(person=Substr("id_number", 1, 18)).filter(
            person=person_key(self.id_number), status=MemberStatus.ACTIVE
        )
        return others.exclude(pk=self.pk).exists()

    def audit_region_code(self) -> str:
        return self.household.region_code if self.household_id else self.village_code


class HouseholdYear(CodedFields, AuditedModel):
    """户年度信息: the figures of one household for one year, kept so any year stays reproducible."""

    scope_field = "village_code"

    # Indexed by householdyear_unique (household, year) and hhyear_village_year, which start with these.
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="years", db_index=False
    )
    village_code = models.CharField(_("村代码"), max_length=12, editable=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    exit_status = models.CharField(_("脱贫状态"), max_length=1)
    attribute = models.CharField(_("贫困户属性"), max_length=2)
    main_cause = models.CharField(_("主要致贫原因"), max_length=2, blank=True)
    other_cause_1 = models.CharField(_("其他致贫原因一"), max_length=2, blank=True)
    other_cause_2 = models.CharField(_("其他致贫原因二"), max_length=2, blank=True)
    cause_note = models.CharField(_("致贫原因说明"), max_length=200, blank=True)
    wage_income = money_field(_("工资性收入"))
    business_income = money_field(_("生产经营性收入"))
    property_income = money_field(_("财产性收入"))
    transfer_income = money_field(_("转移性收入"))
    claims_income = money_field(_("理赔收入"))
    production_expense = money_field(_("生产经营性支出"))
    compliant_out_of_pocket = money_field(_("合规自付支出"))
    # Derived by the income formula in force for the year (never typed); kept so the year reproduces.
    member_count = models.PositiveSmallIntegerField(_("家庭人口数"), default=0)
    total_income = money_field(_("家庭总收入"))
    net_income = money_field(_("家庭纯收入"))
    per_capita_net_income = money_field(_("家庭年人均纯收入"))
    food_clothing_secure = models.BooleanField(_("不愁吃不愁穿"), null=True, blank=True)
    education_secure = models.BooleanField(_("义务教育有保障"), null=True, blank=True)
    medical_secure = models.BooleanField(_("基本医疗有保障"), null=True, blank=True)
    housing_secure = models.BooleanField(_("住房安全有保障"), null=True, blank=True)
    water_secure = models.BooleanField(_("饮水安全有保障"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(ScopedQuerySet)()
    unscoped_objects = models.Manager.from_queryset(ScopedQuerySet)()
    audit_exclude = ("updated_at",)

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("户年度信息")
        verbose_name_plural = _("户年度信息")
        ordering = ["household", "-year"]
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="householdyear_unique")]
        indexes = [
            models.Index(fields=["village_code", "year", "exit_status"], name="hhyear_village_year"),
            models.Index(fields=["year", "exit_status", "attribute"], name="hhyear_year_status"),
        ]

    def __str__(self) -> str:
        # 户编号, not the database id: this is what the 操作日志 shows for the record.
        return f"{self.household.household_number} {self.year}年"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.village_code = self.household.village_id
        super().save(*args, **kwargs)

    def audit_region_code(self) -> str:
        return self.village_code

    def income_components(self) -> dict[str, Decimal]:
        from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS

        return {k: getattr(self, k) for k, _label in INCOME_ITEMS + DEDUCTION_ITEMS}

    @property
    def two_assurances_three_guarantees(self) -> bool | None:
        flags = [
            self.food_clothing_secure,
            self.education_secure,
            self.medical_secure,
            self.housing_secure,
            self.water_secure,
        ]
        if any(f is None for f in flags):
            return None
        return all(flags)


class ChangeKind(models.TextChoices):
    MEMBER_ADDED = "member_added", _("增加成员")
    MEMBER_REMOVED = "member_removed", _("减少成员")
    MEMBER_MOVED = "member_moved", _("成员户间迁移")
    SPLIT = "split", _("分户")
    MERGE = "merge", _("合户")
    HEAD_CHANGED = "head_changed", _("变更户主")
    CANCELLED = "cancelled", _("注销户")


class HouseholdChange(AuditedModel):
    """户成员变动记录: why a household's composition changed, beside the field-level audit trail."""

    scope_field = "village_code"

    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="changes")
    village_code = models.CharField(_("村代码"), max_length=12, db_index=True, editable=False)
    kind = models.CharField(_("变动类型"), max_length=20, choices=ChangeKind.choices)
    member = models.ForeignKey(
        Member, verbose_name=_("成员"), on_delete=models.PROTECT, null=True, blank=True, related_name="changes"
    )
    other_household = models.ForeignKey(
        Household,
        verbose_name=_("关联户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="related_changes",
    )
    reason = models.CharField(_("原因"), max_length=2, blank=True)
    date = models.DateField(_("变动日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(ScopedQuerySet)()
    unscoped_objects = models.Manager.from_queryset(ScopedQuerySet)()
    audit_exclude = ("created_at",)

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("户成员变动")
        verbose_name_plural = _("户成员变动")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.village_code = self.household.village_id
        super().save(*args, **kwargs)


class VillageYear(AuditedModel):
    """村情: a village's yearly record (贫困村登记表, domain §2.5). Counts derivable from households are
    derived on the page and compared with the typed ones here."""

    scope_field = "village_id"

    village = models.ForeignKey(
        "regions.Region", verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="village_years"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    is_minority_village = models.BooleanField(_("是否少数民族聚居村"), default=False)
    natural_villages = models.PositiveSmallIntegerField(_("自然村数"), null=True, blank=True)
    total_households = models.PositiveIntegerField(_("总户数"), null=True, blank=True)
    total_population = models.PositiveIntegerField(_("总人口数"), null=True, blank=True)
    minority_population = models.PositiveIntegerField(_("少数民族人口"), null=True, blank=True)
    labour_force = models.PositiveIntegerField(_("劳动力人数"), null=True, blank=True)
    migrant_workers = models.PositiveIntegerField(_("外出务工人数"), null=True, blank=True)
    registered_households = models.PositiveIntegerField(_("建档立卡户数（填报）"), null=True, blank=True)
    registered_population = models.PositiveIntegerField(_("建档立卡人数（填报）"), null=True, blank=True)
    dibao_households = models.PositiveIntegerField(_("低保户数（填报）"), null=True, blank=True)
    collective_income_wan = models.DecimalField(
        _("村级集体经济收入（万元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    per_capita_income = models.DecimalField(
        _("农民人均纯收入（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    road_to_township_paved = models.BooleanField(_("到乡镇是否通沥青（水泥）路"), null=True, blank=True)
    has_bus_service = models.BooleanField(_("是否通客运班车"), null=True, blank=True)
    primary_schools = models.PositiveSmallIntegerField(_("村小学（个）"), null=True, blank=True)
    clinics = models.PositiveSmallIntegerField(_("卫生室（个）"), null=True, blank=True)
    doctors = models.PositiveSmallIntegerField(_("执业（助理）医师（人）"), null=True, blank=True)
    public_toilets = models.PositiveSmallIntegerField(_("公共卫生厕所（个）"), null=True, blank=True)
    garbage_points = models.PositiveSmallIntegerField(_("垃圾集中堆放点（个）"), null=True, blank=True)
    libraries = models.PositiveSmallIntegerField(_("文化（图书）室（个）"), null=True, blank=True)
    households_without_safe_water = models.PositiveIntegerField(_("未实现饮水安全户数"), null=True, blank=True)
    dangerous_house_households = models.PositiveIntegerField(_("危房户数"), null=True, blank=True)
    cultivated_land_mu = models.DecimalField(
        _("耕地面积（亩）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    assisting_unit = models.CharField(_("帮扶单位"), max_length=100, blank=True)
    work_team = models.CharField(_("驻村工作队"), max_length=100, blank=True)
    first_secretary = models.CharField(_("第一书记"), max_length=50, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(ScopedQuerySet)()
    unscoped_objects = models.Manager.from_queryset(ScopedQuerySet)()
    audit_exclude = ("updated_at",)

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("村情年度信息")
        verbose_name_plural = _("村情年度信息")
        ordering = ["village", "-year"]
        constraints = [models.UniqueConstraint(fields=["village", "year"], name="villageyear_unique")]

    def __str__(self) -> str:
        return f"{self.village_id} {self.year}年村情"


# Which code table each enumerated field uses.
CODE_FIELDS: dict[str, str] = {
    "identification_standard": "identification_standard",
    "monitoring_category": "monitoring_category",
    "housing_structure": "housing_structure",
    "dangerous_house_grade": "dangerous_house_grade",
    "fuel": "fuel",
    "drinking_water": "drinking_water",
    "road_type": "road_type",
    "dibao_status": "dibao_status",
    "tekun_status": "tekun_status",
    "sex": "sex",
    "id_type": "id_type",
    "relationship": "relationship",
    "ethnicity": "ethnicity",
    "education": "education",
    "school_status": "school_status",
    "dropout_reason": "dropout_reason",
    "health": "health",
    "labour": "labour",
    "work_status": "work_status",
    "addition_reason": "member_addition",
    "removal_reason": "member_removal",
    "exit_status": "exit_status",
    "attribute": "household_attribute",
    "main_cause": "poverty_cause",
    "other_cause_1": "poverty_cause",
    "other_cause_2": "poverty_cause",
}


class QualityLevel(models.TextChoices):
    ERROR = "error", _("错误")
    WARNING = "warning", _("警告")


class QualityIssue(models.Model):
    """A data-quality rule violation found by a batch run (errors block saving in forms; warnings are kept)."""

    # Derived: recomputed from the audited records by every quality run, never entered by a user.
    audit_exempt = "由数据质量规则从已审计的数据重新计算生成"

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="quality_issues"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("成员"), on_delete=models.CASCADE, null=True, blank=True, related_name="quality_issues"
    )
    village_code = models.CharField(_("村代码"), max_length=12)
    rule_code = models.CharField(_("规则编号"), max_length=20)
    level = models.CharField(_("级别"), max_length=10, choices=QualityLevel.choices)
    message = models.CharField(_("问题描述"), max_length=300)
    field = models.CharField(_("字段"), max_length=50, blank=True)
    detected_at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    scope_field = "village_code"
    # Reads choose a scope (core.scope); Django's own reads (related managers, unique checks) use the plain one.
    objects = ScopedManager.from_queryset(ScopedQuerySet)()
    unscoped_objects = models.Manager.from_queryset(ScopedQuerySet)()

    class Meta:
        default_manager_name = "unscoped_objects"
        verbose_name = _("数据质量问题")
        verbose_name_plural = _("数据质量问题")
        ordering = ["village_code", "household", "rule_code"]
        indexes = [
            models.Index(fields=["village_code", "rule_code"], name="quality_village_rule"),
            models.Index(fields=["rule_code", "level"], name="quality_rule_level"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_code} {self.message}"
