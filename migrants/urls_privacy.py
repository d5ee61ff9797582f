from django.urls import path

from migrants import views_privacy as views

app_name = "privacy"
urlpatterns = [
    path("", views.home, name="home"),
    path("log-akses/", views.access_log, name="access-log"),
    path("permintaan-data/", views.subject_access, name="subject-access"),
    path("koreksi/", views.correction_list, name="corrections"),
    path("koreksi/baru/<uuid:person_pk>/", views.correction_create, name="correction-create"),
    path("koreksi/<uuid:pk>/", views.correction_detail, name="correction-detail"),
    path("koreksi/<uuid:pk>/tutup/", views.correction_close, name="correction-close"),
]
