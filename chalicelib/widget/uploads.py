"""Attachments from the widget: straight from the browser to S3, never through the hub.

``POST /widget/{tenant}/uploads`` answers an S3 presigned POST for one file, in the
visitor's own folder (``attachments/<tenant>/widget/<visitor digest>/<random>/<name>``,
beside the other attachments of the tenant, so erasure and retention treat it alike).
The policy fixes the exact ``Content-Type``, caps the size at what the visitor declared
(at most the deployment's limit), and tags the object with the tenant's retention.

A message then names the keys it carries; before the hub forwards it, each object must
exist in that visitor's folder with an allowed type and size (one ``HeadObject`` each):
a key of someone else's folder, or an object that was never uploaded, is refused.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from switchboard_sdk import InvalidInput, PayloadTooLarge
from switchboard_sdk.visitor_tokens import VisitorClaims

from ..storage.aws import error_code

ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"})
EXPIRES_SECONDS = 600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    content_type: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=100)]
    size: int = Field(ge=1)


def safe_name(filename: str) -> str:
    """The file's name as a key segment: letters, digits, ``._-``; at most 100 characters."""
    name = _UNSAFE.sub("_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._") or "file"
    return name[-100:]


def tagging(retention_days: int) -> str:
    """The object's retention tag as S3's POST form field wants it (XML)."""
    return (f"<Tagging><TagSet><Tag><Key>retention-days</Key><Value>{int(retention_days)}</Value></Tag>"
            "</TagSet></Tagging>")


@dataclass
class Uploads:
    s3: Any
    bucket: str
    max_bytes: int

    def folder(self, claims: VisitorClaims) -> str:
        return f"attachments/{claims.tenant}/widget/{claims.folder}/"

    def presign(self, claims: VisitorClaims, asked: UploadRequest, retention_days: int) -> dict[str, Any]:
        """A presigned POST for one file; 422 for a type the widget does not take, 413 for too large."""
        if asked.content_type not in ALLOWED_TYPES:
            raise InvalidInput("this type of file cannot be sent: images, PDF or plain text only",
                               [{"field": "content_type", "message": "not allowed"}])
        if asked.size > self.max_bytes:
            raise PayloadTooLarge(f"files are at most {self.max_bytes} bytes")
        key = f"{self.folder(claims)}{secrets.token_hex(8)}/{safe_name(asked.filename)}"
        tags = tagging(retention_days)
        post = self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": asked.content_type, "tagging": tags},
            Conditions=[{"Content-Type": asked.content_type}, {"tagging": tags},
                        ["content-length-range", 1, asked.size]],
            ExpiresIn=EXPIRES_SECONDS)
        return {"key": key, "url": post["url"], "fields": post["fields"], "max_bytes": asked.size,
                "expires_in": EXPIRES_SECONDS}

    def checked(self, claims: VisitorClaims, keys: list[str]) -> list[dict[str, Any]]:
        """The attachments a message names, as the channel stores them, once each is found to be
        this visitor's upload of an allowed type and size."""
        return [self._check(claims, key) for key in keys]

    def _check(self, claims: VisitorClaims, key: str) -> dict[str, Any]:
        refused = InvalidInput("an attachment is not one of your uploads", [{"field": "attachments", "message":
                                                                             "unknown upload"}])
        if not key.startswith(self.folder(claims)) or ".." in key:
            raise refused
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as err:
            if error_code(err) in ("404", "NoSuchKey", "NotFound"):
                raise refused from None
            raise
        size, content_type = int(head.get("ContentLength", 0)), str(head.get("ContentType", "")).lower()
        if size > self.max_bytes:
            raise PayloadTooLarge(f"files are at most {self.max_bytes} bytes")
        if content_type not in ALLOWED_TYPES:
            raise InvalidInput("this type of file cannot be sent: images, PDF or plain text only",
                               [{"field": "attachments", "message": "type not allowed"}])
        return {"url": f"s3://{self.bucket}/{key}", "content_type": content_type,
                "filename": key.rsplit("/", 1)[-1], "size_bytes": size}
