"""The URL × role × scope matrix: every URL of the project, requested by every role, inside its scope and
in the canary county, with the status its access class promises and never a trace of the canary.

How a context classifies its URLs: every URL pattern (``django.urls.get_resolver()``, nested includes
walked) needs an entry in ENDPOINTS under its full name (``namespace:name``; an unnamed pattern under its
route). One test fails while a pattern has no entry, another while an entry has no pattern left. An
entry says

- ``get`` / ``post``: the Rule for each method — its access class (who is admitted, and whether it looks
  one object up by key) and the status an admitted role gets in scope. ``get=None`` marks a POST-only
  endpoint (GET answers 405); ``post`` is set for endpoints that change something (they are posted empty,
  CSRF not enforced, inside a savepoint that is rolled back, so nothing a POST does reaches the next
  request);
- ``inside``: how to build kwargs and query for an object the requesting user may see (None when their
  scope holds nothing of the kind), and ``outside``: the same in the canary county (matrix_fixtures.py
  builds both; add there what a new context needs). A list's ``outside`` asks for the canary county
  through its filters.

The expected status follows from the class: admitted roles get the Rule's status in scope and 404 for a
keyed object outside it (lists: the Rule's ``outside`` status, else the same as in scope); other roles 403
(or 404, when the view looks the object up before it checks the role); anonymous users are sent to the
login page unless the class is PUBLIC; a logged-in user without a scope gets 403 everywhere except the few
pages in NEEDS_NO_SCOPE (their own account, logging out, the language). Whatever the status, no response
may contain the canary's household number, member name or ID number, village name or code, group, or
username — in HTML, CSV, XLSX or PDF, headers included — unless the request itself carried it. A leak
found and not yet fixed goes into KNOWN_LEAKS, which turns its requests into a strict xfail until the fix
lands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern
from django.utils.http import urlencode

from jingzhun.accounts.models import User
from jingzhun.accounts.roles import (
    AUDIT_READER_ROLES,
    PERSONAL_DATA_ROLES,
    READ_ONLY_ROLES,
    REFERENCE_DATA_ROLES,
    USER_MANAGER_ROLES,
    Role,
)
from jingzhun.core.scope import can_see_code
from jingzhun.policy.models import CodeItem, CodeTable, IncomeFormula, PovertyLine
from jingzhun.portal.tests.matrix_fixtures import RECORD_YEAR, MatrixWorld, build_world
from jingzhun.portal.tests.response_text import response_text, spellings

pytestmark = pytest.mark.django_db

ALL_ROLES = frozenset(Role.values)
WRITER_ROLES = ALL_ROLES - READ_ONLY_ROLES
ANONYMOUS = "anonymous"


# ----------------------------------------------------------------------------------------- access classes


@dataclass(frozen=True)
class AccessClass:
    name: str
    roles: frozenset[str]  # who is admitted
    keyed: bool  # looks one object up by key: outside the user's scope it does not exist (404)
    public: bool = False  # answers without logging in; everything else sends anonymous users to log in


PUBLIC = AccessClass("PUBLIC", ALL_ROLES, keyed=False, public=True)  # login page, set language
ANY_USER = AccessClass("ANY_USER", ALL_ROLES, keyed=False)  # logged in, nothing scoped: my account, home
SCOPED_LIST = AccessClass("SCOPED_LIST", ALL_ROLES, keyed=False)  # lists and exports filtered by scope
SCOPED_OBJECT = AccessClass("SCOPED_OBJECT", ALL_ROLES, keyed=True)  # region, household, member, job …
WRITE = AccessClass("WRITE", WRITER_ROLES, keyed=False)  # a new record or upload: read-only roles 403
WRITE_OBJECT = AccessClass("WRITE_OBJECT", WRITER_ROLES, keyed=True)  # edit forms and POST endpoints
REFERENCE_DATA = AccessClass("REFERENCE_DATA", REFERENCE_DATA_ROLES, keyed=False)  # policy, region import
REFERENCE_DATA_OBJECT = AccessClass("REFERENCE_DATA_OBJECT", REFERENCE_DATA_ROLES, keyed=True)  # region edit
# Code tables and national policy items: only an administrator without a scope region changes them
# (policy.permissions), and every user here has one.
NATIONAL_DATA = AccessClass("NATIONAL_DATA", frozenset(), keyed=False)
USER_MANAGER = AccessClass("USER_MANAGER", USER_MANAGER_ROLES, keyed=False)
USER_MANAGER_OBJECT = AccessClass("USER_MANAGER_OBJECT", USER_MANAGER_ROLES, keyed=True)
AUDIT_READER = AccessClass("AUDIT_READER", AUDIT_READER_ROLES, keyed=False)
AUDIT_READER_OBJECT = AccessClass("AUDIT_READER_OBJECT", AUDIT_READER_ROLES, keyed=True)
# A page's "显示完整号码" (a POST to the page itself): the roles that may see personal data in full.
REVEAL_OBJECT = AccessClass("REVEAL_OBJECT", PERSONAL_DATA_ROLES, keyed=True)


@dataclass(frozen=True)
class Rule:
    access: AccessClass
    ok: int = 200  # an admitted role, in scope (empty POST: usually the form again with its errors)
    outside: int | None = None  # an admitted role, canary target: default 404 if keyed, else ``ok``

    def expected(self, role: str, inside: bool) -> set[int]:
        admitted = role in self.access.roles
        if inside:
            return {self.ok} if admitted else {403}
        if not admitted:
            # Refused either way; whether the role or the lookup is checked first reveals nothing.
            return {403, 404} if self.access.keyed else {403}
        if self.outside is not None:
            return {self.outside}
        return {404} if self.access.keyed else {self.ok}


Query = Mapping[str, str | int]


@dataclass(frozen=True)
class Target:
    kwargs: Mapping[str, object] = field(default_factory=dict)
    query: Query = field(default_factory=dict)


Build = Callable[[MatrixWorld, User], "Target | None"]


def no_args(world: MatrixWorld, user: User) -> Target:
    return Target()


@dataclass(frozen=True)
class Endpoint:
    get: Rule | None  # None: POST only
    post: Rule | None = None
    inside: tuple[Build, ...] = (no_args,)
    outside: tuple[Build, ...] = ()
    anonymous: int | None = None  # PUBLIC endpoints: the status without logging in, if not the Rule's


# ----------------------------------------------------------------------------------------- targets


def scope_region(w: MatrixWorld, u: User) -> Target:
    return Target({"code": u.scope_region_id})


def village(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.tree.village_a1})


def village_year(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.tree.village_a1, "year": RECORD_YEAR})


def township(w: MatrixWorld, u: User) -> Target | None:
    code = w.tree.township_a
    return Target({"code": code}) if can_see_code(u, code) else None


def household(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.household.pk})


def household_year(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.household.pk, "year": RECORD_YEAR})


def head(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.head.pk})


def returnee(w: MatrixWorld, u: User) -> Target:
    """A person who left the household, registered again in the canary county under the same ID number."""
    return Target({"pk": w.returnee.pk})


def mover_household(w: MatrixWorld, u: User) -> Target:
    """The household a member was moved from into the canary household."""
    return Target({"pk": w.mover_household.pk})


def mover(w: MatrixWorld, u: User) -> Target:
    """The closed row of the member moved into the canary household."""
    return Target({"pk": w.mover.pk})


def all_entries(w: MatrixWorld, u: User) -> Target:
    return Target()


def household_entries(w: MatrixWorld, u: User) -> Target:
    """The log narrowed to the household: without the cross-county move's entries (see KNOWN_LEAKS)."""
    return Target(query={"object_type": "registry.household", "object_id": str(w.household.pk)})


