"""WeChat's XML, read safely and written with CDATA.

Every body is parsed with defusedxml and DTDs refused outright: WeChat never
sends one, so a ``<!DOCTYPE`` is either a mistake or an attack (XXE, billion
laughs), and either way the request is malformed.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from switchboard_sdk.errors import BadPayload

MAX_FIELDS = 50  # simple elements kept from one document; WeChat's have about ten
MAX_DEPTH = 4


def parse_xml(body: bytes | str, what: str = "body") -> Element:
    """The root element of ``body``, or :class:`BadPayload` for anything that is
    not a well-formed, DTD-free XML document rooted at ``<xml>``."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadPayload(f"the {what} declares a DTD or entities, which WeChat never sends") from None
    except (ParseError, ValueError, LookupError, UnicodeError):
        raise BadPayload(f"the {what} is not well-formed XML") from None
    if not isinstance(root, Element) or root.tag != "xml":
        raise BadPayload(f"the {what} is not a WeChat <xml> document")
    return root


def fields(root: Element) -> dict[str, str]:
    """Text of the simple elements under ``root``, nested ones as ``Outer.Inner``.

    The first occurrence of a name wins; at most :data:`MAX_FIELDS` are kept so a
    huge document cannot blow up the stored record.
    """
    found: dict[str, str] = {}
    _collect(root, "", found, 0)
    return found


def _collect(element: Element, prefix: str, found: dict[str, str], depth: int) -> None:
    for child in element:
        if len(found) >= MAX_FIELDS:
            return
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        name = prefix + child.tag
        if len(child):
            if depth < MAX_DEPTH:
                _collect(child, name + ".", found, depth + 1)
        elif name not in found:
            found[name] = child.text or ""


def cdata(value: str) -> str:
    """``value`` as CDATA; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
