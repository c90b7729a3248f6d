"""A Slack message as a picture for the docs: Block Kit blocks drawn as HTML close to
how Slack's desktop app shows them, and an email's HTML part as a mail client shows it.

Only what Shipwise sends is drawn: ``header``, ``section`` (text and fields),
``context``, ``divider``, and mrkdwn's ``*bold*``, ``_italic_``, ``` `code` ```,
``<url|label>`` links, bare URLs and the emoji codes Shipwise's marks use. The
mrkdwn Shipwise writes is already escaped for Slack (``&amp;``, ``&lt;``, ``&gt;``),
which is also valid HTML, so it is drawn as it stands after those rewrites.
"""

from __future__ import annotations

import html
import re
from typing import Any

# Slack draws these codes as emoji; this machine has no emoji font, so the pictures use
# plain symbols (DejaVu has them) in Slack's colours.
EMOJI = {
    ":warning:": '<b style="color:#e8912d">\u26a0</b>',
    ":rotating_light:": '<b style="color:#e01e5a">\u25c9</b>',
    ":white_check_mark:": '<b style="color:#2eb67d">\u2714</b>',
    ":x:": '<b style="color:#e01e5a">\u2718</b>',
    ":hourglass_flowing_sand:": '<b style="color:#e8912d">\u231b</b>',
}
_LINK = re.compile(r"&lt;(https?://[^|\s]+?)\|([^&]+?)&gt;|<(https?://[^|\s>]+)\|([^>]+)>")
_BARE_URL = re.compile(r"(?<![\"'=>])\bhttps?://[^\s<&]+")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)

STYLE = """
body { margin: 0; background: #fff; font: 15px/1.47 -apple-system, "Segoe UI", Lato,
       "Helvetica Neue", Arial, sans-serif; color: #1d1c1d; }
.message { display: flex; gap: 8px; padding: 12px 20px; max-width: 760px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #1f6f5c;
          color: #fff; font-weight: 700; display: grid; place-items: center; flex: none; }
.who { font-weight: 900; } .app { font-size: 10px; background: #e8e8e8; color: #616061;
       padding: 1px 3px; border-radius: 2px; margin: 0 4px; font-weight: 700; }
.time { color: #616061; font-size: 12px; }
.header { font-size: 18px; font-weight: 900; margin: 4px 0; }
.section { white-space: pre-wrap; margin: 4px 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; margin: 4px 0; }
.context { color: #616061; font-size: 12px; margin: 4px 0; }
.divider { border: 0; border-top: 1px solid #ddd; margin: 8px 0; }
a { color: #1264a3; text-decoration: none; }
code { font: 12px Monaco, Menlo, monospace; color: #e01e5a; background: #f6f6f6;
       border: 1px solid #ddd; border-radius: 3px; padding: 1px 3px; }
.thread { color: #1264a3; font-size: 13px; font-weight: 700; margin-top: 4px; }
"""


def mrkdwn(text: str) -> str:
    """Slack's mrkdwn (already escaped by Shipwise) as HTML."""
    for code, glyph in EMOJI.items():
        text = text.replace(code, glyph)
    text = _LINK.sub(lambda m: f'<a href="{m[1] or m[3]}">{m[2] or m[4]}</a>', text)
    text = _BARE_URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', text)
    text = _CODE.sub(r"<code>\1</code>", text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    return _ITALIC.sub(r"<i>\1</i>", text)


def _text(item: dict[str, Any]) -> str:
    if item.get("type") == "mrkdwn":
        return mrkdwn(str(item["text"]))
    return html.escape(str(item["text"]))


def block_html(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "header":
        return f'<div class="header">{_text(block["text"])}</div>'
    if kind == "section":
        parts = []
        if "text" in block:
            parts.append(f'<div class="section">{_text(block["text"])}</div>')
        if block.get("fields"):
            cells = "".join(f"<div>{_text(f)}</div>" for f in block["fields"])
            parts.append(f'<div class="fields">{cells}</div>')
        return "".join(parts)
    if kind == "context":
        return f'<div class="context">{" ".join(_text(e) for e in block["elements"])}</div>'
    if kind == "divider":
        return '<hr class="divider">'
    raise ValueError(f"no drawing for a {kind!r} block")


def slack_page(message: dict[str, Any], *, at: str = "10:00 AM", replies: int = 0) -> str:
    """A whole HTML page showing one message as the Shipwise app posted it."""
    body = "".join(block_html(b) for b in message.get("blocks") or [])
    if not body:
        body = f'<div class="section">{mrkdwn(str(message.get("text", "")))}</div>'
    thread = f'<div class="thread">{replies} replies</div>' if replies else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head>"
        '<body><div class="message"><div class="avatar">S</div><div>'
        f'<span class="who">Shipwise</span><span class="app">APP</span>'
        f'<span class="time">{html.escape(at)}</span>{body}{thread}</div></div></body></html>'
    )


def email_page(subject: str, sender: str, to: str, html_part: str) -> str:
    """An email's HTML part under its subject and addresses, as a mail client shows it:
    the message's own document, with the client's header put at the top of its body."""
    head = (
        "<div style='font:14px Arial,sans-serif;border-bottom:1px solid #ddd;"
        "padding:12px 20px;margin:-8px -8px 12px'>"
        f"<div style='font-size:18px;font-weight:700'>{html.escape(subject)}</div>"
        f"<div style='color:#555'>From {html.escape(sender)} to {html.escape(to)}</div></div>"
    )
    opened = _BODY.search(html_part)
    if opened is None:
        return f"<!doctype html><html><body>{head}{html_part}</body></html>"
    return html_part[: opened.end()] + head + html_part[opened.end() :]