def managed_user(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.target_user.pk})


def own_import(w: MatrixWorld, u: User) -> Target:
    return Target({"job_id": w.import_jobs[u.role].pk})


def own_export(w: MatrixWorld, u: User) -> Target:
    return Target({"job_id": w.export_jobs[u.role].pk})


def audit_entry(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.audit_entry.pk})


def household_history(w: MatrixWorld, u: User) -> Target:
    return Target({"object_type": "registry.household", "object_id": str(w.household.pk)})


def flag(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.tree.village_a1, "pk": w.flag.pk})


def village_groups(w: MatrixWorld, u: User) -> Target:
    return Target(query={"village": w.tree.village_a1})


def code_table(w: MatrixWorld, u: User) -> Target:
    return Target({"key": CodeTable.objects.order_by("key").values_list("key", flat=True)[0]})


def code_item(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": CodeItem.objects.order_by("pk").values_list("pk", flat=True)[0]})


def poverty_line(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": PovertyLine.objects.order_by("pk").values_list("pk", flat=True)[0]})


def income_formula(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": IncomeFormula.objects.order_by("pk").values_list("pk", flat=True)[0]})


# The canary county's counterparts.


def canary_village(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.canary.codes.village})


def canary_county(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.canary.codes.county})


def canary_village_year(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.canary.codes.village, "year": RECORD_YEAR})


