"""Fake third-party APIs (real loopback HTTP servers) for the plugins' tests."""
