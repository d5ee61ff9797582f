from django.urls import include, path

from pillars.views import cooperative

urlpatterns = [
    path("lembaga/", include(cooperative.cooperative.urls())),
    path("anggota/", include(cooperative.member.urls())),
    path("keuangan/", include(cooperative.figures.urls())),
]
