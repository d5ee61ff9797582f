"""The API, mounted at /api/: read-only data, report jobs, the OpenAPI schema and its docs.

There is no password login here: tokens are made on the website (dashboards.token_urls).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dashboards.api import IndicatorsView
from reports.api import ReportDetailView, ReportDownloadView, ReportListView
from villages.api import VillageDetailView, VillageListView

app_name = "api"
urlpatterns = [
    path("villages/", VillageListView.as_view(), name="village-list"),
    path("villages/<str:code>/", VillageDetailView.as_view(), name="village-detail"),
    path("indicators/", IndicatorsView.as_view(), name="indicators"),
    path("reports/", ReportListView.as_view(), name="report-list"),
    path("reports/<uuid:pk>/", ReportDetailView.as_view(), name="report-detail"),
    path("reports/<uuid:pk>/download/", ReportDownloadView.as_view(), name="report-download"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (strict CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="dashboards/tokens_api_docs.html"
        ),
        name="docs",
    ),
]
