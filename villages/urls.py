from django.urls import path

from villages import views

app_name = "villages"
urlpatterns = [
    path("", views.designation_list, name="list"),
    path("<str:code>/", views.designation_detail, name="detail"),
]
