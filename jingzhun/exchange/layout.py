"""The household and member sheets of the collection form (domain §2.2–2.3) as column specifications.

One list drives everything: the downloadable template (headers, drop-downs, examples), tolerant header
matching on import, cell conversion with Chinese error messages, and exports in the same layout (so an
export imports back as "no change").
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jingzhun.core.tabular import unquote_formula
from jingzhun.policy import services as policy

HOUSEHOLD_SHEET = "户信息"
MEMBER_SHEET = "成员信息"
INSTRUCTIONS_SHEET = "填表说明"
CODE_LISTS_SHEET = "代码表"

TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "t"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "0", "×", "f"}


class CellError(ValueError):
    """A cell value that cannot be used; the message is the reason shown to the clerk."""


@dataclass(frozen=True)
class Column:
    key: str  # model field (or a pseudo-field such as household_size)
    header: str  # the official Chinese header
    kind: str  # text | int | decimal | bool | code | date | region | id
    target: str  # household | year | member | link
    table: str = ""  # code table for kind == "code"
    required: bool = False
    required_with_year: bool = False  # required when the row carries a yearly record (any year field filled)
    synonyms: tuple[str, ...] = ()
    max_length: int | None = None
    example: Any = ""
    help: str = ""

    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.synonyms)


def _c(key: str, header: str, kind: str, target: str, **kw: Any) -> Column:
    return Column(key=key, header=header, kind=kind, target=target, **kw)


HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    _c("household_number", "户编号", "text", "household", max_length=20, example="", help="新增户可不填，系统生成"),
    _c(
        "region_code",
        "行政区划代码",
        "region",
        "household",
        required=True,
        synonyms=("村代码", "区划代码", "村（组）代码", "所在村代码"),
        example="431102101201",
        help="12 位村代码，或 15 位村民小组代码",
    ),
    _c("head_name", "户主姓名", "text", "link", required=True, max_length=50, example="张大山"),
    _c(
        "head_id_number",
        "户主证件号码",
        "id",
        "link",
        required=True,
        synonyms=("户主身份证号", "户主身份证号码", "户主公民身份号码"),
        example="431102197005170011",
    ),
    _c("household_size", "家庭人口数", "int", "link", required=True, synonyms=("家庭人口", "人口数"), example=3),
    _c("phone", "联系电话", "text", "household", max_length=20, synonyms=("户联系电话",), example="13807460000"),
    _c("bank_name", "开户银行", "text", "household", max_length=60, example="零陵区农村商业银行"),
    _c("bank_account", "银行账号", "text", "household", max_length=32, example="6230901234567890"),
    _c("identification_standard", "识别标准", "code", "household", table="identification_standard", example="国家标准"),
    _c("first_identified_year", "首次识别年度", "int", "household", synonyms=("识别年度",), example=2014),
    _c("exit_year", "脱贫年度", "int", "household", example=2018),
    _c("is_military_family", "是否军烈属", "bool", "household", example="否"),
    _c("is_only_child", "是否独生子女户", "bool", "household", example="否"),
    _c("is_two_daughters", "是否双女户", "bool", "household", example="否"),
    _c("is_monitored", "是否监测对象", "bool", "household", example="否"),
    _c("monitoring_category", "监测对象类别", "code", "household", table="monitoring_category", example=""),
    _c("year", "年度", "int", "year", required_with_year=True, synonyms=("信息年度", "统计年度"), example=2025),
    _c(
        "exit_status",
        "脱贫状态",
        "code",
        "year",
        table="exit_status",
        required_with_year=True,
        synonyms=("脱贫标志",),
        example="已脱贫（享受政策）",
    ),
    _c(
        "attribute",
        "贫困户属性",
        "code",
        "year",
        table="household_attribute",
        required_with_year=True,
        synonyms=("户属性",),
        example="一般脱贫户",
    ),
    _c("main_cause", "主要致贫原因", "code", "year", table="poverty_cause", example="因病"),
    _c(
        "other_cause_1", "其他致贫原因一", "code", "year", table="poverty_cause", synonyms=("其他致贫原因",), example=""
    ),
    _c("other_cause_2", "其他致贫原因二", "code", "year", table="poverty_cause", example=""),
    _c("cause_note", "致贫原因说明", "text", "year", max_length=200, example=""),
    _c("wage_income", "工资性收入", "decimal", "year", synonyms=("工资性收入（元）",), example="18000"),
    _c(
        "business_income",
        "生产经营性收入",
        "decimal",
        "year",
        synonyms=("家庭经营性收入", "生产经营性收入（元）"),
        example="6000",
    ),
    _c("property_income", "财产性收入", "decimal", "year", synonyms=("财产性收入（元）",), example="500"),
    _c("transfer_income", "转移性收入", "decimal", "year", synonyms=("转移性收入（元）",), example="3200"),
    _c("claims_income", "理赔收入", "decimal", "year", example="0"),
    _c(
        "production_expense",
        "生产经营性支出",
        "decimal",
        "year",
        synonyms=("生产经营费用支出", "生产经营性支出（元）"),
        example="2500",
    ),
    _c("compliant_out_of_pocket", "合规自付支出", "decimal", "year", example="0"),
    _c("food_clothing_secure", "不愁吃不愁穿", "bool", "year", example="是"),
    _c("education_secure", "义务教育有保障", "bool", "year", example="是"),
    _c("medical_secure", "基本医疗有保障", "bool", "year", example="是"),
    _c("housing_secure", "住房安全有保障", "bool", "year", example="是"),
    _c("water_secure", "饮水安全有保障", "bool", "year", example="是"),
    _c("paddy_land_mu", "水田面积（亩）", "decimal", "household", synonyms=("水田面积",), example="2.5"),
    _c("dry_land_mu", "旱地面积（亩）", "decimal", "household", synonyms=("旱地面积",), example="1"),
    _c("forest_land_mu", "林地面积（亩）", "decimal", "household", synonyms=("林地面积",), example="5"),
    _c(
        "returned_forest_mu", "退耕还林（草）面积（亩）", "decimal", "household", synonyms=("退耕还林面积",), example=""
    ),
    _c("orchard_mu", "林果面积（亩）", "decimal", "household", synonyms=("林果面积",), example=""),
    _c("pasture_mu", "牧草地面积（亩）", "decimal", "household", synonyms=("牧草地面积",), example=""),
    _c("water_surface_mu", "水面面积（亩）", "decimal", "household", synonyms=("水面面积",), example=""),
    _c("in_mutual_fund", "是否参加扶贫互助资金组织", "bool", "household", example="否"),
    _c("in_cooperative", "是否加入农民专业合作社", "bool", "household", example="否"),
    _c(
        "housing_area_m2",
        "住房面积（㎡）",
        "decimal",
        "household",
        synonyms=("住房面积", "住房面积（平方米）"),
        example="96",
    ),
    _c("housing_structure", "房屋主要结构", "code", "household", table="housing_structure", example="砖混"),
    _c("housing_built_year", "建房年份", "int", "household", synonyms=("建房时间",), example=2012),
    _c("is_dangerous_house", "是否危房户", "bool", "household", example="否"),
    _c("dangerous_house_grade", "危房等级", "code", "household", table="dangerous_house_grade", example=""),
    _c("has_electricity", "是否通生活用电", "bool", "household", synonyms=("通电情况",), example="是"),
    _c("fuel", "主要燃料类型", "code", "household", table="fuel", example="液化气"),
    _c("drinking_water", "饮水情况", "code", "household", table="drinking_water", example="净化自来水"),
    _c("has_safe_water", "是否解决安全饮用水", "bool", "household", example="是"),
    _c("road_type", "入户路类型", "code", "household", table="road_type", example="水泥路"),
    _c(
        "distance_to_main_road_km",
        "与村主干路距离（公里）",
        "decimal",
        "household",
        synonyms=("与村主干路距离",),
        example="0.3",
    ),
    _c("has_sanitary_toilet", "有无卫生厕所", "bool", "household", example="有"),
    _c("is_relocated", "是否易地扶贫搬迁户", "bool", "household", example="否"),
    _c("relocation_year", "搬迁年度", "int", "household", example=""),
    _c("dibao_status", "享受低保政策情况", "code", "household", table="dibao_status", example="未享受"),
    _c("tekun_status", "享受特困供养政策情况", "code", "household", table="tekun_status", example="不享受"),
    _c("is_whole_household_no_labour", "是否整户无劳动能力兜底保障户", "bool", "household", example="否"),
    _c("address", "详细地址", "text", "household", max_length=200, example=""),
)

MEMBER_COLUMNS: tuple[Column, ...] = (
    _c(
        "household_number",
        "户编号",
        "text",
        "link",
        max_length=20,
        example="",
        help="与户信息表的户编号一致；新增户可改填户主证件号码",
    ),
    _c("head_id_number", "户主证件号码", "id", "link", synonyms=("户主身份证号",), example="431102197005170011"),
    _c("member_number", "人编号", "text", "member", max_length=24, example="", help="新增成员可不填"),
    _c("name", "姓名", "text", "member", required=True, max_length=50, synonyms=("成员姓名",), example="张大山"),
    _c("sex", "性别", "code", "member", table="sex", required=True, example="男"),
    _c("id_type", "证件类型", "code", "member", table="id_type", example="居民身份证"),
    _c(
        "id_number",
        "证件号码",
        "id",
        "member",
        required=True,
        synonyms=("身份证号", "身份证号码", "公民身份号码", "证件号码（公民身份号码或残疾人证号）"),
        example="431102197005170011",
    ),
    _c("relationship", "与户主关系", "code", "member", table="relationship", required=True, example="户主"),
    _c("ethnicity", "民族", "code", "member", table="ethnicity", example="汉族"),
    _c("education", "文化程度", "code", "member", table="education", example="初中"),
    _c("school_status", "在校生状况", "code", "member", table="school_status", example="非在校生"),
    _c("dropout_reason", "义务教育阶段未上学原因", "code", "member", table="dropout_reason", example=""),
    _c("health", "健康状况", "code", "member", table="health", example="健康"),
    _c("labour", "劳动技能", "code", "member", table="labour", synonyms=("劳动能力",), example="普通劳动力"),
    _c("work_status", "务工状况", "code", "member", table="work_status", example=""),
    _c("work_location", "务工所在地", "text", "member", max_length=100, example=""),
    _c("work_months", "务工时间（月）", "int", "member", synonyms=("务工时间",), example=""),
    _c("has_serious_illness_insurance", "是否参加大病保险", "bool", "member", example="是"),
    _c(
        "has_resident_medical_insurance",
        "是否参加城乡居民基本医疗保险",
        "bool",
        "member",
        synonyms=("是否参加新型农村合作医疗",),
        example="是",
    ),
    _c("has_employee_medical_insurance", "是否参加城镇职工基本医疗保险", "bool", "member", example="否"),
    _c("has_resident_pension", "是否参加城乡居民基本养老保险", "bool", "member", example="是"),
    _c("has_employee_pension", "是否参加城镇职工基本养老保险", "bool", "member", example="否"),
    _c("receives_medical_assistance", "是否接受医疗救助", "bool", "member", example="否"),
    _c("is_active_military", "是否现役军人", "bool", "member", example="否"),
    _c("is_dibao", "是否低保对象", "bool", "member", example="否"),
    _c("is_tekun", "是否特困供养对象", "bool", "member", example="否"),
    _c("public_welfare_job", "公益性岗位", "text", "member", max_length=50, example=""),
    _c("public_welfare_months", "公益性岗位（月数）", "int", "member", example=""),
    _c("phone", "联系电话", "text", "member", max_length=20, synonyms=("成员联系电话",), example=""),
)

SHEETS: dict[str, tuple[Column, ...]] = {HOUSEHOLD_SHEET: HOUSEHOLD_COLUMNS, MEMBER_SHEET: MEMBER_COLUMNS}


def normalise_header(text: object) -> str:
    """Headers match whatever the spacing, full-width forms, case or a trailing '*' (required mark)."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    value = "".join(value.split()).lower().rstrip("*")
    return value.replace("（", "(").replace("）", ")")


