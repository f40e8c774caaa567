"""One person, one active household (issue 11 item 3), and numbers and people outside the user's scope
(item 6), tried as an attacker would: other digits for the same ID, other write paths, numbers of another
township's village, and what a refusal tells about records the user may not see."""

# Fixtures are imported from pages_fixtures (no shared conftest here), so pytest's by-name injection
# looks like redefinition to ruff.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from jingzhun.audit.models import AuditEntry
from jingzhun.registry import services
from jingzhun.registry.filters import search_q
from jingzhun.registry.idcard import check_char, make_id_number, normalize_identifier, parse_id_number
from jingzhun.registry.models import Household, Member, MemberStatus
from jingzhun.registry.tests.factories import MemberFactory, household_with_members
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


def stranger(village: str, **kwargs: str) -> Household:
    """A one-person household whose head has a name of her own (the factories' heads share one)."""
    household = household_with_members(village, size=1, **kwargs)
    Member.objects.unscoped().filter(household=household).update(name="邹莲梅")
    return household


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


class TestOnePersonOneHouseholdInTheDatabase:
    """Whatever writes the row: the model, a bulk insert, a certificate number of the same person."""

    def test_model_save_normalises_then_the_constraint_refuses(self, tree):
        a = household_with_members(tree.village_a1, size=1)
        b = household_with_members(tree.village_b1, size=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            MemberFactory(household=b, id_number=head(a).id_number.translate(FULL_WIDTH), relationship="99")

    def test_disability_certificate_of_an_active_person_is_refused(self, tree):
        a = household_with_members(tree.village_a1, size=1)
        b = household_with_members(tree.village_b1, size=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            MemberFactory(household=b, id_number=head(a).id_number + "42", relationship="99")

    def test_bulk_insert_is_refused_too(self, tree):
        a = household_with_members(tree.village_a1, size=1)
        b = household_with_members(tree.village_b1, size=1)
        copy = Member(
            household=b, village_code=b.village_id, member_number="X1", name="复制", sex="1", relationship="99"
        )
        copy.id_number = head(a).id_number
        with pytest.raises(IntegrityError), transaction.atomic():
            Member.objects.bulk_create([copy])

    def test_a_removed_membership_does_not_count(self, tree):
        a = household_with_members(tree.village_a1, size=2)
        wife = a.members.get(relationship="02")
        services.remove_member(wife, reason="2", date=TODAY)
        b = household_with_members(tree.village_b1, size=1)
        MemberFactory(household=b, id_number=wife.id_number, relationship="02", sex="2")
        assert Member.objects.unscoped().filter(id_number=wife.id_number).count() == 2


# ------------------------------------------------------------------------------ the report command


def _bypass_insert(household: Household, id_number: str, name: str) -> Member:
    """A row written around the application (bulk insert of a raw value), as older releases could."""
    row = Member(
        household=household,
        village_code=household.village_id,
        member_number=f"{household.household_number}{name[-1]}9",
        name=name,
        sex="1",
        relationship="99",
        id_number=id_number,
    )
    Member.objects.bulk_create([row])
    return row


class TestCheckCommand:
    def run(self, *args: str) -> str:
        out = io.StringIO()
        call_command("check_id_numbers", *args, stdout=out, stderr=out)
        return out.getvalue()

    def test_reports_nothing_on_clean_data(self, tree):
        household_with_members(tree.village_a1, size=2)
        output = self.run("--check")
        assert "同一人在多个户中同时在册：0 人" in output and "写法不规范的证件号码：0 个" in output

    def test_reports_a_person_active_twice_and_a_non_normalised_value(self, tree):
        a = household_with_members(tree.village_a1, size=1)
        b = household_with_members(tree.village_b1, size=1)
        _bypass_insert(b, head(a).id_number.translate(FULL_WIDTH), "重复甲")
        output = self.run()
        assert "同一人在多个户中同时在册：1 人" in output
        assert a.household_number in output and b.household_number in output and "重复甲" in output
        assert "写法不规范的证件号码：1 个" in output
        assert head(a).id_number not in output  # masked
        with pytest.raises(CommandError):
            self.run("--check")

    def test_normalise_rewrites_through_the_audit_and_leaves_a_clash(self, tree):
        a = household_with_members(tree.village_a1, size=1)
        b = household_with_members(tree.village_b1, size=1)
        lone = make_id_number("431102", dt.date(1990, 1, 1), 400, "1")
        fixed = _bypass_insert(b, lone.translate(ARABIC_INDIC), "写法甲")
        clash = _bypass_insert(b, head(a).id_number.translate(FULL_WIDTH), "重复乙")
        output = self.run("--normalise")
        assert Member.objects.unscoped().get(pk=fixed.pk).id_number == lone
        assert Member.objects.unscoped().get(pk=clash.pk).id_number == head(a).id_number.translate(FULL_WIDTH)
        assert "未改" in output and "重复乙" in output
        entry = AuditEntry.objects.filter(object_type="registry.member", object_id=str(fixed.pk)).get()
        assert entry.changes["id_number"] == [lone.translate(ARABIC_INDIC), lone] and "统一证件号码写法" in entry.reason


# ------------------------------------------------------------------------------ item 6: scope


class TestNumbersOutsideScope:
    def split_post(self, household: Household, new_number: str) -> dict[str, Any]:
        child = household.active_members().get(name="张小1")
        return {"members": [str(child.pk)], "new_head": str(child.pk), "new_number": new_number, "date": str(TODAY)}

    def test_split_refuses_a_number_of_another_townships_village(self, logged_in, household, tree):
        before = services.next_household_number(tree.village_b1)
        foreign = tree.village_b1 + "0500"
        response = logged_in.post(
            reverse("registry:household_split", args=[household.pk]), self.split_post(household, foreign)
        )
        assert response.status_code == 200
        assert response.context["form"].errors["new_number"] == [f"户编号应为本村代码（{tree.village_a1}）加顺序号"]
        assert not Household.objects.unscoped().filter(household_number=foreign).exists()
        assert services.next_household_number(tree.village_b1) == before  # the other village's numbering

    def test_split_does_not_confirm_a_number_that_exists_elsewhere(self, logged_in, household, tree):
        elsewhere = stranger(tree.village_b1, household_number=tree.village_b1 + "0007")
        response = logged_in.post(
            reverse("registry:household_split", args=[household.pk]),
            self.split_post(household, elsewhere.household_number),
        )
        html = response.content.decode()
        assert response.status_code == 200 and "已存在" not in html
        assert head(elsewhere).name not in html

    def test_split_allocates_in_the_households_own_village(self, logged_in, household, tree):
        household_with_members(tree.village_b1, size=1, household_number=tree.village_b1 + "0900")
        response = logged_in.post(
            reverse("registry:household_split", args=[household.pk]), self.split_post(household, "")
        )
        assert response.status_code == 302
        new = Household.objects.unscoped().exclude(pk=household.pk).get(village_id=tree.village_a1)
        assert new.household_number == tree.village_a1 + "0001"

    def test_split_with_a_number_of_the_own_village(self, logged_in, household, tree):
        number = tree.village_a1 + "0042"
        response = logged_in.post(
            reverse("registry:household_split", args=[household.pk]), self.split_post(household, number)
        )
        assert response.status_code == 302
        assert Household.objects.unscoped().get(household_number=number).village_id == tree.village_a1

    def test_register_refuses_a_number_of_another_village(self, logged_in, tree):
        data = {
            "hh-village": tree.village_a1,
            "hh-identification_standard": "1",
            "hh-household_number": tree.village_b1 + "0001",
        }
        response = logged_in.post(reverse("registry:household_create"), data)
        assert response.status_code == 200
        assert response.context["form"].errors["household_number"] == [
            f"户编号应为本村代码（{tree.village_a1}）加顺序号"
        ]


class TestPeopleOutsideScope:
    def test_member_form_names_nobody_outside_the_scope(self, logged_in, household, tree):
        other = stranger(tree.village_b1)  # another township
        response = logged_in.post(
            reverse("registry:member_create", args=[household.pk]), member_post(head(other).id_number, sex="1")
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert response.context["form"].errors["id_number"] == [OUT_OF_SCOPE]
        assert other.household_number not in html and head(other).name not in html
        assert household.size() == 3

    def test_a_certificate_number_names_nobody_either(self, logged_in, household, tree):
        other = stranger(tree.village_b1)
        data = member_post(head(other).id_number + "41", id_type="2", health="4", sex="1")
        response = logged_in.post(reverse("registry:member_create", args=[household.pk]), data)
        assert response.context["form"].errors["id_number"] == [OUT_OF_SCOPE]
        assert other.household_number not in response.content.decode()

    def test_editing_a_member_to_an_id_outside_the_scope(self, logged_in, household, tree):
        other = stranger(tree.village_b1)
        child = household.active_members().get(name="张小1")
        url = reverse("registry:member_edit", args=[child.pk])
        data = member_post(head(other).id_number, name=child.name, relationship="03", sex="1")
        data["opened_version"] = logged_in.get(url).context["form"]["opened_version"].value()
        response = logged_in.post(url, data)
        assert response.context["form"].errors["id_number"] == [OUT_OF_SCOPE]
        assert other.household_number not in response.content.decode()

    def test_inside_the_scope_the_household_is_named(self, client, township_user, household, tree):
        other = stranger(tree.village_a2)  # same township
        client.force_login(township_user)
        response = client.post(
            reverse("registry:member_create", args=[household.pk]), member_post(head(other).id_number, sex="1")
        )
        [message] = response.context["form"].errors["id_number"]
        assert other.household_number in message and head(other).name in message

    def test_service_without_a_user_names_nobody(self, tree):
        other = stranger(tree.village_b1)
        target = household_with_members(tree.village_a1, size=1)
        twin = Member(name="张大山", sex="1", birth_date=dt.date(1970, 5, 17), relationship="99", education="3")
        twin.id_number = head(other).id_number
        with pytest.raises(ValidationError, match="同一人只能在一个户中") as caught:
            services.add_member(target, twin, reason="9", date=TODAY)
        assert other.household_number not in str(caught.value)
