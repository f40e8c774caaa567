from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jingzhun.accounts.models import User


def user_list(request: HttpRequest) -> HttpResponse:
    if not request.user.can_manage_users:
        raise PermissionDenied
    users = User.objects.visible_to(request.user).select_related("scope_region")
    return render(request, "accounts/user_list.html", {"users": users, "active_nav": "users"})
