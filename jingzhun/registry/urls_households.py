"""URLs of the household pages (户有档). Names are linked from other modules: keep them stable."""

from django.urls import path

from jingzhun.registry import views

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/group-options/", views.group_options, name="household_group_options"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/years/<int:year>/", views.household_year_edit, name="household_year_edit"),
    path("households/<int:pk>/members/new/", views.member_create, name="member_create"),
    path("households/<int:pk>/split/", views.household_split, name="household_split"),
    path("households/<int:pk>/merge/", views.household_merge, name="household_merge"),
    path("households/<int:pk>/change-head/", views.household_change_head, name="household_change_head"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("members/<int:pk>/move/", views.member_move, name="member_move"),
]
