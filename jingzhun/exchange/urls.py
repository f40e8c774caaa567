from django.urls import path

from jingzhun.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.index, name="index"),
    path("template.xlsx", views.template_download, name="template"),
    path("imports/", views.upload, name="upload"),
    path("imports/<uuid:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:job_id>/commit/", views.commit, name="commit"),
    path("imports/<uuid:job_id>/errors.xlsx", views.error_workbook, name="error_workbook"),
    path("export/households.xlsx", views.export_households, {"fmt": "xlsx"}, name="export_xlsx"),
    path("export/households.csv", views.export_households, {"fmt": "csv"}, name="export_csv"),
    path("export/<uuid:job_id>.xlsx", views.export_file, name="export_file"),
    path("export/members.csv", views.export_members, name="export_members_csv"),
]
