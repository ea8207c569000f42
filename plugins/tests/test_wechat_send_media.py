"""The ``wechat`` channel's replies with attachments (uploaded images, links), and the WeChat
sandbox itself (tools/local/sandbox/wechat.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import loopback_allowed
from switchboard_sdk.models import AttachmentRef
from switchboard_sdk.sending import MemoryTokens, SendOutcome
from switchboard_sdk.testing import StatusServer
from test_wechat_send import APP_ID, APP_SECRET, NOW, OPENID, SEND, TOKEN, context, paths, reply, send

from tools.local.sandbox.wechat import FakeWeChat

__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # the signature, then bytes a text encoding would mangle
UPLOAD = "/cgi-bin/media/upload"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(APP_ID, APP_SECRET, clock=lambda: NOW.timestamp()) as server:
        yield server


def png(**fields: Any) -> AttachmentRef:
    return AttachmentRef.model_validate({"content_type": "image/png", "filename": "receipt.png", **fields})


# -- images ---------------------------------------------------------------------------------------------


def test_an_image_is_uploaded_then_sent_after_the_text(fake: FakeWeChat) -> None:
    outcome = send(fake, reply(attachments=[png(content=PNG)]))
    assert outcome == SendOutcome.sent("wx:msg_r1")
    assert paths(fake) == [TOKEN, UPLOAD, SEND, SEND]
    upload = fake.requests[1]
    assert "type=image" in upload.path
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert [(a.msgtype, a.content) for a in fake.accepted] == [("text", "Your order ships today."), ("image", "")]
    assert fake.accepted[1].image == PNG  # byte for byte through the multipart body
    assert fake.requests[3].json()["image"] == {"media_id": fake.accepted[1].media_id}


def test_an_image_without_text_is_one_message(fake: FakeWeChat) -> None:
    assert send(fake, reply("", attachments=[png(content=PNG)])).kind == "sent"
    assert [a.msgtype for a in fake.accepted] == ["image"]


def test_an_image_by_web_url_is_fetched_and_uploaded(fake: FakeWeChat) -> None:
    with StatusServer(200, body=PNG) as host:
        image = AttachmentRef(url=f"{host.url}/files/photo.jpg?X-Amz-Signature=abc")
        assert send(fake, reply(attachments=[image])).kind == "sent"
        assert [r.method for r in host.requests] == ["GET"]
    assert fake.accepted[1].image == PNG
    assert b"image/jpeg" in fake.requests[1].body  # the type from the name, as the URL had none


def test_an_image_host_that_fails_leaves_nothing_sent(fake: FakeWeChat) -> None:
    with StatusServer(503) as host:
        outcome = send(fake, reply(attachments=[AttachmentRef(url=f"{host.url}/a.png")]))
    assert outcome.kind == "retry"
    assert "could not fetch the image a.png (HTTP 503)" in outcome.reason
    with StatusServer(404) as host:
        assert send(fake, reply(attachments=[AttachmentRef(url=f"{host.url}/a.png")])).kind == "failed"
    assert fake.accepted == []


class FakeS3:
    """What the plugin calls on ``context.aws("s3")``."""

    def __init__(self, objects: dict[tuple[str, str], bytes]) -> None:
        self.objects = objects

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if (Bucket, Key) not in self.objects:
            error = Exception("not found")
            error.response = {"Error": {"Code": "NoSuchKey"}}  # type: ignore[attr-defined]
            raise error
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


def test_an_image_in_the_deployments_bucket_is_read_through_s3(fake: FakeWeChat) -> None:
    ctx = context()
    ctx.aws = lambda service: FakeS3({("media", "t1/receipt.gif"): PNG})
    assert send(fake, reply(attachments=[AttachmentRef(url="s3://media/t1/receipt.gif")]), ctx).kind == "sent"
    assert fake.accepted[1].image == PNG
    missing = send(fake, reply(attachments=[AttachmentRef(url="s3://media/t1/gone.gif")]), ctx)
    assert missing.kind == "failed"
    assert "NoSuchKey" in missing.reason


def test_an_s3_image_without_aws_access_fails(fake: FakeWeChat) -> None:
    outcome = send(fake, reply(attachments=[AttachmentRef(url="s3://media/t1/receipt.gif")]))
    assert outcome.kind == "failed"
    assert "cannot read" in outcome.reason


def test_wechat_refusing_an_image_fails_before_the_text_goes(fake: FakeWeChat) -> None:
    fake.fail(40004, on="upload")
    outcome = send(fake, reply(attachments=[png(content=PNG)]))
    assert (outcome.kind, outcome.code) == ("failed", "40004")
    assert fake.accepted == []


def test_a_failure_after_the_text_went_is_final_and_says_so(fake: FakeWeChat) -> None:
    fake.fail(-1, after=1)  # the text goes; the image's send meets a busy WeChat
    outcome = send(fake, reply(attachments=[png(content=PNG)]))
    assert (outcome.kind, outcome.code) == ("failed", "-1")
    assert "already received 1 of the reply's 2 messages" in outcome.reason
    assert [a.msgtype for a in fake.accepted] == ["text"]


def test_each_message_counts_against_the_budget(fake: FakeWeChat) -> None:
    images = [png(content=PNG), png(content=PNG)]
    outcome = send(fake, reply(attachments=images, replies_since_inbound=3))
    assert (outcome.kind, outcome.code) == ("failed", "45047")
    assert "takes 3 messages" in outcome.reason
    assert fake.requests == []
    assert send(fake, reply(attachments=images, replies_since_inbound=2)).kind == "sent"


# -- other attachments ------------------------------------------------------------------------------------


def test_other_attachments_with_a_web_link_go_as_links(fake: FakeWeChat) -> None:
    pdf = AttachmentRef(url="https://files.example.com/invoice-1042.pdf", content_type="application/pdf")
    webp = AttachmentRef(url="https://files.example.com/photo.webp", filename="photo.webp")
    assert send(fake, reply(attachments=[pdf, webp])).kind == "sent"
    assert fake.accepted[0].content == (
        "Your order ships today.\n"
        "invoice-1042.pdf: https://files.example.com/invoice-1042.pdf\n"
        "photo.webp: https://files.example.com/photo.webp"
    )
    assert UPLOAD not in paths(fake)


def test_an_attachment_that_cannot_reach_wechat_fails_before_calling(fake: FakeWeChat) -> None:
    pdf = AttachmentRef(content=b"%PDF-1.7", content_type="application/pdf", filename="invoice.pdf")
    outcome = send(fake, reply(attachments=[pdf]))
    assert outcome.kind == "failed"
    assert "invoice.pdf cannot be sent" in outcome.reason
    assert fake.requests == []


# -- the sandbox ----------------------------------------------------------------------------------------------


def post(fake: FakeWeChat, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(fake.url + path, data=json.dumps(body).encode(), method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        assert answer.status == 200  # WeChat answers errors with HTTP 200 too
        data: dict[str, Any] = json.loads(answer.read())
        return data


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "password", "appid": APP_ID, "secret": APP_SECRET}, 40002),
        ({"grant_type": "client_credential", "appid": "wx0000000000000000", "secret": APP_SECRET}, 40013),
        ({"grant_type": "client_credential", "appid": APP_ID, "secret": "nope"}, 40125),
    ],
)
def test_the_sandbox_checks_credentials(fake: FakeWeChat, body: dict[str, Any], errcode: int) -> None:
    answer = post(fake, TOKEN, body)
    assert answer["errcode"] == errcode
    assert fake.token_fetches == 0


def test_the_sandbox_hands_out_one_token_until_forced(fake: FakeWeChat) -> None:
    body = {"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET}
    first, again = post(fake, TOKEN, body), post(fake, TOKEN, body)
    assert first["access_token"] == again["access_token"]
    assert first["expires_in"] == 7200
    forced = post(fake, TOKEN, body | {"force_refresh": True})
    assert forced["access_token"] != first["access_token"]
    stale = post(fake, f"{SEND}?access_token={first['access_token']}", {"touser": OPENID, "msgtype": "text",
                                                                      "text": {"content": "hi"}})
    assert stale["errcode"] == 40001  # a forced refresh invalidates the previous token
    assert post(fake, f"{SEND}?access_token=made-up", {})["errcode"] == 40001
    assert post(fake, SEND, {})["errcode"] == 41001


def test_the_sandbox_checks_messages(fake: FakeWeChat) -> None:
    tokens = MemoryTokens(clock=lambda: NOW)
    assert send(fake, ctx=context(tokens)).kind == "sent"
    token = tokens.tokens[APP_ID][0]
    image = {"touser": OPENID, "msgtype": "image", "image": {"media_id": "never-uploaded"}}
    assert post(fake, f"{SEND}?access_token={token}", image)["errcode"] == 40007
    assert post(fake, f"{SEND}?access_token={token}", {"touser": OPENID, "msgtype": "video"})["errcode"] == 40008
    assert post(fake, f"{SEND}?access_token={token}", {"msgtype": "text"})["errcode"] == 40003


def test_the_sandbox_echoes_without_tokens_or_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeWeChat(APP_ID, APP_SECRET, echo=True, clock=lambda: NOW.timestamp()) as fake:
        assert send(fake, reply("您好")).kind == "sent"
        token = fake.current_token
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert "POST /cgi-bin/stable_token" in lines[0]
    assert f"text to {OPENID}: '您好'" in lines[1]
    assert token is not None
    assert token not in out
    assert APP_SECRET not in out
