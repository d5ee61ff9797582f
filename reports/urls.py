from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("minta/", views.job_request, name="request"),
    path("<uuid:pk>/", views.job_detail, name="detail"),
    path("<uuid:pk>/unduh/", views.job_download, name="download"),
    path("<uuid:pk>/ulang/", views.job_retry, name="retry"),
]
