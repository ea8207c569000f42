"""Developer and operator tooling: the ``switchboard`` command, the admin API client,
packaging, provisioning, schema export and the local runtime.

Nothing here ships to Lambda (``make package`` stages ``chalicelib/`` only) and
nothing in ``chalicelib`` imports it: tools use the hub, never the other way round.
"""
