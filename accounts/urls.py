from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.user_list, name="list"),
    path("baru/", views.user_create, name="create"),
    path("<int:pk>/aktif/", views.user_toggle_active, name="toggle-active"),
]
