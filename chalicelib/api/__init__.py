"""The HTTP API behind ``/v1`` and ``/openapi.json``, without Chalice types.

Every call passes the access gate first (:mod:`.access`: key → scope → tenant →
rate), then one API object: tickets (:mod:`.tickets`), deliveries
(:mod:`.deliveries`), what was set aside (:mod:`.aside`), the tenant's own
administration (:mod:`.tenant_admin`) and the platform operator's
(:mod:`.platform`). :mod:`.calls` is a request as this layer sees it (built by
:mod:`chalicelib.edge`); :mod:`.openapi` documents every route from the same models.
"""
