"""What every fake provider of the sandbox shares: a loopback server answering through
the fake's ``_respond`` (:class:`~switchboard_sdk.fake_http.StatusServer`), its life
cycle, echo printing, and the callbacks it posts to the hub (Twilio's status callbacks,
Mailgun's event webhooks).

Callbacks go out from one daemon thread, each after its due time (after the answer, as
providers send them: the hub has recorded the provider's id by then), each waiting at
most ``callback_timeout`` seconds and never retried; at most :data:`MAX_PENDING` wait,
so a sandbox nobody drains drops callbacks rather than memory.
"""

from __future__ import annotations

import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from switchboard_sdk.fake_http import Recorded, Reply, StatusServer

MAX_PENDING = 1000
MAX_CALLBACK_SECONDS = 5.0  # a dead hub must not hold the thread
_Pending = tuple[float, str, bytes, dict[str, str], Any]  # due, url, body, headers, the fake's note


class FakeProvider:
    """The base of the fakes; a context manager (a free port, stopped on exit), or
    :meth:`start`/:meth:`stop`. Subclasses implement :meth:`_respond` and, if they
    post callbacks, :meth:`_posted`."""

    def __init__(self, *, echo: bool, host: str, port: int, callback_timeout: float = 2.0) -> None:
        self.echo = echo
        self.callback_timeout = min(callback_timeout, MAX_CALLBACK_SECONDS)
        self.server = StatusServer(respond=self._respond, host=host, port=port)
        self._pending: queue.Queue[_Pending | None] = queue.Queue(maxsize=MAX_PENDING)
        self._poster = threading.Thread(target=self._post_all, name=f"{type(self).__name__}-callbacks", daemon=True)
        # no proxies: callbacks go to the local hub, whatever the environment says
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        """The ``api_base_url`` to configure."""
        return self.server.url

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def start(self) -> Any:
        self.server.__enter__()
        self._poster.start()
        return self

    def stop(self) -> None:
        self._pending.put(None)
        self.server.__exit__(None, None, None)
        if self._poster.is_alive():
            self._poster.join(timeout=self.callback_timeout + 1)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _respond(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def _say(self, line: str) -> None:
        if self.echo:
            print(line, flush=True)

    # -- callbacks to the hub ------------------------------------------------------------

    def _schedule(self, due: float, url: str, body: bytes, headers: Mapping[str, str], note: Any) -> bool:
        """Post ``body`` to ``url`` at ``due`` (monotonic); ``False`` when too many wait."""
        try:
            self._pending.put_nowait((due, url, body, dict(headers), note))
        except queue.Full:
            return False
        return True

    def _posted(self, note: Any, url: str, answer: int | None, error: str | None) -> None:
        """One callback went out: ``answer`` is the HTTP status it got, ``None`` when none came."""

    def _post_all(self) -> None:
        while (item := self._pending.get()) is not None:
            due, url, body, headers, note = item
            time.sleep(max(0.0, due - time.monotonic()))
            answer, error = self._post(url, body, headers)
            self._posted(note, url, answer, error)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        if not url.startswith(("http://", "https://")):
            return None, "not an http(s) URL"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked
        try:
            with self._opener.open(request, timeout=self.callback_timeout) as answer:
                return answer.status, None
        except urllib.error.HTTPError as err:
            err.close()
            return err.code, None
        except (OSError, ValueError) as err:  # refused, timed out, a URL urllib cannot call
            return None, str(getattr(err, "reason", err))