def canary_township(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.canary.codes.township})


def canary_household(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.canary.household.pk})


def canary_household_year(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.canary.household.pk, "year": RECORD_YEAR})


def canary_member(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.canary.member.pk})


def canary_user(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.canary.user.pk})


def canary_import(w: MatrixWorld, u: User) -> Target:
    return Target({"job_id": w.canary.import_job.pk})


def canary_export(w: MatrixWorld, u: User) -> Target:
    return Target({"job_id": w.canary.export_job.pk})


def canary_audit_entry(w: MatrixWorld, u: User) -> Target:
    return Target({"pk": w.canary.audit_entry.pk})


def canary_history(w: MatrixWorld, u: User) -> Target:
    return Target({"object_type": "registry.household", "object_id": str(w.canary.household.pk)})


def canary_flag(w: MatrixWorld, u: User) -> Target:
    return Target({"code": w.canary.codes.village, "pk": w.canary.flag.pk})


def canary_groups(w: MatrixWorld, u: User) -> Target:
    """The group select's fragment asked for the canary village's 村民小组."""
    return Target(query={"village": w.canary.codes.village})


def canary_filter(w: MatrixWorld, u: User) -> Target:
    """A list filtered to the canary village."""
    return Target(query={"region": w.canary.codes.village, "year": RECORD_YEAR})


def canary_search(w: MatrixWorld, u: User) -> Target:
    """A list searched for the canary household (the number is echoed; the rest must not show)."""
    return Target(query={"q": w.canary.codes.household_number, "year": RECORD_YEAR, "status": "all"})


def canary_user_search(w: MatrixWorld, u: User) -> Target:
    return Target(query={"q": w.canary.codes.username})


# ----------------------------------------------------------------------------------------- the table

CANARY_LIST = (canary_filter, canary_search)

