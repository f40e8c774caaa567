from django.urls import path

from jingzhun.policy import views

app_name = "policy"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("codes/<slug:key>/", views.code_table, name="code_table"),
    path("codes/items/<int:pk>/", views.code_item_edit, name="code_item_edit"),
    path("lines/new/", views.line_edit, name="line_create"),
    path("lines/<int:pk>/", views.line_edit, name="line_edit"),
    path("formulas/new/", views.formula_edit, name="formula_create"),
    path("formulas/<int:pk>/", views.formula_edit, name="formula_edit"),
]
