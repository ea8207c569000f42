"""The ``twilio`` channel's verification: which URL Twilio signed, and whether one of
the tenant's tokens signed it (the algorithm is :mod:`.signing`)."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs, urlsplit

from switchboard_sdk.errors import VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

from .config import TwilioConfig
from .signing import BODY_HASH_PARAM, SIGNATURE_HEADER, body_sha256, param_string, query_forms, sign, url_variants


def signed_url(request: WebhookRequest, config: TwilioConfig) -> str:
    """The URL Twilio called (and signed): ``public_base_url`` + path from ``/hooks/``
    on + query when the tenant set a base, else the URL the hub rebuilt."""
    if config.public_base_url is None:
        return request.public_url
    try:
        parts = urlsplit(request.public_url)
    except ValueError:
        raise VerificationFailed("the request URL cannot be parsed") from None
    # rfind: a stage or base path may itself be called "hooks"
    start = parts.path.rfind(f"/hooks/{request.tenant_id}/")
    if start < 0:
        start = parts.path.rfind("/hooks/")
    if start < 0:
        raise VerificationFailed("the request path does not contain /hooks/")
    return config.public_base_url + parts.path[start:] + (f"?{parts.query}" if parts.query else "")


def query_params(url: str) -> dict[str, list[str]]:
    """The query parameters of ``url``; split by hand, as ``urlsplit`` raises on odd hosts."""
    return parse_qs(url.split("#", 1)[0].partition("?")[2], keep_blank_values=True)


def _signed_suffixes(request: WebhookRequest, url: str) -> list[str]:
    """What follows the URL in the signed string: nothing for a JSON body (whose hash
    must match ``bodySHA256``), else the form parameters."""
    hashes = query_params(url).get(BODY_HASH_PARAM)
    if hashes:
        if not hmac.compare_digest(body_sha256(request.body).encode(), hashes[0].encode("utf-8", "replace")):
            raise VerificationFailed("the body does not match bodySHA256")
        return [""]
    form = request.form()
    # Twilio's libraries drop repeated identical values; accept the plain sort as well.
    return list(dict.fromkeys([param_string(form, distinct=True), param_string(form, distinct=False)]))


def verify_request(request: WebhookRequest, config: TwilioConfig) -> None:
    """Raise :class:`VerificationFailed` unless a configured token signed ``request``."""
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise VerificationFailed("X-Twilio-Signature header missing")
    given_bytes = given.strip().encode("utf-8", "replace")
    url = signed_url(request, config)
    suffixes = _signed_suffixes(request, url)
    urls = [variant for form in query_forms(url) for variant in url_variants(form)]
    for token in config.auth_tokens():
        for variant in urls:
            for suffix in suffixes:
                if hmac.compare_digest(sign(token, variant + suffix).encode(), given_bytes):
                    return
    raise VerificationFailed("X-Twilio-Signature does not match")
