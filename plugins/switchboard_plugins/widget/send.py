"""The ``widget`` channel's replies: there is no provider to call, the widget fetches replies.

So a reply is ``sent`` once the hub stored it, under its own id (the hub maps that id to the
reply, as it does a provider's). The widget's poll then moves it to ``delivered`` (handed
to the widget) and ``read`` (shown in an open widget in a visible tab): the status says how
far the reply really got, as a provider's callbacks would.
"""

from __future__ import annotations

from switchboard_sdk.sending import OutboundMessage, SendOutcome


def send_reply(message: OutboundMessage) -> SendOutcome:
    """``sent`` under the reply's id; ``failed`` when the customer has no widget visitor."""
    if message.to.kind != "visitor":
        return SendOutcome.failed("widget: the customer has no widget visitor to answer", code="no_visitor")
    return SendOutcome.sent(message.id)
