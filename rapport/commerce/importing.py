"""Imports of products, orders, invoices and payments through the import pipeline."""

from __future__ import annotations


def register() -> None:
    """Registers the commerce import kinds with the imports app."""
