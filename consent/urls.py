from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("policy/", views.policy, name="policy"),
    path("policy/acknowledge/", views.policy_acknowledge, name="policy_acknowledge"),
    path("policy/processing/", views.processing_activities, name="processing"),
    path("policy/<str:version>/", views.policy_version, name="policy_version"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/link/", views.preferences_link_request, name="preferences_link_request"),
    path("preferences/link/<str:token>/", views.preferences_link_open, name="preferences_link"),
    path("preferences/leave/", views.preferences_leave, name="preferences_leave"),
    path(
        "preferences/partners/opt-out/",
        views.preferences_partners_opt_out,
        name="partners_opt_out",
    ),
    path("preferences/receipt.json", views.preferences_receipt, name="receipt"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("cookies/", views.cookie_settings, name="cookies"),
    path(".well-known/gpc.json", views.gpc_json, name="gpc_json"),
    path(".well-known/jwks.json", views.jwks_json, name="jwks_json"),
    path("analytics/page-view/", views.analytics_page_view, name="analytics_page_view"),
    path("forms/confirm/<str:token>/", views.form_confirm, name="form_confirm"),
    path("forms/<slug:kind>/", views.form_submit, name="form"),
    path("forms/<slug:kind>/thanks/<int:pending>/", views.form_thanks, name="form_thanks"),
]
