"""The fields a page reads as typed text, in one place: a GET form's filters
(``Annotated[Model, Query()]``) or a POST form's fields (``Annotated[Model, Form()]``).

Every field is text, stripped, empty when absent, so FastAPI never answers a bad value
with its generic 422: the page judges each value itself and says what is wrong beside
its field. Fields the model does not name (the CSRF token, a stray parameter) are left
to whoever reads them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["TypedFields"]


class TypedFields(BaseModel):
    """A form's text fields as typed (stripped); subclasses name them, each ``str = ""``."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="ignore")

    @property
    def active(self) -> bool:
        """Whether any field was filled in (a filter narrows what the page shows)."""
        return any(self.model_dump().values())
