"""The pipeline behind the table's stream: what happens after a message was stored.

The stream handler (:mod:`.stream`) builds conversations (:mod:`.conversations`)
from new inbound records and turns new tickets and messages into delivery jobs
(:mod:`.dispatch`, :mod:`.jobs`); the delivery worker (:mod:`.worker`) runs them
against connectors behind circuit breakers (:mod:`.breaker`) and logs every
attempt (:mod:`.delivery_log`); :mod:`.replay` puts events back on the queue.
What can never be processed is set aside per tenant (:mod:`.setaside`), also
when Lambda ran out of retries (:mod:`.failures`). Nothing here imports the
ingest package: the stream Lambda never loads the webhook path.
"""
