"""``X-Twilio-Signature``, the way Twilio computes it: public helpers for tools that
sign sample requests (the demo CLI, benchmarks, tests) and for :mod:`.verify`.

Twilio signs the URL it called followed by each POST parameter (keys sorted, each
followed by its values), HMAC-SHA1 with the account's Auth Token, base64. JSON
webhooks sign the URL only, which then carries ``bodySHA256``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from itertools import product
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

SIGNATURE_HEADER = "x-twilio-signature"
BODY_HASH_PARAM = "bodySHA256"
_DEFAULT_PORTS = {"https": "443", "http": "80"}
MAX_QUERY_FORMS = 8  # spellings of one query tried; each costs an HMAC per token and port


def param_string(params: Mapping[str, list[str]] | None, *, distinct: bool) -> str:
    """The form parameters as they follow the URL in the signed string: each key
    (sorted) followed by each of its values (sorted; each once when ``distinct``)."""
    if not params:
        return ""
    parts: list[str] = []
    for key in sorted(params):
        values = sorted(set(params[key])) if distinct else sorted(params[key])
        parts.extend(key + value for value in values)
    return "".join(parts)


def sign(auth_token: str, data: str) -> str:
    """The signature of an assembled string (URL + :func:`param_string`)."""
    digest = hmac.new(auth_token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature(auth_token: str, url: str, params: Mapping[str, list[str]] | None = None) -> str:
    """The ``X-Twilio-Signature`` of a POST to ``url`` with form ``params``.

    As Twilio's helper libraries compute it: the URL, then each key (sorted) followed
    by each of its distinct values (sorted). JSON bodies sign the URL only (``None``),
    which must then carry ``bodySHA256`` (see :func:`body_sha256`).
    """
    return sign(auth_token, url + param_string(params, distinct=True))


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
