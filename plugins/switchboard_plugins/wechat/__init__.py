"""The ``wechat`` channel plugin (WeChat Official Account)."""

from __future__ import annotations

from .config import WeChatConfig
from .plugin import WeChatChannel

plugin = WeChatChannel()

__all__ = ["WeChatChannel", "WeChatConfig", "plugin"]
