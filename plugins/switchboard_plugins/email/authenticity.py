"""Did the receiving provider authenticate the From address?

``From`` is whatever the sender typed; the hub threads a message into a customer's
ticket by it (Zammad #5064: a forged From lands in the victim's ticket). What proves
it is the receiver's SPF/DKIM/DMARC verdict, and only the receiver's own — every
header below it could have been written by the sender. So each ingress path reads
its provider's verdict where only that provider can have put it:

* **SES** prepends its headers (``X-SES-*``, ``Authentication-Results``) to the raw
  message it stores. Only the block above SES's first ``X-SES-RECEIPT`` counts, and
  in it the ``Authentication-Results`` whose authserv-id is ``amazonses.com``.
* **Mailgun** posts ``X-Mailgun-Spf`` (Pass, Neutral, Fail, SoftFail) and
  ``X-Mailgun-Dkim-Check-Result`` (Pass, Fail) with the route POST and adds them to
  the message's headers; a sender's own copy of either that disagrees with
  Mailgun's makes the verdict a failure.

The answer is ``True`` when DMARC passed, or SPF or DKIM passed for a domain aligned
with From's; ``False`` when the provider gave verdicts and none of them is such a
pass (a forged From, or a domain that authenticates nothing); ``None`` when there is
no verdict to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .mime import Headers, Mail, values

SES_AUTHSERV_ID = "amazonses.com"
SES_RECEIPT_HEADER = "x-ses-receipt"
MAX_RESULTS_CHARS = 8192  # SES's own header is a few hundred characters
_METHODS = ("spf", "dkim", "dmarc")
_PASS = "pass"  # noqa: S105 -- a verdict, not a password


@dataclass
class _Result:
    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


def _without_comments(value: str) -> str:
    """``value`` with its (nested) ``( … )`` comments removed, outside quoted strings;
    one pass, so hostile nesting costs its length."""
    out: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for index, char in enumerate(value):
        if depth == 0 and char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            if depth == 0:
                out.append(value[start:index])
            depth += 1
        elif not quoted and char == ")" and depth:
            depth -= 1
            if depth == 0:
                start = index + 1
    if depth == 0:
        out.append(value[start:])
    return "".join(out)


def authentication_results(value: str) -> tuple[str, list[_Result]]:
    """``(authserv-id, results)`` of an RFC 8601 ``Authentication-Results`` value.
    Properties written as their own ``;`` element (SES: ``envelope-from=…``) belong to
    the method before them."""
    elements = _without_comments(value[:MAX_RESULTS_CHARS]).split(";")
    authserv_id = elements[0].strip().split(" ", 1)[0].lower()
    results: list[_Result] = []
    for element in elements[1:]:
        for token in element.split():
            name, equals, val = token.partition("=")
            if not equals:
                continue
            name, val = name.lower(), val.strip().strip('"').lower()
            if name in _METHODS:
                results.append(_Result(name, val))
            elif results:
                results[-1].properties.setdefault(name, val)
    return authserv_id, results


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip(".<>").lower()


def aligned(domain: str, from_domain: str) -> bool:
    """DMARC's relaxed alignment without a public-suffix list: the same domain, or one
    a subdomain of the other (``bounce.example.com`` and ``example.com``)."""
    a, b = _domain(domain), _domain(from_domain)
    if "." not in a or "." not in b:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _verdict(results: Iterable[_Result], from_domain: str) -> bool | None:
    found = list(results)
    if not found:
        return None
    dmarc = [r.result for r in found if r.method == "dmarc"]
    if _PASS in dmarc:
        return True
    if "fail" in dmarc:
        return False
    for result in found:
        if result.result != _PASS:
            continue
        if result.method == "spf":
            domain = result.properties.get("smtp.mailfrom") or result.properties.get("envelope-from", "")
        elif result.method == "dkim":
            domain = result.properties.get("header.d") or result.properties.get("header.i", "")
        else:
            continue
        if domain and aligned(domain, from_domain):
            return True
    return False


def _ses_block(headers: Headers) -> Headers:
    """The headers SES prepended: everything above its first ``X-SES-RECEIPT``."""
    for index, (name, _) in enumerate(headers):
        if name.lower() == SES_RECEIPT_HEADER:
            return headers[:index]
    return []


def ses_verdict(mail: Mail, from_address: str) -> bool | None:
    """SES's verdict on ``from_address`` from the raw message it stored."""
    for value in values(_ses_block(mail.headers), "authentication-results"):
        authserv_id, results = authentication_results(value)
        if authserv_id == SES_AUTHSERV_ID:
            return _verdict(results, _domain(from_address))
    return None


def _mailgun_result(form_value: str | None, header_values: list[str]) -> str | None:
    """Mailgun's verdict for one check: ``pass`` only when every copy says so."""
    seen = {v.strip().lower() for v in [*([form_value] if form_value is not None else []), *header_values]}
    seen.discard("")
    if not seen:
        return None
    return _PASS if seen == {_PASS} else "fail"


def _dkim_domains(mail: Mail) -> list[str]:
    domains = []
    for signature in mail.raw("dkim-signature"):
        tags = dict(tag.strip().partition("=")[::2] for tag in signature.split(";"))
        domains.append(tags.get("d", "").strip())
    return domains


def mailgun_verdict(
    mail: Mail, from_address: str, *, spf: str | None, dkim: str | None, envelope_sender: str | None
) -> bool | None:
    """Mailgun's verdict on ``from_address``: SPF passed for an aligned envelope sender
    (``sender``, SMTP MAIL FROM), or DKIM passed and every signature's ``d=`` is aligned
    (Mailgun does not say which signature passed)."""
    spf_result = _mailgun_result(spf, mail.raw("x-mailgun-spf"))
    dkim_result = _mailgun_result(dkim, mail.raw("x-mailgun-dkim-check-result"))
    if spf_result is None and dkim_result is None:
        return None
    from_domain = _domain(from_address)
    if spf_result == _PASS and envelope_sender and aligned(envelope_sender, from_domain):
        return True
    signers = _dkim_domains(mail)
    return bool(dkim_result == _PASS and signers and all(aligned(d, from_domain) for d in signers))


__all__ = ["aligned", "authentication_results", "mailgun_verdict", "ses_verdict"]
