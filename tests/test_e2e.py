"""End to end over real HTTP: `switchboard dev` as a subprocess, a signed web
message in, the ticket through /v1/tickets, a signed event at the receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from switchboard_sdk import standard_webhooks, ticket_ref

from tools.local import samples
from tools.local.demo import DemoTenant
from tools.local.runtime import free_port
from tools.local.samples import Sample

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 90


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, text = call_raw(url, body, headers)
    return status, json.loads(text or "null")


def call_raw(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def post(sample: Sample) -> tuple[int, str]:
    return call_raw(sample.url, sample.body, sample.headers)


def delivered_messages(demo: DemoTenant) -> list[dict[str, Any]]:
    """``message.created`` payloads the receiver got, first delivery of each event only."""
    return [e["event"]["data"]["message"] for e in receiver_events(demo)
            if e["type"] == "message.created" and not e["repeat"]]


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runtime's state directory (demo.json, and dev.log: what the hub logged)."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def runtime(state: Path) -> Iterator[DemoTenant]:
    env = os.environ | {"PORT": str(free_port()), "RECEIVER_PORT": str(free_port())}
    env.pop("SWITCHBOARD_AWS_ENDPOINT", None)
    log = (state / "dev.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.cli", "dev", "--state-dir", str(state)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        demo_file = state / "demo.json"
        wait_for(lambda: demo_file.exists() or process.poll() is not None, "demo.json", STARTUP_SECONDS)
        assert process.poll() is None, (state / "dev.log").read_text()
        demo = DemoTenant.read(demo_file)
        wait_for(lambda: _healthy(demo.hub_url), "the hub to answer", STARTUP_SECONDS)
        yield demo
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        log.close()


def _healthy(hub_url: str) -> bool:
    try:
        return call(f"{hub_url}/health")[0] == 200
    except OSError:
        return False


def send(demo: DemoTenant, text: str, client_id: str) -> tuple[int, Any]:
    body = json.dumps({"visitor_id": "e2e", "email": "e2e@example.com", "text": text,
                       "client_message_id": client_id}).encode()
    headers = standard_webhooks.signed_headers(demo.web_secret, f"wh_{client_id}", int(time.time()), body)
    return call(demo.web_hook_url, body, headers | {"Content-Type": "application/json"})


def receiver_events(demo: DemoTenant) -> list[dict[str, Any]]:
    return list(call(f"{demo.receiver_url}/events")[1]["events"])


def test_a_signed_message_reaches_the_api_and_the_receiver(runtime: DemoTenant) -> None:
    status, answer = send(runtime, "Where is my parcel?", "e2e-1")
    assert (status, answer["status"]) == (202, "accepted")
    auth = {"Authorization": f"Bearer {runtime.api_key}"}
    tickets = wait_for(lambda: call(f"{runtime.hub_url}/v1/tickets", headers=auth)[1]["tickets"], "a ticket")
    assert tickets[0]["subject"] == "Where is my parcel?"
    created = wait_for(
        lambda: [e for e in receiver_events(runtime) if e["type"] == "message.created"], "a delivery"
    )
    assert created[0]["verified"] is True
    assert created[0]["event"]["data"]["message"]["text"] == "Where is my parcel?"
    assert created[0]["event"]["ticket_id"] == tickets[0]["id"]


def test_a_replay_changes_nothing(runtime: DemoTenant) -> None:
    first = send(runtime, "Replay me", "e2e-replay")
    wait_for(lambda: any(e["event"]["data"].get("message", {}).get("text") == "Replay me"
                         for e in receiver_events(runtime)), "the first delivery")
    assert send(runtime, "Replay me", "e2e-replay") == first
    # a marker on the same ticket: deliveries per ticket are ordered, so once the
    # marker is in, a wrongly accepted replay would already have arrived
    send(runtime, "Marker", "e2e-marker")
    wait_for(lambda: any(e["event"]["data"].get("message", {}).get("text") == "Marker"
                         for e in receiver_events(runtime)), "the marker delivery")
    texts = [e["event"]["data"].get("message", {}).get("text") for e in receiver_events(runtime)]
    assert texts.count("Replay me") == 1
    auth = {"Authorization": f"Bearer {runtime.api_key}"}
    tickets = call(f"{runtime.hub_url}/v1/tickets", headers=auth)[1]["tickets"]
    _, detail = call(f"{runtime.hub_url}/v1/tickets/{tickets[0]['id']}", headers=auth)
    assert [m["text"] for m in detail["messages"]].count("Replay me") == 1


def test_an_sms_then_a_call_and_its_voicemail_meet_on_one_ticket(runtime: DemoTenant) -> None:
    token, url, phone = runtime.channels["twilio"]["auth_token"], runtime.hook_url("twilio"), "+14155550177"
    status, twiml = post(samples.twilio_sms(url, token, "My parcel is late", sender=phone))
    assert (status, twiml.endswith("<Response></Response>")) == (200, True)
    status, twiml = post(samples.twilio_call(url, token, caller=phone, call_sid="CA" + "e2e" * 10 + "ab"))
    assert status == 200
    assert "<Record" in twiml
    assert post(samples.twilio_recording(url, token, call_sid="CA" + "e2e" * 10 + "ab"))[0] == 200
    def twilio_messages() -> list[dict[str, Any]]:
        return [m for m in delivered_messages(runtime) if m["channel"] == "twilio"]

    wait_for(lambda: len(twilio_messages()) == 3, "three twilio messages")
    mine = twilio_messages()
    assert sorted(m["kind"] for m in mine) == ["call", "message", "voicemail"]
    assert len({m["ticket_id"] for m in mine}) == 1


def test_a_wechat_message_retried_three_times_is_stored_once(runtime: DemoTenant) -> None:
    config = runtime.channels["wechat"]
    push = samples.wechat_text(runtime.hook_url("wechat"), token=config["token"],
                               aes_key=config["encoding_aes_key"], app_id=config["app_id"],
                               text="重试三次", openid="oRetryUser", msg_id="9223372036854775807")
    answers = [post(push) for _ in range(3)]  # WeChat's retries: same body, same query
    assert answers == [(200, "success")] * 3
    # a marker from the same user: per-ticket order means the retries are in before it
    marker = samples.wechat_text(runtime.hook_url("wechat"), token=config["token"],
                                 aes_key=config["encoding_aes_key"], app_id=config["app_id"],
                                 text="marker", openid="oRetryUser")
    assert post(marker) == (200, "success")
    wait_for(lambda: any(m["text"] == "marker" for m in delivered_messages(runtime)), "the marker")
    retried = [m for m in delivered_messages(runtime) if m["text"] == "重试三次"]
    assert len(retried) == 1
    assert retried[0]["provider_message_id"] == "9223372036854775807"


def _mail(runtime: DemoTenant, text: str, *, sender: str, subject: str, in_reply_to: str | None = None) -> str:
    raw, message_id = samples.email_mime(text, sender=sender, subject=subject, in_reply_to=in_reply_to)
    key = runtime.channels["email"]["mailgun_signing_key"]
    status, answer = post(samples.mailgun_mime(runtime.hook_url("email"), key, raw))
    assert status == 200, answer
    return message_id


def _landed(runtime: DemoTenant, text: str) -> dict[str, Any]:
    return dict(wait_for(lambda: next((m for m in delivered_messages(runtime) if m["text"].strip() == text), None),
                         f"the delivery of {text!r}"))


def test_an_email_reply_threads_while_a_strangers_mail_does_not(runtime: DemoTenant) -> None:
    first_id = _mail(runtime, "My invoice is wrong.", sender="grace@example.com", subject="Invoice 42")
    first = _landed(runtime, "My invoice is wrong.")
    tag = f"[#{ticket_ref(first['ticket_id'])}]"
    _mail(runtime, "Here is the scan.", sender="grace@example.com", subject=f"Re: Invoice 42 {tag}",
          in_reply_to=first_id)
    _mail(runtime, "Let me in.", sender="mallory@example.com", subject=f"Re: Invoice 42 {tag}",
          in_reply_to=first_id)
    assert _landed(runtime, "Here is the scan.")["ticket_id"] == first["ticket_id"]
    assert _landed(runtime, "Let me in.")["ticket_id"] != first["ticket_id"]


def test_a_mailgun_token_admits_its_own_request_again_and_no_other(runtime: DemoTenant) -> None:
    """Mailgun sends the same signed request again after a 5xx or a timeout: it gets in
    (and is stored once); a captured token with another body is refused."""
    from dataclasses import replace
    from urllib.parse import parse_qsl, urlencode

    raw, _ = samples.email_mime("Only once, please.", sender="ada@example.com", subject="Replay")
    sample = samples.mailgun_mime(runtime.hook_url("email"), runtime.channels["email"]["mailgun_signing_key"], raw)
    assert post(sample)[0] == 200
    assert post(sample)[0] == 200
    forged_raw, _ = samples.email_mime("A captured token.", sender="ada@example.com", subject="Replay")
    form = dict(parse_qsl(sample.body.decode())) | {"body-mime": forged_raw.decode()}
    assert post(replace(sample, body=urlencode(form).encode()))[0] == 401
    _landed(runtime, "Only once, please.")
    texts = [m["text"].strip() for m in delivered_messages(runtime)]
    assert texts.count("Only once, please.") == 1
    assert "A captured token." not in texts


def test_an_ses_object_put_in_the_bucket_becomes_a_message(runtime: DemoTenant) -> None:
    import boto3

    raw, _ = samples.email_mime("Sent through SES.", sender="linus@example.com", subject="Via SES")
    s3 = boto3.client("s3", endpoint_url=runtime.aws_endpoint, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    s3.put_object(Bucket=runtime.bucket, Key=samples.ses_object_key(runtime.tenant_id), Body=raw)
    landed = _landed(runtime, "Sent through SES.")
    assert landed["channel"] == "email"
    assert landed["subject"] == "Via SES"
    assert landed["raw_payload_ref"].startswith(f"s3://{runtime.bucket}/inbound/{runtime.tenant_id}/email/")


# What the tests above sent as customers (identities, names, texts, subjects): none of it may
# be stored in clear (issue 15 §5). Runs last in this module (same worker, file order).
PERSONAL = ("e2e@example.com", "+14155550177", "oRetryUser", "grace@example.com", "mallory@example.com",
            "linus@example.com", "Where is my parcel?", "My parcel is late", "重试三次", "My invoice is wrong.",
            "Here is the scan.", "Only once, please.", "Sent through SES.", "Invoice 42")


def _clear(blob: str) -> list[str]:
    escaped = {value: json.dumps(value)[1:-1] for value in PERSONAL}  # as a JSON body would carry it
    return [v for v in PERSONAL if v in blob or escaped[v] in blob]


def _hub_lines(log: Path) -> list[str]:
    """What the hub logged: not the provider sandbox's, the demo receiver's or the web
    backend's lines (``[twilio] …``: the customer's and the business's own side, printing
    what they sent and got), nor the banner's example commands."""
    return [line for line in log.read_text(errors="replace").splitlines()
            if not line.startswith("[") and "switchboard demo " not in line]


