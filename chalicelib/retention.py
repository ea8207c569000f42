"""How long a tenant's data is kept: DynamoDB TTLs (``expires_at``) and S3 object tags.

A tenant chooses ``message_retention_days`` (messages, tickets, customers and
their attachments) and ``raw_retention_days`` (raw provider payloads and
quarantined bodies) from :data:`~chalicelib.tenants.RETENTION_DAYS`. Items get
an ``expires_at`` epoch second; S3 objects get the tag ``retention-days=<n>``,
which one bucket lifecycle rule per allowed value expires (infra/template.json).

Raw payloads never outlive the messages parsed from them: an inbound record or
raw body holds the same personal data as its message, and erasure finds them
only through the message. Their effective retention is the shorter of the two.
Choices and their reasons: docs/storage.md, "Retention".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from switchboard_sdk import NotFound

from .tenants import RETENTION_DAYS, TenantSettings

if TYPE_CHECKING:
    from .tenants import TenantDirectory

TAG_KEY = "retention-days"


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


def expires_at(moment: datetime, days: int) -> int:
    """The TTL attribute value: epoch seconds ``days`` after ``moment``."""
    return int((moment + timedelta(days=days)).timestamp())


def object_tagging(days: int) -> str:
    """The ``Tagging`` value for a put; only allowed values have a lifecycle rule."""
    if days not in RETENTION_DAYS:
        raise ValueError(f"no lifecycle rule expires objects after {days} days")
    return f"{TAG_KEY}={days}"


def allowed_days(days: int) -> int:
    """The shortest allowed choice of at least ``days`` (a deployment default that
    is not one of the choices still lands on a lifecycle rule)."""
    return next((choice for choice in sorted(RETENTION_DAYS) if choice >= days), max(RETENTION_DAYS))


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
