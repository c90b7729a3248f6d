"""Email announcements over an email channel's SMTP server: the ``Mailer`` port.

Rendering: the person's Markdown is the plain-text part as written (Markdown reads as
text), and, through markdown-it-py then ``nh3``'s allow-list, the HTML part (no
scripts, styles, images or event handlers: a pasted ``<img>`` would be a tracking pixel
in every reader's mail). Both parts come from Jinja2 templates (``templates/
mailout.txt`` and ``mailout.html``, the HTML one autoescaped) with a footer naming the
release and linking to its page.

Sending: one SMTP connection for a whole send, opened at the first message (reusing
``email.open_smtp``); each recipient gets a message of their own, ``To`` them alone,
so nobody sees the others. A 5xx refusal of the address is that recipient's
(``RecipientRefused``); anything else is the channel's (``NotificationFailed``), and
the connection is dropped so the next send starts afresh.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import nh3
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from shipwise.domain.safe_links import link_filter
from shipwise.server.notify.email import HEADERS_ON_ONE_LINE, open_smtp, smtp_failure
from shipwise.server.ports import ChannelConfig, NotificationFailed
from shipwise.server.ports.mailout import MailContent, RecipientRefused, RenderedMail

__all__ = ["SmtpMailer"]

_TEMPLATES = Environment(
    loader=PackageLoader("shipwise.server.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False})
_TAGS = {
    "p", "a", "em", "strong", "ul", "ol", "li", "code", "pre", "br", "h1", "h2", "h3", "h4",
    "blockquote", "hr",
}  # fmt: skip
_SCHEMES = {"http", "https", "mailto"}


def markdown_html(markdown: str) -> str:
    """``markdown`` as HTML that keeps only ``_TAGS`` and ``href`` on links, and that only
    for an absolute address (``domain.safe_links``: a mail has no page to be relative to)."""
    html = _MARKDOWN.render(markdown)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href"}},
        url_schemes=_SCHEMES,
        attribute_filter=link_filter,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


class _Session:
    def __init__(self, config: ChannelConfig, timeout: float) -> None:
        settings = config.settings
        self._host, self._port = str(settings["host"]), int(settings["port"])
        self._security = str(settings.get("security", "starttls"))
        self._user = str(settings["user"]) if settings.get("user") else None
        self._password = config.secrets.get("password")
        self._sender = str(settings["from"])
        self._timeout = timeout
        self._where = f"email channel {config.name!r} ({self._host}:{self._port})"
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never the password
        return f"MailSession({self._where!r})"

    def _message(self, to: str, mail: RenderedMail) -> EmailMessage:
        message = EmailMessage(policy=HEADERS_ON_ONE_LINE)
        message["Subject"] = " ".join(mail.subject.split())
        message["From"] = self._sender
        message["To"] = to
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="shipwise")
        message.set_content(mail.plain)
        message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, to: str, mail: RenderedMail) -> str:
        try:
            message = self._message(to, mail)
        except ValueError:  # a header with a line break: never stored, but never sent
            raise RecipientRefused(f"{to!r} cannot be an address header") from None
        try:
            if self._smtp is None:
                self._smtp = open_smtp(
                    self._host,
                    self._port,
                    self._security,
                    self._user,
                    self._password,
                    self._timeout,
                )
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            code, said = next(iter(refused.recipients.values()), (550, b"refused"))
            text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
            if 400 <= code < 500:  # "try again later": the server's state, not the address's
                self.close()
                raise NotificationFailed(f"{self._where} answered {code} ({text[:200]})") from None
            raise RecipientRefused(f"{code} {text[:200]}") from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise smtp_failure(self._where, error) from None
        return f"accepted by {self._host}"

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class SmtpMailer:
    """``timeout``: seconds the SMTP server may take to answer each command."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._timeout = timeout

    def render(self, content: MailContent) -> RenderedMail:
        values = {
            "c": content,
            "body_html": Markup(markdown_html(content.body)),  # noqa: S704 (nh3 cleaned it)
        }
        return RenderedMail(
            " ".join(content.subject.split()),
            _TEMPLATES.get_template("mailout.txt").render(values),
            _TEMPLATES.get_template("mailout.html").render(values),
        )

    def open(self, config: ChannelConfig) -> _Session:
        if config.kind != "email":
            raise ValueError(f"channel {config.name!r} is a {config.kind} channel, not email")
        for name in ("host", "port", "from"):
            if not config.settings.get(name):
                raise ValueError(f"channel {config.name!r} lacks settings.{name}")
        return _Session(config, self._timeout)
