"""数据质量规则 (domain §5): a catalogue of coded rules over plain facts, and the Django glue around it.

Pure part (plain functions over plain data; no models, testable without the database)
--------------------------------------------------------------------------------------
``facts``      ``MemberFacts`` / ``YearFacts`` / ``HouseholdFacts``: what a rule reads.
``codes``      The code-table codes the rules name, and their shipped labels for messages.
``rule``       What a rule is (``Rule``, ``RuleSet``), what it reports (``Violation``), levels and groups.
``rules.*``    The rules, one module per group (身份, 户结构, 年龄与属性, 保险, 就业, 土地住房, 收入, 年度信息).
``catalogue``  ``CATALOGUE`` (code → Rule), ``validate_household(facts, as_of)``, ``errors_for_forms`` and
               the reference dates for ages (``year_end``, ``reference_date``).

Django part
-----------
``db``    Facts from the models, the cross-household context, ``check_household``, ``record_issues``.
``run``   ``run_quality``: the batch over a region (``manage.py check_quality``, the 重新检查 button).
``pool``  ``QualityChecks``: the rules over many households in a helper process (imports).

A member edit form uses them like this::

    members, idx = db.with_member(household, form.instance)
    violations = db.check_household(household, members=members)
    errors = catalogue.errors_for_forms(violations, member_index=idx, fields=form.fields)
    if errors:
        raise ValidationError(errors)           # errors block saving
    ...save...
    db.refresh_issues(household)                # warnings are recorded

Other apps use the names below; the registry's own modules import from the submodules.
"""

from jingzhun.registry.quality.catalogue import reference_date
from jingzhun.registry.quality.codes import NOT_EXITED, REGISTERED
from jingzhun.registry.quality.db import PolicyNumbers, issue_rows
from jingzhun.registry.quality.pool import HouseholdInput, QualityChecks
from jingzhun.registry.quality.rule import Violation
from jingzhun.registry.quality.run import run_quality

__all__ = [
    "NOT_EXITED",
    "REGISTERED",
    "HouseholdInput",
    "PolicyNumbers",
    "QualityChecks",
    "Violation",
    "issue_rows",
    "reference_date",
    "run_quality",
]
