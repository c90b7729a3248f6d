"""Data files shipped with Shipwise (the demo snapshot)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def demo_snapshot() -> dict[str, Any]:
    """The demo flags: a release at 10% plus beta testers, a kill switch, and friends."""
    text = resources.files(__name__).joinpath("demo_snapshot.json").read_text("utf-8")
    return dict(json.loads(text))