def test_nothing_personal_is_stored_in_clear(runtime: DemoTenant, state: Path) -> None:
    import boto3

    aws = {"endpoint_url": runtime.aws_endpoint, "region_name": "us-east-1",
           "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    db, sqs, s3 = (boto3.client(name, **aws) for name in ("dynamodb", "sqs", "s3"))
    found: dict[str, list[str]] = {}
    for table in db.list_tables()["TableNames"]:
        for page in db.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                if hits := _clear(str(item)):
                    found[f"{table}: {item['pk']} {item['sk']}"] = hits
    for url in sqs.list_queues().get("QueueUrls", []):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        for message in received.get("Messages", []):
            if hits := _clear(message["Body"]):
                found[f"queue {url.rsplit('/', 1)[-1]}"] = hits
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=runtime.bucket):
        for entry in page.get("Contents", []):
            head = s3.head_object(Bucket=runtime.bucket, Key=entry["Key"])
            if head.get("ServerSideEncryption") != "aws:kms":  # SSE-KMS: unreadable without the key
                body = s3.get_object(Bucket=runtime.bucket, Key=entry["Key"])["Body"].read()
                if hits := _clear(body.decode("utf-8", "replace")):
                    found[f"s3 {entry['Key']} (not SSE-KMS)"] = hits
    if hits := _clear("\n".join(_hub_lines(state / "dev.log"))):
        found["the hub's log"] = hits
    assert found == {}
    auth = {"Authorization": f"Bearer {runtime.api_key}"}  # and the hub holds them: the API opens them
    tickets = call(f"{runtime.hub_url}/v1/tickets?limit=100", headers=auth)[1]["tickets"]
    texts = {m["text"].strip() for t in tickets
             for m in call(f"{runtime.hub_url}/v1/tickets/{t['id']}", headers=auth)[1]["messages"]}
    missing = {"Where is my parcel?", "My parcel is late", "重试三次", "My invoice is wrong."} - texts
    assert not missing, f"the API did not show {missing} (it showed {sorted(texts)})"
