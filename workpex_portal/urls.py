from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from accounts import views as account_views

from . import views

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("ops.urls")),  # /healthz (included by name: nothing imports ops)
    # Before allauth's own: the sign-up that answers in equal time (accounts.timing).
    path("accounts/signup/", account_views.signup, name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/workspaces/", include("review.urls")),
    path("", include("accounts.public_urls")),
    path("", include("consent.urls")),
    path("", include("notifications.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("privacy/", include("dsar.urls")),
    path("admin/desk/", include("desk.urls")),
    path("", include("desk.public_urls")),  # the published CCPA disclosures
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),  # /api/v1/ (included by name: nothing imports api)
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
