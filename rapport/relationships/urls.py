from django.urls import path

from rapport.relationships import views

urlpatterns = [
    path("organizations/<int:org_id>/decision-unit/", views.decision_unit_map, name="decision-unit"),
    path("organizations/<int:org_id>/decision-unit/members/", views.member_add, name="decision-unit-member-add"),
    path("organizations/<int:org_id>/decision-unit/relationships/", views.relationship_add, name="decision-unit-relationship-add"),
    path("people/<int:person_id>/prepare/", views.prepare, name="contact-prepare"),
    path("people/<int:person_id>/prepare/stage/", views.stage_move, name="contact-stage"),
    path("people/<int:person_id>/prepare/style/", views.style_set, name="contact-style"),
    path("people/<int:person_id>/prepare/questionnaire/", views.questionnaire, name="contact-questionnaire"),
    path("people/<int:person_id>/prepare/activity/", views.typical_activity, name="contact-typical-activity"),
    path("people/<int:person_id>/prepare/gifts/", views.gift_add, name="contact-gift"),
]
