from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_shipped_catalog(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Keeps the shipped catalog in the database after every migrate (idempotent, never deletes)."""
    from rapport.catalog.services import DATA_DIR, load_catalog

    if (DATA_DIR / "items.yaml").exists() and (DATA_DIR / "sources.yaml").exists():
        load_catalog()


class CatalogConfig(AppConfig):
    name = "rapport.catalog"
    label = "catalog"

    def ready(self) -> None:
        post_migrate.connect(_load_shipped_catalog, sender=self)
