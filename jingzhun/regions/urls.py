from django.urls import path

from jingzhun.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.browse, name="browse"),
    # Fixed paths before "<code>/" so "import" is never read as a region code.
    path("import/", views.import_upload, name="import"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("import/cancel/", views.import_cancel, name="import_cancel"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/children/", views.children, name="children"),
    path("<str:code>/export.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("<str:code>/export.xlsx", views.export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("<str:code>/edit/", views.edit, name="edit"),
    path("<str:code>/flags/add/", views.flag_add, name="flag_add"),
    path("<str:code>/flags/<int:pk>/delete/", views.flag_delete, name="flag_delete"),
]
