"""(Routes are added by the frontend API work; see the router's prefix.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
