"""switchboard-sdk: the contract between the Switchboard hub and its plugins.

The contract is versioned ``major.minor`` (:data:`CONTRACT_VERSION`; this
distribution's version starts with it). Plugin authors need only this package:
hook specifications (:mod:`.hookspecs`), models (:mod:`.models`), errors
(:mod:`.errors`), request and response types (:mod:`.webhooks`), outbound HTTP
(:mod:`.transport`), the destinations it may reach (:mod:`.netguard`), HTTP
results as delivery outcomes (:mod:`.outcomes`), Standard Webhooks signing
(:mod:`.standard_webhooks`), secret rotation (:mod:`.secret_fields`) and the
conformance suite and fakes (:mod:`.testing`).
"""

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
    EventEnvelope,
    Identity,
    InboundMessage,
    Message,
    MessageKind,
    ThreadHints,
    Ticket,
    ticket_id_from_ref,
    ticket_ref,
)
from .netguard import OUTBOUND_URL, DestinationRefused, NetGuard, OutboundPolicy
from .registry import ContractWarning, PluginRegistry, build_plugin_manager
from .transport import DeliveryContext, ExternalIds, HttpResponse, HttpTransport, MemoryExternalIds, TransportError
from .webhooks import IngestReport, StoredObject, WebhookRequest, WebhookResponse

__version__ = "1.0.0"  # contract 1.0; keep in step with sdk/pyproject.toml

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
    "MemoryExternalIds",
    "Message",
    "MessageKind",
    "MethodNotAllowed",
    "NetGuard",
    "NotFound",
    "OutboundPolicy",
    "OutcomeReached",
    "PayloadTooLarge",
    "PluginConfigError",
    "PluginInfo",
    "PluginRegistry",
    "RateLimited",
    "StoredObject",
    "SwitchboardError",
    "ThreadHints",
    "Ticket",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "VerificationFailed",
    "WebhookRequest",
    "WebhookResponse",
    "build_plugin_manager",
    "describe_validation_error",
    "hookimpl",
    "ticket_id_from_ref",
    "ticket_ref",
]
