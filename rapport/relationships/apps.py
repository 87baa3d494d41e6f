from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_coaching(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Adds the shipped coaching texts that are missing; never overwrites an admin's edits."""
    from rapport.relationships.content import load_coaching

    load_coaching()


class RelationshipsConfig(AppConfig):
    name = "rapport.relationships"
    label = "relationships"

    def ready(self) -> None:
        from rapport.relationships import panels

        post_migrate.connect(_load_coaching, sender=self)
        panels.register()
