"""The web chat widget: its script, visitor sessions and tokens, messages in and replies out,
uploads and CSAT in the widget (docs/channels/widget.md)."""
