"""How a policy is written in ``shipwise.toml``: TOML values (text, true/false, dates,
lists), approvals tables, clock times and weekday names, shared by the writer
(``dump_policy``) and by the messages that show what a file said. Pure: the standard
library only.
"""

from __future__ import annotations

from datetime import date, time

from shipwise.domain.policy_model import ApprovalRule
from shipwise.domain.releases import ApproverRole

__all__ = ["WEEKDAYS", "approvals_value", "clock_text", "toml_value"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"


def toml_value(value: object) -> str:
    """``value`` as a TOML value (text, true/false, numbers, dates, lists)."""
    if isinstance(value, str):
        escaped = "".join(
            _ESCAPES.get(char)
            or (f"\\u{ord(char):04X}" if ord(char) < 0x20 or ord(char) == 0x7F else char)
            for char in value
        )
        return f'"{escaped}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return f"[{', '.join(toml_value(item) for item in value)}]"
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def approvals_value(rule: ApprovalRule) -> str:
    roles = [role.value for role in ApproverRole if role in rule.roles]
    if not roles:  # change requests only: anyone may approve
        return f"{{ count = {rule.count} }}"
    return f"{{ count = {rule.count}, roles = {toml_value(roles)} }}"


def clock_text(moment: time) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")
