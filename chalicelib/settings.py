"""Deployment settings, read once per container from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

from switchboard_sdk.registry import ALLOWLIST_ENV, parse_allowlist

if TYPE_CHECKING:
    from switchboard_sdk.netguard import OutboundPolicy

MB = 1024 * 1024
AUDIT_DAYS = 3 * 365 + 1  # the audit log is kept at least three years
OUTBOUND_ALLOW_ENV = "SWITCHBOARD_OUTBOUND_ALLOW"  # switchboard_sdk.netguard reads the same variable


class _OutboundPolicyField:
    """``Settings.outbound_policy``: unless given, the default policy (public addresses
    only), built when first read. switchboard_sdk.netguard costs ~8 ms at import and
    only the delivery worker calls out, so webhook containers never load it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    @overload
    def __get__(self, settings: None, owner: type) -> None: ...
    @overload
    def __get__(self, settings: Settings, owner: type) -> OutboundPolicy: ...
    def __get__(self, settings: Settings | None, owner: type) -> OutboundPolicy | None:
        if settings is None:
            return None  # the dataclass's default: "not given"
        policy: OutboundPolicy | None = settings.__dict__.get(self._slot)
        if policy is None:
            from switchboard_sdk.netguard import OutboundPolicy

            policy = settings.__dict__[self._slot] = OutboundPolicy()
        return policy

    def __set__(self, settings: Settings, policy: OutboundPolicy | None) -> None:
        settings.__dict__[self._slot] = policy  # the frozen dataclass's __init__ comes here


def _outbound_policy(env: Mapping[str, str]) -> OutboundPolicy | None:
    """The operator's allowance, parsed now so a mistyped one fails at start-up; ``None``
    (the default, built on first use) when unset, as in production."""
    raw = env.get(OUTBOUND_ALLOW_ENV, "").strip()
    if not raw:
        return None
    from switchboard_sdk.netguard import OutboundPolicy

    return OutboundPolicy.parse(raw)


def _at_least(value: int, minimum: int, name: str) -> int:
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from err


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a number, got {raw!r}") from err


