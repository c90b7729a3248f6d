"""(Routes are added by the ofrep API work; see the router's prefix.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
