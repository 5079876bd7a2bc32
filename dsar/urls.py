from django.urls import path

from . import views

app_name = "dsar"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/confirm/<str:token>/", views.request_confirm, name="request_confirm"),
    path("requests/<uuid:public_id>/", views.request_detail, name="request_detail"),
    path("requests/<uuid:public_id>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<uuid:public_id>/cancel-erasure/", views.erasure_cancel, name="erasure_cancel"),
    path("exports/<uuid:public_id>/<str:part>", views.export_download, name="export_download"),
    path("requests/<uuid:public_id>/transfer/", views.transfer_create, name="transfer_create"),
    path(
        "requests/<uuid:public_id>/transfers/<uuid:transfer_id>/revoke/",
        views.transfer_revoke,
        name="transfer_revoke",
    ),
    path("transfers/<str:token>/", views.transfer_download, name="transfer_download"),
]
