from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "rapport.segments"
    label = "segments"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
        from rapport.segments.views import panel_context

        register_nav_entry(NavEntry(key="segments", url_name="segment-list", label=_("Segments"), order=55))
        register_card_panel(CardPanel(key="segmentation", template="segments/_card_panel.html", column="side", order=30, context=panel_context))
