from django.urls import include, path

from pillars.views import service

urlpatterns = [
    path("layanan-desa/", include(service.service.urls())),
    path("sosialisasi/", include(service.outreach.urls())),
    path("kasus/", include(service.case_urls())),
]
