"""The load scenario's pieces that need no server (bench/load): the import file it uploads
passes the importer's check, the page reader finds the forms, the authenticator codes are the
ones allauth accepts, and the figures land in their section of docs/benchmarks.md."""

import random
import time

import pytest

from bench.load import pages, workbook
from migrants.columns import COLUMNS

COLUMN_LIST = [[c.key, c.header, c.is_identifier] for c in COLUMNS]


@pytest.mark.django_db
def test_generated_import_file_passes_the_check(world):
    from migrants.importer import Outcome, plan_import
    from migrants.tabular import read_table

    rng = random.Random(8)
    data = workbook.import_file(rng, COLUMN_LIST, ["35.07.11.2008"], count=60)
    plan = plan_import(table=read_table(data), actor=world["officer_arjowilangun"])

    assert plan.file_problems == []
    assert [row.errors for row in plan.rows if row.errors] == []
    assert {row.outcome for row in plan.rows} == {Outcome.NEW}
    assert len(plan.rows) == 60


def test_niks_are_never_repeated_in_one_process():
    rng = random.Random(1)
    keys = [c[0] for c in COLUMN_LIST]
    rows = workbook.import_rows(rng, ["35.07.11.2008"], 400, keys, workbook.datetime.date.today())
    niks = [row[keys.index("nik")] for row in rows]
    assert len(set(niks)) == len(niks) == 400


def test_forms_are_read_as_a_browser_sends_them():
    html = """
    <form method="post" action="/i18n/setlang/"><input type="hidden" name="next" value="/"></form>
    <form method="post" action="/accounts/logout/" class="inline">
      <input type="hidden" name="csrfmiddlewaretoken" value="t"></form>
    <form method="post" action="" class="grid-form">
      <input type="hidden" name="csrfmiddlewaretoken" value="t">
      <input type="text" name="full_name" value="Siti" required>
      <input type="checkbox" name="missing_nik">
      <select name="sex"><option value="">-</option><option value="P" selected>P</option></select>
      <select name="village"><option value="35.07.11.2008">Arjowilangun</option></select>
      <textarea name="notes">
catatan</textarea>
      <input type="file" name="file">
      <button type="submit" name="go" value="1">Simpan</button>
    </form>
    <a href="/register/5fb7109a-9796-6a49-b525-fc5ebca61f4e/">x</a><a href="/register/?page=2">2</a>
    <div class="auto-refresh" data-refresh-seconds="2"></div>
    """
    form = pages.form(html, "")
    assert form.action == ""
    assert form.classes == "grid-form"
    assert form.fields == {
        "csrfmiddlewaretoken": "t",
        "full_name": "Siti",
        "sex": "P",
        "village": "35.07.11.2008",
        "notes": "catatan",
    }
    assert form.options["sex"] == ["", "P"]
    assert form.files == ["file"]
    assert form.required == {"full_name"}
    assert pages.form(html, "/accounts/logout/").classes == "inline"
    assert pages.links(html, r"/register/[0-9a-f-]{36}/") == [
        "/register/5fb7109a-9796-6a49-b525-fc5ebca61f4e/"
    ]
    assert pages.refreshing(html)


def test_authenticator_codes_are_the_ones_allauth_accepts(settings):
    from allauth.mfa.totp.internal.auth import validate_totp_code

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert pages.totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1) == "287082"  # RFC 6238, 59 s
    assert validate_totp_code(secret, pages.totp_code(secret, int(time.time() // 30)))


def test_figures_replace_only_their_own_section(tmp_path, monkeypatch):
    from bench.load import run

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    monkeypatch.setattr(run, "DOCS", docs)
    run.write_docs("first")
    run.write_docs("second")
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\n## Other\n\nkept\n")
    assert text.count(run.SECTION) == 1
    assert f"{run.START}\nsecond\n{run.END}" in text
    assert "first" not in text
