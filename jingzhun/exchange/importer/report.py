"""What an import tells its caller: the problems found, where, and the records it created, updated or left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[..., None]


@dataclass
class Issue:
    """One problem, located where the clerk will look for it."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.sheet} 第 {self.row} 行" if self.row else self.sheet
        column = f"“{self.column}”" if self.column else ""
        value = f"（值：{self.value}）" if self.value else ""
        return f"{where}{column}{value}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    households: Counts = field(default_factory=Counts)
    members: Counts = field(default_factory=Counts)
    years: Counts = field(default_factory=Counts)
    issues: list[Issue] = field(default_factory=list)
    committed: bool = False
    rows: int = 0
    warnings: int = 0

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in (self.households, self.members, self.years))

    def summary(self) -> str:
        parts = []
        for label, c in (("户", self.households), ("成员", self.members), ("年度信息", self.years)):
            parts.append(f"{label}：新增 {c.created}，更新 {c.updated}，不变 {c.unchanged}")
        text = "；".join(parts)
        if self.issues:
            text += f"；错误 {len(self.issues)} 处，未写入任何数据"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "households": self.households.as_dict(),
            "members": self.members.as_dict(),
            "years": self.years.as_dict(),
            "issues": [i.as_dict() for i in self.issues[:5000]],
            "issue_count": len(self.issues),
            "committed": self.committed,
            "rows": self.rows,
            "warnings": self.warnings,
            "summary": self.summary(),
        }


class ImportFailed(Exception):
    """Raised by the import job when a commit wrote nothing, so the job fails and shows the report."""

    user_message = True

    def __init__(self, report: ImportReport):
        self.report = report
        self.result = report.as_dict()
        super().__init__(report.summary())
