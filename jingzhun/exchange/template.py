"""The downloadable import template: household and member sheets with drop-downs, examples and instructions."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from jingzhun.core.tabular import safe_cell
from jingzhun.exchange.layout import (
    CODE_LISTS_SHEET,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_SHEET,
    INSTRUCTIONS_SHEET,
    MEMBER_COLUMNS,
    MEMBER_SHEET,
    Column,
)
from jingzhun.policy import services as policy
from jingzhun.policy.models import CodeTable
from jingzhun.registry.idcard import make_id_number

HEADER_FILL = PatternFill("solid", fgColor="F3D6D6")
REQUIRED_FONT = Font(bold=True, color="B71C1C")
TEMPLATE_ROWS = 5000  # drop-downs cover this many data rows


def _example_members(year: int) -> list[dict[str, str]]:
    head_id = make_id_number("431102", dt.date(1970, 5, 17), 1, "1")
    return [
        {
            "head_id_number": head_id,
            "name": "张大山",
            "sex": "男",
            "id_number": head_id,
            "relationship": "户主",
            "education": "初中",
            "school_status": "非在校生",
            "health": "健康",
            "labour": "普通劳动力",
        },
        {
            "head_id_number": head_id,
            "name": "李秀英",
            "sex": "女",
            "id_number": make_id_number("431102", dt.date(1972, 3, 8), 2, "2"),
            "relationship": "配偶",
            "education": "小学",
            "school_status": "非在校生",
            "health": "长期慢性病",
            "labour": "普通劳动力",
        },
        {
            "head_id_number": head_id,
            "name": "张小明",
            "sex": "男",
            "id_number": make_id_number("431102", dt.date(2012, 9, 1), 3, "1"),
            "relationship": "之子",
            "education": "",
            "school_status": "八年级",
            "health": "健康",
            "labour": "无劳动力",
        },
    ]


def build_template(year: int | None = None) -> bytes:
    year = year or dt.date.today().year
    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_SHEET
    households = wb.create_sheet(HOUSEHOLD_SHEET)
    members = wb.create_sheet(MEMBER_SHEET)
    codes = wb.create_sheet(CODE_LISTS_SHEET)

    # One column per code table on the code sheet; drop-downs refer to these ranges.
    ranges: dict[str, str] = {}
    tables = sorted({c.table for c in HOUSEHOLD_COLUMNS + MEMBER_COLUMNS if c.kind == "code"})
    names = dict(CodeTable.objects.filter(key__in=tables).values_list("key", "name"))  # headed in Chinese
    for i, table in enumerate(tables, start=1):
        letter = get_column_letter(i)
        labels = [label for _code, label in policy.choices(table, year, blank=False)]
        codes.cell(row=1, column=i, value=safe_cell(names.get(table, table))).font = Font(bold=True)
        for r, label in enumerate(labels, start=2):
            codes.cell(row=r, column=i, value=safe_cell(label))
        ranges[table] = f"'{CODE_LISTS_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"
        codes.column_dimensions[letter].width = 18

    _write_sheet(households, HOUSEHOLD_COLUMNS, ranges, [_example_household(year)])
    _write_sheet(members, MEMBER_COLUMNS, ranges, _example_members(year))
    _write_instructions(instructions, year)
    codes.sheet_state = "visible"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _example_household(year: int) -> dict[str, object]:
    row = {c.key: c.example for c in HOUSEHOLD_COLUMNS}
    row["year"] = year
    row["head_id_number"] = make_id_number("431102", dt.date(1970, 5, 17), 1, "1")
    return row


def _write_sheet(ws, columns: tuple[Column, ...], ranges: dict[str, str], examples: list[dict]) -> None:
    for i, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=safe_cell(column.header))
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if column.required or column.required_with_year:
            cell.font = REQUIRED_FONT
        note = column.help or (
            "必填" if column.required else ("填写年度信息时必填" if column.required_with_year else "")
        )
        if column.kind == "bool":
            note = (note + "；" if note else "") + "填“是”或“否”"
        if note:
            cell.comment = Comment(note, "精准")
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, min(28, len(column.header) * 2 + 2))
        if column.kind in ("id", "text", "region"):
            # ID numbers and codes must stay text, or Excel turns them into 4.31102E+17.
            for r in range(2, TEMPLATE_ROWS + 2):
                ws.cell(row=r, column=i).number_format = "@"
        validation = None
        if column.kind == "code":
            validation = DataValidation(type="list", formula1=f"={ranges[column.table]}", allow_blank=True)
            validation.error = f"请从下拉列表中选择{column.header}"
        elif column.kind == "bool":
            validation = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
        if validation is not None:
            validation.errorTitle = "输入值无效"
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            ws.add_data_validation(validation)
    for r, example in enumerate(examples, start=2):
        for i, column in enumerate(columns, start=1):
            value = example.get(column.key, "")
            if value != "":
                ws.cell(row=r, column=i, value=safe_cell(value))
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 36


def _write_instructions(ws, year: int) -> None:
    lines = [
        "建档立卡户信息导入模板 填表说明",
        "",
        f"1. “{HOUSEHOLD_SHEET}”每行一户，“{MEMBER_SHEET}”每行一人；红色表头为必填项。示例行可直接删除或覆盖。",
        "2. 户与成员的对应：成员表填写户编号；新增户没有户编号时，成员表填写户主证件号码。",
        "3. 已有户按户编号匹配，未填户编号时按户主证件号码匹配；成员按证件号码匹配。匹配到的记录将被更新。",
        "4. 家庭人口数必须等于成员表中该户的成员行数；每户必须有且只有一名“户主”。",
        "5. 证件号码填写 18 位公民身份号码；持第二代残疾人证的可填写 20 位残疾人证号。请将单元格设为文本格式。",
        "6. 代码类字段（如贫困户属性、致贫原因、文化程度）请从下拉列表选择，也可填写代码；"
        "“是/否”类字段填写“是”或“否”。",
        f"7. “年度”为收入等年度信息所属年度（如 {year}）；"
        "家庭纯收入、人均纯收入由系统按收入计算口径自动计算，无需填写。",
        "8. 导入先进行预检：列出将新增、更新、不变的记录和全部错误（工作表、行、列、值、原因）。"
        "有任何错误时不写入任何数据。",
        "9. 只能导入本人管辖范围内的村；超出范围的行将报错。",
    ]
    for r, line in enumerate(lines, start=1):
        ws.cell(row=r, column=1, value=safe_cell(line))
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 120
