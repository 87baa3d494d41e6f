from django.urls import path

from rapport.privacy import views

urlpatterns = [
    path("people/<int:card_id>/consents/", views.add_consent, name="privacy-consent-add"),
    path("people/<int:card_id>/consents/<int:consent_id>/withdraw/", views.withdraw_consent, name="privacy-consent-withdraw"),
    path("people/<int:card_id>/privacy/export/", views.export_person, name="privacy-export"),
    path("people/<int:card_id>/privacy/erase/", views.erase_person, name="privacy-erase"),
]
