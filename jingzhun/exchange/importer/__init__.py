"""Bulk import of households and members in the template layout: validate every row, then write all or nothing.

One module per phase, so the dry run and the commit share every check:

1. read      (read.py)     — sheets from XLSX/CSV (exchange/reader.py) into rows of typed values (rows.py);
                             headers matched tolerantly, each cell converted; bad cells become issues at
                             sheet/row/column
2. validate  (validate.py) — member rows linked to their household rows (by 户编号, else 户主证件号码),
                             existing records looked up set-wise (stored.py: households by 户编号 or head ID,
                             members by 证件号码); IDs, one 户主, 家庭人口数 = members, one active household
                             per person, scope
3. plan      (plan.py)     — per record: create / update (with the changed fields) / unchanged
4. quality   (quality.py)  — each batch of households goes to the data-quality rules as it is planned
                             (registry.quality.pool: a helper process for large files, which checks while
                             this process writes); error-level findings become issues at their cells
5. write     (write.py)    — one transaction: bulk writes and one audit entry per created or changed record;
                             then the rules' findings: a blocking one rolls the write back

``run_import`` (run.py) runs them in turn. Nothing is written when any issue is found; a failure during the
write rolls everything back.
"""

from jingzhun.exchange.importer.report import ImportFailed, ImportReport, Issue
from jingzhun.exchange.importer.run import run_import

__all__ = ["ImportFailed", "ImportReport", "Issue", "run_import"]
