from django.urls import include, path

from pillars.views import service

urlpatterns = [
    path("sosialisasi/", include(service.outreach.urls())),
]
