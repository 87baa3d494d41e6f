from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "rapport.dedup"
    label = "dedup"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
        from rapport.dedup.views import card_panel_context

        register_card_panel(
            CardPanel(key="duplicates", template="dedup/_card_panel.html", column="side", order=20, context=card_panel_context)
        )
        register_nav_entry(NavEntry(key="duplicates", url_name="dedup-queue", label=_("Duplicates"), order=60))
