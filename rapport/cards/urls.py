from django.urls import path

from rapport.cards import views

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/", views.organization_list, name="organization-list"),
    path("organizations/new/", views.organization_create, name="organization-create"),
    path("people/", views.person_list, name="person-list"),
    path("people/new/", views.person_create, name="person-create"),
    path("cards/<int:card_id>/", views.card_detail, name="card-detail"),
    path("cards/<int:card_id>/sections/<slug:name>/", views.card_section, name="card-section"),
    path("cards/<int:card_id>/edit/", views.card_edit, name="card-edit"),
    path("cards/<int:card_id>/archive/", views.card_archive, name="card-archive"),
    path("cards/<int:card_id>/facts/", views.card_add_fact, name="card-add-fact"),
    path("cards/<int:card_id>/facts/<int:fact_id>/verify/", views.card_verify_fact, name="card-verify-fact"),
    path("cards/<int:card_id>/employments/", views.card_add_employment, name="card-add-employment"),
    path("cards/<int:card_id>/shares/", views.card_share, name="card-share"),
    path("cards/<int:card_id>/shares/<int:share_id>/delete/", views.card_unshare, name="card-unshare"),
    path("organizations/choices/", views.organization_choices, name="organization-choices"),
    path("cards/choices/", views.card_choices, name="card-choices"),
    path("catalog/value-input/", views.item_value_input, name="item-value-input"),
]
