"""What a dashboard route gets from the application: its services (the same objects the
API's routes call, so a page and the API can never disagree)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipwise.server.bootstrap import Services

__all__ = ["ServicesDep", "services"]


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]
