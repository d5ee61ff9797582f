"""The four Desmigratif pillars (Permenaker 2/2019) and the partners named in the programme's
sources. Both are data: administrators add variants, pillars and programmes in the admin."""

from django.db import migrations

PILLARS = [
    (
        1,
        "layanan-migrasi",
        "Pusat Layanan Migrasi",
        "service_centre",
        "Informasi pasar kerja, edukasi migrasi aman dan prosedural, bantuan dokumen (KTP, KK, "
        "rekomendasi paspor), verifikasi dan pendataan CPMI, pemantauan keberangkatan dan "
        "kepulangan, bantuan keluarga, pengaduan.",
    ),
    (
        2,
        "usaha-produktif",
        "Usaha Produktif",
        "enterprise",
        "Usaha purna PMI dan keluarganya: pelatihan, pendampingan, peralatan, pemasaran, modal.",
    ),
    (
        3,
        "komunitas-keluarga",
        "Komunitas Pembangunan Keluarga",
        "parenting",
        "Rumah Belajar: pengasuhan dan belajar anak-anak yang ditinggal orang tuanya bekerja "
        "di luar negeri.",
    ),
    (
        4,
        "koperasi-bumdes",
        "Koperasi / BUMDes / Lembaga Keuangan",
        "cooperative",
        "Koperasi, BUMDes atau lembaga keuangan yang memperkuat usaha-usaha itu.",
    ),
]

PARTNERS = [
    ("pnm", "PT Permodalan Nasional Madani (PNM)", [("pnm-mekaar", "PNM Mekaar")]),
    ("bni", "Bank Negara Indonesia (BNI)", [("kur-bni", "KUR BNI")]),
    ("bri", "Bank Rakyat Indonesia (BRI)", [("kur-bri", "KUR BRI")]),
    (
        "bank-indonesia",
        "Bank Indonesia",
        [("bi-umkm", "Pengembangan UMKM dan transaksi nontunai")],
    ),
    ("prakerja", "Manajemen Pelaksana Kartu Prakerja", [("kartu-prakerja", "Kartu Prakerja")]),
    ("kemendes", "Kemendes PDTT", [("dana-desa", "Dana Desa")]),
]


def create(apps, schema_editor):
    ProgrammeVariant = apps.get_model("pillars", "ProgrammeVariant")
    Pillar = apps.get_model("pillars", "Pillar")
    Partner = apps.get_model("pillars", "Partner")
    PartnerProgramme = apps.get_model("pillars", "PartnerProgramme")
    variant = ProgrammeVariant.objects.get(code="desmigratif-4-pilar")
    for order, code, name, kind, description in PILLARS:
        Pillar.objects.get_or_create(
            variant=variant,
            code=code,
            defaults={"order": order, "name": name, "kind": kind, "description": description},
        )
    for code, name, programmes in PARTNERS:
        partner, _created = Partner.objects.get_or_create(code=code, defaults={"name": name})
        for programme_code, programme_name in programmes:
            PartnerProgramme.objects.get_or_create(
                code=programme_code, defaults={"name": programme_name, "partner": partner}
            )


class Migration(migrations.Migration):
    dependencies = [("pillars", "0003_pillars_and_registers")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
