"""One person, one active household (issue 11 item 3), tried as an attacker would: other digits for the same
ID, and other write paths than the form."""

# Fixtures are imported from pages_fixtures (no shared conftest here), so pytest's by-name injection
# looks like redefinition to ruff.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jingzhun.registry.filters import search_q
from jingzhun.registry.idcard import check_char, make_id_number, normalize_identifier, parse_id_number
from jingzhun.registry.models import Household, Member, MemberStatus
from jingzhun.registry.tests.factories import household_with_members
from jingzhun.registry.tests.pages_fixtures import (  # noqa: F401
    _fresh_policy_cache,
    household,
    logged_in,
    township_user,
    village_user,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
OUT_OF_SCOPE = "该证件号码已在其他地区在册，请联系县级管理员"

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")  # a Chinese input method's full-width mode
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


def spellings(number: str) -> dict[str, str]:
    """The same ID as a cadre's input method or a pasted document may type it."""
    return {
        "full-width": number.translate(FULL_WIDTH),
        "arabic-indic": number.translate(ARABIC_INDIC),
        "devanagari": number.translate(DEVANAGARI),
        "spaces and zero-width": f" {number[:6]}\u3000{number[6:14]}\u200b{number[14:]}\ufeff ",
        "mixed": number[:9].translate(FULL_WIDTH) + number[9:].translate(ARABIC_INDIC),
    }


def x_number() -> str:
    """A valid ID whose check character is X (typed as a lower-case or full-width x)."""
    for seq in range(1000):
        first17 = f"43110219800517{seq:03d}"
        if check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no X check digit found")


def head(household: Household) -> Member:
    found = household.head
    assert found is not None
    return found


def member_post(id_number: str, **overrides: str) -> dict[str, str]:
    data = {
        "name": "赵春梅",
        "id_type": "1",
        "id_number": id_number,
        "relationship": "99",
        "ethnicity": "01",
        "education": "3",
        "health": "1",
        "labour": "1",
        "has_resident_medical_insurance": "true",
        "has_employee_medical_insurance": "false",
        "reason": "9",
        "date": str(TODAY),
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------ the one normaliser


class TestNormaliser:
    @pytest.mark.parametrize("kind", list(spellings("43110219700517001X")))
    def test_every_spelling_is_the_ascii_number(self, kind):
        assert normalize_identifier(spellings("43110219700517001X")[kind]) == "43110219700517001X"

    def test_lower_case_and_full_width_x(self):
        assert normalize_identifier("43110219700517001x") == normalize_identifier("43110219700517001ｘ")
        assert normalize_identifier("43110219700517001ｘ") == "43110219700517001X"

    def test_parse_returns_and_checks_the_normalised_number(self):
        number = make_id_number("431102", dt.date(1980, 1, 2), 5, "1")
        assert parse_id_number(number.translate(ARABIC_INDIC)).number == number

    @pytest.mark.parametrize("char", ["〇", "\U00010a40"])  # ideographic zero; Kharosthi one (isdigit, no decimal)
    def test_a_digit_like_character_that_is_no_decimal_digit_is_refused(self, char):
        number = make_id_number("431102", dt.date(1980, 1, 2), 5, "1")
        with pytest.raises(ValueError, match="前 17 位应为数字"):
            parse_id_number(number[:3] + char + number[4:])


# ------------------------------------------------------------------------------ item 3: every path


class TestOnePersonOneHouseholdOnTheWeb:
    @pytest.mark.parametrize("kind", list(spellings("0" * 18)))
    def test_the_same_person_in_other_digits_is_refused(self, logged_in, household, tree, kind):
        other = household_with_members(tree.village_a1, size=1)
        typed = spellings(head(other).id_number)[kind]
        response = logged_in.post(reverse("registry:member_create", args=[household.pk]), member_post(typed, sex="1"))
        assert response.status_code == 200
        assert "同一人只能在一个户中" in " ".join(response.context["form"].errors["id_number"])
        assert household.size() == 3
        assert Member.objects.unscoped().filter(status=MemberStatus.ACTIVE).count() == 4

    def test_lower_case_x_is_the_same_person(self, logged_in, household, tree):
        other = household_with_members(tree.village_a1, size=1)
        Member.objects.unscoped().filter(pk=head(other).pk).update(id_number=x_number())
        for typed in ("43110219800517" + x_number()[14:17] + "x", x_number().translate(FULL_WIDTH).lower()):
            response = logged_in.post(
                reverse("registry:member_create", args=[household.pk]), member_post(typed, sex="1")
            )
            assert response.status_code == 200, typed
        assert household.size() == 3

    def test_a_new_member_is_stored_in_ascii(self, logged_in, household):
        number = make_id_number("431102", dt.date(1998, 6, 1), 120, "2")
        response = logged_in.post(
            reverse("registry:member_create", args=[household.pk]),
            member_post(number.translate(FULL_WIDTH), relationship="05"),
        )
        assert response.status_code == 302, response.context["form"].errors
        assert household.active_members().get(name="赵春梅").id_number == number

    def test_search_finds_the_person_typed_in_other_digits(self, tree):
        h = household_with_members(tree.village_a1, size=1)
        for typed in spellings(head(h).id_number).values():
            assert list(Household.objects.unscoped().filter(search_q(typed))) == [h], typed
        assert list(Household.objects.unscoped().filter(search_q(head(h).id_number[-4:].translate(FULL_WIDTH)))) == [h]
