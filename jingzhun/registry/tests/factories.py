"""Factories for registry tests: valid households with members and yearly records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from jingzhun.core.testing import RecordFactory
from jingzhun.registry import services
from jingzhun.registry.idcard import make_id_number
from jingzhun.registry.models import HEAD_RELATIONSHIP, Household, HouseholdYear, Member

_id_seq = iter(range(1, 10**7))


def valid_id(birth: dt.date = dt.date(1970, 5, 17), sex: str = "1", area: str = "431102") -> str:
    # make_id_number keeps 3 sequence digits and bumps them to the sex's parity, so consecutive numbers
    # could collide: take one parity slot per number and move to the next area code every 500 numbers.
    n = next(_id_seq)
    return make_id_number(f"{int(area) + n // 500:06d}", birth, (n % 500) * 2 + (sex == "1"), sex)


class HouseholdFactory(RecordFactory[Household]):
    class Meta:
        model = Household

    household_number = factory.Sequence(lambda n: f"4311020{n:09d}")
    village_id = "431102100201"
    identification_standard = "1"
    first_identified_year = 2014
    phone = "13800000000"
    paddy_land_mu = Decimal("2.00")
    dry_land_mu = Decimal("1.00")
    housing_area_m2 = Decimal("90.00")
    housing_structure = "2"
    is_dangerous_house = False
    has_electricity = True
    drinking_water = "1"
    has_safe_water = True
    road_type = "3"
    has_sanitary_toilet = True
    dibao_status = "0"
    tekun_status = "0"


class MemberFactory(RecordFactory[Member]):
    class Meta:
        model = Member

    household = factory.SubFactory(HouseholdFactory)
    member_number = factory.LazyAttribute(lambda o: services.next_member_number(o.household))
    name = factory.Sequence(lambda n: f"成员{n}")
    birth_date = dt.date(1970, 5, 17)
    sex = "1"
    id_number = factory.LazyAttribute(lambda o: valid_id(o.birth_date, o.sex))
    relationship = HEAD_RELATIONSHIP
    education = "3"
    school_status = ""
    health = "1"
    labour = "1"
    has_serious_illness_insurance = True
    has_resident_medical_insurance = True
    has_employee_medical_insurance = False
    has_resident_pension = True
    has_employee_pension = False
    addition_reason = "1"


class HouseholdYearFactory(RecordFactory[HouseholdYear]):
    class Meta:
        model = HouseholdYear

    household = factory.SubFactory(HouseholdFactory)
    year = 2020
    exit_status = "1"
    attribute = "05"
    main_cause = "01"
    wage_income = Decimal("12000")
    business_income = Decimal("3000")
    property_income = Decimal("0")
    transfer_income = Decimal("1500")
    production_expense = Decimal("1500")
    food_clothing_secure = True
    education_secure = True
    medical_secure = True
    housing_secure = True
    water_secure = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        record = model_class(*args, **kwargs)
        services.save_year(record)
        return record


def household_with_members(village: str = "431102100201", size: int = 3, **kwargs) -> Household:
    """A household: head (b. 1970, male), spouse (b. 1972, female), then children born 2000+."""
    household = HouseholdFactory.create(village_id=village, **kwargs)
    MemberFactory(household=household, name="张大山", sex="1", birth_date=dt.date(1970, 5, 17))
    if size >= 2:
        MemberFactory(household=household, name="李秀英", sex="2", birth_date=dt.date(1972, 3, 8), relationship="02")
    for i in range(max(0, size - 2)):
        MemberFactory(
            household=household,
            name=f"张小{i + 1}",
            sex="1" if i % 2 == 0 else "2",
            birth_date=dt.date(2000 + i, 1, 10),
            relationship="03" if i % 2 == 0 else "04",
            education="4",
        )
    return household


def legacy_duplicate(household: Household, id_number: str, **kwargs: object) -> Member:
    """A second active membership of the person with ``id_number``, as a database could hold it before
    migration 0005 marked such rows held_duplicate: the only way one can exist now (the rules still find it)."""
    member: Member = MemberFactory.create(household=household, **kwargs)
    Member.objects.unscoped().filter(pk=member.pk).update(id_number=id_number, held_duplicate=True)
    member.refresh_from_db()
    return member
