"""(Routes are added by the admin API work; see the router's prefix.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
