from django.urls import path

from pillars.views import imports

urlpatterns = [
    path("", imports.import_list, name="import-list"),
    path("baru/", imports.import_start, name="import"),
    path("template/<slug:target>.xlsx", imports.import_template, name="import-template"),
    path("<uuid:pk>/", imports.import_batch, name="import-batch"),
    path("<uuid:pk>/konfirmasi/", imports.import_confirm, name="import-confirm"),
    path("<uuid:pk>/batal/", imports.import_cancel, name="import-cancel"),
    path("<uuid:pk>/kesalahan.xlsx", imports.import_errors, name="import-errors"),
    path("<uuid:pk>/berkas/", imports.import_original, name="import-original"),
]
