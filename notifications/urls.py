from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("accounts/devices/", views.device_list, name="devices"),
    path("accounts/devices/<int:device_id>/remove/", views.device_remove, name="device_remove"),
    path("api/push/devices/", views.api_device_register, name="api_device_register"),
    path("api/push/devices/sign-out/", views.api_device_sign_out, name="api_device_sign_out"),
]
