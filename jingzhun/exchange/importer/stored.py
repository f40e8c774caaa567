"""The records already stored that an import links to and compares with, loaded set-wise and compactly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, TypedDict

from django.db.models import QuerySet

from jingzhun.core.batching import chunked
from jingzhun.exchange.importer.rows import (
    CHUNK,
    DERIVED_YEAR_FIELDS,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    YEAR_FIELDS,
    HouseholdIn,
    RowIn,
    RowValues,
)
from jingzhun.registry.models import Household, HouseholdYear, Member, MemberStatus


class ActivePerson(TypedDict):
    """Where a person named by ID is active now: all that linking an import's rows needs."""

    id: int
    id_number: str
    household_id: int
    relationship: str
    name: str


class StoredRows:
    """Stored rows loaded for comparison, as RowValues sharing one key index, with their short strings
    (codes such as "01", "1") shared too.

    The database driver returns a new string for every cell and ``.values()`` a dict per row: at 170,000
    members that was over 300 MB for rows that are only read and compared."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = list(dict.fromkeys(fields))
        self.index = {name: i for i, name in enumerate(self.fields)}
        self.strings: dict[str, str] = {}

    def load(self, queryset: QuerySet[Any]) -> Iterator[RowValues]:
        seen = self.strings
        for values in queryset.values_list(*self.fields):
            data = [seen.setdefault(v, v) if v.__class__ is str and len(v) <= 4 else v for v in values]
            yield RowValues(self.index, data)


def existing_households(
    households: list[HouseholdIn], members: list[RowIn]
) -> tuple[dict[str, RowValues], dict[int, RowValues], dict[str, ActivePerson]]:
    """Existing households (by number and by id) and active members (by ID), queried set-wise: the
    households the rows name by 户编号, those whose head or member they name by ID, and where each person
    named is active now."""
    numbers = sorted({h.values["household_number"] for h in households if h.values.get("household_number")})
    numbers += sorted({m.values["household_number"] for m in members if m.values.get("household_number")})
    fields = ["id", "household_number", "village_id", "group_id", "status", *HOUSEHOLD_FIELDS]
    by_number: dict[str, RowValues] = {}
    stored = StoredRows(fields)
    for chunk in chunked(sorted(set(numbers)), CHUNK):
        for row in stored.load(Household.objects.unscoped().filter(household_number__in=chunk)):
            by_number[row["household_number"]] = row
    ids = {m.values["id_number"] for m in members if m.values.get("id_number")}
    ids |= {h.values["head_id_number"] for h in households if h.values.get("head_id_number")}
    # Only what linking needs: where each person is now (the full rows of the households being updated
    # are loaded once, by existing_members).
    by_id: dict[str, ActivePerson] = {}
    for chunk in chunked(sorted(ids), CHUNK):
        for person in (
            Member.objects.unscoped()
            .filter(id_number__in=chunk, status=MemberStatus.ACTIVE)
            .values("id", "id_number", "household_id", "relationship", "name")
        ):
            by_id[person["id_number"]] = person
    # Households found through their head's ID, and any household a member currently belongs to.
    household_ids = {m["household_id"] for m in by_id.values()}
    known_ids = {row["id"] for row in by_number.values()}
    missing = sorted(household_ids - known_ids)
    by_pk = {row["id"]: row for row in by_number.values()}
    for chunk in chunked(missing, CHUNK):
        for row in stored.load(Household.objects.unscoped().filter(pk__in=chunk)):
            by_pk[row["id"]] = row
            by_number[row["household_number"]] = row
    return by_number, by_pk, by_id


def existing_members(household_pks: list[int]) -> dict[int, list[RowValues]]:
    """The active members of the stored households the import updates, by household."""
    fields = [
        "id",
        "household_id",
        "member_number",
        "name",
        "relationship",
        "birth_date",
        "disability_category",
        "disability_grade",
        "village_code",
        "status",
    ]
    result: dict[int, list[RowValues]] = defaultdict(list)
    stored = StoredRows(fields + MEMBER_FIELDS)
    for chunk in chunked(household_pks, CHUNK):
        for row in stored.load(Member.objects.unscoped().filter(household_id__in=chunk, status=MemberStatus.ACTIVE)):
            result[row["household_id"]].append(row)
    return result


def existing_years(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], RowValues]:
    """The stored yearly records of (household id, year) pairs."""
    by_household: dict[int, set[int]] = defaultdict(set)
    for pk, year in pairs:
        by_household[pk].add(year)
    fields = ["id", "household_id", "year", *YEAR_FIELDS, *DERIVED_YEAR_FIELDS]
    result = {}
    stored = StoredRows(fields)
    for chunk in chunked(sorted(by_household), CHUNK):
        for row in stored.load(HouseholdYear.objects.unscoped().filter(household_id__in=chunk)):
            if row["year"] in by_household[row["household_id"]]:
                result[(row["household_id"], row["year"])] = row
    return result
