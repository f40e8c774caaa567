"""Quality: the data-quality rules on the imported households, as they will be after the import.

Each batch of households goes to the rules as it is planned (registry.quality.pool: a helper process
for large files, which checks while this process writes). Error-level findings become issues at the
cells; after the write, the warnings are recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from jingzhun.core.batching import chunked
from jingzhun.exchange.importer.plan import household_values, member_values, year_values
from jingzhun.exchange.importer.report import Issue
from jingzhun.exchange.importer.rows import CHUNK, HouseholdIn, RowIn
from jingzhun.registry import quality
from jingzhun.registry.models import QualityIssue
from jingzhun.registry.quality import HouseholdInput, QualityChecks


def quality_input(h: HouseholdIn, numbers: quality.PolicyNumbers) -> HouseholdInput:
    """What the data-quality rules read of one imported household, as it will be after the import."""
    h.wanted = household_values(h)
    data = {**(h.existing or {}), **h.wanted, "village_id": h.village_code}
    members = []
    for m in h.members:
        m.wanted = member_values(m)
        members.append({**m.wanted, "name": m.values.get("name", "")})
    members += [{k: e[k] for k in e} for e in h.kept_members]  # stored members not in the file
    year = None
    if h.values.get("year"):
        h.year_values = year_values(h, h.values.get("household_size") or len(h.members))
        year = numbers.year_facts({**h.year_values, "year": h.values["year"]}, h.village_code)
    return data, members, year, quality.reference_date(h.values.get("year"))


def quality_sender(checks: QualityChecks, *, share: bool) -> Callable[[list[HouseholdIn]], None]:
    """make_plan's ``each_batch``: send a batch of households to the data-quality rules. With ``share``
    every other batch is checked here at once, so this process and the helper work side by side."""
    numbers = quality.PolicyNumbers()
    sent = 0

    def send(batch: list[HouseholdIn]) -> None:
        nonlocal sent
        inputs = [quality_input(h, numbers) for h in batch if h.village_code]
        if inputs:
            checks.add(inputs, here=share and sent % 2 == 1)
            sent += 1

    return send


class QualityFindings:
    """The data-quality rules' findings on the imported households, placed as their batches come back.

    Error-level findings are placed at the member's or household's cell (unless that cell already has an
    error) and block the file if their household is created or changed: a household the file leaves
    exactly as stored does not block it over a problem it already has (it stays on the 数据质量 pages).
    All findings stay on the household and are recorded after the commit. Once a household's findings
    are placed its rows' values are released (they were kept to show the cells' values)."""

    def __init__(self, households: list[HouseholdIn], checks: QualityChecks, issues: list[Issue]) -> None:
        self._households = iter([h for h in households if h.village_code])
        self._checks = checks
        self._taken = {(i.sheet, i.row, i.column) for i in issues}
        self.blocking: list[Issue] = []

    def collect(self, *, wait: bool) -> None:
        """Place the findings that are back (with ``wait``: all of them)."""
        for violations in self._checks.results(wait=wait):
            h = next(self._households)
            h.violations = violations
            for v in violations:
                if v.is_error:
                    self._place(h, v)
            h.values.clear()
            for m in h.members:
                m.values.clear()

    def _place(self, h: HouseholdIn, v: quality.Violation) -> None:
        if v.member_index is not None and v.member_index < len(h.members):
            row: RowIn = h.members[v.member_index]
            key = v.field if v.field in row.columns else "id_number"
        else:
            row, key = h, v.field if v.field in h.columns else "head_name"
        column = row.columns.get(key)
        header = column.header if column else key
        if (row.sheet, row.row, header) in self._taken:
            return
        self._taken.add((row.sheet, row.row, header))
        if h.changed:
            message = f"{v.message}（规则 {v.rule_code}）"
            self.blocking.append(Issue(row.sheet, row.row, header, row.raw_text(key), message))


def record_warnings(households: list[HouseholdIn]) -> int:
    """After the write: the households' data-quality warnings replace their recorded issues (a new
    household has none to replace)."""
    rows = []
    existing_ids = []
    for h in households:
        if h.pk is None:
            continue
        if h.existing is not None:
            existing_ids.append(h.pk)
        # Findings name members by their place in the household; now the rows are written, by their id.
        member_ids = [m.member_pk for m in h.members] + [e["id"] for e in h.kept_members]
        violations = [
            v if v.member_index is None else replace(v, member_id=member_ids[v.member_index]) for v in h.violations
        ]
        rows += quality.issue_rows(h.pk, h.village_code, violations)
    for chunk in chunked(existing_ids, CHUNK):
        QualityIssue.objects.unscoped().filter(household_id__in=chunk).delete()
    QualityIssue.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
