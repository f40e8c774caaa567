"""Lookups over policy data: code labels and choices by year, the income formula and lines in force."""

from __future__ import annotations

import time
import unicodedata
from decimal import Decimal
from functools import lru_cache

from django.db.models.signals import post_delete, post_save

from jingzhun.policy.income import IncomeFormulaSpec
from jingzhun.policy.models import CodeItem, CodeTable, IncomeFormula, PovertyLine

# Code tables are small and read on every page; each process keeps them for a short while. Edits clear this
# process's copy at once; other worker processes pick them up within CACHE_SECONDS.
CACHE_SECONDS = 30
_cache_loaded_at = 0.0

Item = tuple[str, str, int | None, int | None]  # code, label, valid_from, valid_to


def _all_items() -> dict[str, list[Item]]:
    """Every lookup passes here first, so each cached view of the policy data expires with the others."""
    global _cache_loaded_at
    now = time.monotonic()
    if now - _cache_loaded_at > CACHE_SECONDS:
        clear_cache()
        _cache_loaded_at = now
    return _load_items()


@lru_cache(maxsize=1)
def _load_items() -> dict[str, list[Item]]:
    tables: dict[str, list[Item]] = {}
    for key, code, label, vf, vt in (
        CodeItem.objects.select_related("table")
        .values_list("table__key", "code", "label", "valid_from", "valid_to")
        .order_by("table__key", "sort_order", "code")
    ):
        tables.setdefault(key, []).append((code, label, vf, vt))
    return tables


@lru_cache(maxsize=1)
def _items_by_code() -> dict[str, dict[str, Item]]:
    """table → code → item: labels and validity of single codes are looked up per row and per cell."""
    return {table: {item[0]: item for item in items} for table, items in _load_items().items()}


def clear_cache(*_args: object, **_kwargs: object) -> None:
    _load_items.cache_clear()
    _items_by_code.cache_clear()
    _label_index.cache_clear()
    _formulas.cache_clear()
    _lines.cache_clear()


for _model in (CodeItem, CodeTable, IncomeFormula, PovertyLine):
    post_save.connect(clear_cache, sender=_model, dispatch_uid=f"policy-cache-save-{_model.__name__}")
    post_delete.connect(clear_cache, sender=_model, dispatch_uid=f"policy-cache-del-{_model.__name__}")


def _in_force(valid_from: int | None, valid_to: int | None, year: int | None) -> bool:
    return year is None or ((valid_from is None or valid_from <= year) and (valid_to is None or year <= valid_to))


def choices(table: str, year: int | None = None, *, blank: bool = True) -> list[tuple[str, str]]:
    """(code, label) pairs valid in ``year`` for a form select."""
    items = [(code, label) for code, label, vf, vt in _all_items().get(table, []) if _in_force(vf, vt, year)]
    return ([("", "---------")] if blank else []) + items


def labels(table: str) -> dict[str, str]:
    return {code: label for code, label, _vf, _vt in _all_items().get(table, [])}


def label(table: str, code: str | None) -> str:
    if not code:
        return ""
    _all_items()
    item = _items_by_code().get(table, {}).get(code)
    return item[1] if item is not None else code


def is_valid(table: str, code: str, year: int | None = None) -> bool:
    _all_items()
    item = _items_by_code().get(table, {}).get(code)
    return item is not None and _in_force(item[2], item[3], year)


def _fold(text: str) -> str:
    """Compare labels whatever the width of brackets and spaces (（） vs (), full-width digits)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@lru_cache(maxsize=1)
def _label_index() -> dict[str, dict[str, str]]:
    """table → {code or folded label → code}: imports look up millions of cells, so no scan per call."""
    index: dict[str, dict[str, str]] = {}
    for table, items in _load_items().items():
        lookup = index.setdefault(table, {})
        for code, lab, _vf, _vt in items:
            lookup.setdefault(_fold(lab), code)
        for code, _lab, _vf, _vt in items:
            lookup[code] = code  # a code always wins over a label that happens to look like one
    return index


def code_for_label(table: str, text: str) -> str | None:
    """Accept either a code or its label (imports and forms from spreadsheets use labels)."""
    _all_items()
    return _label_index().get(table, {}).get(_fold(text or ""))


def formula_for(year: int, region_code: str = "") -> IncomeFormulaSpec:
    """The income formula in force: the most specific region prefix, then the latest year_from ≤ year."""
    _all_items()
    return best_formula(_formulas(), year, region_code)


def load_formulas() -> list[tuple[str, int, IncomeFormulaSpec]]:
    """Every configured formula as (region prefix, year_from, spec): a county has a handful."""
    return [(f.region_prefix, f.year_from, f.spec()) for f in IncomeFormula.objects.all()]


def load_lines() -> dict[tuple[str, int], list[tuple[str, Decimal]]]:
    """(kind, year) → [(region prefix, amount)]: a few dozen rows."""
    lines: dict[tuple[str, int], list[tuple[str, Decimal]]] = {}
    for kind, year, prefix, amount in PovertyLine.objects.values_list("kind", "year", "region_prefix", "amount"):
        lines.setdefault((kind, year), []).append((prefix, amount))
    return lines


def best_formula(formulas: list[tuple[str, int, IncomeFormulaSpec]], year: int, region_code: str) -> IncomeFormulaSpec:
    """Of ``load_formulas()``: the most specific region prefix, then the latest year_from ≤ year."""
    candidates = [
        (len(prefix), year_from, spec)
        for prefix, year_from, spec in formulas
        if year_from <= year and region_code.startswith(prefix)
    ]
    if not candidates:
        return IncomeFormulaSpec()
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


Lines = dict[tuple[str, int], list[tuple[str, Decimal]]]


def best_line(lines: Lines, kind: str, year: int, region_code: str) -> Decimal | None:
    """Of ``load_lines()``: the line of ``kind`` for ``year`` with the most specific region prefix."""
    matches = [(prefix, amount) for prefix, amount in lines.get((kind, year), []) if region_code.startswith(prefix)]
    if not matches:
        return None
    return max(matches, key=lambda pa: len(pa[0]))[1]


# Loaded once per cache period (see _all_items).
_formulas = lru_cache(maxsize=1)(load_formulas)
_lines = lru_cache(maxsize=1)(load_lines)


def poverty_line(kind: str, year: int, region_code: str = "") -> Decimal | None:
    """The line of ``kind`` in force in ``year`` for a region: the most specific region prefix wins."""
    _all_items()
    return best_line(_lines(), kind, year, region_code)