ENDPOINTS: dict[str, Endpoint] = {
    "portal:home": Endpoint(Rule(ANY_USER)),
    # accounts
    "accounts:login": Endpoint(Rule(PUBLIC, ok=302), anonymous=200),  # a logged-in user is sent home
    "accounts:logout": Endpoint(None, post=Rule(ANY_USER, ok=302)),
    "accounts:my_account": Endpoint(Rule(ANY_USER), post=Rule(ANY_USER)),
    "accounts:user_list": Endpoint(Rule(USER_MANAGER), outside=(canary_user_search,)),
    "accounts:user_create": Endpoint(Rule(USER_MANAGER), post=Rule(USER_MANAGER)),
    "accounts:user_detail": Endpoint(Rule(USER_MANAGER_OBJECT), inside=(managed_user,), outside=(canary_user,)),
    "accounts:user_edit": Endpoint(
        Rule(USER_MANAGER_OBJECT), post=Rule(USER_MANAGER_OBJECT), inside=(managed_user,), outside=(canary_user,)
    ),
    "accounts:user_password": Endpoint(
        Rule(USER_MANAGER_OBJECT), post=Rule(USER_MANAGER_OBJECT), inside=(managed_user,), outside=(canary_user,)
    ),
    "accounts:user_deactivate": Endpoint(
        Rule(USER_MANAGER_OBJECT),
        post=Rule(USER_MANAGER_OBJECT, ok=302),
        inside=(managed_user,),
        outside=(canary_user,),
    ),
    "accounts:user_reactivate": Endpoint(  # the target is active: back to their page
        Rule(USER_MANAGER_OBJECT, ok=302),
        post=Rule(USER_MANAGER_OBJECT, ok=302),
        inside=(managed_user,),
        outside=(canary_user,),
    ),
    "accounts:user_unlock": Endpoint(  # the target is not locked: back to their page
        None, post=Rule(USER_MANAGER_OBJECT, ok=302), inside=(managed_user,), outside=(canary_user,)
    ),
    # regions
    "regions:browse": Endpoint(Rule(SCOPED_LIST, ok=302)),  # to the top of the user's scope
    "regions:import": Endpoint(Rule(REFERENCE_DATA), post=Rule(REFERENCE_DATA, ok=400)),
    "regions:import_confirm": Endpoint(None, post=Rule(REFERENCE_DATA, ok=302)),
    "regions:import_cancel": Endpoint(None, post=Rule(REFERENCE_DATA, ok=302)),
    "regions:detail": Endpoint(Rule(SCOPED_OBJECT), inside=(scope_region,), outside=(canary_village, canary_county)),
    "regions:children": Endpoint(Rule(SCOPED_OBJECT), inside=(scope_region,), outside=(canary_county,)),
    "regions:export_csv": Endpoint(Rule(SCOPED_OBJECT), inside=(scope_region,), outside=(canary_county,)),
    "regions:export_xlsx": Endpoint(Rule(SCOPED_OBJECT), inside=(scope_region,), outside=(canary_county,)),
    "regions:edit": Endpoint(
        Rule(REFERENCE_DATA_OBJECT),
        post=Rule(REFERENCE_DATA_OBJECT, ok=400),
        inside=(village,),
        outside=(canary_village,),
    ),
    "regions:flag_add": Endpoint(
        None, post=Rule(REFERENCE_DATA_OBJECT, ok=400), inside=(village,), outside=(canary_village,)
    ),
    "regions:flag_delete": Endpoint(
        None, post=Rule(REFERENCE_DATA_OBJECT, ok=302), inside=(flag,), outside=(canary_flag,)
    ),
    # audit
    "audit:search": Endpoint(Rule(AUDIT_READER), inside=(household_entries, all_entries), outside=(canary_filter,)),
    "audit:export": Endpoint(Rule(AUDIT_READER), inside=(household_entries, all_entries), outside=(canary_filter,)),
    "audit:detail": Endpoint(Rule(AUDIT_READER_OBJECT), inside=(audit_entry,), outside=(canary_audit_entry,)),
    "audit:history": Endpoint(Rule(SCOPED_OBJECT), inside=(household_history,), outside=(canary_history,)),
    # registry: households and members
    "registry:household_list": Endpoint(Rule(SCOPED_LIST), outside=CANARY_LIST),
    "registry:household_create": Endpoint(Rule(WRITE), post=Rule(WRITE)),
    "registry:household_group_options": Endpoint(Rule(SCOPED_LIST), inside=(village_groups,), outside=(canary_groups,)),
    "registry:household_detail": Endpoint(
        Rule(SCOPED_OBJECT),
        post=Rule(REVEAL_OBJECT),
        inside=(household, mover_household),
        outside=(canary_household,),
    ),
    "registry:household_edit": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(household,), outside=(canary_household,)
    ),
    "registry:household_year_edit": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(household_year,), outside=(canary_household_year,)
    ),
    "registry:member_create": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(household,), outside=(canary_household,)
    ),
    "registry:household_split": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(household,), outside=(canary_household,)
    ),
    "registry:household_merge": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(household,), outside=(canary_household,)
    ),
    "registry:household_change_head": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(household,), outside=(canary_household,)
    ),
    "registry:member_detail": Endpoint(
        Rule(SCOPED_OBJECT), post=Rule(REVEAL_OBJECT), inside=(returnee, mover), outside=(canary_member,)
    ),
    "registry:member_edit": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(head,), outside=(canary_member,)
    ),
    "registry:member_remove": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(head,), outside=(canary_member,)
    ),
    "registry:member_move": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(head,), outside=(canary_member,)
    ),
    # registry: documents and the village record
    "registry:household_card": Endpoint(
        Rule(SCOPED_OBJECT), post=Rule(REVEAL_OBJECT), inside=(household,), outside=(canary_household,)
    ),
    "registry:household_card_pdf": Endpoint(Rule(SCOPED_OBJECT), inside=(household,), outside=(canary_household,)),
    "registry:member_card": Endpoint(
        Rule(SCOPED_OBJECT), post=Rule(REVEAL_OBJECT), inside=(head,), outside=(canary_member,)
    ),
    "registry:member_card_pdf": Endpoint(Rule(SCOPED_OBJECT), inside=(head,), outside=(canary_member,)),
    "registry:registers": Endpoint(Rule(SCOPED_LIST)),
    "registry:village_detail": Endpoint(Rule(SCOPED_OBJECT), inside=(village,), outside=(canary_village,)),
    "registry:village_year_edit": Endpoint(
        Rule(WRITE_OBJECT), post=Rule(WRITE_OBJECT), inside=(village_year,), outside=(canary_village_year,)
    ),
    "registry:village_register": Endpoint(Rule(SCOPED_OBJECT), inside=(village,), outside=(canary_village,)),
    "registry:township_register": Endpoint(Rule(SCOPED_OBJECT), inside=(township,), outside=(canary_township,)),
    # registry: data quality
    "registry:quality_summary": Endpoint(Rule(SCOPED_LIST, outside=404), outside=(canary_filter,)),
    "registry:quality_village": Endpoint(Rule(SCOPED_OBJECT), inside=(village,), outside=(canary_village,)),
    "registry:quality_recheck": Endpoint(
        None, post=Rule(WRITE_OBJECT, ok=302), inside=(village,), outside=(canary_village,)
    ),
    # policy: everyone reads the reference data, the system administrator changes what their scope covers
    # (the first line and formula are shipped national ones)
    "policy:overview": Endpoint(Rule(ANY_USER)),
    "policy:code_table": Endpoint(Rule(ANY_USER), post=Rule(NATIONAL_DATA), inside=(code_table,)),
    "policy:code_item_edit": Endpoint(Rule(NATIONAL_DATA), post=Rule(NATIONAL_DATA), inside=(code_item,)),
    "policy:line_create": Endpoint(Rule(REFERENCE_DATA), post=Rule(REFERENCE_DATA)),
    "policy:line_edit": Endpoint(Rule(NATIONAL_DATA), post=Rule(NATIONAL_DATA), inside=(poverty_line,)),
    "policy:formula_create": Endpoint(Rule(REFERENCE_DATA), post=Rule(REFERENCE_DATA)),
    "policy:formula_edit": Endpoint(Rule(NATIONAL_DATA), post=Rule(NATIONAL_DATA), inside=(income_formula,)),
    # background jobs: a user follows their own; administrators and auditors those of their scope
    "jobs:list": Endpoint(Rule(SCOPED_LIST)),
    "jobs:detail": Endpoint(Rule(SCOPED_OBJECT), inside=(own_import,), outside=(canary_import, canary_export)),
    "jobs:progress": Endpoint(Rule(SCOPED_OBJECT), inside=(own_import,), outside=(canary_import,)),
    # Excel import and export
    "exchange:index": Endpoint(Rule(ANY_USER)),
    "exchange:template": Endpoint(Rule(ANY_USER)),
    # An empty POST is accepted today and queues a dry run of no files (MultipleFileField never says
    # "required"); the access is what matters here.
    "exchange:upload": Endpoint(None, post=Rule(WRITE, ok=302)),
    "exchange:import_detail": Endpoint(Rule(SCOPED_OBJECT), inside=(own_import,), outside=(canary_import,)),
    "exchange:commit": Endpoint(None, post=Rule(WRITE_OBJECT, ok=302), inside=(own_import,), outside=(canary_import,)),
    "exchange:error_workbook": Endpoint(Rule(SCOPED_OBJECT), inside=(own_import,), outside=(canary_import,)),
    "exchange:export_xlsx": Endpoint(Rule(SCOPED_LIST), outside=CANARY_LIST),
    "exchange:export_csv": Endpoint(Rule(SCOPED_LIST), outside=CANARY_LIST),
    "exchange:export_file": Endpoint(Rule(SCOPED_OBJECT), inside=(own_export,), outside=(canary_export,)),
    "exchange:export_members_csv": Endpoint(Rule(SCOPED_LIST), outside=CANARY_LIST),
    # language
    "set_language": Endpoint(Rule(PUBLIC, ok=302)),  # back to the page (a GET changes nothing)
    # Not login_not_required: no page uses the catalogue, the login page included.
    "javascript-catalog": Endpoint(Rule(ANY_USER)),
}


