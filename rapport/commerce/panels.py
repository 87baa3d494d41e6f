"""The commerce panels on card pages and the navigation entries."""

from __future__ import annotations


def register() -> None:
    """Registers card panels and navigation entries."""
