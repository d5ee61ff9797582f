from django.urls import path

from migrants import views

app_name = "migrants"
urlpatterns = [
    path("", views.register, name="register"),
    path("baru/", views.person_create, name="create"),
    path("ajukan-semua/", views.submit_all, name="submit-all"),
    path("verifikasi/", views.verification_queue, name="verification"),
    path("duplikat/", views.duplicates, name="duplicates"),
    path("terhapus/", views.deleted_records, name="deleted"),
    path("impor/", views.import_list, name="import-list"),
    path("impor/baru/", views.import_start, name="import"),
    path("impor/template.xlsx", views.import_template, name="import-template"),
    path("impor/<uuid:pk>/", views.import_batch, name="import-batch"),
    path("impor/<uuid:pk>/konfirmasi/", views.import_confirm, name="import-confirm"),
    path("impor/<uuid:pk>/batal/", views.import_cancel, name="import-cancel"),
    path("impor/<uuid:pk>/urungkan/", views.import_undo, name="import-undo"),
    path("impor/<uuid:pk>/kesalahan.xlsx", views.import_errors, name="import-errors"),
    path("impor/<uuid:pk>/berkas/", views.import_original, name="import-original"),
    path("ekspor/", views.register_export, name="export"),
    path("<uuid:pk>/", views.person_detail, name="detail"),
    path("<uuid:pk>/ubah/", views.person_edit, name="edit"),
    path("<uuid:pk>/tampilkan/", views.person_reveal, name="reveal"),
    path("<uuid:pk>/berangkat/", views.record_departure, name="departure"),
    path("<uuid:pk>/pulang/", views.record_return, name="return"),
    path("<uuid:pk>/migrasi/baru/", views.episode_create, name="episode-create"),
    path("<uuid:pk>/migrasi/<uuid:episode_pk>/", views.episode_edit, name="episode-edit"),
    path("<uuid:pk>/hapus/", views.person_delete, name="delete"),
    path("<uuid:pk>/pulihkan/", views.person_restore, name="restore"),
    path("<uuid:pk>/pindah/", views.person_transfer, name="transfer"),
    path("<uuid:pk>/ajukan/", views.person_submit, name="submit"),
    path("<uuid:pk>/kembalikan/", views.person_send_back, name="send-back"),
]
