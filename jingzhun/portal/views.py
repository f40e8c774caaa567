"""工作台 (home): the cards every installed app contributes, each computed within the user's scope."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from jingzhun.core.access import Capability, requires
from jingzhun.core.contributions import home_cards
from jingzhun.core.types import AuthenticatedRequest


@requires(Capability.VIEW)
def home(request: AuthenticatedRequest) -> HttpResponse:
    cards = []
    for card in home_cards(request.user):
        data = card.build(request)
        if data is not None:
            cards.append({"key": card.key, "template": card.template, "data": data})
    return render(request, "portal/home.html", {"cards": cards, "active_nav": "home"})
