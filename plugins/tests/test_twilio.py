"""The ``twilio`` channel: conformance, parsing, answers and config.

Signature vectors, URL shapes and garbage bodies are in ``test_twilio_signing.py``.
Requests here are signed by :func:`reference_signature`, written from Twilio's
description of the scheme, not by the plugin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from defusedxml import ElementTree
from pydantic import BaseModel, SecretStr, ValidationError
from switchboard_plugins import twilio
from switchboard_plugins.twilio.config import DEFAULT_GREETING, TwilioConfig
from switchboard_plugins.twilio.respond import EMPTY_TWIML
from switchboard_plugins.twilio.signing import body_sha256
from switchboard_sdk.errors import BadPayload, PluginConfigError
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ChannelConformance
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CURRENT = "f3c1d2e4a5b6978812345678abcdef01"
PREVIOUS = "0123456789abcdef0123456789abcdef"
HOOK = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/hooks/t-acme/twilio"
ACCOUNT = "AC" + "a1" * 16
CALL = "CA" + "c2" * 16
RECORDING = "RE" + "e3" * 16
TRANSCRIPTION = "TR" + "f4" * 16
MESSAGE = "SM" + "b5" * 16
MMS_MESSAGE = "MM" + "d6" * 16

Params = list[tuple[str, str]]

SMS: Params = [
    ("ToCountry", "US"), ("SmsMessageSid", MESSAGE), ("NumMedia", "0"), ("SmsSid", MESSAGE),
    ("SmsStatus", "received"), ("Body", "Where is my order #1042?"), ("To", "+18005551212"),
    ("NumSegments", "1"), ("MessageSid", MESSAGE), ("AccountSid", ACCOUNT), ("From", "+14155550100"),
    ("ApiVersion", "2010-04-01"),
]
MMS: Params = [
    ("MessageSid", MMS_MESSAGE), ("SmsMessageSid", MMS_MESSAGE), ("AccountSid", ACCOUNT),
    ("MessagingServiceSid", "MG" + "77" * 16), ("From", "+447700900123"), ("To", "+18005551212"),
    ("Body", "photos of the damage"), ("NumMedia", "2"), ("SmsStatus", "received"),
    ("MediaUrl0", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_MESSAGE}/Media/ME1"),
    ("MediaContentType0", "image/jpeg"),
    ("MediaUrl1", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MMS_MESSAGE}/Media/ME2"),
    ("MediaContentType1", "application/pdf"),
]
WHATSAPP: Params = [
    ("MessageSid", "SM" + "99" * 16), ("AccountSid", ACCOUNT), ("From", "whatsapp:+4915112345678"),
    ("To", "whatsapp:+14155238886"), ("Body", "Hallo, ist mein Paket unterwegs?"), ("NumMedia", "0"),
    ("ProfileName", "Grete"), ("WaId", "4915112345678"), ("SmsStatus", "received"),
]
INBOUND_CALL: Params = [
    ("CallSid", CALL), ("AccountSid", ACCOUNT), ("From", "+14155550100"), ("To", "+18005551212"),
    ("Caller", "+14155550100"), ("Called", "+18005551212"), ("CallStatus", "ringing"),
    ("Direction", "inbound"), ("ApiVersion", "2010-04-01"),
]
RECORDING_CALLBACK: Params = [
    ("AccountSid", ACCOUNT), ("CallSid", CALL), ("RecordingSid", RECORDING),
    ("RecordingUrl", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}"),
    ("RecordingStatus", "completed"), ("RecordingDuration", "14"), ("RecordingChannels", "1"),
    ("RecordingSource", "RecordVerb"),
]
TRANSCRIPTION_CALLBACK: Params = [
    ("TranscriptionSid", TRANSCRIPTION), ("TranscriptionText", "Hi, my order never arrived. Please call back."),
    ("TranscriptionStatus", "completed"), ("RecordingSid", RECORDING), ("CallSid", CALL),
    ("AccountSid", ACCOUNT), ("From", "+14155550100"), ("To", "+18005551212"), ("CallStatus", "completed"),
]
MISSED_CALL: Params = [
    ("CallSid", CALL), ("AccountSid", ACCOUNT), ("From", "+14155550100"), ("To", "+18005551212"),
    ("CallStatus", "no-answer"), ("Direction", "inbound"), ("CallDuration", "0"),
]


def reference_signature(key: str, url: str, params: Params) -> str:
    """Twilio's scheme as documented: URL, then sorted keys each followed by its value(s)."""
    data = url + "".join(k + v for k, v in sorted(set(params)))
    return base64.b64encode(hmac.new(key.encode(), data.encode(), hashlib.sha1).digest()).decode()


