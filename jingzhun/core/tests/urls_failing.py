"""The project's URLs plus one view that fails, to see the 500 page as a user gets it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from jingzhun.core.access import logged_in


@logged_in
def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", fail), path("", include("jingzhun.urls"))]
