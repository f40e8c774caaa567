"""The query layer behind the search page: region filtering both ways, shares, keyset pages."""

from __future__ import annotations

import pytest
from django.db import connection

from jingzhun.accounts.roles import Role
from jingzhun.audit.models import AuditEntry
from jingzhun.audit.search import (
    Filters,
    keyset_page,
    narrow_prefix,
    region_filter,
    region_prefix,
    region_share,
    search,
)

pytestmark = pytest.mark.django_db


def test_region_prefix_and_narrowing():
    assert region_prefix("431102000000") == "431102"
    assert region_prefix("431102") == "431102"
    assert region_prefix("4311021") == "4311021"  # partial prefixes are searched as typed
    assert narrow_prefix("431102", "431102100") == "431102100"
    assert narrow_prefix("431102", "43") == "431102"
    assert narrow_prefix("431102", "431103") is None
    assert narrow_prefix("", "431103") == "431103"


@pytest.mark.parametrize("prefix", ["43", "431102", "431102100", "431102100201", "431103", "9"])
def test_broad_and_narrow_region_filters_agree(tree, prefix):
    plain = set(region_filter(AuditEntry.objects.all(), prefix).values_list("id", flat=True))
    hinted = set(region_filter(AuditEntry.objects.all(), prefix, broad=True).values_list("id", flat=True))
    assert plain == hinted
    expected = {e.pk for e in AuditEntry.objects.all() if e.region_code.startswith(prefix)}
    assert plain == expected


def test_broad_filter_keeps_sqlite_off_the_region_index(tree):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans by its own statistics")
    plan = region_filter(AuditEntry.objects.all(), "431102", broad=True).order_by("-id")[:51].explain()
    assert "audit_region_id" not in plan


def test_region_share_estimates(tree):
    assert region_share("4") == 1.0
    assert 0 < region_share("431102") < 1
    assert region_share("5") == 0.0


def test_search_combines_scope_and_filters(tree, make_user):
    auditor = make_user(Role.AUDITOR, tree.county)
    ids = set(search(auditor, Filters()).values_list("id", flat=True))
    assert ids == {e.pk for e in AuditEntry.objects.all() if e.region_code.startswith("431102")}
    assert not search(auditor, Filters(region="431103")).exists()
    assert not search(make_user(Role.VILLAGE, None), Filters()).exists()  # no scope, nothing


def test_keyset_page_edges(tree):
    qs = AuditEntry.objects.all()
    everything = list(qs.order_by("-id").values_list("id", flat=True))
    first = keyset_page(qs, size=5)
    assert [e.pk for e in first.entries] == everything[:5] and first.has_older and not first.has_newer
    last = keyset_page(qs, before=everything[-3], size=5)
    assert [e.pk for e in last.entries] == everything[-2:] and not last.has_older and last.has_newer
    newer = keyset_page(qs, after=everything[5], size=5)
    assert [e.pk for e in newer.entries] == everything[:5] and not newer.has_newer
    assert keyset_page(qs.none()).single