def form_request(
    params: Params, *, url: str = HOOK, signed_for: str | None = None, key: str = CURRENT, tenant: str = "t-acme"
) -> WebhookRequest:
    """A POST as Twilio sends it to ``signed_for``, reaching the hub as ``url``."""
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": reference_signature(key, signed_for or url, params),
    }
    return WebhookRequest(
        tenant_id=tenant, channel="twilio", method="POST", public_url=url, headers=headers,
        query=dict(parse_qsl(url.partition("?")[2])), body=urlencode(params).encode(), received_at=NOW,
    )


def config(**overrides: Any) -> TwilioConfig:
    return TwilioConfig.model_validate({"auth_token": CURRENT, **overrides})


def parse(request: WebhookRequest, cfg: TwilioConfig | None = None) -> list[InboundMessage]:
    cfg = cfg or config()
    assert twilio.plugin.switchboard_channel_verify(request=request, config=cfg) is True
    return twilio.plugin.switchboard_channel_parse(request=request, config=cfg)


def parse_one(params: Params, event: str | None = None) -> InboundMessage:
    (message,) = parse(form_request(params, url=HOOK + (f"?event={event}" if event else "")))
    return message


def without(params: Params, *keys: str) -> Params:
    return [(k, v) for k, v in params if k not in keys]


def replaced(params: Params, **values: str) -> Params:
    return [(k, values.get(k, v)) for k, v in params] + [(k, v) for k, v in values.items() if k not in dict(params)]


class TestTwilioConformance(ChannelConformance):
    plugin = twilio.plugin

    def make_config(self) -> BaseModel:
        return config(previous_auth_token=PREVIOUS)

    def signed_requests(self, config: BaseModel) -> list[WebhookRequest]:
        return [
            form_request(SMS),
            form_request(MMS),
            form_request(WHATSAPP),
            form_request(INBOUND_CALL),
            form_request(RECORDING_CALLBACK, url=HOOK + "?event=recording"),
            form_request(TRANSCRIPTION_CALLBACK, url=HOOK + "?event=transcription"),
            form_request(MISSED_CALL, url=HOOK + "?event=status", key=PREVIOUS),
        ]

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        headers = {k: v for k, v in request.headers.items() if k != "x-twilio-signature"}
        return replace(request, headers=headers)


# -- wiring -------------------------------------------------------------------


def test_the_hub_wrappers_verify_parse_and_answer() -> None:
    registry = build_plugin_manager(extra_plugins=[twilio.plugin], load_entry_points=False)
    cfg = registry.validate_config("twilio", {"auth_token": CURRENT})
    request = form_request(SMS)
    registry.verify("twilio", request, cfg)
    (message,) = registry.parse("twilio", request, cfg)
    answer = registry.respond("twilio", request, cfg, IngestReport(stored=1, message_ids=("m1",)))
    assert message.provider_message_id == MESSAGE
    assert answer == WebhookResponse(200, EMPTY_TWIML, {"Content-Type": "text/xml"})


def test_has_no_handshake() -> None:
    registry = build_plugin_manager(extra_plugins=[twilio.plugin], load_entry_points=False)
    assert registry.handshake("twilio", replace(form_request(SMS), method="GET", body=b""), config()) is None


