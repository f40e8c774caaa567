"""Archive documents (乡有册、村有簿、户有档、人有卡): builders that turn registry records into plain data, and
renderers that turn that data into a PDF card or an XLSX register.

* cards.py: the 明白卡 and 人有卡 as plain data (HouseholdCard, MemberCard), for the HTML pages and the PDFs.
* pdf.py: those cards as A4 PDFs.
* registers.py: the 村有簿 and 乡有册 rows and township summary (RegisterRow, TownshipSummary), and their XLSX
  workbooks; also a village's 贫困村 status in a year.
* common.py: formatting both share (是/否, amounts, code-table labels).

The names below are what the views use.
"""

from jingzhun.registry.documents.cards import (
    build_household_card,
    build_member_card,
    card_queryset,
    member_card_queryset,
)
from jingzhun.registry.documents.pdf import household_card_pdf, member_card_pdf
from jingzhun.registry.documents.registers import (
    RegisterCounts,
    poor_village_status,
    write_township_register,
    write_village_register,
)

__all__ = [
    "RegisterCounts",
    "build_household_card",
    "build_member_card",
    "card_queryset",
    "household_card_pdf",
    "member_card_pdf",
    "member_card_queryset",
    "poor_village_status",
    "write_township_register",
    "write_village_register",
]
