"""Authorised calls to the tenant's Salesforce REST API: a token from :mod:`.auth`,
the request, and one more try with a fresh token after a 401.

A 401 from the API drops the cached token and retries the call once with a new
one; a second 401 ends the delivery "credentials rejected". No token and no answer
end it too: each raises :class:`~switchboard_sdk.errors.OutcomeReached`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard_sdk import outcomes
from switchboard_sdk.errors import ConnectorError, OutcomeReached
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.transport import DeliveryContext, HttpResponse

from . import auth, responses
from .config import SalesforceConfig

USER_AGENT = "Switchboard-Salesforce/0.1"


@dataclass
class Session:
    """The config, context and tokens of one delivery."""

    config: SalesforceConfig
    context: DeliveryContext
    tokens: list[str] = field(default_factory=list)

    @property
    def timeout(self) -> float:
        return min(self.config.timeout_seconds, self.context.timeout_seconds)

    def call(self, method: str, path: str, body: bytes) -> HttpResponse:
        """One authorised API request; on a 401, once more with a fresh token.
        No token, no answer or a second 401 raise ``OutcomeReached``."""
        rejected: HttpResponse | None = None
        for _ in range(2):
            token = auth.access_token(self.config, self.context, self.timeout)
            self.tokens.append(token)
            response = self._send(method, path, body, token)
            if response.status != 401:
                return response
            rejected = response
            auth.forget(self.config)  # expired or revoked: the next loop fetches a new one
        reason = responses.classify(rejected, self.context.clock()).reason if rejected else "401"
        raise OutcomeReached(DeliveryOutcome.failed(f"credentials rejected: {reason}", status_code=401))

    def _send(self, method: str, path: str, body: bytes, token: str) -> HttpResponse:
        headers = {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        url = self.config.instance_url + path
        try:
            return self.context.http.request(method, url, headers=headers, body=body, timeout=self.timeout)
        except ConnectorError as err:  # TransportError: refused, reset, timed out
            raise OutcomeReached(outcomes.unreachable(err)) from err
