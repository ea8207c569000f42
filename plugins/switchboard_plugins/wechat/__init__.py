"""The ``wechat`` channel: a WeChat Official Account's message pushes.

GET is WeChat's URL check (``echostr``); POST carries one message or event as
XML, in clear text or AES-encrypted depending on the account's mode. Modules:
``config`` (tenant settings), ``crypto`` (signatures and AES safe mode: public, for
tools that sign sample pushes), ``xmltools`` (safe XML), ``verify`` (signature,
replay window, decryption), ``parse`` (→ ``InboundMessage``), ``respond``
(``success`` or a passive reply), ``send`` (replies as customer-service messages),
``api`` (HTTP to WeChat and its errcodes), ``media`` (a reply's images and links),
``hooks`` (the plugin object). See ``docs/channels/wechat.md``.
"""

from .hooks import plugin

__all__ = ["plugin"]
