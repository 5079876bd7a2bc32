"""Public pages of the accounts app, mounted at the site root."""

from django.urls import path

from . import views

urlpatterns = [
    path("testimonials/", views.testimonials_public, name="testimonials"),
]
