"""Validate: every row checked, each problem an issue naming its row and column.

Member rows are joined to their household rows (by 户编号, else 户主证件号码) and rows to the stored
records they update; then IDs, one 户主, 家庭人口数 = members, one active household per person, and the
importing user's scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from jingzhun.core import codes as region_codes
from jingzhun.core.batching import chunked
from jingzhun.exchange.importer.report import Issue
from jingzhun.exchange.importer.rows import CHUNK, HouseholdIn, RowIn, RowValues
from jingzhun.exchange.importer.stored import ActivePerson, existing_households
from jingzhun.regions.models import Region
from jingzhun.registry.idcard import IdNumberError, normalize_identifier, parse_id_number
from jingzhun.registry.models import HEAD_RELATIONSHIP, Household


def _issue(row: RowIn, key: str, message: str, issues: list[Issue]) -> None:
    column = row.columns.get(key)
    header = column.header if column else key
    issues.append(Issue(row.sheet, row.row, header, row.raw_text(key), message))


def _validate_head_ids(rows: Iterable[RowIn], issues: list[Issue]) -> None:
    """户主证件号码 wherever a row carries it (household sheet, and the member sheet's link column), so a
    mistyped head ID is reported at every cell at once, not one cell per upload. Rows keep the value,
    normalised: linking compares it so."""
    today = dt.date.today()
    checked: dict[str, str | None] = {}  # number → error message (None: valid); heads repeat on member rows
    for row in rows:
        number = row.values.get("head_id_number")
        if not number:
            continue
        number = row.values["head_id_number"] = normalize_identifier(number)
        if number not in checked:
            try:
                parse_id_number(number, today=today)
                checked[number] = None
            except IdNumberError as exc:
                checked[number] = str(exc)
        error = checked[number]
        if error is not None:
            _issue(row, "head_id_number", error, issues)


def _validate_ids(rows: list[RowIn], issues: list[Issue]) -> None:
    """Each member's ID (checksum, birth date) — the birth date is derived from it, never typed."""
    today = dt.date.today()
    for row in rows:
        number = row.values.get("id_number")
        if not number:
            continue
        number = row.values["id_number"] = normalize_identifier(number)
        try:
            info = parse_id_number(number, today=today)
        except IdNumberError as exc:
            _issue(row, "id_number", str(exc), issues)
            row.values["id_number"] = ""
            continue
        row.values["birth_date"] = info.birth_date
        if info.is_disability_certificate:
            row.values.setdefault("disability_category", info.disability_category)
            row.values.setdefault("disability_grade", info.disability_grade)
            if not row.values.get("id_type"):
                row.values["id_type"] = "2"
        elif not row.values.get("id_type"):
            row.values["id_type"] = "1"
        # Sex against the ID is data-quality rule 2_01_004, checked with the other rules (quality_issues).


def _resolve_regions(households: list[HouseholdIn], scope_prefix: str, issues: list[Issue]) -> None:
    wanted: set[str] = set()
    for h in households:
        code = h.values.get("region_code") or ""
        try:
            code = region_codes.normalize_code(code) if code else ""
        except region_codes.CodeError as exc:
            _issue(h, "region_code", str(exc), issues)
            code = ""
        h.values["region_code"] = code
        if code:
            wanted.add(code)
    known: dict[str, int] = {}
    in_scope: set[str] = set()
    for chunk in chunked(sorted(wanted), CHUNK):
        known.update(Region.objects.unscoped().filter(code__in=chunk).values_list("code", "level"))
        in_scope.update(Region.objects.in_region(scope_prefix).filter(code__in=chunk).values_list("code", flat=True))
    for h in households:
        code = h.values["region_code"]
        if not code:
            continue
        level = known.get(code)
        if level is None:
            _issue(h, "region_code", "行政区划代码不存在", issues)
        elif level not in (region_codes.Level.VILLAGE, region_codes.Level.GROUP):
            _issue(h, "region_code", "应填写村或村民小组的区划代码", issues)
        elif code not in in_scope:
            _issue(h, "region_code", "该村不在您的管辖范围内", issues)
        else:
            h.village_code = code[:12]
            h.group_code = code if level == region_codes.Level.GROUP else None


def _households_in_scope(household_pks: Iterable[int], scope_prefix: str) -> set[int]:
    """The stored households among ``household_pks`` that lie within the importing user's scope."""
    found: set[int] = set()
    for chunk in chunked(sorted(household_pks), CHUNK):
        found.update(Household.objects.in_region(scope_prefix).filter(pk__in=chunk).values_list("id", flat=True))
    return found


def link_and_validate(
    households: list[HouseholdIn], members: list[RowIn], scope_prefix: str, issues: list[Issue]
) -> dict[int, list[RowIn]]:
    """Check the rows and link them to each other and to the stored records; returns the member rows of
    stored households the household sheet does not carry, by household id."""
    _validate_ids(members, issues)
    _validate_head_ids([*households, *members], issues)
    _resolve_regions(households, scope_prefix, issues)
    by_number, by_pk, by_id = existing_households(households, members)
    in_scope = _households_in_scope(by_pk, scope_prefix)

    # Which existing household each household row is.
    file_numbers: dict[str, HouseholdIn] = {}
    file_heads: dict[str, HouseholdIn] = {}
    for h in households:
        number = h.values.get("household_number") or ""
        head_id = h.values.get("head_id_number") or ""
        if number:
            if number in file_numbers:
                _issue(h, "household_number", f"户编号重复（与第 {file_numbers[number].row} 行相同）", issues)
                continue
            file_numbers[number] = h
            h.existing = by_number.get(number)
        if head_id:
            if head_id in file_heads:
                _issue(h, "head_id_number", f"户主证件号码重复（与第 {file_heads[head_id].row} 行相同）", issues)
                continue
            file_heads[head_id] = h
        if h.existing is None and head_id in by_id and by_id[head_id]["relationship"] == HEAD_RELATIONSHIP:
            h.existing = by_pk.get(by_id[head_id]["household_id"])
            if number and h.existing and h.existing["household_number"] != number:
                _issue(h, "household_number", f"户主已在户 {h.existing['household_number']} 中，户编号不一致", issues)
        if h.existing is not None:
            h.number = h.existing["household_number"]
            if h.existing["id"] not in in_scope:
                _issue(h, "region_code", "该户现属村不在您的管辖范围内", issues)
        else:
            h.number = number

    # Member rows to their household rows; a member row may also update a household not in the file.
    seen_ids: dict[str, RowIn] = {}
    orphan_members: dict[int, list[RowIn]] = defaultdict(list)
    for m in members:
        number = m.values.get("household_number") or ""
        head_id = m.values.get("head_id_number") or ""
        id_number = m.values.get("id_number") or ""
        if id_number:
            if id_number in seen_ids:
                _issue(
                    m,
                    "id_number",
                    f"同一人在文件中出现两次（与{seen_ids[id_number].sheet} 第 {seen_ids[id_number].row} 行相同）",
                    issues,
                )
                continue
            seen_ids[id_number] = m
        target = file_numbers.get(number) if number else None
        if target is None and head_id:
            target = file_heads.get(head_id)
        if target is not None:
            target.members.append(m)
            continue
        existing = by_number.get(number) if number else None
        if existing is None and head_id in by_id:
            existing = by_pk.get(by_id[head_id]["household_id"])
        if existing is None:
            _issue(m, "household_number" if number else "head_id_number", "找不到该成员所属的户", issues)
        elif existing["id"] not in in_scope:
            _issue(m, "household_number", "该户不在您的管辖范围内", issues)
        else:
            orphan_members[existing["id"]].append(m)

    # One active household per person: a member may only be active in the household the row puts them in.
    for h in households:
        own_pk = h.existing["id"] if h.existing else None
        for m in h.members:
            _check_not_active_elsewhere(m, own_pk, by_id, by_pk, issues)
    for pk, rows in orphan_members.items():
        for m in rows:
            _check_not_active_elsewhere(m, pk, by_id, by_pk, issues)
    return orphan_members


def _check_not_active_elsewhere(
    m: RowIn,
    household_pk: int | None,
    by_id: dict[str, ActivePerson],
    by_pk: dict[int, RowValues],
    issues: list[Issue],
) -> None:
    current = by_id.get(m.values.get("id_number") or "")
    if current is not None and current["household_id"] != household_pk:
        stored = by_pk.get(current["household_id"])
        other = stored["household_number"] if stored is not None else ""
        _issue(m, "id_number", f"此人已在户 {other}（{current['name']}）中在册，同一人只能在一个户中", issues)


def check_structure(
    households: list[HouseholdIn], existing_members: dict[int, list[RowValues]], issues: list[Issue]
) -> None:
    """Exactly one 户主, 家庭人口数 = active members after the import, head ID and name agree with the head row."""
    for h in households:
        in_file = {m.values.get("id_number") for m in h.members}
        kept = [e for e in existing_members.get(h.existing["id"], [])] if h.existing else []
        kept = [e for e in kept if e["id_number"] not in in_file]
        h.kept_members = kept
        relationships = [m.values.get("relationship") for m in h.members] + [e["relationship"] for e in kept]
        heads = [m for m in h.members if m.values.get("relationship") == HEAD_RELATIONSHIP]
        head_count = relationships.count(HEAD_RELATIONSHIP)
        if head_count == 0:
            _issue(h, "head_name", "该户没有户主（成员表中与户主关系为“户主”的成员）", issues)
        elif head_count > 1:
            _issue(h, "head_name", f"该户有 {head_count} 名户主，只能有一名", issues)
        size = h.values.get("household_size")
        actual = len(h.members) + len(kept)
        if size is not None and size != actual:
            _issue(h, "household_size", f"家庭人口数为 {size}，但成员为 {actual} 人", issues)
        if len(heads) == 1:
            head = heads[0]
            head_id = h.values.get("head_id_number")
            if head_id and head.values.get("id_number") and head_id != head.values["id_number"]:
                _issue(h, "head_id_number", "户主证件号码与成员表中户主的证件号码不一致", issues)
            if h.values.get("head_name") and head.values.get("name") and h.values["head_name"] != head.values["name"]:
                _issue(h, "head_name", f"户主姓名与成员表中户主姓名“{head.values['name']}”不一致", issues)


def check_member_only_updates(
    orphans: dict[int, list[RowIn]], existing_members: dict[int, list[RowValues]], issues: list[Issue]
) -> None:
    """Member rows for households not in the household sheet must not leave them with two 户主."""
    for pk, rows in orphans.items():
        in_file = {m.values.get("id_number") for m in rows}
        kept = [e for e in existing_members.get(pk, []) if e["id_number"] not in in_file]
        heads = [m for m in rows if m.values.get("relationship") == HEAD_RELATIONSHIP]
        heads_kept = sum(1 for e in kept if e["relationship"] == HEAD_RELATIONSHIP)
        if heads and len(heads) + heads_kept > 1:
            _issue(heads[0], "relationship", "该户已有户主，一户只能有一名户主", issues)