class OtherConfig(BaseModel):
    auth_token: str = CURRENT


def test_a_foreign_config_is_a_plugin_error() -> None:
    for hook in (twilio.plugin.switchboard_channel_verify, twilio.plugin.switchboard_channel_parse):
        with pytest.raises(PluginConfigError):
            hook(request=form_request(SMS), config=OtherConfig())


# -- messaging ------------------------------------------------------------------


def test_sms_is_normalised() -> None:
    message = parse_one(SMS)
    assert (message.tenant_id, message.channel, message.kind) == ("t-acme", "twilio", "message")
    assert message.provider_message_id == MESSAGE
    assert message.text == "Where is my order #1042?"
    assert message.customer is not None
    assert [i.key for i in message.customer.identities] == ["phone:+14155550100"]
    assert message.attachments == []
    assert message.received_at == NOW
    assert message.metadata == {"twilio_channel": "sms", "to": "+18005551212", "account_sid": ACCOUNT}


def test_mms_media_become_attachments() -> None:
    message = parse_one(MMS)
    assert [(a.url, a.content_type) for a in message.attachments] == [
        (dict(MMS)["MediaUrl0"], "image/jpeg"), (dict(MMS)["MediaUrl1"], "application/pdf")]
    assert message.metadata["twilio_channel"] == "mms"
    assert message.metadata["messaging_service_sid"] == dict(MMS)["MessagingServiceSid"]


def test_whatsapp_prefix_is_stripped_and_the_profile_name_kept() -> None:
    message = parse_one(WHATSAPP)
    assert message.customer is not None
    assert [i.key for i in message.customer.identities] == ["phone:+4915112345678"]
    assert message.customer.display_name == "Grete"
    assert message.metadata["twilio_channel"] == "whatsapp"


def test_the_same_phone_is_one_identity_across_sms_and_whatsapp() -> None:
    sms = parse_one(replaced(SMS, From="+4915112345678"))
    whatsapp = parse_one(WHATSAPP)
    assert sms.customer is not None
    assert whatsapp.customer is not None
    assert sms.customer.identities == whatsapp.customer.identities


def test_a_legacy_sms_without_message_sid_uses_sms_message_sid() -> None:
    assert parse_one(without(SMS, "MessageSid")).provider_message_id == MESSAGE


@pytest.mark.parametrize("status", ["queued", "sent", "delivered", "read"])
def test_outbound_progress_callbacks_store_nothing(status: str) -> None:
    params = [("MessageSid", MESSAGE), ("MessageStatus", status), ("From", "+18005551212"), ("To", "+14155550100")]
    assert parse(form_request(params)) == []


def test_an_undelivered_message_is_a_delivery_failure_of_its_recipient() -> None:
    params = [("MessageSid", MESSAGE), ("MessageStatus", "undelivered"), ("ErrorCode", "30003"),
              ("From", "+18005551212"), ("To", "+14155550100"), ("AccountSid", ACCOUNT)]
    message = parse_one(params)
    assert (message.kind, message.provider_message_id, message.opens_ticket) == (
        "delivery_failure", f"{MESSAGE}:status:undelivered", False)
    assert message.customer is not None
    assert message.customer.identities[0].value == "+14155550100"
    assert message.thread.provider_ids == [MESSAGE]
    assert message.metadata["error_code"] == "30003"


# -- voice ----------------------------------------------------------------------


def test_an_inbound_call_is_a_call_from_its_caller() -> None:
    message = parse_one(INBOUND_CALL)
    assert (message.kind, message.provider_message_id) == ("call", CALL)
    assert message.text == "Incoming call from +14155550100"
    assert message.customer is not None
    assert [i.key for i in message.customer.identities] == ["phone:+14155550100"]
    assert message.opens_ticket


