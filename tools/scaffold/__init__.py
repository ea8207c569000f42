"""Offline tools for plugin authors, none of which needs a running hub or AWS.

- :mod:`.generate` — ``switchboard plugin new NAME --kind channel|connector``: a
  standalone, pip-installable plugin package in the built-ins' layout, from the
  files under ``templates/`` (package data, filled with :class:`string.Template`).
- :mod:`.check` — ``switchboard plugins check``: every installed plugin loaded and
  validated as the hub does at start-up.
"""
