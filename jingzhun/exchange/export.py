"""Exports in the template layout (so an export imports back as "no change"), streamed in chunks.

Rows are produced from ``queryset.iterator()`` a chunk of households at a time, with that chunk's heads,
member counts and yearly records fetched in bulk: memory stays flat whatever the size of the export. Personal
data (ID numbers, phones, bank accounts, health) is written as the caller's ``Disclosure`` shows it: in full
only for roles whose work needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from jingzhun.core.batching import chunked
from jingzhun.core.privacy import Disclosure
from jingzhun.core.scope import user_scope_prefix
from jingzhun.core.tabular import append_row, csv_stream
from jingzhun.exchange.layout import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_SHEET,
    MEMBER_COLUMNS,
    MEMBER_SHEET,
    Column,
    export_value,
)
from jingzhun.registry.filters import HouseholdQuery
from jingzhun.registry.models import Household, HouseholdYear, Member, MemberStatus

CHUNK = 2000
HEADER_FILL = PatternFill("solid", fgColor="F3D6D6")


def household_rows(households: QuerySet[Household], year: int, disclosure: Disclosure) -> Iterator[list[Any]]:
    """One row per household in HOUSEHOLD_COLUMNS order, with ``year``'s record."""
    for chunk in chunked(households.order_by("household_number").iterator(chunk_size=CHUNK), CHUNK):
        pks = [h.pk for h in chunk]
        heads = Member.objects.unscoped().heads_of(pks)  # pks of households read in scope
        sizes = Member.objects.unscoped().sizes_of(pks)
        years = {r.household_id: r for r in HouseholdYear.objects.unscoped().filter(household_id__in=pks, year=year)}
        for h in chunk:
            head = heads.get(h.pk, ("", ""))
            record = years.get(h.pk)
            row = []
            for column in HOUSEHOLD_COLUMNS:
                value = export_value(column, _household_value(column, h, head, sizes.get(h.pk, 0), record))
                row.append(disclosure.field(column.key, value))
            yield row


def _household_value(
    column: Column, h: Household, head: tuple[str, str], size: int, record: HouseholdYear | None
) -> Any:
    key = column.key
    if key == "region_code":
        return h.group_id or h.village_id
    if key == "head_name":
        return head[0]
    if key == "head_id_number":
        return head[1]
    if key == "household_size":
        return size
    if column.target == "year":
        return getattr(record, key) if record is not None else ""
    return getattr(h, key)


def member_rows(members: QuerySet[Member], disclosure: Disclosure) -> Iterator[list[Any]]:
    """One row per active member in MEMBER_COLUMNS order, with the household's number and head ID."""
    queryset = (
        members.filter(status=MemberStatus.ACTIVE)
        .select_related("household")
        .order_by("household__household_number", "member_number")
    )
    for chunk in chunked(queryset.iterator(chunk_size=CHUNK), CHUNK):
        heads = Member.objects.unscoped().heads_of(list({m.household_id for m in chunk}))
        for m in chunk:
            row = []
            for column in MEMBER_COLUMNS:
                if column.key == "household_number":
                    value = m.household.household_number
                elif column.key == "head_id_number":
                    value = heads.get(m.household_id, ("", ""))[1]
                else:
                    value = getattr(m, column.key)
                row.append(disclosure.field(column.key, export_value(column, value)))
            yield row


def filtered_households(user: Any, query: HouseholdQuery) -> QuerySet[Household]:
    """What the household list shows ``user`` for ``query``: an export is exactly the list."""
    return query.apply(Household.objects.visible_to(user), user_scope_prefix(user) or "").distinct()


def members_of(households: QuerySet[Household]) -> QuerySet[Member]:
    """The members of a filtered household list (the filter's own subquery, not a list of ids)."""
    return Member.objects.unscoped().filter(household__in=households.values("pk"))  # households: in scope


def write_xlsx(
    households: QuerySet[Household],
    year: int,
    out: IO[bytes],
    *,
    disclosure: Disclosure,
    members: QuerySet[Member] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Both sheets into ``out`` (write-only mode: rows are streamed, memory stays flat); ``progress`` is
    told the rows written so far, every chunk. Returns the rows written (households and members)."""
    wb = Workbook(write_only=True)
    counter = _RowCounter(progress)
    _sheet(wb, HOUSEHOLD_SHEET, HOUSEHOLD_COLUMNS, counter.count(household_rows(households, year, disclosure)))
    members = members if members is not None else members_of(households)
    _sheet(wb, MEMBER_SHEET, MEMBER_COLUMNS, counter.count(member_rows(members, disclosure)))
    wb.save(out)
    return counter.done


class _RowCounter:
    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.progress = progress
        self.done = 0

    def count(self, rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
        for row in rows:
            yield row
            self.done += 1
            if self.progress and self.done % CHUNK == 0:
                self.progress(self.done)


def _sheet(wb: Workbook, title: str, columns: tuple[Column, ...], rows: Iterable[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.fill = HEADER_FILL
        if column.required:
            cell.font = Font(bold=True, color="B71C1C")
        header.append(cell)
    append_row(ws, header)
    for row in rows:
        append_row(ws, row)


def households_csv(households: QuerySet[Household], year: int, disclosure: Disclosure) -> Iterator[str]:
    return csv_stream([c.header for c in HOUSEHOLD_COLUMNS], household_rows(households, year, disclosure))


def members_csv(members: QuerySet[Member], disclosure: Disclosure) -> Iterator[str]:
    return csv_stream([c.header for c in MEMBER_COLUMNS], member_rows(members, disclosure))
