"""Typed reading of untrusted JSON, with errors that name the culprit.

A ``Reading`` is a JSON object together with where it sits ("flag 'checkout'",
"strategies[0]"), so every complaint says which flag and which field are wrong.

Unlike the readers of people's files (``engine.problems``: every problem, then one error),
this one stops at the first problem on purpose. Snapshots are written by Shipwise or an
Unleash server, not typed by people, and are read on the hot path (every update an SDK
receives): collecting would mean carrying on with placeholder values through compilation
and paying for bookkeeping on every field of every flag, to list mistakes a machine made
once. The first, with its flag and field, is enough to find the writer's bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from shipwise.engine.errors import SnapshotError

_MISSING: Any = object()


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class Reading:
    __slots__ = ("data", "path", "where")

    def __init__(self, data: object, where: str, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise SnapshotError(where, path, f"expected an object, got {_type_name(data)}")
        self.data: Mapping[str, Any] = data
        self.where = where
        self.path = path

    def _field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> NoReturn:
        raise SnapshotError(self.where, self._field(key), problem)

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or (value is None and not required):
            if required:
                self.fail(key, "is missing")
            return _MISSING
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {_type_name(value)}")
        return value

    def boolean(self, key: str, default: bool = False, *, required: bool = False) -> bool:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {_type_name(value)}")
        return value

    def integer(self, key: str, *, required: bool = True, default: int = 0) -> int:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self.fail(key, f"expected a whole number, got {value!r}")
        return int(value)

    def strings(self, key: str) -> tuple[str, ...]:
        items = self.items(key)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{key}[{index}]", f"expected a string, got {_type_name(item)}")
        return tuple(items)

    def items(self, key: str) -> list[Any]:
        value = self._get(key, False)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {_type_name(value)}")
        return value

    def objects(self, key: str) -> list[Reading]:
        return [
            Reading(item, self.where, f"{self._field(key)}[{index}]")
            for index, item in enumerate(self.items(key))
        ]

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self._get(key, False)
        if value is _MISSING:
            return {}
        if not isinstance(value, Mapping):
            self.fail(key, f"expected an object, got {_type_name(value)}")
        return value
