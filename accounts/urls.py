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
    path("testimonial/", views.testimonial, name="testimonial"),
    path("testimonial/approve/", views.testimonial_approve, name="testimonial_approve"),
    path("testimonial/withdraw/", views.testimonial_withdraw, name="testimonial_withdraw"),
    path("workspaces/", views.workspace_list, name="workspace_list"),
    path("workspaces/<int:workspace_id>/", views.workspace_detail, name="workspace_detail"),
    path(
        "workspaces/invitations/<int:member_id>/<str:answer>/",
        views.workspace_invitation_answer,
        name="workspace_invitation_answer",
    ),
    path(
        "workspaces/<int:workspace_id>/records/<int:record_id>/delete/",
        views.workspace_record_delete,
        name="workspace_record_delete",
    ),
    path(
        "workspaces/<int:workspace_id>/members/<int:user_id>/remove/",
        views.workspace_member_remove,
        name="workspace_member_remove",
    ),
    path("people/<int:user_id>/photo/", views.collaborator_photo, name="collaborator_photo"),
    path("integrations/", views.integration_enable, name="integration_enable"),
    path(
        "integrations/<int:grant_id>/revoke/", views.integration_revoke, name="integration_revoke"
    ),
    path("payments/", views.payment_methods, name="payment_methods"),
    path(
        "payments/<int:method_id>/remove/",
        views.payment_method_delete,
        name="payment_method_delete",
    ),
]