# ----------------------------------------------------------------------------------------- URL patterns


@dataclass(frozen=True)
class Pattern:
    key: str  # namespace:name, or the route of an unnamed pattern
    route: str  # the full route, as ResolverMatch.route gives it
    is_route: bool  # path() syntax all the way down (re_path patterns are reached through their name)

    def path(self, kwargs: Mapping[str, object]) -> str:
        """The URL of this very pattern (not merely of its name) for ``kwargs``."""
        if not self.is_route:
            return reverse(self.key, kwargs=dict(kwargs))
        return "/" + CONVERTER.sub(lambda m: str(kwargs[m["name"]]), self.route)


CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def url_patterns(
    resolver: URLResolver | None = None, route: str = "", namespaces: tuple[str, ...] = (), is_route: bool = True
) -> Iterator[Pattern]:
    """Every pattern of the project, nested includes walked."""
    for entry in (resolver or get_resolver()).url_patterns:
        full = route + str(entry.pattern)
        plain = is_route and isinstance(entry.pattern, RoutePattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from url_patterns(entry, full, inner, plain)
        elif isinstance(entry, URLPattern):
            yield Pattern(":".join((*namespaces, entry.name)) if entry.name else full, full, plain)


def test_every_url_pattern_is_classified() -> None:
    patterns = [p.key for p in url_patterns()]
    duplicates = sorted({key for key in patterns if patterns.count(key) > 1})
    assert not duplicates, f"names used by more than one pattern (give each its own): {duplicates}"
    unclassified = sorted(set(patterns) - set(ENDPOINTS))
    assert not unclassified, f"URL patterns without an access class in ENDPOINTS: {unclassified}"


def test_every_classified_name_still_exists() -> None:
    stale = sorted(set(ENDPOINTS) - {p.key for p in url_patterns()})
    assert not stale, f"ENDPOINTS entries without a URL pattern: {stale}"


# ----------------------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Request:
    pattern: Pattern
    method: str
    path: str
    query: Query
    target: Build
    expected: set[int]
    to_login: bool = False  # an anonymous request that must be sent to the login page

    def __str__(self) -> str:
        query = f"?{urlencode(self.query)}" if self.query else ""
        return f"{self.method} {self.path}{query} ({self.pattern.key}, {self.target.__name__})"


def requests_for(pattern: Pattern, endpoint: Endpoint, world: MatrixWorld, role: str) -> Iterator[Request]:
    user = world.users.get(role) or world.users[Role.COUNTY_ADMIN]  # anonymous: the county's objects
    builds = [(True, build) for build in endpoint.inside] + [(False, build) for build in endpoint.outside]
    for inside, build in builds:
        target = build(world, user)
        if target is None:
            continue
        path = pattern.path(target.kwargs)
        assert resolve(path).route == pattern.route, f"{path} does not reach {pattern.key}"
        if role == ANONYMOUS:
            if inside:
                rule = endpoint.get or endpoint.post
                assert rule is not None, f"{pattern.key}: neither GET nor POST"
                public = rule.access.public
                expected = {endpoint.anonymous or rule.ok} if public else {302}
                yield Request(pattern, "GET", path, target.query, build, expected, to_login=not public)
            continue
        get = endpoint.get.expected(role, inside) if endpoint.get else {405}
        yield Request(pattern, "GET", path, target.query, build, get)
        if endpoint.post is not None:
            yield Request(pattern, "POST", path, target.query, build, endpoint.post.expected(role, inside))


def send(client: Client, request: Request, user: User | None) -> tuple[int, str, str]:
    """The status, redirect target and all the text of the response; a POST's changes are rolled back."""
    if request.method == "GET":
        response = client.get(request.path, request.query)
        return response.status_code, response.get("Location", ""), response_text(response)
    with transaction.atomic():
        path = f"{request.path}?{urlencode(request.query)}" if request.query else request.path
        response = client.post(path, {})
        text = response_text(response)
        transaction.set_rollback(True)
    if user is not None and client.session.get("_auth_user_id") != str(user.pk):
        client.force_login(user)  # the logout endpoint ended the session
    return response.status_code, response.get("Location", ""), text


def problems(client: Client, request: Request, user: User | None, markers: Mapping[str, str]) -> list[str]:
    """What is wrong with the answer to ``request``: its status, and any canary marker it did not ask for."""
    status, location, text = send(client, request, user)
    found = []
    if status not in request.expected:
        found.append(f"{request}: status {status}, expected {sorted(request.expected)}")
    elif request.to_login and not location.startswith(reverse("accounts:login")):
        found.append(f"{request}: redirected to {location}, not to the login page")
    asked = str(request)
    for what, marker in markers.items():
        if marker not in asked and any(spelling in text for spelling in spellings(marker)):
            found.append(f"{request}: shows the canary {what} {marker}")
    return found


# Leaks found and not fixed yet, by URL name and target. The matrix leaves these requests to
# test_known_leak, which is expected to fail until the fix lands; strict, so a fixed leak fails the suite
# until its entry here is removed. Each has a target of its own, so the same pages stay in the matrix for
# everything else.
KNOWN_LEAKS: dict[tuple[str, Build], str] = {}


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> MatrixWorld:
    settings.VAR_DIR = tmp_path  # stored uploads and finished exports
    return build_world()


def login(role: str, world: MatrixWorld) -> tuple[Client, User | None]:
    user = world.users.get(role)
    client = Client(enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
    return client, user


# What a logged-in user may do without a scope: log in and out, their own account, the language.
NEEDS_NO_SCOPE = frozenset(
    {"accounts:login", "accounts:logout", "accounts:my_account", "set_language", "javascript-catalog"}
)


def unscoped_requests(pattern: Pattern, endpoint: Endpoint, world: MatrixWorld) -> Iterator[Request]:
    """Each method of ``pattern`` on the county's objects, as a user without a scope must see it: refused
    (403) before anything is looked up, unless the page needs no scope."""
    county_admin = world.users[Role.COUNTY_ADMIN]
    for build in endpoint.inside:
        target = build(world, county_admin)
        if target is None:
            continue
        path = pattern.path(target.kwargs)
        for method, rule in (("GET", endpoint.get), ("POST", endpoint.post)):
            if rule is None:
                if method == "GET":
                    yield Request(pattern, method, path, target.query, build, {405})
                continue
            expected = {rule.ok} if pattern.key in NEEDS_NO_SCOPE else {403}
            yield Request(pattern, method, path, target.query, build, expected)


def test_a_user_without_a_scope_is_refused(world: MatrixWorld) -> None:
    """A cadre whose scope was never set: every URL that needs a capability answers 403, never an empty page."""
    user = world.unscoped_user
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    failures: list[str] = []
    for pattern in url_patterns():
        for request in unscoped_requests(pattern, ENDPOINTS[pattern.key], world):
            failures += problems(client, request, user, world.canary.markers)
    assert not failures, f"{len(failures)} problems\n" + "\n".join(failures)


@pytest.mark.parametrize("role", [*Role.values, ANONYMOUS])
def test_url_matrix(role: str, world: MatrixWorld) -> None:
    client, user = login(role, world)
    failures: list[str] = []
    sent = 0
    for pattern in url_patterns():
        for request in requests_for(pattern, ENDPOINTS[pattern.key], world, role):
            if (pattern.key, request.target) not in KNOWN_LEAKS:
                failures += problems(client, request, user, world.canary.markers)
                sent += 1
    assert not failures, f"{role}: {len(failures)} problems in {sent} requests\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        pytest.param(
            name,
            target,
            marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason),
            id=f"{name}-{target.__name__}",
        )
        for (name, target), reason in KNOWN_LEAKS.items()
    ],
)
def test_known_leak(name: str, target: Build, world: MatrixWorld) -> None:
    """The requests KNOWN_LEAKS holds back from the matrix, by every role."""
    pattern = next(p for p in url_patterns() if p.key == name)
    failures: list[str] = []
    for role in Role.values:
        client, user = login(role, world)
        for request in requests_for(pattern, ENDPOINTS[name], world, role):
            if request.target == target:
                failures += [f"{role}: {p}" for p in problems(client, request, user, world.canary.markers)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("name", "build", "query"),
    [
        ("registry:household_detail", canary_household, {}),
        ("registry:household_card_pdf", canary_household, {}),
        ("registry:member_card_pdf", canary_member, {}),
        ("registry:village_register", canary_village, {"year": RECORD_YEAR}),
        ("exchange:export_xlsx", no_args, {"year": RECORD_YEAR}),
        ("exchange:export_csv", no_args, {"year": RECORD_YEAR}),
        ("exchange:export_file", canary_export, {}),
    ],
)
def test_the_canary_is_found_where_it_belongs(name: str, build: Build, query: Query, world: MatrixWorld) -> None:
    """The detector itself: the canary's own user sees its markers in each kind of download."""
    client = Client()
    client.force_login(world.canary.user)
    pattern = next(p for p in url_patterns() if p.key == name)
    target = build(world, world.canary.user)
    assert target is not None
    response = client.get(pattern.path(target.kwargs), query)
    assert response.status_code == 200
    text = response_text(response)
    found = {what for what, marker in world.canary.markers.items() if any(s in text for s in spellings(marker))}
    assert {"household number", "member name"} <= found, found
