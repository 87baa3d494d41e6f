from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "rapport.segments"
    label = "segments"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.core.extensions import NavEntry, register_nav_entry

        register_nav_entry(NavEntry(key="segments", url_name="segment-list", label=_("Segments"), order=55))
