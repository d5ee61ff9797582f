from django.urls import include, path

from pillars.views import enterprise

urlpatterns = [
    path("usaha/", include(enterprise.enterprise.urls())),
    path("pelatihan/", include(enterprise.training.urls())),
    path("mitra/", enterprise.partners, name="partners"),
    path("rujukan/", include(enterprise.referral.urls())),
    path("rujukan/<int:pk>/tahap/", enterprise.referral_move, name="referral-move"),
]
