from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/photo/", views.profile_photo, name="profile_photo"),
    path("profile/security-question/", views.security_question, name="security_question"),
    path(
        "profile/security-question/remove/",
        views.security_question_clear,
        name="security_question_clear",
    ),
    path("testimonial/", views.testimonial, name="testimonial"),
    path("testimonial/approve/", views.testimonial_approve, name="testimonial_approve"),
    path("testimonial/withdraw/", views.testimonial_withdraw, name="testimonial_withdraw"),
    path("payments/", views.payment_methods, name="payment_methods"),
    path(
        "payments/<int:method_id>/remove/",
        views.payment_method_delete,
        name="payment_method_delete",
    ),
]
