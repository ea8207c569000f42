"""switchboard-sdk: the contract between the Switchboard hub and its plugins.

The contract is versioned ``major.minor`` (:data:`CONTRACT_VERSION`; this
distribution's version starts with it). Plugin authors need only this package:
hook specifications (:mod:`.hookspecs`), models (:mod:`.models`), errors
(:mod:`.errors`), request and response types (:mod:`.webhooks`), outbound HTTP
(:mod:`.transport`), replies and delivery statuses (:mod:`.sending`), the
destinations it may reach (:mod:`.netguard`, loaded on first use), HTTP results
as delivery outcomes (:mod:`.outcomes`), Standard Webhooks signing
(:mod:`.standard_webhooks`), secret rotation (:mod:`.secret_fields`) and the
conformance suite and fakes (:mod:`.testing`).
"""

from typing import TYPE_CHECKING, Any

from .errors import (
    BadPayload,
    Conflict,
    ConnectorError,
    Forbidden,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    OutcomeReached,
    PayloadTooLarge,
    PluginConfigError,
    RateLimited,
    SwitchboardError,
    Unauthorized,
    Unavailable,
    VerificationFailed,
    describe_validation_error,
)
from .hookspecs import CONTRACT_VERSION, ENTRY_POINT_GROUP, PROJECT_NAME, PluginInfo, hookimpl
from .models import (
    AttachmentRef,
    Customer,
    CustomerProfile,
    DeliveryOutcome,
    DeliveryStatus,
    EventEnvelope,
    Identity,
    InboundMessage,
    Message,
    MessageKind,
    SlaMetric,
    SlaState,
    SlaTarget,
    Stage,
    ThreadHints,
    Ticket,
    TicketPriority,
    TicketStatus,
    stage_of,
    ticket_id_from_ref,
    ticket_ref,
)
from .registry import ContractWarning, PluginRegistry, build_plugin_manager
from .sending import (
    IssuedToken,
    MemoryTokens,
    OutboundMessage,
    ReplyContext,
    SendContext,
    SendOutcome,
    SharedTokens,
    StatusUpdate,
)
from .transport import (
    OUTBOUND_URL,
    DeliveryContext,
    ExternalIds,
    HttpResponse,
    HttpTransport,
    MemoryExternalIds,
    TransportError,
)
from .webhooks import IngestReport, StoredObject, WebhookRequest, WebhookResponse

if TYPE_CHECKING:
    from .netguard import DestinationRefused, NetGuard, OutboundPolicy

# netguard costs ~8 ms at import (address tables, socket) and only outbound calls need
# it: its names load on first use, so the webhook path never imports it
_NETGUARD_NAMES = frozenset({"DestinationRefused", "NetGuard", "OutboundPolicy"})


def __getattr__(name: str) -> Any:
    if name in _NETGUARD_NAMES:
        from . import netguard

        value = getattr(netguard, name)
        globals()[name] = value  # once: later look-ups do not come here
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "1.3.0"  # contract 1.3; keep in step with sdk/pyproject.toml

__all__ = [
    "CONTRACT_VERSION",
    "ENTRY_POINT_GROUP",
    "OUTBOUND_URL",
    "PROJECT_NAME",
    "AttachmentRef",
    "BadPayload",
    "Conflict",
    "ConnectorError",
    "ContractWarning",
    "Customer",
    "CustomerProfile",
    "DeliveryContext",
    "DeliveryOutcome",
    "DeliveryStatus",
    "DestinationRefused",
    "EventEnvelope",
    "ExternalIds",
    "Forbidden",
    "HttpResponse",
    "HttpTransport",
    "Identity",
    "InboundMessage",
    "IngestReport",
    "InvalidInput",
    "IssuedToken",
    "MemoryExternalIds",
    "MemoryTokens",
    "Message",
    "MessageKind",
    "MethodNotAllowed",
    "NetGuard",
    "NotFound",
    "OutboundMessage",
    "OutboundPolicy",
    "OutcomeReached",
    "PayloadTooLarge",
    "PluginConfigError",
    "PluginInfo",
    "PluginRegistry",
    "RateLimited",
    "ReplyContext",
    "SendContext",
    "SendOutcome",
    "SharedTokens",
    "SlaMetric",
    "SlaState",
    "SlaTarget",
    "Stage",
    "StatusUpdate",
    "StoredObject",
    "SwitchboardError",
    "ThreadHints",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "VerificationFailed",
    "WebhookRequest",
    "WebhookResponse",
    "build_plugin_manager",
    "describe_validation_error",
    "hookimpl",
    "stage_of",
    "ticket_id_from_ref",
    "ticket_ref",
]
