"""The desk's public pages: the CCPA disclosures officers published (no login)."""

from django.urls import path

from . import views

app_name = "ccpa_public"

urlpatterns = [
    path("ccpa-metrics/", views.ccpa_public_index, name="index"),
    path("ccpa-metrics/<int:year>/", views.ccpa_public_year, name="year"),
]
