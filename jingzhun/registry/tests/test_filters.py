"""The year a page or download is asked for: one parse for ?year= and for a year in the URL."""

from __future__ import annotations

import datetime as dt

from django.test import RequestFactory

from jingzhun.registry.filters import FIRST_YEAR, requested_year


def test_requested_year_from_a_request_or_a_raw_value():
    next_year = dt.date.today().year + 1
    get = RequestFactory().get
    assert requested_year(get("/", {"year": str(FIRST_YEAR)})) == FIRST_YEAR
    assert requested_year(get("/", {"year": str(next_year)})) == next_year
    assert requested_year(get("/")) is None
    for raw in (str(FIRST_YEAR - 1), str(next_year + 1), "", "20x0", "-2020", " 2020", "２０２０", "²"):
        assert requested_year(get("/", {"year": raw})) is None, raw
        assert requested_year(raw) is None, raw
    assert requested_year(2020) == 2020
    assert requested_year("2020") == 2020
    assert requested_year(next_year + 1) is None
