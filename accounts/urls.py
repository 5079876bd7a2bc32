from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("report-child-data/", views.child_report, name="child_report"),
    path("report-child-data/thanks/", views.child_report_thanks, name="child_report_thanks"),
    path("profile/", views.profile, name="profile"),
    path("profile/photo/", views.profile_photo, name="profile_photo"),
    path("profile/security-question/", views.security_question, name="security_question"),
    path(
        "profile/security-question/remove/",
        views.security_question_clear,
        name="security_question_clear",
    ),
]
