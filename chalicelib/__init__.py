"""The Switchboard hub runtime (everything behind the thin ``app.py`` edge)."""
