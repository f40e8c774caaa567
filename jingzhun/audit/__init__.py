"""操作日志: who changed which record, when, in which request, from what to what — provably unaltered.

* Recording: ``AuditedModel`` (models.py) writes one entry per save/delete in the same transaction,
  including ``queryset.delete()`` and cascades; bulk writes record theirs with ``AuditBatch`` (bulk.py).
  ``audit_context`` / ``audit_reason`` (context.py) set the actor, request id (one correlated set per
  request, command or import) and reason; AuditContextMiddleware does it for each web request.
* Integrity: each entry's hash covers its content and the previous hash; the chain head is locked for every
  append. ``manage.py verify_audit`` recomputes the chain and names the first broken entry. Someone with
  database access could still rewrite an entry with every later one and the head, so the head is anchored
  outside the database (anchors.py: daily, and after each committed import; shown on /audit/ to copy) and
  verify_audit checks every anchor it finds, plus any ``--anchor ID:HASH`` written down elsewhere. On
  PostgreSQL a trigger refuses UPDATE/DELETE; TRUNCATE and the table owner's ALTER TABLE remain possible,
  which is why the app should not connect as the owner in production and why the anchors matter.
* Reading: /audit/ (search, CSV export, entry detail) for 系统管理员/县级管理员/纪检审计 within their scope;
  /audit/history/<type>/<id>/ for one object, linked from detail pages with
  ``{% include "audit/_history_link.html" with object=obj %}``.
"""