def header_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for header in column.headers():
            index[normalise_header(header)] = column
    return index


def match_headers(headers: list[Any], columns: tuple[Column, ...]) -> tuple[dict[int, Column], list[str]]:
    """Map each sheet column position to a Column; return the required headers that are missing."""
    index = header_index(columns)
    mapping: dict[int, Column] = {}
    seen: set[str] = set()
    for position, header in enumerate(headers):
        column = index.get(normalise_header(header))
        if column is not None and column.key not in seen:
            mapping[position] = column
            seen.add(column.key)
    missing = [c.header for c in columns if c.required and c.key not in seen]
    return mapping, missing


# ---- cell conversion -------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


# Full-width digits and Latin letters, and the ideographic space, as their ASCII forms. Free text keeps
# everything else: "，" and "（）" are how Chinese is written, and folding them would make an exported
# 致贫原因说明 come back "changed".
_FULL_WIDTH_ALNUM = {
    code: code - 0xFEE0
    for first, last in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(first, last + 1)
} | {0x3000: 0x20}


def cell_text(value: Any, *, free_text: bool = False) -> str:
    """A cell as trimmed text. Codes, numbers and IDs are NFKC-folded (full-width forms to ASCII, so "１２"
    and "已脱贫(享受政策)" read as typed in half width); ``free_text`` folds only digits, letters and spaces."""
    if value is None:
        return ""
    if value.__class__ is str:
        if value.isascii():
            return value.strip()
        if free_text:
            return value.translate(_FULL_WIDTH_ALNUM).strip()
        # Checking is several times cheaper than normalising, and most Chinese text is already NFKC.
        if not unicodedata.is_normalized("NFKC", value):
            value = unicodedata.normalize("NFKC", value)
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def convert(column: Column, raw: Any, year: int | None = None) -> Any:
    """The typed value of a cell, or CellError with the reason. Empty cells give None (or '' for text)."""
    text = cell_text(raw, free_text=column.kind == "text")
    if not text:
        if column.required:
            raise CellError("必填项为空")
        return "" if column.kind in ("text", "code", "id", "region") else None
    kind = column.kind
    if kind == "text":
        text = _SPACES.sub(" ", unquote_formula(text))
        if column.max_length and len(text) > column.max_length:
            raise CellError(f"长度 {len(text)} 超过 {column.max_length} 个字")
        return text
    if kind == "int":
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise CellError("应为整数") from exc
        if not number.is_finite():
            raise CellError("应为整数")
        if number != number.to_integral_value() or number < 0:
            raise CellError("应为不小于 0 的整数")
        return int(number)
    if kind == "decimal":
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:
            raise CellError("应为数字") from exc
        if not number.is_finite():
            raise CellError("应为数字")
        if number < 0:
            raise CellError("不能为负数")
        return number.quantize(Decimal("0.01"))
    if kind == "bool":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise CellError("应填“是”或“否”")
    if kind == "code":
        code = policy.code_for_label(column.table, text)
        if code is None:
            allowed = "、".join(label for _code, label in policy.choices(column.table, year, blank=False))
            raise CellError(f"不是有效的{column.header}（可选：{allowed}）")
        if year is not None and not policy.is_valid(column.table, code, year):
            raise CellError(f"“{text}”在 {year} 年不适用")
        return code
    if kind == "id":
        return text.upper().replace(" ", "")
    if kind == "region":
        return text.replace(" ", "")
    if kind == "date":
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError as exc:
            raise CellError("应为日期（如 2024-05-01）") from exc
    raise AssertionError(kind)


