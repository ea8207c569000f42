"""``X-Twilio-Signature``: computing it, and finding the URL Twilio signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from itertools import product
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit, urlunsplit

from switchboard_sdk.errors import VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

from .config import TwilioConfig

SIGNATURE_HEADER = "x-twilio-signature"
BODY_HASH_PARAM = "bodySHA256"
_DEFAULT_PORTS = {"https": "443", "http": "80"}
MAX_QUERY_FORMS = 8  # spellings of one query tried; each costs an HMAC per token and port


def _param_string(params: Mapping[str, list[str]] | None, *, distinct: bool) -> str:
    if not params:
        return ""
    parts: list[str] = []
    for key in sorted(params):
        values = sorted(set(params[key])) if distinct else sorted(params[key])
        parts.extend(key + value for value in values)
    return "".join(parts)


def _hmac(auth_token: str, data: str) -> str:
    digest = hmac.new(auth_token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature(auth_token: str, url: str, params: Mapping[str, list[str]] | None = None) -> str:
    """The ``X-Twilio-Signature`` of a POST to ``url`` with form ``params``.

    As Twilio's helper libraries compute it: the URL, then each key (sorted) followed
    by each of its distinct values (sorted). JSON bodies sign the URL only (``None``),
    which must then carry ``bodySHA256`` (see :func:`body_sha256`).
    """
    return _hmac(auth_token, url + _param_string(params, distinct=True))


def body_sha256(body: bytes) -> str:
    """The ``bodySHA256`` query value Twilio adds to the URL of a JSON webhook."""
    return hashlib.sha256(body).hexdigest()


def url_variants(url: str) -> list[str]:
    """``url`` as given, without its port, and with the scheme's default port.

    Twilio signs the URL exactly as the webhook was configured, port or not, and its
    own validators accept all three forms; so do we.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bracketed host or a port out of range: only the URL as given
        return [url]
    variants = [url]
    if port is not None:
        variants.append(urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])))
    elif parts.scheme in _DEFAULT_PORTS:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{_DEFAULT_PORTS[parts.scheme]}")))
    return list(dict.fromkeys(variants))


def query_forms(url: str) -> list[str]:
    """``url`` as given, then with its query spelled the other ways a webhook URL is
    commonly written: space as ``%20`` or ``+``, ``~`` as is or ``%7E``, an empty
    value as ``flag`` or ``flag=``. At most :data:`MAX_QUERY_FORMS`.

    Twilio signs the query exactly as configured, but API Gateway's REST events
    carry it parsed, so where the edge had no raw query it rebuilt one
    (``urlencode``: ``+``, ``~``, ``flag=``) that need not be the signed spelling.
    Every form decodes to the same parameters, so accepting a signature made
    over another of them accepts nothing Twilio did not send; a repeated key
    keeps its values' order, and keys stay in the order of ``url``.
    """
    head, mark, query = url.partition("?")
    query, hash_mark, fragment = query.partition("#")
    pairs = parse_qsl(query, keep_blank_values=True)
    if not mark or not pairs:
        return [url]
    forms = [query]
    for plus, tilde_escaped, bare in product((True, False), (False, True), (False, True)):
        forms.append(_spell(pairs, plus=plus, tilde_escaped=tilde_escaped, bare=bare))
    unique = list(dict.fromkeys(forms))[:MAX_QUERY_FORMS]
    return [f"{head}?{form}{hash_mark}{fragment}" for form in unique]


def _spell(pairs: list[tuple[str, str]], *, plus: bool, tilde_escaped: bool, bare: bool) -> str:
    def encode(text: str) -> str:
        # quote() leaves only letters, digits and "_.-~" as they are (RFC 3986's
        # unreserved set); "+" for a space is the HTML form spelling (quote_plus)
        spelled = quote(text, safe=" " if plus else "").replace(" ", "+")
        return spelled.replace("~", "%7E") if tilde_escaped else spelled

    return "&".join(encode(key) if bare and not value else f"{encode(key)}={encode(value)}" for key, value in pairs)


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


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL (media we may fetch later)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


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
    return list(dict.fromkeys([_param_string(form, distinct=True), _param_string(form, distinct=False)]))


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
                if hmac.compare_digest(_hmac(token, variant + suffix).encode(), given_bytes):
                    return
    raise VerificationFailed("X-Twilio-Signature does not match")
