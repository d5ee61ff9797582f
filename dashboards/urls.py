from django.urls import path, re_path

from dashboards import exports, views

app_name = "dashboards"
urlpatterns = [
    path("", views.national, name="national"),
    path("segarkan/", views.refresh, name="refresh"),
    re_path(r"^data/(?P<chart>[a-z][a-z-]*)\.(?P<fmt>csv|xlsx)$", exports.chart_data, name="data"),
    # A province (35), regency (35.07), district (35.07.11) or village (35.07.11.2008).
    re_path(r"^(?P<code>\d{2}(?:\.\d{2}(?:\.\d{2}(?:\.\d{4})?)?)?)/$", views.region, name="region"),
]
