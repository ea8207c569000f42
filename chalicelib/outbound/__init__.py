"""Replies: agents' messages stored by the API, sent by the worker through the
ticket's channel plugin, and tracked through the provider's status callbacks."""
