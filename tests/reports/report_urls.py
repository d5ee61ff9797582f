"""The project's URLs with the report pages mounted, for the report tests, until (and
whether or not) desmigratif/urls.py mounts them itself."""

from django.urls import include, path

from desmigratif.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401

if not any(getattr(p, "namespace", None) == "reports" for p in urlpatterns):
    urlpatterns = [*urlpatterns, path("unduhan/", include("reports.urls"))]
