"""The ingest path: payloads in, one durable write per message, an answer out.

Two doors lead in: provider webhooks and objects an AWS service stored for a
channel (S3 "Object Created" through EventBridge, :mod:`.objects`); both end in
the :class:`~.ingestor.Ingestor`. Everything after the write runs behind the
table's stream (:mod:`chalicelib.pipeline`), which never imports this package.
"""
