"""How long a tenant's data is kept: DynamoDB TTLs (``expires_at``) and S3 object tags.

A tenant chooses ``message_retention_days`` (messages, tickets, customers and
their attachments) and ``raw_retention_days`` (raw provider payloads and
quarantined bodies) from :data:`~chalicelib.storage.conventions.RETENTION_DAYS`.
Items get an ``expires_at`` epoch second; S3 objects get the tag
``retention-days=<n>`` (:mod:`chalicelib.storage.conventions`), which one bucket
lifecycle rule per allowed value expires (infra/template.json).

Raw payloads never outlive the messages parsed from them: an inbound record or
raw body holds the same personal data as its message, and erasure finds them
only through the message. Their effective retention is the shorter of the two.
Choices and their reasons: docs/storage.md, "Retention".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from switchboard_sdk import NotFound

from ..storage.conventions import expires_at
from .tenants import TenantSettings

if TYPE_CHECKING:
    from .tenants import TenantDirectory

@dataclass(frozen=True)
class Retention:
    """One tenant's retention choices, in days."""

    message_days: int
    raw_days: int

    @classmethod
    def of(cls, settings: TenantSettings) -> Retention:
        return cls(settings.message_retention_days, settings.raw_retention_days)

    @property
    def inbound_days(self) -> int:
        """Inbound records and raw bodies: never longer than their messages."""
        return min(self.raw_days, self.message_days)

    def message_expiry(self, moment: datetime) -> int:
        return expires_at(moment, self.message_days)


DEFAULT = Retention.of(TenantSettings())


class RetentionSource(Protocol):
    def for_tenant(self, tenant_id: str) -> Retention: ...


class TenantRetention:
    """A tenant's retention from the tenant directory (cached per container, so
    the stream and the worker pay one GetItem per tenant per cache period)."""

    def __init__(self, tenants: TenantDirectory) -> None:
        self._tenants = tenants

    def for_tenant(self, tenant_id: str) -> Retention:
        try:
            return Retention.of(self._tenants.get(tenant_id).settings)
        except NotFound:  # the tenant was removed: its leftovers get the defaults
            return DEFAULT
