"""The registry's pages, one module per area; their URLs are in jingzhun.registry.urls*.

``households`` list and file (户有档), ``household_forms`` 登记新户 and the 户 / 年度 forms, ``members`` 人有卡
and the member form, ``changes`` the composition changes (增减人, 迁移, 分户, 合户, 变更户主), ``documents``
cards and registers, ``quality`` the 数据质量 pages, ``village`` 村情. ``common`` and ``editing`` hold what
they share.
"""
