"""Test-only URLs: the project's, plus views that write (so a web request's audit trail can be checked)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from jingzhun.regions.models import Region, RegionFlag, RegionFlagKind
from jingzhun.urls import urlpatterns as project_urls


def rename_and_flag(request: HttpRequest, code: str) -> HttpResponse:
    region = Region.objects.unscoped().get(code=code)
    region.name = request.POST["name"]
    region.save()
    RegionFlag.objects.create(region=region, flag=RegionFlagKind.POOR_VILLAGE, year=2014)
    if request.POST.get("fail"):
        raise RuntimeError("后续步骤失败")
    return HttpResponse("ok")


urlpatterns = [*project_urls, path("test/rename/<str:code>/", rename_and_flag)]
