from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from desmigratif import views

# The admin signs in through allauth, so it shares its rate limits (and, later, its MFA).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "SI-Desmigratif"
admin.site.site_title = "SI-Desmigratif"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("desa/", include("villages.urls")),
    path("pengguna/", include("accounts.urls")),
    path("register/", include("migrants.urls")),
    path("privasi/", include("migrants.urls_privacy")),
    path("pilar/", include("pillars.urls")),
    path("dasbor/", include("dashboards.urls")),
    path("unduhan/", include("reports.urls")),
    path("unduhan/langganan/", include("reports.subscription_urls")),
    path("akun/token-api/", include("dashboards.token_urls")),
    path("api/", include("dashboards.api_urls")),
]

handler403 = "desmigratif.views.permission_denied"
handler404 = "desmigratif.views.page_not_found"
handler500 = "desmigratif.views.server_error"
