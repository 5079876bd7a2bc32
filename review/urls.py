from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("<int:workspace_id>/review/", views.workspace_reviews, name="workspace_reviews"),
]