@pytest.mark.parametrize("caller", ["+266696687", "+7378742833", "Anonymous", "", "client:alice"])
def test_a_withheld_caller_is_a_visitor_of_this_call_only(caller: str) -> None:
    message = parse_one(replaced(INBOUND_CALL, From=caller))
    assert message.customer is not None
    assert [i.key for i in message.customer.identities] == [f"visitor:twilio-call:{CALL}"]
    assert message.customer.display_name == "Withheld number"
    assert message.text == "Incoming call from a withheld number"


def test_a_recording_callback_is_a_voicemail_that_follows_the_call() -> None:
    message = parse_one(RECORDING_CALLBACK, "recording")
    assert (message.kind, message.provider_message_id) == ("voicemail", f"{CALL}:recording:{RECORDING}")
    assert message.customer is None
    assert message.thread.provider_ids == [CALL]
    (audio,) = message.attachments
    assert (audio.url, audio.content_type) == (dict(RECORDING_CALLBACK)["RecordingUrl"], "audio/wav")
    assert message.metadata["duration_seconds"] == "14"
    assert message.text == "Voicemail (14 s)"


def test_a_recording_without_marker_is_recognised_by_its_sid() -> None:
    assert parse_one(RECORDING_CALLBACK).kind == "voicemail"


@pytest.mark.parametrize("status", ["absent", "failed", "in-progress"])
def test_recordings_without_audio_store_nothing(status: str) -> None:
    request = form_request(replaced(RECORDING_CALLBACK, RecordingStatus=status), url=HOOK + "?event=recording")
    assert parse(request) == []


def test_the_record_action_stores_nothing_unless_it_names_the_recording() -> None:
    action = [("CallSid", CALL), ("From", "+14155550100"), ("CallStatus", "completed"),
              ("RecordingUrl", dict(RECORDING_CALLBACK)["RecordingUrl"]), ("RecordingDuration", "14"), ("Digits", "#")]
    assert parse(form_request(action, url=HOOK + "?event=recorded")) == []
    (message,) = parse(form_request([*action, ("RecordingSid", RECORDING)], url=HOOK + "?event=recorded"))
    assert message.provider_message_id == f"{CALL}:recording:{RECORDING}"  # de-duplicated with the callback
    assert message.customer is not None


def test_a_transcription_callback_follows_its_voicemail_and_call() -> None:
    message = parse_one(TRANSCRIPTION_CALLBACK, "transcription")
    assert (message.kind, message.provider_message_id) == ("transcription", f"{CALL}:transcription:{TRANSCRIPTION}")
    assert message.text == "Hi, my order never arrived. Please call back."
    assert message.thread.provider_ids == [f"{CALL}:recording:{RECORDING}", CALL]
    assert message.customer is not None  # From was sent this time
    assert message.customer.identities[0].value == "+14155550100"


def test_a_failed_transcription_stores_nothing() -> None:
    params = replaced(TRANSCRIPTION_CALLBACK, TranscriptionStatus="failed", TranscriptionText="")
    assert parse(form_request(params, url=HOOK + "?event=transcription")) == []


@pytest.mark.parametrize(
    ("status", "text"),
    [("no-answer", "Missed call (no-answer)"), ("busy", "Missed call (busy)"),
     ("canceled", "Abandoned call (canceled)"), ("failed", "Failed call (failed)")],
)
def test_missed_calls_are_events_threaded_by_call(status: str, text: str) -> None:
    message = parse_one(replaced(MISSED_CALL, CallStatus=status), "status")
    assert (message.kind, message.provider_message_id, message.text) == ("event", f"{CALL}:status:{status}", text)
    assert message.thread.provider_ids == [CALL]
    assert message.customer is not None
    assert message.opens_ticket


def test_a_missed_call_without_marker_is_recognised_by_its_status() -> None:
    assert parse_one(MISSED_CALL).provider_message_id == f"{CALL}:status:no-answer"


