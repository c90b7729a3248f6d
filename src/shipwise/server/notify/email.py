"""Email channels: each notification as one message over SMTP, with a plain-text and
an HTML part rendered from Jinja2 templates (``templates/email.txt`` and
``email.html``; the HTML one autoescaped, so a title cannot inject markup).

Security is ``starttls`` (port 587: plain connection, then STARTTLS), ``tls`` (port 465:
TLS from the first byte) or ``none`` (a relay on the host or loopback). The password is
a secret: it is used to log in and appears in no message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jinja2 import Environment, PackageLoader, select_autoescape

from shipwise.server.notify.log import FIELDS
from shipwise.server.ports import Delivered, Notification, NotificationFailed

SECURITY = ("starttls", "tls", "none")
_TEMPLATES = Environment(
    loader=PackageLoader("shipwise.server.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


def render(notification: Notification) -> tuple[str, str]:
    """The plain-text and the HTML body."""
    facts = [
        (name, str(getattr(notification, name)))
        for name in FIELDS
        if getattr(notification, name) is not None
    ]
    values = {
        "n": notification,
        "facts": facts,
        "paragraphs": [p for p in notification.text.split("\n\n") if p.strip()],
        "at": notification.at.isoformat(timespec="seconds"),
    }
    return (
        _TEMPLATES.get_template("email.txt").render(values),
        _TEMPLATES.get_template("email.html").render(values),
    )


class EmailSender:
    min_interval = 0.0

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        sender: str,
        recipients: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        name: str = "email",
    ) -> None:
        if security not in SECURITY:
            raise ValueError(f"security must be one of {', '.join(SECURITY)}, got {security!r}")
        if not recipients:
            raise ValueError("recipients is empty: name at least one address")
        self._host, self._port, self._security = host, port, security
        self._sender, self._recipients = sender, list(recipients)
        self._user, self._password = user, password
        self._timeout = timeout
        self._where = f"email channel {name!r} ({host}:{port})"

    def __repr__(self) -> str:  # never the password
        return f"EmailSender({self._where!r})"

    def thread_key(self, notification: Notification) -> str | None:
        return None

    def message(self, notification: Notification) -> EmailMessage:
        plain, html = render(notification)
        mail = EmailMessage()
        mail["Subject"] = " ".join(notification.title.split())
        mail["From"] = self._sender
        mail["To"] = ", ".join(self._recipients)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="shipwise")
        mail.set_content(plain)
        mail.add_alternative(html, subtype="html")
        return mail

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        try:
            mail = self.message(notification)
        except ValueError:  # a header with a line break: an address stored before it was checked
            raise NotificationFailed(
                f"{self._where}: an address (from or recipients) has a line break: "
                "fix the channel's settings"
            ) from None
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self._security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self._host, self._port, timeout=self._timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            with smtp:
                if self._security == "starttls":
                    smtp.starttls(context=context)
                if self._user:
                    smtp.login(self._user, self._password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as error:
            raise NotificationFailed(
                f"{self._where} refused the login ({error.smtp_code})"
            ) from None
        except smtplib.SMTPResponseException as error:
            said = error.smtp_error
            why = (said.decode(errors="replace") if isinstance(said, bytes) else said)[:200]
            raise NotificationFailed(f"{self._where} answered {error.smtp_code} ({why})") from None
        except (smtplib.SMTPException, OSError) as error:
            why = "no answer in time" if isinstance(error, TimeoutError) else str(error)[:200]
            raise NotificationFailed(f"{self._where}: {type(error).__name__}: {why}") from None
        accepted = len(self._recipients) - len(refused)
        return Delivered(said=f"the SMTP server accepted the message for {accepted} recipient(s)")

    def close(self) -> None:
        """A connection per message: nothing to release."""
