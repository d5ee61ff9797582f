from django.urls import include, path

from pillars.views import overview, reports

report_urls = [
    path("", reports.report_list, name="report-list"),
    path("tulis/", reports.report_write, name="report-write"),
    path("periksa/", reports.report_queue, name="report-queue"),
    path("belum-lapor/", reports.report_missing, name="report-missing"),
    path("<int:pk>/", reports.report_detail, name="report-detail"),
    path("<int:pk>/periksa/", reports.report_review, name="report-review"),
]

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("kegiatan/", include(overview.activity.urls())),
    path("laporan/", include(report_urls)),
]
