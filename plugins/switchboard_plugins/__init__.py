"""Switchboard built-in plugins."""
