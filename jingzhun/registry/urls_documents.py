"""Archive documents (明白卡, 人有卡, 村有簿, 乡有册) and the village record (村情)."""

from django.urls import path

from jingzhun.registry import views_documents, views_village

urlpatterns = [
    path("households/<int:pk>/card/", views_documents.household_card, name="household_card"),
    path("households/<int:pk>/card.pdf", views_documents.household_card_pdf, name="household_card_pdf"),
    path("members/<int:pk>/card/", views_documents.member_card, name="member_card"),
    path("members/<int:pk>/card.pdf", views_documents.member_card_pdf, name="member_card_pdf"),
    path("registers/", views_documents.registers, name="registers"),
    path("villages/<str:code>/", views_village.village_detail, name="village_detail"),
    path("villages/<str:code>/years/<int:year>/edit/", views_village.village_year_edit, name="village_year_edit"),
    path("villages/<str:code>/register.xlsx", views_documents.village_register, name="village_register"),
    path("townships/<str:code>/register.xlsx", views_documents.township_register, name="township_register"),
]