def test_a_forwarded_call_an_agent_took_is_recorded_without_opening_a_ticket() -> None:
    params = [*replaced(MISSED_CALL, CallStatus="in-progress"), ("DialCallStatus", "completed"),
              ("DialCallSid", "CA" + "99" * 16), ("DialCallDuration", "95")]
    message = parse_one(params, "status")
    assert (message.provider_message_id, message.text) == (f"{CALL}:status:completed", "Call completed (95 s)")
    assert not message.opens_ticket


def test_a_missed_forward_uses_the_dial_status() -> None:
    params = [*replaced(MISSED_CALL, CallStatus="in-progress"), ("DialCallStatus", "busy")]
    assert parse_one(params, "status").provider_message_id == f"{CALL}:status:busy"


@pytest.mark.parametrize("status", ["completed", "ringing", "in-progress", "initiated"])
def test_other_call_statuses_store_nothing(status: str) -> None:
    assert parse(form_request(replaced(MISSED_CALL, CallStatus=status), url=HOOK + "?event=status")) == []


def test_a_status_callback_without_from_follows_the_call() -> None:
    message = parse_one(without(MISSED_CALL, "From"), "status")
    assert message.customer is None
    assert message.thread.provider_ids == [CALL]


# -- bad payloads ----------------------------------------------------------------

SECRETISH = "zz-private-value-zz"

BAD: list[tuple[str, Params, str, str]] = [
    ("empty body", [], "", "not a Twilio"),
    ("unknown params", [("Foo", SECRETISH)], "", "not a Twilio"),
    ("unknown marker", INBOUND_CALL, "?event=ringing", "marker"),
    ("sms from no phone", replaced(SMS, From=SECRETISH), "", "From"),
    ("sms without from", without(SMS, "From"), "", "From"),
    ("NumMedia not a number", replaced(SMS, NumMedia="two"), "", "NumMedia"),
    ("NumMedia other digits", replaced(SMS, NumMedia="\u0662"), "", "NumMedia"),
    ("NumMedia huge", replaced(SMS, NumMedia="999"), "", "NumMedia"),
    ("missing media url", without(MMS, "MediaUrl1"), "", "MediaUrl1"),
    ("script media url", replaced(MMS, MediaUrl0=f"javascript:{SECRETISH}"), "", "MediaUrl0"),
    ("odd call status", replaced(INBOUND_CALL, CallStatus=SECRETISH), "", "CallStatus"),
    ("recording without call", without(RECORDING_CALLBACK, "CallSid"), "?event=recording", "CallSid"),
    ("recording without url", without(RECORDING_CALLBACK, "RecordingUrl"), "?event=recording", "RecordingUrl"),
    ("recording marker, no sid", without(RECORDING_CALLBACK, "RecordingSid"), "?event=recording", "RecordingSid"),
    ("transcription without sid", without(TRANSCRIPTION_CALLBACK, "TranscriptionSid"), "?event=transcription",
     "TranscriptionSid"),
    ("status without status", without(MISSED_CALL, "CallStatus"), "?event=status", "CallStatus"),
    ("status without call", without(MISSED_CALL, "CallSid"), "?event=status", "CallSid"),
    ("sid too long", replaced(SMS, MessageSid="S" * 600), "", "provider_message_id"),
    ("body too long", replaced(SMS, Body="x" * 100_001), "", "text"),
]


