"""Which link addresses may stay in HTML that is shown somewhere else: an announcement
inside a customer's application, an email in someone's mail client.

Only an absolute ``http``/``https`` address with a host, or ``mailto:``. A relative
address would resolve against a page the author never saw (``/account/delete`` in the
application, nothing at all in a mail client), and ``//host`` or ``\\\\host`` (browsers
read a backslash as a slash) take the reader to another host without saying how. Used
as ``nh3``'s ``attribute_filter``: an address refused here loses its ``href`` and the
link stays as text. Pure: the standard library only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["kept_href", "link_filter"]

_WEB = frozenset({"http", "https"})


def kept_href(value: str) -> str | None:
    """``value`` when it is an absolute http(s) address with a host or a ``mailto:``
    address, else None."""
    # Browsers drop tabs and line breaks inside an address and spaces around it.
    cleaned = "".join(c for c in value if c not in "\t\n\r").strip(" \x00\x0c")
    if "\\" in cleaned:
        return None
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "mailto" and parts.path:
        return value
    if scheme in _WEB and cleaned[len(parts.scheme) :].startswith("://") and parts.hostname:
        return value
    return None


def link_filter(tag: str, attribute: str, value: str) -> str | None:
    """``nh3.clean``'s ``attribute_filter``: an ``href`` only when ``kept_href``."""
    if attribute == "href":
        return kept_href(value)
    return value
