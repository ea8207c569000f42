"""Tenancy: who the tenants are and what each may do, keep and forget.

Tenant records and their plugins (:mod:`.tenants`), API keys (:mod:`.apikeys`),
the audit log (:mod:`.audit`), per-tenant rate limits (:mod:`.ratelimit`),
retention (:mod:`.retention`), and a customer's erasure (:mod:`.erasure`, with
the bulk reads and deletes of :mod:`.purge`).
"""
