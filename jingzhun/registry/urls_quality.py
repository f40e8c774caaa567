from django.urls import path

from jingzhun.registry import views_quality

urlpatterns: list = [
    path("quality/", views_quality.summary, name="quality_summary"),
    path("quality/village/<str:code>/", views_quality.village, name="quality_village"),
    path("quality/village/<str:code>/recheck/", views_quality.recheck, name="quality_recheck"),
]
