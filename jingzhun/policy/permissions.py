"""Who changes which policy data: an administrator, for the items their scope covers.

Every policy item applies to a region prefix: '' is the whole country, '43' 湖南省, '431102' 零陵区. An
administrator (Capability.MANAGE_REFERENCE) changes an item only when the prefix of their scope region is a
prefix of the item's, and reads every other item:

- without a scope region: everything, national lines and formulas and the code tables included;
- scoped to a province: the province's own items and those of its cities and counties;
- scoped to a county: the county's own lines and formulas (县定标准 and local income rules, where the
  province's policy lets counties set them), never the national, provincial or city ones it works under.

Code tables (代码表) are national data — the same codes go to and come from the national system — so they
apply to '' and only an administrator without a scope region changes them. A line set for a region is never
below the line that applies there from above (地方标准不得低于上级标准, checked by forms.PovertyLineForm):
a scope can tighten the standard it inherits, not loosen it. The 县级管理员 role reads policy data; its
department's figures are entered by the administrator of its scope.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from jingzhun.core.access import Capability, has_capability
from jingzhun.core.scope import user_scope_prefix
from jingzhun.core.types import ScopedUser

NATIONAL = ""  # the region prefix of national items and of the code tables


def covers(user: ScopedUser, region_prefix: str) -> bool:
    """Whether ``user`` may change a policy item that applies to ``region_prefix`` ('' = national)."""
    if not has_capability(user, Capability.MANAGE_REFERENCE):
        return False
    scope = user_scope_prefix(user)
    return scope is not None and region_prefix.startswith(scope)


def region_label(region_prefix: str) -> str:
    return region_prefix or _("全国")


def require_covers(user: ScopedUser, region_prefix: str) -> None:
    """Refuse (403) a change to an item outside the user's scope: it stays readable, not writable."""
    if not covers(user, region_prefix):
        raise PermissionDenied(
            _("适用于%(where)s的政策参数不在您的管辖范围内，只能查看") % {"where": region_label(region_prefix)}
        )


def require_code_tables(user: ScopedUser) -> None:
    """Refuse (403) a change to a code table unless the user's scope is the whole country."""
    if not covers(user, NATIONAL):
        raise PermissionDenied(_("代码表是全国统一的数据，只有不限管辖范围的系统管理员可以修改"))
