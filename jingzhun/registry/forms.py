"""Forms of the household pages: 户 / 人 / 年度 records and the composition changes (增减人、迁移、分户、合户).

Enumerated fields are selects over the code tables valid in the record's year. Contradictions inside the
submitted data (ID vs sex and birth date, 在校生状况 vs 文化程度 or age …) are found by the data-quality
rules themselves (jingzhun.registry.quality), so a form and the 问题台账 never disagree, and reported with
the rule's text on the field concerned; the whole catalogue runs afterwards in the data-quality gate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, MutableMapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jingzhun.core.codes import Level
from jingzhun.core.formfields import choice_field
from jingzhun.policy import services as policy
from jingzhun.policy.income import DEDUCTION_ITEMS, INCOME_ITEMS
from jingzhun.regions.models import Region
from jingzhun.registry import services
from jingzhun.registry.filters import FIRST_YEAR
from jingzhun.registry.idcard import (
    DISABILITY_CATEGORIES,
    IdNumberError,
    age_on,
    normalize_identifier,
    parse_id_number,
)
from jingzhun.registry.models import (
    CODE_FIELDS,
    HEAD_RELATIONSHIP,
    Household,
    HouseholdStatus,
    HouseholdYear,
    Member,
    MemberStatus,
)
from jingzhun.registry.quality.catalogue import member_problems
from jingzhun.registry.quality.codes import ID_TYPE_OTHER, REGISTERED, SEX_CODES
from jingzhun.registry.quality.facts import HouseholdFacts, MemberFacts, YearFacts
from jingzhun.registry.quality.rule import Problem
from jingzhun.registry.quality.rules import attributes, employment, identity, income, land, yearly
from jingzhun.registry.versions import VersionedForm

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Headings and the fields under each, in page order.
Sections = tuple[tuple["StrOrPromise", tuple[str, ...]], ...]

MOBILE = employment.PHONE_RE  # what the rules take for a mobile number
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")

# Reasons a cadre may choose on the add / remove pages; 户内迁入/户间迁出 and 分户 come from the move,
# split and merge pages, 建档立卡 from registering a new household.
ADDITION_REASONS = ("2", "3", "9")  # 新生, 婚入, 其他迁入
REMOVAL_REASONS = ("1", "2", "9")  # 死亡, 婚出, 其他迁出
REGISTRATION_REASON = REGISTERED  # 人员增加原因 建档立卡

# Years beyond a grade's usual ages before 在校生状况 contradicts the age: only a clear contradiction blocks
# a form; a child held back a year or two is a plausibility warning of the data-quality rules.
SCHOOL_AGE_TOLERANCE = 3


def today() -> dt.date:
    return dt.date.today()


def date_input() -> forms.DateInput:
    # <input type="date"> only accepts ISO dates; the zh-hans display format (2026/11/24) would be dropped.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CodeFieldsMixin:
    """Turn the code columns of a ModelForm into selects over the code tables valid in ``code_year``."""

    required_codes: tuple[str, ...] = ()
    fields: dict[str, forms.Field]
    instance: Any
    initial: MutableMapping[str, Any]

    def setup_code_fields(self, year: int) -> None:
        for name, field in list(self.fields.items()):
            table = CODE_FIELDS.get(name)
            if table is None or not isinstance(field, forms.CharField | forms.ChoiceField):
                continue
            choices = policy.choices(table, year)
            current = self.initial.get(name) or getattr(self.instance, name, "")
            if current and current not in dict(choices):
                # A code retired since: keep it visible so an unrelated edit does not silently drop it.
                choices.append(
                    (
                        current,
                        _("%(label)s（%(year)s年已停用）") % {"label": policy.label(table, current), "year": year},
                    )
                )
            self.fields[name] = forms.ChoiceField(
                label=field.label,
                choices=choices,
                required=name in self.required_codes,
                help_text=field.help_text,
                disabled=field.disabled,
                initial=field.initial,  # the model default (居民身份证, 汉族, 健康) for a new record
            )


def add_problems(form: forms.BaseForm, problems: Iterable[Problem]) -> None:
    """What data-quality checks found, each on its field (the rules name the model's fields)."""
    for field, text in problems:
        form.add_error(field, text)


def validate_phone(value: str) -> None:
    value = value.strip()
    if value and not (MOBILE.match(value) or LANDLINE.match(value)):
        raise ValidationError(_("联系电话格式不正确：手机号为 1 开头的 11 位数字，固定电话如 0746-1234567"))


def clean_household_number(value: str | None) -> str:
    """A typed 户编号 (blank = generate one): 12–20 digits."""
    number = normalize_identifier(value)
    if number and (not (number.isascii() and number.isdigit()) or not 12 <= len(number) <= 20):
        raise ValidationError(_("户编号应为 12–20 位数字"))
    return number


def number_in_village(number: str, village_code: str) -> str | None:
    """Why a typed 户编号 cannot be a new household's number in the village (None: it can): it must be
    the village's code and a sequence, so it is inside the user's scope, and the village's automatic
    numbering (NumberAllocator) only ever continues from its own numbers."""
    if number.startswith(village_code) and len(number) > len(village_code):
        return None
    return _("户编号应为本村代码（%(code)s）加顺序号") % {"code": village_code}


class SectionsMixin:
    """Fields grouped under headings (``sections``) for the templates; fields not listed go last."""

    sections: Sections = ()

    def section_fields(self) -> list[tuple[StrOrPromise, list[forms.BoundField]]]:
        listed: set[str] = set()
        out: list[tuple[StrOrPromise, list[forms.BoundField]]] = []
        for title, names in self.sections:
            present = [self[n] for n in names if n in self.fields]  # type: ignore[index,attr-defined]
            listed.update(names)
            if present:
                out.append((title, present))
        # Hidden fields (the opened version) are rendered on their own, outside any heading.
        rest = [self[n] for n in self.fields if n not in listed and not self[n].is_hidden]  # type: ignore[index,attr-defined]
        if rest:
            out.append((_("其他"), rest))
        return out


class ReasonMixin(forms.Form):
    audit_note = forms.CharField(
        label=_("修改原因"),
        required=False,
        max_length=200,
        help_text=_("记入操作日志，例如“入户核实更正”"),
    )


# ---------------------------------------------------------------------------------------------- 户


HOUSEHOLD_SECTIONS: Sections = (
    (
        _("基本信息"),
        (
            "household_number",
            "village",
            "group",
            "address",
            "phone",
            "bank_name",
            "bank_account",
            "identification_standard",
            "first_identified_year",
            "exit_year",
            "is_monitored",
            "monitoring_category",
            "is_military_family",
            "is_only_child",
            "is_two_daughters",
        ),
    ),
    (
        _("生产条件"),
        (
            "paddy_land_mu",
            "dry_land_mu",
            "forest_land_mu",
            "returned_forest_mu",
            "orchard_mu",
            "pasture_mu",
            "water_surface_mu",
            "in_mutual_fund",
            "in_cooperative",
        ),
    ),
    (
        _("生活条件"),
        (
            "housing_area_m2",
            "housing_structure",
            "housing_built_year",
            "is_dangerous_house",
            "dangerous_house_grade",
            "has_electricity",
            "fuel",
            "drinking_water",
            "has_safe_water",
            "road_type",
            "distance_to_main_road_km",
            "has_sanitary_toilet",
            "is_relocated",
            "relocation_year",
        ),
    ),
    (_("社会保障"), ("dibao_status", "tekun_status", "is_whole_household_no_labour")),
    (_("修改说明"), ("audit_note",)),
)


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.parent.name if obj.parent else ''} {obj.name}".strip()


