"""The email channel's hardening, through the real route and pipeline: hostile
Mailgun posts that used to burn minutes of CPU or crash the parser, and forged
senders that used to land in their victim's ticket (Zammad #5064).

Costs are measured in plugins/tests/test_email_cost.py; here each reproduction
gets the answer it should, and stores what it should."""
# ruff: noqa: RUF001 -- Chinese mail uses full-width punctuation on purpose

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from switchboard_plugins.email.signing import mailgun_signature
from switchboard_sdk import ticket_ref

import app as app_module
from chalicelib.hub import Hub
from tests.conftest import Pipeline, table_items
from tests.sealed_docs import doc_of, opened_items
from tools.local import samples
from tools.local.demo import DemoTenant

BOUNDARY = "hardeningboundary"
PATH = "/hooks/demo/email"


@pytest.fixture
def client(hub: Hub, demo: DemoTenant) -> Iterator[Any]:
    with Client(app_module.app) as test_client:
        yield test_client


def _key(demo: DemoTenant) -> str:
    return str(demo.channels["email"]["mailgun_signing_key"])


def _multipart(fields: dict[str, bytes | str]) -> bytes:
    chunks = []
    for name, value in fields.items():
        data = value.encode() if isinstance(value, str) else value
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        chunks.append(head + data + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def _signed(demo: DemoTenant, fields: dict[str, bytes | str]) -> dict[str, bytes | str]:
    stamp, token = str(int(time.time())), secrets.token_hex(25)
    return {"timestamp": stamp, "token": token, "signature": mailgun_signature(_key(demo), stamp, token), **fields}


def post(client: Any, body: bytes, path: str = PATH) -> Any:
    return client.http.post(path, body=body, headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})


def _mail(headers: str, body: str = "hi", sender: str = "ada@example.com") -> bytes:
    return (f"From: Ada <{sender}>\r\nTo: support@demo.example\r\nSubject: Hello\r\n"
            f"Message-ID: <{secrets.token_hex(8)}@example.com>\r\n{headers}\r\n{body}\r\n").encode()


def _stored_texts(hub: Hub) -> list[str]:
    return [doc_of(hub, item)["text"] for item in table_items(hub, "inbound")]


# -- 2: CPU before authentication ----------------------------------------------------------


def test_an_unsigned_part_with_60000_semicolons_gets_401(client: Any, hub: Hub) -> None:
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="timestamp"'.encode() + b";" * 60_000
    response = post(client, part + f"\r\n\r\n1\r\n--{BOUNDARY}--\r\n".encode())
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "verification_failed"
    assert table_items(hub, "inbound") == []


def test_an_unsigned_form_of_many_small_fields_gets_401(client: Any, hub: Hub) -> None:
    body = _multipart({f"f{i}": "x" for i in range(2000)})
    assert post(client, body).status_code == 401
    assert table_items(hub, "inbound") == []


# -- 3: signed inputs that cost minutes -------------------------------------------------------


def test_a_content_type_with_20000_semicolons_is_stored(client: Any, hub: Hub, demo: DemoTenant) -> None:
    raw = _mail("Content-Type: text/plain" + ";" * 20_000 + "\r\n")
    assert post(client, _multipart(_signed(demo, {"body-mime": raw}))).status_code == 200
    assert _stored_texts(hub) == ["hi"]


def test_an_html_body_of_40000_unclosed_attributes_is_stored(client: Any, hub: Hub, demo: DemoTenant) -> None:
    html = "<p>Where is my order?</p>" + "<a x='" * 40_000
    raw = _mail("MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n", html)
    assert post(client, _multipart(_signed(demo, {"body-mime": raw}))).status_code == 200
    assert _stored_texts(hub) == ["Where is my order?"]


def test_crafted_cjk_reply_lines_are_stored(client: Any, hub: Hub, demo: DemoTenant) -> None:
    lines = ("发件人" + "\u3000" * 1000 + "x\r\n") * 10 + ("於" * 290 + "寫道\r\n：" + "\u3000" * 300 + "x\r\n") * 10
    raw = _mail("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n", "請退款。\r\n" + lines)
    assert post(client, _multipart(_signed(demo, {"body-mime": raw}))).status_code == 200
    [text] = _stored_texts(hub)
    assert text.startswith("請退款。")


