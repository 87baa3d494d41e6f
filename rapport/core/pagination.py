"""Offset pagination shared by the API and the list pages."""

from __future__ import annotations

from django.conf import settings
from ninja import Schema
from pydantic import Field


class PageParams(Schema):
    offset: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(50, ge=1, le=200)

    def clamp(self) -> tuple[int, int]:
        return self.offset, min(self.limit, settings.RAPPORT_API_PAGE_MAX)
