from django.urls import include, path

app_name = "pillars"
urlpatterns = [
    path("", include("pillars.urls_overview")),
    path("layanan/", include("pillars.urls_service")),
    path("usaha/", include("pillars.urls_enterprise")),
    path("keluarga/", include("pillars.urls_parenting")),
    path("koperasi/", include("pillars.urls_cooperative")),
    path("impor/", include("pillars.urls_imports")),
]
