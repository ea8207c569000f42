"""The provider sandbox ``make run`` starts: fake Twilio, WeChat and Mailgun APIs on
loopback (:mod:`tools.local.sandbox`), each printing what it receives, and the demo
tenant's channel settings pointing at them.

The fakes check credentials as the providers do, so a reply the sandbox accepts was
sent with the tenant's real settings: Twilio's Basic auth (Account SID and Auth
Token), WeChat's access token from ``stable_token`` (AppID and AppSecret), Mailgun's
``api:<key>``. Twilio and Mailgun then post their signed status callbacks to the
hub, so a reply goes on to ``delivered``. Email goes through Mailgun here; a tenant
set to ``send_via: ses`` sends through SES v2 to the emulator instead.

:meth:`ProviderSandbox.received` lists what each fake accepted (the demo receiver
serves it at ``GET /sandbox``, for ``switchboard demo reply``); :meth:`ProviderSandbox.fail_next`
makes a provider refuse its next send (``POST /sandbox/fail``: ``demo reply --fail-with``).
"""

from __future__ import annotations

import secrets
from typing import Any

from .sandbox.mailgun import FakeMailgun
from .sandbox.twilio import FakeTwilio
from .sandbox.wechat import FakeWeChat

MAIL_DOMAIN = "demo.example"
SUPPORT_ADDRESS = f"support@{MAIL_DOMAIN}"
RECENT = 50  # entries per provider that GET /sandbox lists


class ProviderSandbox:
    """One fake per provider channel the demo tenant has (``channels``: their configs)."""

    def __init__(self, channels: dict[str, dict[str, Any]], *, hub_url: str, tenant_id: str,
                 host: str = "127.0.0.1", echo: bool = True) -> None:
        self.twilio: FakeTwilio | None = None
        self.wechat: FakeWeChat | None = None
        self.mailgun: FakeMailgun | None = None
        self._settings: dict[str, dict[str, Any]] = {}
        if "twilio" in channels:
            self.twilio = FakeTwilio("AC" + secrets.token_hex(16), channels["twilio"]["auth_token"], echo=echo,
                                     host=host)
        if "wechat" in channels:
            self.wechat = FakeWeChat(channels["wechat"]["app_id"], secrets.token_hex(16), echo=echo, host=host)
        if "email" in channels:
            # Mailgun's events come to the channel's webhook, signed with its webhook signing key
            self.mailgun = FakeMailgun("key-" + secrets.token_hex(16), domains=(MAIL_DOMAIN,),
                                       signing_key=channels["email"]["mailgun_signing_key"],
                                       webhook_url=f"{hub_url}/hooks/{tenant_id}/email", echo=echo, host=host)

    def start(self) -> dict[str, dict[str, Any]]:
        """Start the fakes; returns the settings to add to each channel's config."""
        if self.twilio is not None:
            self.twilio.start()
            self._settings["twilio"] = {"account_sid": self.twilio.account_sid, "api_base_url": self.twilio.url}
        if self.wechat is not None:
            self.wechat.__enter__()
            self._settings["wechat"] = {"app_secret": self.wechat.app_secret, "api_base_url": self.wechat.url}
        if self.mailgun is not None:
            self.mailgun.start()
            self._settings["email"] = {
                "send_via": "mailgun", "mailgun_api_key": self.mailgun.api_key, "mailgun_domain": MAIL_DOMAIN,
                "from_address": SUPPORT_ADDRESS, "from_name": "Demo Company Support",
                "api_base_url": self.mailgun.url,
            }
        return self._settings

    def stop(self) -> None:
        if self.twilio is not None:
            self.twilio.stop()
        if self.wechat is not None:
            self.wechat.__exit__(None, None, None)
        if self.mailgun is not None:
            self.mailgun.stop()

    @property
    def urls(self) -> dict[str, str]:
        fakes = {"twilio": self.twilio, "wechat": self.wechat, "mailgun": self.mailgun}
        return {name: fake.url for name, fake in fakes.items() if fake is not None}

    def fail_next(self, provider: str, code: int) -> bool:
        """Answer the provider's next send with its error ``code`` (Twilio's and WeChat's
        codes, Mailgun's HTTP status), so a failed reply can be seen and retried."""
        if provider == "twilio" and self.twilio is not None:
            self.twilio.fail_next(code)
        elif provider == "wechat" and self.wechat is not None:
            self.wechat.fail(code)
        elif provider == "mailgun" and self.mailgun is not None:
            self.mailgun.fail_next(code, "the sandbox was told to refuse this one")
        else:
            return False
        return True

    def received(self) -> dict[str, list[dict[str, Any]]]:
        """What each fake accepted, newest last (JSON-ready; no credentials)."""
        seen: dict[str, list[dict[str, Any]]] = {}
        if self.twilio is not None:
            callbacks = list(self.twilio.callbacks)
            seen["twilio"] = [{
                "provider_message_id": m.sid, "to": m.to, "from": m.from_ or m.messaging_service_sid,
                "text": m.body, "media_urls": list(m.media_urls), "authenticated": True,
                "callbacks": [{"status": c.status, "answer": c.answer} for c in callbacks
                              if c.params["MessageSid"] == m.sid],
            } for m in self.twilio.accepted[-RECENT:]]
        if self.wechat is not None:
            seen["wechat"] = [{"to": m.touser, "type": m.msgtype, "text": m.content, "authenticated": True}
                              for m in self.wechat.accepted[-RECENT:]]
        if self.mailgun is not None:
            events = list(self.mailgun.events)
            seen["mailgun"] = [{
                "provider_message_id": m.message_id, "to": list(m.to), "subject": m.subject, "text": m.text,
                "in_reply_to": m.header("In-Reply-To"), "reply_to": m.header("Reply-To"), "authenticated": True,
                "callbacks": [{"status": e.event, "answer": e.answer} for e in events
                              if e.message_id == m.message_id],
            } for m in self.mailgun.accepted[-RECENT:]]
        return seen
