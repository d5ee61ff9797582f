"""The admin's export button (django-import-export) goes through the register's own rows."""

from django.urls import reverse

from migrants.columns import COLUMNS
from migrants.models import ExportLog
from tests.migrants.factories import register

EXPORT = reverse("admin:migrants_person_export")


def test_the_admin_export_is_scoped_masked_and_logged(coordinator_malang, world):
    mine = register(actor=world["officer_arjowilangun"], full_name="Sri Wahyuni")
    other = register(
        actor=world["officer_kenanga"], full_name="Tarsih Kenanga", village="32.12.16.2004"
    )
    chosen = {f"registerresource_{column.key}": "on" for column in COLUMNS}
    response = coordinator_malang.post(EXPORT, {"format": "0", "resource": "0", **chosen})
    assert response.status_code == 200, response.content[:500]
    content = response.content.decode("utf-8-sig")
    assert "Sri Wahyuni" in content
    assert "Tarsih" not in content
    assert mine.nik not in content
    assert mine.masked_nik in content
    assert other.nik not in content
    assert ExportLog.objects.filter(actor=world["coordinator_malang"]).exists()


def test_officers_have_no_admin_export(officer_arjowilangun):
    assert officer_arjowilangun.post(EXPORT, {"format": "0"}).status_code in (302, 403)
