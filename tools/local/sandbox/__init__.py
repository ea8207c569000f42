"""Fake provider APIs on loopback (Twilio, WeChat, Mailgun) for tests and `make run`'s provider sandbox."""
