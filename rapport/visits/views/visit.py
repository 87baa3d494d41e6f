"""Pages of one visit: placeholder until the views land."""

from __future__ import annotations

from typing import Any


def panel_context(user: Any, card: Any) -> dict[str, Any] | None:
    return None
