from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("", views.home, name="home"),
    path("records-of-processing/", views.records_of_processing, name="records"),
    path("request-metrics/", views.request_metrics, name="request_metrics"),
    path("ccpa-disclosure/", views.ccpa_disclosure, name="ccpa"),
    path("consent-insights/", views.consent_report, name="consent"),
]
