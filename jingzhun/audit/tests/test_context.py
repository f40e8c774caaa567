"""Who and which request: one request id per action, so a bulk action is one correlated set."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from jingzhun.accounts.roles import Role
from jingzhun.audit.context import audit_context, audit_reason, current
from jingzhun.audit.models import Action, AuditChainHead, AuditEntry
from jingzhun.audit.tests.helpers import verify
from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind

pytestmark = pytest.mark.django_db


def test_saves_in_one_context_share_the_request_id(tree, make_user):
    actor = make_user(Role.COUNTY_ADMIN, tree.county)
    start = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    with audit_context(actor, source="import", reason="批量导入") as ctx:
        for code in tree.villages:
            r = Region.objects.unscoped().get(code=code)
            r.name += "（新）"
            r.save()
        RegionFlag.objects.create(region_id=tree.village_a1, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    batch = list(AuditEntry.objects.filter(id__gt=start))
    assert len(batch) == 5
    assert {e.request_id for e in batch} == {ctx.request_id}
    assert {(e.actor_id, e.source, e.reason) for e in batch} == {(actor.pk, "import", "批量导入")}
    assert AuditEntry.objects.filter(request_id=ctx.request_id).count() == 5


def test_separate_contexts_get_separate_request_ids(tree):
    ids = []
    for name in ("一", "二"):
        with audit_context(None) as ctx:
            r = Region.objects.unscoped().get(code=tree.village_a1)
            r.name = name
            r.save()
            ids.append(ctx.request_id)
    assert ids[0] != ids[1]
    assert set(AuditEntry.objects.order_by("-id").values_list("request_id", flat=True)[:2]) == set(ids)


def test_audit_reason_keeps_actor_and_request(tree):
    with audit_context(None, request_id=uuid.UUID(int=7)):
        with audit_reason("更正"):
            assert current().reason == "更正" and current().request_id == uuid.UUID(int=7)
        assert current().reason == ""


@pytest.mark.urls("jingzhun.audit.tests.urls")
def test_web_request_writes_carry_the_user_and_the_request_id(client, tree, make_user):
    user = make_user(Role.COUNTY_ADMIN, tree.county, username="county1")
    client.force_login(user)
    start = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    response = client.post(f"/test/rename/{tree.village_a1}/", {"name": "网页改名"}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    batch = list(AuditEntry.objects.filter(id__gt=start).order_by("id"))
    assert [(e.object_type, e.action) for e in batch] == [
        ("regions.region", Action.UPDATE),
        ("regions.regionflag", Action.CREATE),
    ]
    request_id = uuid.UUID(response["X-Request-ID"])
    for e in batch:
        assert (e.actor_id, e.actor_username, e.source) == (user.pk, "county1", "web")
        assert e.request_id == request_id
        assert e.remote_addr == "10.1.2.3"


@pytest.mark.urls("jingzhun.audit.tests.urls")
def test_failed_web_request_leaves_neither_change_nor_entry(client, tree, make_user):
    client.force_login(make_user(Role.COUNTY_ADMIN, tree.county))
    count = AuditEntry.objects.count()
    head = AuditChainHead.objects.get()
    client.raise_request_exception = False
    response = client.post(f"/test/rename/{tree.village_a1}/", {"name": "网页改名", "fail": "1"})
    assert response.status_code == 500
    assert Region.objects.unscoped().get(code=tree.village_a1).name == "甲一村"
    assert not RegionFlag.objects.unscoped().exists()
    assert AuditEntry.objects.count() == count
    assert AuditChainHead.objects.get().last_hash == head.last_hash


def test_rollback_removes_the_change_and_its_entry(tree):
    count = AuditEntry.objects.count()
    head = AuditChainHead.objects.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        r = Region.objects.unscoped().get(code=tree.village_a1)
        r.name = "不会保存"
        r.save()
        assert AuditEntry.objects.count() == count + 1  # written in the same transaction
        raise RuntimeError
    assert Region.objects.unscoped().get(code=tree.village_a1).name == "甲一村"
    assert AuditEntry.objects.count() == count
    assert AuditChainHead.objects.get().last_hash == head.last_hash
    # The chain continues from the head as it was: on PostgreSQL the rolled-back id is a gap, not a break.
    r = Region.objects.unscoped().get(code=tree.village_a1)
    r.name = "保存了"
    r.save()
    passed, output = verify()
    assert passed, output


def test_entry_times_never_run_backwards_along_the_chain(tree):
    times = list(AuditEntry.objects.order_by("id").values_list("timestamp", flat=True))
    assert times == sorted(times)
    head = AuditChainHead.objects.get()
    assert head.last_timestamp == times[-1]
