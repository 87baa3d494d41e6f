from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "rapport.cards"
    label = "cards"
