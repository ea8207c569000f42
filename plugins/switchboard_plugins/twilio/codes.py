"""Twilio's error codes in words, for the reasons agents read.

Codes from Twilio's error dictionary (twilio.com/docs/api/errors): the Messages
API answers with them synchronously (``{"code", "message", "more_info", "status"}``),
and status callbacks carry the delivery ones as ``ErrorCode``. Twilio's own
message is used for codes not listed here.
"""

from __future__ import annotations

AUTH_FAILED = "20003"
TOO_MANY_REQUESTS = "20429"
WINDOW_CLOSED = "63016"

AUTH_REFUSED_REASON = "Twilio: the account SID or auth token was refused"

# the customer's side: nothing the hub can retry its way out of
_RECIPIENT = {
    "21211": "the customer's number is not a valid phone number",
    "21408": "the account may not send messages to the customer's country",
    "21610": "the customer has unsubscribed (replied STOP) from this sender",
    "21612": "the customer's number cannot be reached from this sender",
    "21614": "the customer's number is not a mobile number and cannot receive messages",
}
# the tenant's side: a configuration to fix in Twilio or in the channel's settings
_ACCOUNT = {
    "20404": "the account or resource was not found (check account_sid)",
    "21606": "the sending number cannot send messages for this account",
    "21608": "a trial account can only send to verified numbers",
    "21617": "the message is longer than 1,600 characters",
    "30002": "the Twilio account is suspended",
}
# delivery failures reported by status callbacks (carriers, handsets)
_DELIVERY = {
    "30001": "too many messages were queued for the sending number",
    "30003": "the customer's phone is switched off or out of coverage",
    "30004": "the message was blocked (the customer or their carrier blocks this sender)",
    "30005": "the customer's number is unknown or no longer in service",
    "30006": "the customer's number is a landline or its carrier cannot be reached",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier could not deliver the message (unknown error)",
    "30010": "the message costs more than the account's maximum price",
    WINDOW_CLOSED: "WhatsApp's 24-hour reply window had closed; the customer must write again first",
}
WORDS: dict[str, str] = {**_RECIPIENT, **_ACCOUNT, **_DELIVERY}


def reason(code: str | None, fallback: str) -> str:
    """``Twilio: <words> (error <code>)``; ``fallback`` when the code is not known."""
    words = WORDS.get(code or "", fallback)
    return f"Twilio: {words}" + (f" (error {code})" if code else "")
