"""The store of user geometry and its history: one GeoPackage file (default) or PostgreSQL + PostGIS (team mode).

:func:`store.db.open_store` opens what ``config.DB`` (``RRMAP_DB``) names; :class:`store.db.Store` is the whole
API (save with optimistic versioning, delete, revert, history, import in one transaction).  The same SQL runs on
both backends; a small dialect object per backend (:mod:`store.gpkg`, :mod:`store.postgis`) supplies only what
differs.  :mod:`store.migrate` reads ``data/overrides.csv`` into the store once.
"""