@pytest.mark.parametrize(("params", "query", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_payloads_raise_a_safe_bad_payload(params: Params, query: str, field: str) -> None:
    with pytest.raises(BadPayload) as caught:
        parse(form_request(params, url=HOOK + query))
    assert field in caught.value.message
    assert SECRETISH not in caught.value.message
    assert caught.value.__cause__ is None


def test_a_json_body_verifies_but_is_not_understood() -> None:
    body = b'{"EventType": "onMessageAdded"}'
    url = f"{HOOK}?bodySHA256={body_sha256(body)}"
    request = replace(form_request([], url=url), body=body, headers={
        "content-type": "application/json", "x-twilio-signature": reference_signature(CURRENT, url, [])})
    with pytest.raises(BadPayload, match="JSON"):
        parse(request)


# -- answers ---------------------------------------------------------------------

STORED = IngestReport(stored=1, message_ids=("m1",))


def respond(request: WebhookRequest, cfg: TwilioConfig | None = None, report: IngestReport = STORED) -> WebhookResponse:
    return twilio.plugin.switchboard_channel_respond(request=request, config=cfg or config(), report=report)


def twiml(response: WebhookResponse) -> Any:
    assert response.status_code == 200
    assert response.headers == {"Content-Type": "text/xml"}
    assert response.body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.body.encode())
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize(
    ("params", "query"),
    [(SMS, ""), (MMS, ""), (WHATSAPP, ""), (RECORDING_CALLBACK, "?event=recording"),
     (TRANSCRIPTION_CALLBACK, "?event=transcription"), (MISSED_CALL, "?event=status"),
     (RECORDING_CALLBACK, "?event=recorded")],
)
def test_messages_and_callbacks_get_an_empty_response(params: Params, query: str) -> None:
    response = respond(form_request(params, url=HOOK + query))
    assert response.body == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert len(twiml(response)) == 0


def test_an_inbound_call_gets_voicemail_twiml_with_signed_callbacks() -> None:
    root = twiml(respond(form_request(INBOUND_CALL)))
    say, record = list(root)
    assert (say.tag, say.text, say.get("language")) == ("Say", DEFAULT_GREETING, "en-US")
    assert record.tag == "Record"
    assert record.attrib == {
        "action": HOOK + "?event=recorded",
        "method": "POST",
        "maxLength": "120",
        "playBeep": "true",
        "recordingStatusCallback": HOOK + "?event=recording",
        "recordingStatusCallbackMethod": "POST",
        "transcribe": "true",
        "transcribeCallback": HOOK + "?event=transcription",
    }


def test_voicemail_settings_shape_the_twiml() -> None:
    cfg = config(greeting='Closed <until> "Monday" & Tuesday', max_recording_seconds=300, transcribe=False,
                 language="de-DE")
    root = twiml(respond(form_request(INBOUND_CALL), cfg))
    say, record = list(root)
    assert (say.text, say.get("language")) == ('Closed <until> "Monday" & Tuesday', "de-DE")
    assert (record.get("maxLength"), record.get("transcribe"), record.get("transcribeCallback")) == (
        "300", "false", None)


def test_an_empty_greeting_skips_say() -> None:
    assert [e.tag for e in twiml(respond(form_request(INBOUND_CALL), config(greeting="")))] == ["Record"]


def test_forward_mode_dials_the_number_and_reports_back() -> None:
    root = twiml(respond(form_request(INBOUND_CALL), config(voice_mode="forward", forward_to="+44 20 7946 0958")))
    (dial,) = list(root)
    assert (dial.tag, dial.get("action"), dial.get("method")) == ("Dial", HOOK + "?event=status", "POST")
    (number,) = list(dial)
    assert (number.tag, number.text) == ("Number", "+442079460958")


def test_callbacks_use_the_public_base_url_and_keep_other_query_params() -> None:
    cfg = config(public_base_url="https://support.example.com/switchboard/")
    signed_for = "https://support.example.com/switchboard/hooks/t-acme/twilio?region=eu"
    request = form_request(INBOUND_CALL, url=HOOK + "?region=eu", signed_for=signed_for)
    record = twiml(respond(request, cfg))[1]
    assert record.get("recordingStatusCallback") == signed_for + "&event=recording"


@pytest.mark.parametrize(
    ("public_url", "signed_for", "base"),
    [
        (HOOK, None, None),
        (HOOK, "https://support.example.com/hooks/t-acme/twilio", "https://support.example.com"),
        ("http://10.0.0.7:8080/hooks/t-acme/twilio", "https://support.example.com:443/hooks/t-acme/twilio",
         "https://support.example.com:443"),
    ],
)
@pytest.mark.parametrize(("event", "params"), [("recording", RECORDING_CALLBACK), ("recorded", RECORDING_CALLBACK),
                                               ("transcription", TRANSCRIPTION_CALLBACK)])
def test_callbacks_twilio_makes_to_our_twiml_urls_verify(
    public_url: str, signed_for: str | None, base: str | None, event: str, params: Params
) -> None:
    cfg = config(public_base_url=base) if base else config()
    record = twiml(respond(form_request(INBOUND_CALL, url=public_url, signed_for=signed_for), cfg))[1]
    callback = {"recording": record.get("recordingStatusCallback"), "recorded": record.get("action"),
                "transcription": record.get("transcribeCallback")}[event]
    # Twilio calls (and signs) exactly that URL; the hub rebuilds its own view of it
    rebuilt = public_url + "?" + urlsplit(callback).query
    messages = parse(form_request(params, url=rebuilt, signed_for=callback), cfg)
    assert [m.kind for m in messages] == [{"transcription": "transcription"}.get(event, "voicemail")]


def test_a_duplicate_call_gets_the_same_twiml() -> None:
    request = form_request(INBOUND_CALL)
    assert respond(request, report=STORED) == respond(request, report=IngestReport(duplicates=1, message_ids=("m1",)))


def test_a_quarantined_request_gets_an_empty_response() -> None:
    response = respond(form_request(INBOUND_CALL), report=IngestReport(quarantine_id="q1", quarantine_reason="x"))
    assert response.body == EMPTY_TWIML


def test_an_unparseable_request_is_still_answered_politely() -> None:
    request = replace(form_request(INBOUND_CALL), body=b"\xff\x00garbage=%%")
    assert respond(request).body == EMPTY_TWIML


# -- config ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"auth_token": ""},
        {"auth_token": CURRENT, "voice_mode": "forward"},
        {"auth_token": CURRENT, "voice_mode": "forward", "forward_to": "not a number"},
        {"auth_token": CURRENT, "voice_mode": "ivr"},
        {"auth_token": CURRENT, "public_base_url": "ftp://support.example.com"},
        {"auth_token": CURRENT, "public_base_url": "support.example.com"},
        {"auth_token": CURRENT, "public_base_url": "https://support.example.com/?x=1"},
        {"auth_token": CURRENT, "public_base_url": "https://support.example.com/#top"},
        {"auth_token": CURRENT, "max_recording_seconds": 0},
        {"auth_token": CURRENT, "max_recording_seconds": 3601},
        {"auth_token": CURRENT, "language": "english please"},
        {"auth_token": CURRENT, "greeting": "x" * 1001},
        {"auth_token": CURRENT, "api_key": ACCOUNT},  # an unknown field
    ],
)
def test_config_validation_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TwilioConfig.model_validate(raw)


def test_config_defaults_and_normalisation() -> None:
    cfg = config(public_base_url="https://support.example.com/api/", forward_to="+1 (415) 555-0100")
    assert cfg.public_base_url == "https://support.example.com/api"
    assert cfg.forward_to == "+14155550100"
    assert (cfg.voice_mode, cfg.max_recording_seconds, cfg.transcribe, cfg.language) == (
        "voicemail", 120, True, "en-US")


def test_config_hides_tokens() -> None:
    cfg = config(previous_auth_token=PREVIOUS)
    assert isinstance(cfg.auth_token, SecretStr)
    shown = repr(cfg) + str(cfg) + cfg.model_dump_json()
    assert CURRENT not in shown
    assert PREVIOUS not in shown


def test_config_errors_do_not_echo_the_token() -> None:
    with pytest.raises(ValidationError) as caught:
        TwilioConfig.model_validate({"auth_token": CURRENT, "forward_to": CURRENT})
    assert CURRENT not in str(caught.value)


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        config().transcribe = False  # type: ignore[misc]
