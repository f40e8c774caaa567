"""URLs of the household pages (户有档). Names are linked from other modules: keep them stable."""

from django.urls import path

from jingzhun.registry.views import changes, household_forms, households, members

urlpatterns = [
    path("households/", households.household_list, name="household_list"),
    path("households/new/", household_forms.household_create, name="household_create"),
    path("households/group-options/", households.group_options, name="household_group_options"),
    path("households/<int:pk>/", households.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", household_forms.household_edit, name="household_edit"),
    path("households/<int:pk>/years/<int:year>/", household_forms.household_year_edit, name="household_year_edit"),
    path("households/<int:pk>/members/new/", changes.member_create, name="member_create"),
    path("households/<int:pk>/split/", changes.household_split, name="household_split"),
    path("households/<int:pk>/merge/", changes.household_merge, name="household_merge"),
    path("households/<int:pk>/change-head/", changes.household_change_head, name="household_change_head"),
    path("members/<int:pk>/", members.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", members.member_edit, name="member_edit"),
    path("members/<int:pk>/remove/", changes.member_remove, name="member_remove"),
    path("members/<int:pk>/move/", changes.member_move, name="member_move"),
]
