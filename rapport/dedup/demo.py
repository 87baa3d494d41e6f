"""Demo data: the deliberate duplicates of ``rapport demo`` waiting in the review queue."""

from __future__ import annotations

from rapport.accounts.models import Role, User
from rapport.dedup import services


def queue_duplicates() -> dict[str, int]:
    """Learns the weights from the demo cards and scans them, as an admin would after an import.

    Returns the pairs queued per kind. Without an admin (never in the demo) nothing is done.
    """
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        return {}
    queued = {}
    for kind in services.KINDS:
        services.train(user=admin, kind=kind)  # keeps the default weights below 50 cards
        queued[kind] = services.scan(user=admin, kind=kind).created
    return queued