_CENT = Decimal("0.01")
Converter = Callable[[Any, "int | None"], Any]


def cell_converter(column: Column) -> Converter:
    """``convert`` for one column, for reading whole sheets: the same values and the same errors, with the
    common cases short-cut — empty cells, whole numbers as calamine returns them, and labels and 是/否
    (a few distinct values repeated on every row) looked up once per import."""
    kind = column.kind
    empty = "" if kind in ("text", "code", "id", "region") else None
    required = column.required

    if kind in ("code", "bool"):
        cache: dict[tuple[type, Any, int | None], tuple[bool, Any]] = {}

        def memoised(raw: Any, year: int | None = None) -> Any:
            key = (raw.__class__, raw, year)  # the class too: True == 1, but "True" is not "1"
            hit = cache.get(key)
            if hit is None:
                try:
                    hit = (True, convert(column, raw, year))
                except CellError as exc:
                    hit = (False, str(exc))
                cache[key] = hit
            if hit[0]:
                return hit[1]
            raise CellError(hit[1])

        return memoised

    def general(raw: Any, year: int | None = None) -> Any:
        if raw is None or raw == "":
            if required:
                raise CellError("必填项为空")
            return empty
        cls = raw.__class__
        if kind == "int":
            if cls is int and raw >= 0:
                return raw
            if cls is float and raw >= 0 and raw.is_integer():
                return int(raw)
        elif kind == "decimal":
            if cls is int and raw >= 0:
                return Decimal(raw).quantize(_CENT)
            if cls is float and raw >= 0 and math.isfinite(raw):
                return Decimal(int(raw) if raw.is_integer() else repr(raw)).quantize(_CENT)
        elif kind == "id" and cls is str and raw.isascii():
            text = raw.strip()
            if text:
                return text.upper().replace(" ", "")
        return convert(column, raw, year)

    return general


def export_value(column: Column, value: Any) -> Any:
    """How a stored value is written to the sheet: labels for codes, 是/否 for flags."""
    if value is None or value == "":
        return ""
    if column.kind == "code":
        return policy.label(column.table, value)
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "decimal":
        return format(value.normalize(), "f") if isinstance(value, Decimal) else value
    return value  # written through core.tabular.safe_cell, as every cell of every export
