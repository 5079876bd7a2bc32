from django.urls import path

from .api import api, docs

urlpatterns = [
    path("v1/", api.urls),
    path("v1/docs", docs, name="api-docs"),
]
