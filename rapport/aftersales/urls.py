from django.urls import path

from rapport.aftersales import views

urlpatterns = [
    path("aftersales/", views.due, name="aftersales-due"),
    path("cards/<int:card_id>/aftersales/cases/", views.case_open, name="aftersales-case-open"),
    path("aftersales/cases/<int:case_id>/resolve/", views.case_resolve, name="aftersales-case-resolve"),
    path("aftersales/checks/<int:check_id>/result/", views.check_result, name="aftersales-check-result"),
    path("aftersales/checks/<int:check_id>/in-use/", views.check_in_use, name="aftersales-check-in-use"),
    path("cards/<int:card_id>/aftersales/referrals/", views.referral_ask, name="aftersales-referral-ask"),
    path("aftersales/referrals/<int:request_id>/outcome/", views.referral_outcome, name="aftersales-referral-outcome"),
]
