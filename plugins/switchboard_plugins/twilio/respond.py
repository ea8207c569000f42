"""The ``twilio`` channel's answers: TwiML for inbound calls, an empty ``<Response>`` otherwise."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

from switchboard_sdk.errors import BadPayload, VerificationFailed
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import TwilioConfig
from .parse import EVENT_PARAM, Marker, classify, event_marker, form_params
from .signing import BODY_HASH_PARAM
from .verify import signed_url

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_XML_HEADERS = {"Content-Type": "text/xml"}


def callback_url(url: str, event: Marker) -> str:
    """``url`` (the signed webhook URL) with ``event`` as its marker, other query
    parameters kept, encoded as the hub re-encodes them so the signature matches."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k not in (EVENT_PARAM, BODY_HASH_PARAM)]
    return urlunsplit(parts._replace(query=urlencode([*kept, (EVENT_PARAM, event)]), fragment=""))


def voice_twiml(url: str, config: TwilioConfig) -> str:
    """The TwiML that answers an inbound call; callbacks go to ``url`` + marker."""
    response = ElementTree.Element("Response")
    if config.voice_mode == "forward" and config.forward_to:
        dial = ElementTree.SubElement(response, "Dial", action=callback_url(url, "status"), method="POST")
        ElementTree.SubElement(dial, "Number").text = config.forward_to
    else:
        if config.greeting.strip():
            say = ElementTree.SubElement(response, "Say", language=config.language)
            say.text = config.greeting
        record = {
            "action": callback_url(url, "recorded"),
            "method": "POST",
            "maxLength": str(config.max_recording_seconds),
            "playBeep": "true",
            "recordingStatusCallback": callback_url(url, "recording"),
            "recordingStatusCallbackMethod": "POST",
            "transcribe": "true" if config.transcribe else "false",
        }
        if config.transcribe:
            record["transcribeCallback"] = callback_url(url, "transcription")
        ElementTree.SubElement(response, "Record", record)
    return _XML_DECLARATION + ElementTree.tostring(response, encoding="unicode")


def _xml(body: str) -> WebhookResponse:
    return WebhookResponse(status_code=200, body=body, headers=dict(_XML_HEADERS))


def answer(request: WebhookRequest, config: TwilioConfig, report: IngestReport) -> WebhookResponse:
    """Voice TwiML for an inbound call, an empty ``<Response>`` for everything else.

    Always 200: Twilio retries or plays an error on anything else. Depends only on
    the request and config, so a duplicate gets the same answer.
    """
    if report.quarantined:
        return _xml(EMPTY_TWIML)
    try:
        if classify(event_marker(request), form_params(request)) == "call":
            return _xml(voice_twiml(signed_url(request, config), config))
    except (BadPayload, VerificationFailed, ValueError):
        pass  # not a call we can answer (ValueError: a URL urlsplit refuses): hang up politely
    return _xml(EMPTY_TWIML)
