"""Email channels: each notification as one message over SMTP, with a plain-text and
an HTML part rendered from Jinja2 templates (``templates/email.txt`` and
``email.html``; the HTML one autoescaped, so a title cannot inject markup). A rollout's
guardrails (``guardrail_table``) are a table in both parts, where their lines were.

Security is ``starttls`` (port 587: plain connection, then STARTTLS), ``tls`` (port 465:
TLS from the first byte) or ``none`` (a relay on the host or loopback). The password is
a secret: it is used to log in and appears in no message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from email.utils import formatdate, make_msgid

from jinja2 import Environment, PackageLoader, select_autoescape

from shipwise.server.notify import digest_email, guardrail_table
from shipwise.server.notify.log import FIELDS
from shipwise.server.ports import Delivered, Digest, Notification, NotificationFailed

SECURITY = ("starttls", "tls", "none")
# Headers on one line up to RFC 5322's limit of 998 characters: the email package's
# default (78) folds a long subject before its first word, so mail clients showed it
# with a leading space. Subjects are one line of a title, far shorter than 998.
HEADERS_ON_ONE_LINE = default.clone(max_line_length=998)
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
        "paragraphs": _paragraphs(notification.text),
        "at": notification.at.isoformat(timespec="seconds"),
        "guardrails": None,
    }
    rows = guardrail_table.rows(notification)
    split = guardrail_table.around(notification, rows) if rows else None
    if split is not None:
        # The guardrail lines become a table, in both parts, where they were.
        values |= {
            "before": split[0],
            "after": split[1],
            "before_paragraphs": _paragraphs(split[0]),
            "after_paragraphs": _paragraphs(split[1]),
            "columns": guardrail_table.COLUMNS,
            "guardrails": [row.cells() for row in rows],
            "guardrails_text": _columns([guardrail_table.COLUMNS, *(row.cells() for row in rows)]),
        }
    return (
        _TEMPLATES.get_template("email.txt").render(values),
        _TEMPLATES.get_template("email.html").render(values),
    )


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of a notification's text as HTML draws it: its lines kept apart
    (a mail client joins them otherwise), a run of ``- `` lines as a list."""

    lines: tuple[str, ...]
    bullets: bool


def _paragraphs(text: str) -> list[Paragraph]:
    found: list[Paragraph] = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        run: list[str] = []
        listing = False
        for line in lines:
            bullet = line.lstrip().startswith("- ")
            if run and bullet != listing:
                found.append(Paragraph(tuple(run), listing))
                run = []
            listing = bullet
            run.append(line.lstrip()[2:] if bullet else line)
        if run:
            found.append(Paragraph(tuple(run), listing))
    return found


def _columns(table: Sequence[Sequence[str]]) -> str:
    """A table as aligned plain-text columns (the last one unpadded)."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in table
    )


def open_smtp(
    host: str, port: int, security: str, user: str | None, password: str | None, timeout: float
) -> smtplib.SMTP:
    """A connection to an SMTP server, secured and logged in as ``security`` and
    ``user`` say (a context manager: ``with open_smtp(...) as smtp``). Raises what
    ``smtplib`` raises: ``smtp_failure`` says it in words."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if security == "starttls":
            smtp.starttls(context=context)
        if user:
            smtp.login(user, password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def smtp_failure(where: str, error: smtplib.SMTPException | OSError) -> NotificationFailed:
    """What went wrong talking to ``where``, in words (never the password)."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return NotificationFailed(f"{where} refused the login ({error.smtp_code})")
    if isinstance(error, smtplib.SMTPResponseException):
        said = error.smtp_error
        why = (said.decode(errors="replace") if isinstance(said, bytes) else said)[:200]
        return NotificationFailed(f"{where} answered {error.smtp_code} ({why})")
    why = "no answer in time" if isinstance(error, TimeoutError) else str(error)[:200]
    return NotificationFailed(f"{where}: {type(error).__name__}: {why}")


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
        return self._mail(notification.title, plain, html)

    def digest_message(self, digest: Digest) -> EmailMessage:
        """A day's events as one message (``digest_email``)."""
        return self._mail(*digest_email.render(digest))

    def _mail(self, subject: str, plain: str, html: str) -> EmailMessage:
        mail = EmailMessage(policy=HEADERS_ON_ONE_LINE)
        mail["Subject"] = " ".join(subject.split())
        mail["From"] = self._sender
        mail["To"] = ", ".join(self._recipients)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="shipwise")
        mail.set_content(plain)
        mail.add_alternative(html, subtype="html")
        return mail

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        return self._send(lambda: self.message(notification))

    def send_digest(self, digest: Digest) -> Delivered:
        return self._send(lambda: self.digest_message(digest))

    def _send(self, compose: Callable[[], EmailMessage]) -> Delivered:
        try:
            mail = compose()
        except ValueError:  # a header with a line break: an address stored before it was checked
            raise NotificationFailed(
                f"{self._where}: an address (from or recipients) has a line break: "
                "fix the channel's settings"
            ) from None
        try:
            with open_smtp(
                self._host, self._port, self._security, self._user, self._password, self._timeout
            ) as smtp:
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            raise smtp_failure(self._where, error) from None
        accepted = len(self._recipients) - len(refused)
        return Delivered(said=f"the SMTP server accepted the message for {accepted} recipient(s)")

    def close(self) -> None:
        """A connection per message: nothing to release."""
