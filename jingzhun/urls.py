from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from jingzhun.core.access import logged_in, public

urlpatterns = [
    path("", include("jingzhun.portal.urls")),
    path("accounts/", include("jingzhun.accounts.urls")),
    path("regions/", include("jingzhun.regions.urls")),
    path("audit/", include("jingzhun.audit.urls")),
    path("registry/", include("jingzhun.registry.urls")),
    path("policy/", include("jingzhun.policy.urls")),
    path("jobs/", include("jingzhun.jobs.urls")),
    path("exchange/", include("jingzhun.exchange.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("jsi18n/", logged_in(JavaScriptCatalog.as_view()), name="javascript-catalog"),
]
