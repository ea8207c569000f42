"""The console's figures (issue 13 §4), printed as ``name=value`` lines.

- ``inbox_p50_ms``: ``GET /v1/tickets`` (the inbox's first page, as the console asks for
  it, signed in as the demo agent) over real HTTP through the local runtime, median of N
  requests over a tenant with 100 tickets (``--tickets``, ``--requests``).
- ``console_bundle_gzip_kb_first_load`` / ``console_bundle_gzip_kb_total``: gzip sizes
  (level 9, as a CDN compresses) of what ``console/dist/index.html`` loads before the app
  renders (its script, stylesheet and preloaded chunks), and of all the build's JS and CSS.
- ``dashboard_reads_*``: DynamoDB reads for a 30-day dashboard (the metrics helper's part).

Run: ``.venv/bin/python benchmarks/console.py`` (``make console`` first for the bundle).
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.local import browser, samples  # noqa: E402
from tools.local.console_static import DIST  # noqa: E402
from tools.local.runtime import LocalRuntime, free_port  # noqa: E402

INBOX = "/v1/tickets"  # the inbox's first page ("all" view); views add filters to the same query


def gzip_kb(path: Path) -> float:
    return len(gzip.compress(path.read_bytes(), compresslevel=9)) / 1024


def console_bundle_gzip_kb(dist: Path = DIST) -> dict[str, float]:
    """gzip KB of the first page load (what index.html names) and of all JS and CSS."""
    index = dist / "index.html"
    if not index.is_file():
        raise SystemExit(f"{dist} has no build: run `make console` first")
    named = set(re.findall(r'(?:src|href)="/console/(assets/[^"]+\.(?:js|css))"', index.read_text()))
    everything = [p for p in (dist / "assets").iterdir() if p.suffix in (".js", ".css")]
    return {
        "console_bundle_gzip_kb_first_load": round(gzip_kb(index) + sum(gzip_kb(dist / n) for n in named), 1),
        "console_bundle_gzip_kb_total": round(sum(gzip_kb(p) for p in everything), 1),
    }


def _seed_tickets(hub_url: str, web_url: str, secret: str, tickets: int) -> None:
    """``tickets`` web-chat visitors, one message each (each opens a ticket)."""
    for n in range(tickets):
        sample = samples.web_message(web_url, secret, f"Order {n} has not arrived", email=f"visitor{n}@example.com",
                                     visitor_id=f"bench-{n}")
        sent = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")
        with urllib.request.urlopen(sent, timeout=30) as answer:
            assert answer.status == 202, answer.status


def _settle(receiver_url: str, tickets: int, quiet_for: float = 3.0, timeout: float = 600.0) -> None:
    """Wait until the demo receiver has every ticket's ``ticket.created`` and
    ``message.created`` and then nothing for ``quiet_for`` seconds: the stream and queue
    pumps are through the seeding, and the timings are the inbox's own."""
    deadline, seen, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(browser.request(f"{receiver_url}/events")[1]["events"])
        if count != seen:
            seen, since = count, time.monotonic()
        elif count >= 2 * tickets and time.monotonic() - since >= quiet_for:
            return
        time.sleep(0.25)
    raise SystemExit(f"the pumps were not through {tickets} tickets in {timeout:g}s ({seen} deliveries)")


def inbox_p50_ms(tickets: int = 100, requests: int = 50) -> dict[str, float]:
    """Median (and p90) ms of the inbox's GET through the local runtime's HTTP server."""
    local = LocalRuntime(port=free_port(), receiver_port=free_port(), state_dir=Path(tempfile.mkdtemp()))
    try:
        _, demo = local.serve_in_background()
        _seed_tickets(demo.hub_url, demo.web_hook_url, demo.web_secret, tickets)
        auth = browser.agent_token(demo.hub_url, demo.agent_email, demo.agent_password)
        _settle(demo.receiver_url, tickets)
        for _ in range(10):  # warm: imports, token keys, tenant cache
            assert browser.request(demo.hub_url + INBOX, headers=auth)[0] == 200
        took = []
        for _ in range(requests):
            started = time.perf_counter()
            status, _answer = browser.request(demo.hub_url + INBOX, headers=auth)
            took.append((time.perf_counter() - started) * 1000)
            assert status == 200
    finally:
        local.stop()
    cuts = statistics.quantiles(took, n=10)
    return {"inbox_p50_ms": round(statistics.median(took), 1), "inbox_p90_ms": round(cuts[-1], 1),
            "inbox_tickets": tickets, "inbox_requests": requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100, help="tickets in the demo tenant for the inbox")
    parser.add_argument("--requests", type=int, default=50, help="inbox requests to time")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    figures |= console_bundle_gzip_kb()
    figures |= inbox_p50_ms(args.tickets, args.requests)
    for name, value in figures.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