# -- 4: parser crashes ---------------------------------------------------------------------------


def test_an_mso_conditional_comment_is_read_not_a_crash(client: Any, hub: Hub, demo: DemoTenant) -> None:
    html = "<![ if !mso]><p>Refund please</p><![endif]><!--[if mso]><p>Outlook</p><![endif]-->"
    raw = _mail("MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n", html)
    assert post(client, _multipart(_signed(demo, {"body-mime": raw}))).status_code == 200
    assert _stored_texts(hub) == ["Refund please"]


@pytest.mark.parametrize("field", ["message-headers", "content-id-map"])
def test_json_nested_100000_deep_is_quarantined(client: Any, hub: Hub, demo: DemoTenant, field: str) -> None:
    fields = {"message-headers": json.dumps([["From", "ada@example.com"], ["Subject", "hi"]]),
              "body-plain": "hi", field: "[" * 100_000}
    response = post(client, _multipart(_signed(demo, fields)))
    assert response.status_code == 200
    answer = json.loads(response.body)
    assert answer["status"] == "quarantined"
    assert answer["error"]["code"] == "bad_payload"
    assert table_items(hub, "inbound") == []


# -- sender authenticity ---------------------------------------------------------------------------


def _ticket_of(hub: Hub, subject: str) -> str:
    [ticket] = [m["ticket_id"] for m in opened_items(hub, table_items(hub, "message")) if m["subject"] == subject]
    return str(ticket)


def test_a_forged_from_does_not_land_in_the_victims_ticket(
    client: Any, hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    genuine = {"sender": "ada@example.com", "X-Mailgun-Spf": "Pass",
               "body-mime": _mail("Content-Type: text/plain\r\n", "My parcel is late").replace(
                   b"Subject: Hello", b"Subject: Parcel")}
    assert post(client, _multipart(_signed(demo, genuine))).status_code == 200
    pipeline.drain()
    ticket = _ticket_of(hub, "Parcel")
    # the forger knows the ticket's reference and writes as Ada from their own server
    forged_mail = _mail("Content-Type: text/plain\r\n", "Please send it to my new address").replace(
        b"Subject: Hello", f"Subject: Re: [#{ticket_ref(ticket)}] Parcel".encode())
    forged = {"sender": "mallory@evil.example", "X-Mailgun-Spf": "Pass", "body-mime": forged_mail}
    assert post(client, _multipart(_signed(demo, forged))).status_code == 200
    pipeline.drain()
    [stored] = [m for m in opened_items(hub, table_items(hub, "message")) if m["subject"].startswith("Re:")]
    assert stored["ticket_id"] != ticket
    assert stored["metadata"]["sender_unverified"] == "true"


def test_an_ses_message_failing_dmarc_opens_its_own_ticket(
    client: Any, hub: Hub, demo: DemoTenant, pipeline: Pipeline, object_pump: Any
) -> None:
    raw, _ = samples.email_mime("My parcel is late", sender="ada@example.com", subject="Parcel")
    assert post(client, _multipart(_signed(demo, {"sender": "ada@example.com", "X-Mailgun-Spf": "Pass",
                                                  "body-mime": raw}))).status_code == 200
    pipeline.drain()
    ticket = _ticket_of(hub, "Parcel")
    ses_block = (b"X-SES-Spam-Verdict: PASS\r\nAuthentication-Results: amazonses.com;\r\n spf=fail"
                 b" envelope-from=mallory@evil.example; dkim=none; dmarc=fail header.from=example.com;\r\n"
                 b"X-SES-RECEIPT: AEFBQUFB\r\n")
    forged, _ = samples.email_mime("New address please", sender="ada@example.com", subject="Re: Parcel",
                                   in_reply_to=_provider_id(hub, "Parcel"))
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=samples.ses_object_key("demo"), Body=ses_block + forged)
    assert object_pump.poll_once() == 1
    pipeline.drain()
    [stored] = [m for m in opened_items(hub, table_items(hub, "message")) if m["subject"] == "Re: Parcel"]
    assert stored["ticket_id"] != ticket
    assert stored["metadata"]["sender_unverified"] == "true"


def _provider_id(hub: Hub, subject: str) -> str:
    messages = opened_items(hub, table_items(hub, "message"))
    [found] = [m["provider_message_id"] for m in messages if m["subject"] == subject]
    return str(found)
