from django.urls import path

from jingzhun.registry.views import quality

urlpatterns: list = [
    path("quality/", quality.summary, name="quality_summary"),
    path("quality/village/<str:code>/", quality.village, name="quality_village"),
    path("quality/village/<str:code>/recheck/", quality.recheck, name="quality_recheck"),
]
