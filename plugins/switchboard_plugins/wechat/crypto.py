"""WeChat's message signatures and its AES "safe mode" (WXBizMsgCrypt): public, for
tools that sign or encrypt sample pushes (the demo CLI, benchmarks, tests) and for
:mod:`.verify` and :mod:`.respond`.

* ``signature`` (GET check, plaintext pushes): ``sha1(sorted([token, timestamp, nonce]))``.
* ``msg_signature`` (encrypted pushes and replies): the same with the ``Encrypt`` text added.
* ``Encrypt``: base64 of AES-256-CBC with key ``b64decode(EncodingAESKey + "=")`` and
  IV ``key[:16]`` over ``random16 | uint32_be(len(msg)) | msg | app_id``, PKCS#7-padded
  to 32-byte blocks (not AES's 16).

The same algorithm serves WeCom, whose ``receive_id`` (corp id) plays the app id's part.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
from base64 import b64decode, b64encode
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .config import aes_key_bytes
from .xmltools import cdata

BLOCK = 32  # WeChat pads to 32 bytes, a multiple of AES's block size
_LENGTH = struct.Struct(">I")


class CryptoError(ValueError):
    """An ``Encrypt`` value that does not decrypt to a well-formed message."""


class AppIdMismatch(CryptoError):
    """The message decrypted but was encrypted for another app id."""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 hex of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8"), usedforsecurity=False).hexdigest()


def signature_matches(given: str | None, *parts: str) -> bool:
    """Constant-time check of a ``signature`` or ``msg_signature`` over ``parts``."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), sign(*parts).encode("utf-8"))


@dataclass(frozen=True)
class Decrypted:
    """The pieces of a decrypted ``Encrypt`` value.

    ``body`` stays bytes: once padding and app id check out the message is
    genuine, and whether it is readable (UTF-8 XML) is the parser's question,
    not the cipher's.
    """

    random16: bytes
    body: bytes
    app_id_bytes: bytes

    @property
    def message(self) -> str:
        """``body`` as text; :class:`CryptoError` when it is not UTF-8."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("Encrypt does not hold UTF-8 text") from None

    @property
    def app_id(self) -> str:
        return self.app_id_bytes.decode("utf-8", "replace")


class WeChatCrypto:
    """Encrypts and decrypts one account's messages (``WXBizMsgCrypt``)."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self.token = token
        self.key = aes_key_bytes(encoding_aes_key)
        self.app_id = app_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    # -- encrypt ------------------------------------------------------------------

    def encrypt(self, xml: str | bytes, random16: bytes) -> str:
        """The base64 ``Encrypt`` value for ``xml`` (text is sent as UTF-8; bytes as
        they are, so tests can seal what WeChat should never send); ``random16``
        must be 16 bytes."""
        if len(random16) != 16:
            raise ValueError("random16 must be exactly 16 bytes")
        body = xml if isinstance(xml, bytes) else xml.encode("utf-8")
        plain = random16 + _LENGTH.pack(len(body)) + body + self.app_id.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK
        encryptor = self._cipher().encryptor()
        sealed = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        return b64encode(sealed).decode("ascii")

    def msg_signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return sign(self.token, timestamp, nonce, encrypt)

    def encrypted_reply(self, xml: str, *, timestamp: str, nonce: str, random16: bytes) -> str:
        """A passive reply as safe mode wants it: ``Encrypt``, ``MsgSignature``,
        ``TimeStamp`` and ``Nonce``."""
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise ValueError("timestamp must be a Unix timestamp")
        encrypt = self.encrypt(xml, random16)
        signature = self.msg_signature(timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt>{cdata(encrypt)}</Encrypt><MsgSignature>{cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )

    def encrypted_request(
        self, xml: str | bytes, *, timestamp: str, nonce: str, random16: bytes, to_user: str
    ) -> tuple[bytes, str]:
        """A safe-mode push as WeChat sends it: ``(POST body, msg_signature)``.
        For tests, benchmarks and demos; the hub never sends these."""
        encrypt = self.encrypt(xml, random16)
        body = f"<xml><ToUserName>{cdata(to_user)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return body.encode("utf-8"), self.msg_signature(timestamp, nonce, encrypt)

    # -- decrypt ------------------------------------------------------------------

    def unpack(self, encrypt_b64: str) -> Decrypted:
        """All parts of an ``Encrypt`` value, whatever app id it names."""
        try:
            sealed = b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("Encrypt is not base64") from None
        if not sealed or len(sealed) % 16:
            raise CryptoError("Encrypt is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(sealed) + decryptor.finalize()
        content = _unpad(plain)
        if len(content) < 20:
            raise CryptoError("Encrypt is too short")
        (length,) = _LENGTH.unpack_from(content, 16)
        if 20 + length > len(content):
            raise CryptoError("Encrypt names a message longer than itself")
        return Decrypted(random16=content[:16], body=content[20 : 20 + length], app_id_bytes=content[20 + length :])

    def decrypt_bytes(self, encrypt_b64: str) -> bytes:
        """The message inside ``encrypt_b64`` as sent, text or not;
        :class:`AppIdMismatch` when it was encrypted for another account,
        :class:`CryptoError` when it does not decrypt to a well-formed message."""
        unpacked = self.unpack(encrypt_b64)
        if not hmac.compare_digest(unpacked.app_id_bytes, self.app_id.encode("utf-8")):
            raise AppIdMismatch("the message was encrypted for another app id")
        return unpacked.body

    def decrypt(self, encrypt_b64: str) -> str:
        """:meth:`decrypt_bytes` as text; :class:`CryptoError` also when it is not UTF-8."""
        message = self.decrypt_bytes(encrypt_b64)
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("Encrypt does not hold UTF-8 text") from None


def _unpad(plain: bytes) -> bytes:
    pad = plain[-1]
    # strict PKCS#7: a wrong pad means a wrong key or a corrupted message
    if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("Encrypt has bad padding (wrong EncodingAESKey?)")
    return plain[:-pad]


__all__ = ["AppIdMismatch", "CryptoError", "Decrypted", "WeChatCrypto", "sign", "signature_matches"]
