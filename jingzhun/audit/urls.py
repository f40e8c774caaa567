from django.urls import path

from jingzhun.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.search_page, name="search"),
    path("export.csv", views.export_csv, name="export"),
    path("<int:pk>/", views.entry_detail, name="detail"),
    path("history/<str:object_type>/<path:object_id>/", views.history, name="history"),
]
