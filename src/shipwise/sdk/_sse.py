"""Server-sent events, decoded line by line (the WHATWG ``text/event-stream`` rules).

Fields are ``event``, ``data`` (several lines join with ``\\n``), ``id`` and ``retry``;
a line starting with ``:`` is a comment (the server's ``: ping``); a blank line ends an
event, and an event without data is not dispatched. Small enough to keep the SDK's
runtime dependencies to an HTTP client and a hash.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None = None


class EventDecoder:
    """Feed it the stream's lines, one at a time; it returns each complete event.

    ``retry`` is the reconnection delay the server asked for, in milliseconds.
    """

    __slots__ = ("_data", "_event", "last_event_id", "retry")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self.last_event_id: str | None = None
        self.retry: int | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data:
            return None
        return ServerSentEvent(event, "\n".join(data), self.last_event_id)
