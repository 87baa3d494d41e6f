from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "rapport.privacy"
    label = "privacy"

    def ready(self) -> None:
        from rapport.core.extensions import CardPanel, register_card_panel
        from rapport.privacy.selectors import consent_panel_context

        register_card_panel(
            CardPanel(key="privacy", template="privacy/_card_panel.html", column="side", order=80,
                      kinds=("person",), context=consent_panel_context)
        )
