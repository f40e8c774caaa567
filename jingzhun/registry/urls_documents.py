"""Archive documents (明白卡, 人有卡, 村有簿, 乡有册) and the village record (村情)."""

from django.urls import path

from jingzhun.registry.views import documents, village

urlpatterns = [
    path("households/<int:pk>/card/", documents.household_card, name="household_card"),
    path("households/<int:pk>/card.pdf", documents.household_card_pdf, name="household_card_pdf"),
    path("members/<int:pk>/card/", documents.member_card, name="member_card"),
    path("members/<int:pk>/card.pdf", documents.member_card_pdf, name="member_card_pdf"),
    path("registers/", documents.registers, name="registers"),
    path("villages/<str:code>/", village.village_detail, name="village_detail"),
    path("villages/<str:code>/years/<int:year>/edit/", village.village_year_edit, name="village_year_edit"),
    path("villages/<str:code>/register.xlsx", documents.village_register, name="village_register"),
    path("townships/<str:code>/register.xlsx", documents.township_register, name="township_register"),
]
