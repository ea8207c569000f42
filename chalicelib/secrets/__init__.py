"""Tenant plugin secrets: the SSM vault and the pure functions it is built on.

:mod:`.vault` reads and writes SSM Parameter Store; :mod:`.slots` finds a config
model's secrets from its types, :mod:`.refs` is the shape of a sealed config, and
:mod:`.merge` how a submitted config merges with the stored one. See docs/secrets.md.
"""
