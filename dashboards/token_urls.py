from django.urls import path

from dashboards import views_tokens

app_name = "tokens"
urlpatterns = [
    path("", views_tokens.token_list, name="list"),
    path("cabut/", views_tokens.token_delete, name="revoke"),
]
