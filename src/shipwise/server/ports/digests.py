"""A digest: the events one channel heard over a day, sent as one message, and the
senders that can send one (email channels; ``DigestSender``).

Only email channels take a digest subscription, so only ``EmailSender`` implements
it; a sender without ``send_digest`` (a channel whose kind changed) fails the digest,
which is then retried and listed like any failed delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from shipwise.server.ports.channels import Delivered
from shipwise.server.ports.notify import Notification


@dataclass(frozen=True, slots=True)
class Digest:
    project: str  # the project's key
    day: str  # the date it is sent on, in ``timezone`` (2027-03-03)
    timezone: str  # the policy's: each event's time is shown in it
    items: tuple[Notification, ...]  # oldest first


@runtime_checkable
class DigestSender(Protocol):
    def send_digest(self, digest: Digest) -> Delivered:
        """Deliver ``digest`` as one message, or raise ``NotificationFailed``."""
        ...
