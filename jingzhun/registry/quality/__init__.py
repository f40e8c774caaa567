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
``gate``  ``checked_write``: a write and the rules over the households it touched in one savepoint; a new
          error-level finding undoes it and raises ``QualityRejected`` listing the violations.
``run``   ``run_quality``: the batch over a region (``manage.py check_quality``, the 重新检查 button).
``pool``  ``QualityChecks``: the rules over many households in a helper process (imports).

The registry's pages save through the gate::

    try:
        result, warnings = gate.checked_write(write, lambda result: [household], note=reason)
    except gate.QualityRejected as exc:
        ...                                     # exc.violations onto the form; nothing was saved

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
