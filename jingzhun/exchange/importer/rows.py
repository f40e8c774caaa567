"""The rows an import works on: values read from a sheet (or loaded from the database) and what the
later phases attach to them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jingzhun.exchange.layout import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, Column, export_value

CHUNK = 2000  # rows per query (IN list) and per bulk write

HOUSEHOLD_FIELDS = [c.key for c in HOUSEHOLD_COLUMNS if c.target == "household" and c.key != "region_code"]
YEAR_FIELDS = [c.key for c in HOUSEHOLD_COLUMNS if c.target == "year" and c.key != "year"]
MEMBER_FIELDS = [c.key for c in MEMBER_COLUMNS if c.target == "member" and c.key != "member_number"]
DERIVED_YEAR_FIELDS = ["member_count", "total_income", "net_income", "per_capita_net_income"]
# Set on member rows after parsing, from the ID number (birth date, and a 残疾人证号's category and grade).
DERIVED_ROW_KEYS = ["birth_date", "id_type", "disability_category", "disability_grade"]

ABSENT = object()  # a RowValues slot with no value (the cell failed to convert, or the key was never set)


class RowValues:
    """A parsed row's values: read and written like a dict, stored as one list per row against an index
    of keys shared by every row of the sheet.

    A dict per row cost about 1.6 KB (members) to 3 KB (households) in hash table alone: at 220,000 rows,
    some 400 MB of a 50,000-household import's memory. A key missing from the index (set after parsing)
    goes to a small dict of its own."""

    __slots__ = ("_data", "_extra", "_index")

    def __init__(self, index: dict[str, int], data: list[Any]) -> None:
        self._index = index
        self._data = data
        self._extra: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        i = self._index.get(key)
        if i is not None:
            value = self._data[i]
            if value is not ABSENT:
                return value
        elif self._extra is not None and key in self._extra:
            return self._extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        i = self._index.get(key)
        if i is not None:
            value = self._data[i]
            return default if value is ABSENT else value
        return default if self._extra is None else self._extra.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        i = self._index.get(key)
        if i is not None:
            self._data[i] = value
        else:
            if self._extra is None:
                self._extra = {}
            self._extra[key] = value

    def __contains__(self, key: object) -> bool:
        i = self._index.get(key)  # type: ignore[call-overload]
        if i is not None:
            return self._data[i] is not ABSENT
        return self._extra is not None and key in self._extra

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        self[key] = default
        return default

    def keys(self) -> list[str]:
        found = [k for k, i in self._index.items() if self._data[i] is not ABSENT]
        return found + list(self._extra or ())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def clear(self) -> None:
        self._index, self._data, self._extra = {}, [], None


Mapping.register(RowValues)  # read as a mapping by the data-quality facts (quality.facts.value_of)


@dataclass(eq=False)
class RowIn:
    """One parsed row. Only the converted values are kept (not the cells as read): at 200,000 rows the
    cells alone would cost hundreds of MB. A cell that fails to convert is reported with its raw text at
    once; later findings show the value as the sheet would (labels for codes, 是/否 for flags)."""

    sheet: str
    row: int
    values: RowValues
    columns: dict[str, Column]
    member_pk: int | None = None  # set for member rows: the id of the Member it updates or created
    wanted: dict[str, Any] | None = None  # the record's fields as made for the quality rules, for the plan

    def raw_text(self, key: str) -> str:
        column = self.columns.get(key)
        value = self.values.get(key)
        return "" if column is None else str(export_value(column, value))


@dataclass(eq=False)
class HouseholdIn(RowIn):
    members: list[RowIn] = field(default_factory=list)
    kept_members: list[RowValues] = field(default_factory=list)  # stored members not in the file
    violations: list[Any] = field(default_factory=list)  # data-quality findings (warnings are recorded)
    year_values: dict[str, Any] | None = None  # the yearly record with derived income, once computed
    existing: RowValues | None = None  # current household fields, when it exists
    village_code: str = ""
    group_code: str | None = None
    number: str = ""
    pk: int | None = None  # the Household's id: the existing one's, or the new one's once written
    changed: bool = False  # the plan creates or changes the household, one of its members or its year
