"""What the email reply tests share: a fixed time, a ticket reference, the support
mailbox's config and an email reply to Ada (fields overridable per test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard_plugins.email.config import EmailConfig
from switchboard_sdk.models import Identity
from switchboard_sdk.sending import OutboundMessage, ReplyContext

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
REF = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CONFIG = EmailConfig(from_address="support@acme.test", from_name="Acme Support", support_address="support@acme.test")


def outbound(**overrides: Any) -> OutboundMessage:
    """A reply on ticket ``REF`` answering the customer's mail ``reply-1@example.com``."""
    fields: dict[str, Any] = {
        "id": "msg_01JREPLY", "tenant_id": "t-acme", "channel": "email", "ticket_id": "tkt_" + REF.lower(),
        "ticket_ref": REF, "customer_id": "cus_1", "to": Identity(kind="email", value="ada@example.com"),
        "text": "Your refund is on its way.", "subject": "Order 1042", "author_name": "Grace",
        "replying_to": ReplyContext(provider_message_id="reply-1@example.com", received_at=NOW - timedelta(hours=1)),
        "created_at": NOW,
    }
    return OutboundMessage.model_validate({**fields, **overrides})