class HouseholdForm(SectionsMixin, CodeFieldsMixin, ReasonMixin, VersionedForm, forms.ModelForm):
    """户的基本信息、生产生活条件与社会保障 (domain §2.2). Yearly figures are on the year form."""

    required_codes = ("identification_standard",)
    sections = HOUSEHOLD_SECTIONS

    class Meta:
        model = Household
        fields = [name for _title, names in HOUSEHOLD_SECTIONS for name in names if name != "audit_note"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        villages = Region.objects.visible_to(user).current().filter(level=Level.VILLAGE).select_related("parent")
        self.fields["village"] = VillageChoiceField(
            queryset=villages, label=_("行政村"), disabled=editing, empty_label=_("请选择行政村")
        )
        village_code = self.data.get(self.add_prefix("village")) or self.initial.get("village")
        village_code = village_code or self.instance.village_id
        if village_code is None and len(user.scope_region_id or "") == 12:
            village_code = user.scope_region_id
            self.initial["village"] = village_code
        if editing:
            village_code = self.instance.village_id
        groups = Region.objects.none()
        if village_code:
            groups = Region.objects.visible_to(user).filter(level=Level.GROUP, parent_id=str(village_code))
        group = self.fields["group"]
        assert isinstance(group, forms.ModelChoiceField)  # the model's foreign key
        group.queryset = groups.order_by("code")
        group.empty_label = _("（不分组）")
        self.fields["household_number"].required = False
        self.fields["household_number"].help_text = _("留空则按“村代码 + 4 位顺序号”自动生成")
        if editing:
            self.fields["household_number"].disabled = True
            self.fields["household_number"].help_text = ""
            self.fields["village"].help_text = _("户所属的村不能直接修改")
        else:
            del self.fields["audit_note"]
        self.fields["phone"].validators.append(validate_phone)
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        for name in ("first_identified_year", "exit_year", "housing_built_year", "relocation_year"):
            self.fields[name].widget.attrs.update({"min": "1949", "max": str(today().year)})
        for name, field in self.fields.items():
            if isinstance(field, forms.DecimalField):  # a negative value is refused in clean() (rule JZ_601)
                field.widget.attrs.update({"min": "0", "inputmode": "decimal"})
            if name.endswith("_mu"):
                field.widget.attrs["step"] = "0.01"
        self.setup_code_fields(today().year)

    def clean_household_number(self) -> str:
        return clean_household_number(self.cleaned_data.get("household_number"))

    def clean_bank_account(self) -> str:
        account = re.sub(r"[\s-]", "", self.cleaned_data.get("bank_account") or "")
        if account and not (account.isdigit() and 8 <= len(account) <= 30):
            raise ValidationError(_("银行账号应为 8–30 位数字"))
        return account

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        village, group = data.get("village"), data.get("group")
        if village is not None and group is not None and group.parent_id != village.code:
            self.add_error("group", _("村民小组不属于所选行政村"))
        number: str = self.cleaned_data.get("household_number") or ""
        chosen: Region | None = self.cleaned_data.get("village")
        if (
            number
            and chosen is not None
            and not self.instance.pk
            and (problem := number_in_village(number, chosen.code))
        ):
            self.add_error("household_number", problem)
        this_year = today().year
        first, exit_year = data.get("first_identified_year"), data.get("exit_year")
        for name in ("first_identified_year", "exit_year"):
            value = data.get(name)
            if value is not None and not FIRST_YEAR <= value <= this_year:
                self.add_error(name, _("年度应在 %(a)s–%(b)s 之间") % {"a": FIRST_YEAR, "b": this_year})
        if first and exit_year and exit_year < first:
            self.add_error("exit_year", _("脱贫年度（%(e)s）早于首次识别年度（%(f)s）") % {"e": exit_year, "f": first})
        for name in ("housing_built_year", "relocation_year"):
            value = data.get(name)
            if value is not None and value > this_year:
                self.add_error(name, _("年份不能晚于今年"))
        if data.get("is_monitored") and not data.get("monitoring_category"):
            self.add_error("monitoring_category", _("监测对象须选择监测对象类别"))
        if not data.get("is_monitored") and data.get("monitoring_category"):
            self.add_error("monitoring_category", _("不是监测对象时不应填写监测对象类别"))
        household = HouseholdFacts.from_data(data)
        add_problems(self, land.negative_areas(household))
        self._clean_housing(data, household)
        if data.get("is_relocated") and not data.get("relocation_year"):
            self.add_error("relocation_year", _("易地扶贫搬迁户须填写搬迁年度"))
        if not data.get("is_relocated") and data.get("relocation_year"):
            self.add_error("relocation_year", _("不是易地扶贫搬迁户时不应填写搬迁年度"))
        return data

    def _clean_housing(self, data: dict[str, Any], household: HouseholdFacts) -> None:
        add_problems(self, land.dangerous_house_grade_missing(household))
        add_problems(self, land.dangerous_house_contradictions(household))
        area_m2 = data.get("housing_area_m2")
        if area_m2 == 0 and data.get("housing_structure"):
            self.add_error("housing_structure", _("住房面积为 0（无住房）时不应填写房屋结构"))

    def save(self, commit: bool = True) -> Household:
        household = super().save(commit=False)
        if not household.household_number:
            household.household_number = services.next_household_number(household.village_id)
        if commit:
            household.save()
        return household


# ---------------------------------------------------------------------------------------------- 人


MEMBER_SECTIONS: Sections = (
    (
        _("身份信息"),
        ("name", "id_type", "id_number", "sex", "birth_date", "relationship", "ethnicity", "phone"),
    ),
    (
        _("教育与健康"),
        ("education", "school_status", "dropout_reason", "health", "disability_category", "disability_grade"),
    ),
    (
        _("劳动与务工"),
        ("labour", "work_status", "work_location", "work_months", "public_welfare_job", "public_welfare_months"),
    ),
    (
        _("保障情况"),
        (
            "has_resident_medical_insurance",
            "has_employee_medical_insurance",
            "has_serious_illness_insurance",
            "has_resident_pension",
            "has_employee_pension",
            "receives_medical_assistance",
            "is_dibao",
            "is_tekun",
            "is_active_military",
        ),
    ),
    (_("修改说明"), ("audit_note",)),
)


class MemberForm(SectionsMixin, CodeFieldsMixin, ReasonMixin, VersionedForm, forms.ModelForm):
    """人 (domain §2.3). Birth date and sex come from the ID; a different typed value is a contradiction."""

    required_codes = ("id_type", "relationship", "ethnicity", "health", "labour")
    sections = MEMBER_SECTIONS

    class Meta:
        model = Member
        fields = [name for _title, names in MEMBER_SECTIONS for name in names if name != "audit_note"]
        widgets = {"birth_date": date_input()}

    def __init__(self, *args: Any, household: Household, user: Any, year: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.household = household
        self.user = user  # whose scope decides what a clash with another household may name
        self.year = year or today().year
        self.setup_code_fields(self.year)
        self.fields["disability_category"] = forms.ChoiceField(
            label=_("残疾类别"), required=False, choices=[("", "---------"), *DISABILITY_CATEGORIES.items()]
        )
        self.fields["disability_grade"] = forms.ChoiceField(
            label=_("残疾等级"),
            required=False,
            choices=[("", "---------"), *[(g, _("%(g)s级") % {"g": g}) for g in "1234"]],
        )
        self.fields["id_number"].help_text = _("18 位公民身份号码；持第二代残疾人证的可填 20 位残疾人证号")
        self.fields["birth_date"].help_text = _("留空则按证件号码自动填写")
        self.fields["sex"].required = False
        self.fields["sex"].help_text = _("留空则按证件号码自动填写")
        self.fields["phone"].validators.append(validate_phone)
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        for name in ("work_months", "public_welfare_months"):
            self.fields[name].widget.attrs.update({"min": "0", "max": "12"})
        is_head = self.instance.pk and self.instance.relationship == HEAD_RELATIONSHIP
        if is_head:
            self.fields["relationship"].disabled = True
            self.fields["relationship"].help_text = _("变更户主请使用“变更户主”")
        elif self._household_head() is not None:
            relationship = choice_field(self, "relationship")
            choices = relationship.choices
            assert isinstance(choices, list)  # a field keeps its choices as a list of pairs
            relationship.choices = [c for c in choices if c[0] != HEAD_RELATIONSHIP]
        if self.instance.pk is None:
            del self.fields["audit_note"]

    def _household_head(self) -> Member | None:
        if not hasattr(self, "_head"):
            self._head = (
                None
                if self.household.pk is None
                else self.household.members.filter(relationship=HEAD_RELATIONSHIP, status=MemberStatus.ACTIVE)
                .exclude(pk=self.instance.pk)
                .first()
            )
        return self._head

    def clean_id_number(self) -> str:
        return normalize_identifier(self.cleaned_data.get("id_number"))

    def clean_name(self) -> str:
        name = re.sub(r"\s+", "", self.cleaned_data.get("name") or "")
        if not name:
            raise ValidationError(_("请填写姓名"))
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self._clean_identity(data)
        self._clean_relationship(data)
        self._clean_schooling(data)
        self._clean_work_and_insurance(data)
        return data

    def _clean_identity(self, data: dict[str, Any]) -> None:
        raw = data.get("id_number") or ""  # normalised by clean_id_number
        id_type = data.get("id_type") or ""
        if not raw:
            return
        if id_type == ID_TYPE_OTHER:
            # Other documents have no checksum; still refuse placeholders and require sex and birth date.
            add_problems(self, member_problems(MemberFacts.from_data(data), ["4_01_003"], today()))  # placeholder
            if not data.get("sex"):
                self.add_error("sex", _("请填写性别"))
            if not data.get("birth_date"):
                self.add_error("birth_date", _("请填写出生日期"))
            return
        try:
            info = parse_id_number(raw, today=today())
        except IdNumberError as exc:
            self.add_error("id_number", str(exc))
            return
        typed = MemberFacts.from_data(data)  # sex, birth date and disability as typed, before the ID fills them
        # JZ_104 in full: a 20-digit number of the wrong type and a wrong 健康状况 are both shown at once.
        add_problems(self, [(name, text) for name, text in identity.certificate_problems(typed) if data.get(name)])
        # 性别 / 出生日期 / 残疾类别和等级 against the ID.
        add_problems(self, member_problems(typed, ["2_01_004", "JZ_102", "JZ_103"], today()))
        if typed.sex and typed.sex not in SEX_CODES:
            # 未说明 is no contradiction for the rules (imported rows may lack a sex), but a form has the ID.
            self.add_error(
                "sex", _("性别与证件号码不符（证件号码显示为%(sex)s）") % {"sex": policy.label("sex", info.sex)}
            )
        data["sex"] = data.get("sex") or info.sex
        data["birth_date"] = data.get("birth_date") or info.birth_date
        if info.is_disability_certificate:
            data["disability_category"] = info.disability_category
            data["disability_grade"] = info.disability_grade
        if "id_number" not in self.errors:
            self._clean_not_active_elsewhere(raw)

    def _clean_not_active_elsewhere(self, number: str) -> None:
        """同一人只能在一个户中在册: the number and the person's other forms (ID / 残疾人证号)."""
        other = services.active_elsewhere(number, exclude_member=self.instance if self.instance.pk else None)
        if other is not None:
            self.add_error("id_number", services.clash_message(other, self.user))

    def _clean_relationship(self, data: dict[str, Any]) -> None:
        relationship = data.get("relationship")
        if not relationship:
            return
        member = MemberFacts.from_data(data)
        add_problems(self, member_problems(member, ["2_02_001"], today()))  # 与户主关系 that names a sex
        head = self._household_head()
        if relationship == HEAD_RELATIONSHIP and head is not None and not self.fields["relationship"].disabled:
            self.add_error(
                "relationship", _("本户已有户主（%(name)s），变更户主请使用“变更户主”") % {"name": head.name}
            )
        if head is not None and (text := identity.same_sex_as_head(member, MemberFacts.from_data(head))):
            self.add_error("sex", text)

    def _clean_schooling(self, data: dict[str, Any]) -> None:
        member = MemberFacts.from_data(data)
        add_problems(self, member_problems(member, ["3_01_003", "3_01_002"], today()))  # 文化程度 vs 在校生状况
        birth = data.get("birth_date")
        age = age_on(birth, today()) if birth else None
        if member.in_school and age is not None:
            if text := attributes.grade_age_mismatch(member, age, SCHOOL_AGE_TOLERANCE):
                self.add_error("school_status", text)
            # Only with a valid 健康状况 (the facts take a missing one for 健康).
            if data.get("health") and (text := attributes.preschool_too_old(member, age, SCHOOL_AGE_TOLERANCE)):
                self.add_error("school_status", text)
        dropout = data.get("dropout_reason")
        if dropout and member.in_school:
            self.add_error("dropout_reason", _("在校生不应填写义务教育阶段未上学原因"))
        elif dropout and age is not None and not 6 <= age <= 16:
            self.add_error("dropout_reason", _("义务教育阶段未上学原因只适用于 6–16 岁未在校的成员"))

    def _clean_work_and_insurance(self, data: dict[str, Any]) -> None:
        # One check at a time, each on the data the earlier ones left: a field with an error leaves
        # cleaned_data, so a month count over 12 is not also reported as lacking its 务工状况 or 岗位.
        add_problems(self, member_problems(MemberFacts.from_data(data), ["JZ_501"], today()))  # 务工时间 > 12
        for check in (
            employment.welfare_months_over_a_year,
            employment.welfare_job_without_months,
            employment.welfare_months_without_job,
            employment.months_without_work_status,
        ):
            if problem := check(MemberFacts.from_data(data)):
                add_problems(self, [problem])
        # Both medical insurances.
        add_problems(self, member_problems(MemberFacts.from_data(data), ["2_01_008"], today()))


class MemberAddForm(MemberForm):
    """增加成员: 新生 / 婚入 / 其他迁入, with the date; saved through services.add_member."""

    reason = forms.ChoiceField(label=_("增加原因"))
    date = forms.DateField(label=_("增加日期"), widget=date_input())
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    sections = ((_("增加原因"), ("reason", "date", "note")), *MEMBER_SECTIONS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "reason").choices = [
            c for c in policy.choices("member_addition", self.year) if c[0] in ("", *ADDITION_REASONS)
        ]
        self.initial.setdefault("date", today())
        if self._household_head() is None:
            self.initial.setdefault("relationship", HEAD_RELATIONSHIP)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        date, birth = data.get("date"), data.get("birth_date")
        if date and date > today():
            self.add_error("date", _("增加日期不能晚于今天"))
        if date and birth and birth > date:
            self.add_error("date", _("增加日期早于出生日期（%(b)s）") % {"b": birth.isoformat()})
        elif date and birth and data.get("reason") == "2" and age_on(birth, date) >= 2:
            self.add_error(
                "reason",
                _("增加原因为“新生”，但该成员出生于 %(b)s，请选择“婚入”或“其他迁入”") % {"b": birth.isoformat()},
            )
        return data


class MemberRemoveForm(forms.Form):
    """减少成员: 死亡 / 婚出 / 其他迁出. The member stays in the file as 已减少."""

    reason = forms.ChoiceField(label=_("减少原因"))
    date = forms.DateField(label=_("减少日期"), widget=date_input())
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member
        choice_field(self, "reason").choices = [
            c for c in policy.choices("member_removal") if c[0] in ("", *REMOVAL_REASONS)
        ]
        self.initial.setdefault("date", today())

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        date = data.get("date")
        if date and date > today():
            self.add_error("date", _("减少日期不能晚于今天"))
        if date and self.member.addition_date and date < self.member.addition_date:
            self.add_error("date", _("减少日期早于该成员的增加日期（%(d)s）") % {"d": self.member.addition_date})
        if date and self.member.birth_date and date < self.member.birth_date:
            self.add_error("date", _("减少日期早于该成员的出生日期"))
        return data


def relationship_choices(*, include_head: bool = False) -> list[tuple[str, str]]:
    return [c for c in policy.choices("relationship", today().year) if include_head or c[0] != HEAD_RELATIONSHIP]


class TargetHouseholdMixin(forms.Form):
    """A target household typed by its 户编号; it must be visible to the user and still 在册."""

    target_number = forms.CharField(label=_("目标户户编号"), max_length=20)
    user: Any
    source: Household

    def clean_target_number(self) -> Household:
        number = normalize_identifier(self.cleaned_data.get("target_number"))
        target = (
            Household.objects.visible_to(self.user).filter(household_number=number).select_related("village").first()
        )
        if target is None:
            raise ValidationError(_("户编号 %(n)s 不存在或不在您的管辖范围内") % {"n": number})
        if target.status != HouseholdStatus.ACTIVE:
            raise ValidationError(_("户 %(n)s 已注销") % {"n": number})
        if target.pk == self.source.pk:
            raise ValidationError(_("目标户不能是本户"))
        return target


class MemberMoveForm(TargetHouseholdMixin):
    """成员户间迁移: the member leaves this household (kept in history) and joins the target."""

    relationship = forms.ChoiceField(label=_("在目标户中与户主关系"))
    date = forms.DateField(label=_("迁移日期"), widget=date_input())
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, member: Member, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member, self.user, self.source = member, user, member.household
        choice_field(self, "relationship").choices = relationship_choices()
        self.initial.setdefault("date", today())

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date") and data["date"] > today():
            self.add_error("date", _("迁移日期不能晚于今天"))
        if self.source.active_members().count() == 1:
            raise ValidationError(_("该成员是本户唯一的在户成员，迁出后本户将没有成员；请使用“合户”"))
        return data


def _relationship_fields(form: forms.Form, members: list[Member], label: Any = None) -> None:
    """One 与户主关系 select per member (``rel_<pk>``); required-ness is checked in the form's clean()."""
    label = label or _("%(name)s 与新户主关系")
    for m in members:
        form.fields[f"rel_{m.pk}"] = forms.ChoiceField(
            label=label % {"name": m.name}, choices=relationship_choices(), required=False
        )


class ChangeHeadForm(forms.Form):
    """变更户主: choose the new head among the active members and give everyone's new 与户主关系."""

    new_head = forms.TypedChoiceField(label=_("新户主"), coerce=int)
    date = forms.DateField(label=_("变更日期"), widget=date_input())

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.household = household
        self.members = list(household.active_members().order_by("relationship", "birth_date"))
        choice_field(self, "new_head").choices = [("", "---------")] + [
            (m.pk, f"{m.name}（{m.label('relationship')}）")
            for m in self.members
            if m.relationship != HEAD_RELATIONSHIP
        ]
        _relationship_fields(self, self.members)
        self.initial.setdefault("date", today())

    def relationship_fields(self) -> list[forms.BoundField]:
        return [self[f"rel_{m.pk}"] for m in self.members]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        new_head = data.get("new_head")
        if data.get("date") and data["date"] > today():
            self.add_error("date", _("变更日期不能晚于今天"))
        for m in self.members:
            if m.pk != new_head and not data.get(f"rel_{m.pk}"):
                self.add_error(f"rel_{m.pk}", _("请选择 %(name)s 与新户主的关系") % {"name": m.name})
        return data

    def relationships(self) -> dict[int, str]:
        return {m.pk: self.cleaned_data[f"rel_{m.pk}"] for m in self.members if self.cleaned_data.get(f"rel_{m.pk}")}


class HouseholdSplitForm(forms.Form):
    """分户: chosen members form a new household (same village) headed by one of them."""

    members = forms.TypedMultipleChoiceField(label=_("分出的成员"), coerce=int, widget=forms.CheckboxSelectMultiple)
    new_head = forms.TypedChoiceField(label=_("新户户主"), coerce=int)
    new_number = forms.CharField(label=_("新户户编号"), required=False, max_length=20, help_text=_("留空则自动生成"))
    date = forms.DateField(label=_("分户日期"), widget=date_input())
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.household = household
        self.candidates = [
            m
            for m in household.active_members().order_by("relationship", "birth_date")
            if m.relationship != HEAD_RELATIONSHIP
        ]
        choices = [(m.pk, f"{m.name}（{m.label('relationship')}）") for m in self.candidates]
        choice_field(self, "members").choices = choices
        choice_field(self, "new_head").choices = [("", "---------"), *choices]
        _relationship_fields(self, self.candidates)
        self.initial.setdefault("date", today())

    def relationship_fields(self) -> list[forms.BoundField]:
        return [self[f"rel_{m.pk}"] for m in self.candidates]

    def clean_new_number(self) -> str:
        number = clean_household_number(self.cleaned_data.get("new_number"))
        if not number:
            return number
        # The village first: only then does "exists" speak of a number inside the user's own village.
        if problem := number_in_village(number, self.household.village_id):
            raise ValidationError(problem)
        if Household.objects.in_region(self.household.village_id).filter(household_number=number).exists():
            raise ValidationError(_("户编号 %(n)s 已存在") % {"n": number})
        return number

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        chosen, new_head = data.get("members") or [], data.get("new_head")
        if data.get("date") and data["date"] > today():
            self.add_error("date", _("分户日期不能晚于今天"))
        if new_head and new_head not in chosen:
            self.add_error("new_head", _("新户户主必须是分出的成员之一"))
        for pk in chosen:
            if pk != new_head and not data.get(f"rel_{pk}"):
                name = next(m.name for m in self.candidates if m.pk == pk)
                self.add_error(f"rel_{pk}", _("请选择 %(name)s 与新户主的关系") % {"name": name})
        return data

    def chosen_members(self) -> list[Member]:
        chosen = set(self.cleaned_data["members"])
        return [m for m in self.candidates if m.pk in chosen]

    def relationships(self) -> dict[int, str]:
        return {
            pk: self.cleaned_data[f"rel_{pk}"]
            for pk in self.cleaned_data["members"]
            if self.cleaned_data.get(f"rel_{pk}")
        }


class HouseholdMergeForm(TargetHouseholdMixin):
    """合户: every member of this household joins the target; this household is 注销 (kept, not deleted)."""

    date = forms.DateField(label=_("合户日期"), widget=date_input())

    def __init__(self, *args: Any, household: Household, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source, self.user = household, user
        self.members = list(household.active_members().order_by("relationship", "birth_date"))
        _relationship_fields(self, self.members, _("%(name)s 与目标户户主关系"))
        self.initial.setdefault("date", today())

    def relationship_fields(self) -> list[forms.BoundField]:
        return [self[f"rel_{m.pk}"] for m in self.members]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date") and data["date"] > today():
            self.add_error("date", _("合户日期不能晚于今天"))
        for m in self.members:
            if not data.get(f"rel_{m.pk}"):
                self.add_error(f"rel_{m.pk}", _("请选择 %(name)s 与目标户户主的关系") % {"name": m.name})
        return data

    def relationships(self) -> dict[int, str]:
        return {m.pk: self.cleaned_data[f"rel_{m.pk}"] for m in self.members}


# ---------------------------------------------------------------------------------------------- 年度


class HouseholdYearForm(SectionsMixin, CodeFieldsMixin, ReasonMixin, VersionedForm, forms.ModelForm):
    """户年度信息: status, attribute, causes, income components and 两不愁三保障.

    家庭纯收入 and 人均纯收入 are not fields: services.save_year computes them with the formula in force.
    """

    required_codes = ("exit_status", "attribute", "main_cause")
    income_fields = tuple(k for k, _label in INCOME_ITEMS + DEDUCTION_ITEMS)
    guarantee_fields = ("food_clothing_secure", "education_secure", "medical_secure", "housing_secure", "water_secure")
    sections = (
        (
            _("脱贫状态与致贫原因"),
            ("exit_status", "attribute", "main_cause", "other_cause_1", "other_cause_2", "cause_note"),
        ),
        (_("收入与支出（元/年）"), income_fields),
        (_("两不愁三保障"), guarantee_fields),
        (_("修改说明"), ("audit_note",)),
    )

    class Meta:
        model = HouseholdYear
        fields = [
            "exit_status",
            "attribute",
            "main_cause",
            "other_cause_1",
            "other_cause_2",
            "cause_note",
            *[k for k, _label in INCOME_ITEMS + DEDUCTION_ITEMS],
            "food_clothing_secure",
            "education_secure",
            "medical_secure",
            "housing_secure",
            "water_secure",
        ]

    def __init__(self, *args: Any, year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year = year
        self.setup_code_fields(year)
        for name in self.income_fields:
            self.fields[name].required = False  # an empty item is 0 元, not an error
            # A negative amount is refused in clean() (rule JZ_702).
            self.fields[name].widget.attrs.update({"min": "0", "step": "0.01", "inputmode": "decimal"})
        if self.instance.household_id is None:  # part of registering a new household: no edit reason
            del self.fields["audit_note"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in self.income_fields:
            if name in data and data[name] is None:
                data[name] = Decimal("0")
        record = YearFacts.from_data({**data, "year": self.year})
        add_problems(self, income.negative_amounts(record))
        if data.get("other_cause_2") and not data.get("other_cause_1"):
            self.add_error("other_cause_1", _("请先填写其他致贫原因一"))
        add_problems(self, yearly.repeated_causes(record))
        if problem := yearly.attribute_contradicts_exit(record):
            add_problems(self, [problem])
        return data
