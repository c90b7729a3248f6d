"""A release's gates as people read them: one row per gate, and a one-line summary.

The server sends each gate as ``{"gate", "passed", "detail", "remedy"}``; ``release
show``, ``release promote`` and ``gate check`` print them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from shipwise.cli.output import table
from shipwise.domain.gates import gate_label


def unmet(gates: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [g for g in gates if not g.get("passed")]


def gates_table(gates: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Table:
    """One row per gate: met or not, what was found, and what would satisfy it."""
    rows = (
        (
            Text("✓", style="green") if g.get("passed") else Text("✗", style="bold red"),
            gate_label(str(g.get("gate"))),
            g.get("detail"),
            None if g.get("passed") else g.get("remedy"),
        )
        for g in gates
    )
    return table(("", "gate", "found", "what would satisfy it"), rows, title=title)


def gate_summary(gates: Sequence[Mapping[str, Any]]) -> str:
    missing = len(unmet(gates))
    plural = "s" if len(gates) != 1 else ""
    if not missing:
        return f"all {len(gates)} gate{plural} met"
    return f"{missing} of {len(gates)} gate{plural} unmet"


def unmet_labels(gates: Sequence[Mapping[str, Any]]) -> str:
    """``CI green, QA sign-off``: the labels of the gates not met."""
    return ", ".join(gate_label(str(g.get("gate"))) for g in unmet(gates))
