"""OAuth 2.0 client credentials, with access tokens cached for the life of the container.

Follows Salesforce Help, "OAuth 2.0 Client Credentials Flow for Server-to-Server
Integration": ``POST {token_url}`` form-encoded ``grant_type=client_credentials``,
``client_id``, ``client_secret`` → ``{"access_token", "instance_url", "token_type", …}``.

The answer has no ``expires_in`` (the session lasts the connected app's session
timeout), so a token is kept until the API answers 401; the caller then calls
:func:`forget` and fetches a new one, once per delivery. The cache is a module
dict: one per warm Lambda container, lost on a cold start, never shared across
containers or written anywhere.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from switchboard_sdk import outcomes
from switchboard_sdk.errors import ConnectorError, OutcomeReached
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.transport import DeliveryContext

from . import responses
from .config import SalesforceConfig

CacheKey = tuple[str, str, str]
MAX_CACHED_TOKENS = 1024  # one per tenant configuration; a bound, not an expected size

_TOKENS: dict[CacheKey, str] = {}


def cache_key(config: SalesforceConfig) -> CacheKey:
    """``(token_url, client_id, digest of the secret)``.

    The secret's digest is part of the key: a tenant who typed another tenant's
    client id with a wrong secret must be refused, not handed the cached token.
    """
    digest = hashlib.sha256(config.client_secret.get_secret_value().encode()).hexdigest()
    return config.token_url, config.client_id, digest


def forget(config: SalesforceConfig) -> None:
    """Drop the cached token (the API answered 401: expired or revoked)."""
    _TOKENS.pop(cache_key(config), None)


def clear() -> None:
    """Drop every cached token (tests; a container never needs to)."""
    _TOKENS.clear()


def access_token(config: SalesforceConfig, context: DeliveryContext, timeout: float) -> str:
    """The cached token, or a new one from the token endpoint; ``OutcomeReached`` when none was issued."""
    key = cache_key(config)
    cached = _TOKENS.get(key)
    if cached is not None:
        return cached
    fetched = fetch_token(config, context, timeout)
    if len(_TOKENS) >= MAX_CACHED_TOKENS:
        _TOKENS.clear()
    _TOKENS[key] = fetched
    return fetched


def fetch_token(config: SalesforceConfig, context: DeliveryContext, timeout: float) -> str:
    """One client credentials grant; ``OutcomeReached`` when the endpoint issues no token."""
    form = {
        "grant_type": "client_credentials",
        "client_id": config.client_id,
        "client_secret": config.client_secret.get_secret_value(),
    }
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
    try:
        response = context.http.request(
            "POST", config.token_url, headers=headers, body=urlencode(form).encode(), timeout=timeout
        )
    except ConnectorError as err:  # TransportError: refused, reset, timed out
        raise OutcomeReached(outcomes.unreachable(err)) from err
    if not 200 <= response.status < 300:
        raise OutcomeReached(responses.oauth_error(response, context.clock()))
    body = responses.decode(response.body)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise OutcomeReached(DeliveryOutcome.failed(
            f"token endpoint answered {response.status} without an access_token; check token_url",
            status_code=response.status,
        ))
    return token