@dataclass(frozen=True)
class Settings:
    """Names of the AWS resources and the hub's limits.

    ``aws_endpoint`` points every AWS client at an emulator (moto's server)
    instead of AWS; unset in production.
    """

    table_name: str = "switchboard"
    queue_url: str = ""
    dlq_url: str = ""
    bucket: str = ""
    aws_endpoint: str | None = None
    region: str = "us-east-1"
    max_body_bytes: int = MB
    inline_raw_bytes: int = 32 * 1024
    plugin_allowlist: frozenset[str] | None = None
    tenant_cache_seconds: int = 30
    inbound_retention_days: int = 30
    max_delivery_attempts: int = 8
    delivery_timeout_seconds: float = 10.0
    ticket_index_shards: int = 4
    delivery_log_days: int = 30
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 900.0
    breaker_threshold: int = 10
    breaker_cooldown_seconds: int = 30
    webhook_rate: float = 100.0  # requests/s per tenant (chalicelib/tenancy/ratelimit.py, docs/limits.md)
    api_rate: float = 20.0
    audit_retention_days: int = AUDIT_DAYS
    secret_prefix: str = "/switchboard"  # noqa: S105 - the SSM path of plugin secrets (docs/secrets.md)
    log_level: str = "INFO"
    # agents' sign-in (chalicelib/agents): the stack's Cognito user pool and its app client; the
    # JWKS URL and the issuer default to Cognito's for the pool (see token_jwks_url, token_issuer)
    cognito_pool_id: str = ""
    cognito_client_id: str = ""
    cognito_jwks_url: str = ""
    cognito_issuer: str = ""
    # the API's public base URL (scheme://host[/stage]): providers post reply statuses to
    # <public_url>/hooks/<tenant>/<channel>; empty: replies ask for no status callbacks
    public_url: str = ""
    # in Lambda every line the function prints becomes one JSON object (chalicelib/logs.py);
    # elsewhere the console or test runner that owns the handlers keeps its format
    log_json: bool = False
    # where connectors may call: public addresses, plus what the operator allows for local
    # development (SWITCHBOARD_OUTBOUND_ALLOW="loopback,10.1.0.0/16"; sdk/switchboard_sdk/netguard.py)
    outbound_policy: _OutboundPolicyField = _OutboundPolicyField()
    # -- the assistant's settings --
    # the training queue (one job per knowledge change: hub.assistant_trainer) and the answering
    # queue (new inbound messages for the assistant, behind the stream); docs/assistant.md
    training_queue_url: str = ""
    assistant_queue_url: str = ""
    model_pointer_seconds: float = 30.0  # how long a container keeps a tenant's model pointer
    # -- end of the assistant's settings --
    # -- the widget's settings --
    # the web chat widget (chalicelib/widget, docs/channels/widget.md): writes (messages, uploads, CSAT,
    # feedback) per visitor, and sessions plus writes per client IP, in requests/s; uploads' size cap
    widget_visitor_rate: float = 1.0
    widget_ip_rate: float = 5.0
    widget_upload_max_bytes: int = 10 * MB
    # -- end of the widget's settings --
    # -- the data key (issue 15) --
    # the stack's KMS key (its ARN; stack output DataKeyArn): data keys for personal data, with the tenant in
    # the encryption context (chalicelib/crypto), and SSE-KMS of the objects the hub puts (docs/deploy.md)
    kms_key_id: str = ""
    # the table customers' data keys are kept in (stack output KeyTableName): no point-in-time recovery, so
    # erasing a customer (deleting their key) also reaches the main table's backups (docs/encryption.md)
    key_table_name: str = ""
    # -- end of the data key --

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            table_name=env.get("SWITCHBOARD_TABLE", "switchboard"),
            queue_url=env.get("SWITCHBOARD_QUEUE_URL", ""),
            dlq_url=env.get("SWITCHBOARD_DLQ_URL", ""),
            bucket=env.get("SWITCHBOARD_BUCKET", ""),
            aws_endpoint=env.get("SWITCHBOARD_AWS_ENDPOINT") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            max_body_bytes=_int(env, "SWITCHBOARD_MAX_BODY_BYTES", MB),
            plugin_allowlist=parse_allowlist(env.get(ALLOWLIST_ENV)),
            tenant_cache_seconds=_int(env, "SWITCHBOARD_TENANT_CACHE_SECONDS", 30),
            inbound_retention_days=_int(env, "SWITCHBOARD_INBOUND_RETENTION_DAYS", 30),
            max_delivery_attempts=_int(env, "SWITCHBOARD_MAX_DELIVERY_ATTEMPTS", 8),
            log_level=env.get("SWITCHBOARD_LOG_LEVEL", "INFO").upper(),
            log_json=bool(env.get("AWS_LAMBDA_FUNCTION_NAME")),  # set by the Lambda runtime
            delivery_log_days=_int(env, "SWITCHBOARD_DELIVERY_LOG_DAYS", 30),
            delivery_timeout_seconds=_float(env, "SWITCHBOARD_DELIVERY_TIMEOUT_SECONDS", 10.0),
            retry_base_seconds=_float(env, "SWITCHBOARD_RETRY_BASE_SECONDS", 2.0),
            retry_max_seconds=_float(env, "SWITCHBOARD_RETRY_MAX_SECONDS", 900.0),
            breaker_threshold=_int(env, "SWITCHBOARD_BREAKER_THRESHOLD", 10),
            breaker_cooldown_seconds=_int(env, "SWITCHBOARD_BREAKER_COOLDOWN_SECONDS", 30),
            webhook_rate=_float(env, "SWITCHBOARD_WEBHOOK_RATE", 100.0),
            public_url=env.get("SWITCHBOARD_PUBLIC_URL", "").strip(),
            api_rate=_float(env, "SWITCHBOARD_API_RATE", 20.0),
            audit_retention_days=_at_least(_int(env, "SWITCHBOARD_AUDIT_RETENTION_DAYS", AUDIT_DAYS), AUDIT_DAYS,
                                           "SWITCHBOARD_AUDIT_RETENTION_DAYS"),
            secret_prefix=env.get("SWITCHBOARD_SECRET_PREFIX", "/switchboard"),
            cognito_pool_id=env.get("SWITCHBOARD_COGNITO_POOL_ID", "").strip(),
            cognito_client_id=env.get("SWITCHBOARD_COGNITO_CLIENT_ID", "").strip(),
            cognito_jwks_url=env.get("SWITCHBOARD_COGNITO_JWKS_URL", "").strip(),
            cognito_issuer=env.get("SWITCHBOARD_COGNITO_ISSUER", "").strip(),
            outbound_policy=_outbound_policy(env),
            # -- the assistant's settings from the environment --
            training_queue_url=env.get("SWITCHBOARD_TRAINING_QUEUE_URL", "").strip(),
            assistant_queue_url=env.get("SWITCHBOARD_ASSISTANT_QUEUE_URL", "").strip(),
            model_pointer_seconds=_float(env, "SWITCHBOARD_MODEL_POINTER_SECONDS", 30.0),
            # -- end of the assistant's settings from the environment --
            # -- the widget's settings from the environment --
            widget_visitor_rate=_float(env, "SWITCHBOARD_WIDGET_VISITOR_RATE", 1.0),
            widget_ip_rate=_float(env, "SWITCHBOARD_WIDGET_IP_RATE", 5.0),
            widget_upload_max_bytes=_int(env, "SWITCHBOARD_WIDGET_UPLOAD_MAX_BYTES", 10 * MB),
            # -- end of the widget's settings from the environment --
            kms_key_id=env.get("SWITCHBOARD_KMS_KEY_ID", "").strip(),  # the data key (issue 15)
            key_table_name=env.get("SWITCHBOARD_KEY_TABLE", "").strip(),  # customers' keys (issue 15)
        )

    @property
    def token_issuer(self) -> str:
        """The ``iss`` of the pool's tokens (also under an emulator: moto signs with Cognito's form)."""
        if self.cognito_issuer or not self.cognito_pool_id:
            return self.cognito_issuer
        return f"https://cognito-idp.{self._pool_region}.amazonaws.com/{self.cognito_pool_id}"

    @property
    def token_jwks_url(self) -> str:
        """Where the pool's signing keys are: Cognito's URL, or the emulator's when one is set."""
        if self.cognito_jwks_url or not self.cognito_pool_id:
            return self.cognito_jwks_url
        if self.aws_endpoint:  # moto's server serves <endpoint>/<pool id>/.well-known/jwks.json
            return f"{self.aws_endpoint.rstrip('/')}/{self.cognito_pool_id}/.well-known/jwks.json"
        return f"{self.token_issuer}/.well-known/jwks.json"

    @property
    def _pool_region(self) -> str:
        region, separator, _ = self.cognito_pool_id.partition("_")  # pool ids read <region>_<id>
        return region if separator and region else self.region
