from django.urls import include, path

from pillars.views import parenting

urlpatterns = [
    path("kelompok/", include(parenting.group.urls())),
    path("pertemuan/", include(parenting.session.urls())),
    path("anak/", include(parenting.child.urls())),
]
