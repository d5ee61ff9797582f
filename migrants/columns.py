"""The register's spreadsheet columns: one definition for the template, the import, the
error report and the export. Headers are matched without case or punctuation, in Indonesian
or English; values are accepted in the forms officials type them."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from migrants.models import Education, PlacementScheme, Procedural, ReturnReason, Sector, Sex


@dataclass(frozen=True)
class Column:
    key: str  # the field it fills, or a pseudo-field ("village", "status")
    header: str  # the header in the template (Indonesian, as the ministry writes it)
    aliases: tuple[str, ...] = ()  # other headers accepted, English among them
    help: str = ""
    # Accepted spellings -> stored value; the first spelling per value is the one we write.
    values: dict[str, str] = field(default_factory=dict)
    required: bool = False
    is_date: bool = False
    is_identifier: bool = False  # NIK, No. KK: text cells, never numbers
    width: int = 18


SEX_VALUES = {
    "L": Sex.MALE,
    "P": Sex.FEMALE,
    "Laki-laki": Sex.MALE,
    "Perempuan": Sex.FEMALE,
    "Male": Sex.MALE,
    "Female": Sex.FEMALE,
    "M": Sex.MALE,
    "F": Sex.FEMALE,
    "Pria": Sex.MALE,
    "Wanita": Sex.FEMALE,
    "Lk": Sex.MALE,
    "Pr": Sex.FEMALE,
}
STATUS_VALUES = {
    "CPMI": "cpmi",
    "PMI": "pmi",
    "Purna PMI": "purna",
    "Purna": "purna",
    "Keluarga": "keluarga",
    "Keluarga PMI": "keluarga",
    "Calon PMI": "cpmi",
    "Returned": "purna",
    "Prospective": "cpmi",
    "Abroad": "pmi",
    "Family": "keluarga",
}
SECTOR_VALUES = {"Formal": Sector.FORMAL, "Informal": Sector.INFORMAL}
SCHEME_VALUES = {
    "G to G": PlacementScheme.G_TO_G,
    "G to P": PlacementScheme.G_TO_P,
    "P to P": PlacementScheme.P_TO_P,
    "UKPS": PlacementScheme.UKPS,
    "Mandiri": PlacementScheme.MANDIRI,
    "G2G": PlacementScheme.G_TO_G,
    "G2P": PlacementScheme.G_TO_P,
    "P2P": PlacementScheme.P_TO_P,
    "Perseorangan": PlacementScheme.MANDIRI,
    "Independent": PlacementScheme.MANDIRI,
}
PROCEDURAL_VALUES = {
    "Ya": Procedural.PROCEDURAL,
    "Tidak": Procedural.NON_PROCEDURAL,
    "Tidak Tahu": Procedural.UNKNOWN,
    "Yes": Procedural.PROCEDURAL,
    "No": Procedural.NON_PROCEDURAL,
    "Unknown": Procedural.UNKNOWN,
    "Prosedural": Procedural.PROCEDURAL,
    "Nonprosedural": Procedural.NON_PROCEDURAL,
    "Non Prosedural": Procedural.NON_PROCEDURAL,
}
RETURN_VALUES = {
    "Kontrak Selesai": ReturnReason.CONTRACT_ENDED,
    "Cuti": ReturnReason.LEAVE,
    "Dideportasi": ReturnReason.DEPORTED,
    "Bermasalah": ReturnReason.PROBLEM,
    "Meninggal Dunia": ReturnReason.DEATH,
    "Meninggal": ReturnReason.DEATH,
    "Habis Kontrak": ReturnReason.CONTRACT_ENDED,
    "Contract Ended": ReturnReason.CONTRACT_ENDED,
    "Leave": ReturnReason.LEAVE,
    "Deported": ReturnReason.DEPORTED,
    "Problem": ReturnReason.PROBLEM,
    "Death": ReturnReason.DEATH,
}
EDUCATION_VALUES = {
    "Tidak Sekolah": Education.NONE,
    "SD": Education.SD,
    "SMP": Education.SMP,
    "SMA/SMK": Education.SMA,
    "SMA": Education.SMA,
    "SMK": Education.SMA,
    "Diploma": Education.DIPLOMA,
    "D1": Education.DIPLOMA,
    "D2": Education.DIPLOMA,
    "D3": Education.DIPLOMA,
    "D4": Education.DIPLOMA,
    "S1": Education.BACHELOR,
    "S2": Education.POSTGRADUATE,
    "S3": Education.POSTGRADUATE,
    "Belum Sekolah": Education.NONE,
    "MI": Education.SD,
    "MTs": Education.SMP,
    "MA": Education.SMA,
    "SLTP": Education.SMP,
    "SLTA": Education.SMA,
    "None": Education.NONE,
}

COLUMNS: tuple[Column, ...] = (
    Column(
        "nik",
        "NIK",
        ("nik", "national id", "no nik", "nomor induk kependudukan"),
        _("16 digits, typed as text. Empty when the person has no NIK yet."),
        is_identifier=True,
        width=20,
    ),
    Column(
        "no_kk",
        "No KK",
        ("no kk", "nomor kk", "kk", "family card", "family card number", "no kartu keluarga"),
        _("16 digits of the family card, typed as text."),
        is_identifier=True,
        width=20,
    ),
    Column(
        "full_name",
        "Nama Lengkap",
        ("nama", "nama lengkap", "full name", "name"),
        _("As on the KTP."),
        required=True,
        width=28,
    ),
    Column(
        "sex",
        "Jenis Kelamin",
        ("jenis kelamin", "jk", "sex", "gender"),
        _("L (laki-laki) or P (perempuan)."),
        values=SEX_VALUES,
        required=True,
        width=8,
    ),
    Column(
        "birth_place", "Tempat Lahir", ("tempat lahir", "place of birth", "birth place"), width=16
    ),
    Column(
        "birth_date",
        "Tanggal Lahir",
        ("tanggal lahir", "tgl lahir", "date of birth", "birth date", "dob"),
        _("An Excel date, or YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY."),
        required=True,
        is_date=True,
        width=14,
    ),
    Column(
        "village",
        "Kode Desa",
        ("kode desa", "kode wilayah", "village code", "village"),
        _(
            "Kemendagri code of the village, with or without dots (35.07.11.2008). Empty "
            "means the uploader's own village."
        ),
        width=16,
    ),
    Column("address", "Alamat", ("alamat", "address"), width=28),
    Column("phone", "No HP", ("no hp", "nomor hp", "hp", "telepon", "phone", "mobile"), width=16),
    Column(
        "education",
        "Pendidikan",
        ("pendidikan", "education"),
        _("Tidak Sekolah, SD, SMP, SMA/SMK, Diploma, S1, S2."),
        values=EDUCATION_VALUES,
        width=14,
    ),
    Column(
        "status",
        "Status",
        ("status", "status pmi"),
        _(
            "CPMI (registered, not departed), PMI (abroad) or Purna PMI (returned); empty for "
            "a family member. It must agree with the dates."
        ),
        values=STATUS_VALUES,
        width=12,
    ),
    Column(
        "destination_country",
        "Negara Tujuan",
        ("negara tujuan", "negara", "destination", "destination country", "country"),
        _("Indonesian or English name, or the ISO code (HK, TW, MY, ...)."),
        width=16,
    ),
    Column(
        "job_title", "Jabatan", ("jabatan", "pekerjaan", "job", "job title", "occupation"), width=24
    ),
    Column(
        "sector",
        "Sektor",
        ("sektor", "sector"),
        _("Formal or Informal."),
        values=SECTOR_VALUES,
        width=10,
    ),
    Column(
        "placement_scheme",
        "Skema Penempatan",
        ("skema penempatan", "skema", "placement scheme", "scheme"),
        _("G to G, G to P, P to P, UKPS or Mandiri."),
        values=SCHEME_VALUES,
        width=14,
    ),
    Column(
        "p3mi_name",
        "P3MI",
        ("p3mi", "perusahaan penempatan", "placement agency", "agency"),
        width=24,
    ),
    Column(
        "departure_date",
        "Tanggal Berangkat",
        ("tanggal berangkat", "tgl berangkat", "departure date", "departure"),
        _("Date of departure; not in the future."),
        is_date=True,
        width=14,
    ),
    Column(
        "return_date",
        "Tanggal Pulang",
        ("tanggal pulang", "tgl pulang", "return date", "return"),
        _("Date of return; after the departure, not in the future."),
        is_date=True,
        width=14,
    ),
    Column(
        "return_reason",
        "Alasan Pulang",
        ("alasan pulang", "return reason", "reason"),
        _("Kontrak Selesai, Cuti, Dideportasi, Bermasalah or Meninggal Dunia."),
        values=RETURN_VALUES,
        width=16,
    ),
    Column(
        "procedural_status",
        "Prosedural",
        ("prosedural", "procedural"),
        _("Ya, Tidak or Tidak Tahu: did the person leave through official channels?"),
        values=PROCEDURAL_VALUES,
        width=12,
    ),
)
BY_KEY = {column.key: column for column in COLUMNS}
ERROR_HEADER = "Kesalahan"


def header_key(text: object) -> str:
    """A header as compared: lower case, letters and digits only ("No. KK" -> "nokk")."""
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.key, *_column.aliases):
        HEADER_INDEX.setdefault(header_key(_name), _column.key)


def value_key(text: object) -> str:
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


VALUE_INDEX: dict[str, dict[str, str]] = {
    column.key: {value_key(spelling): stored for spelling, stored in column.values.items()}
    for column in COLUMNS
    if column.values
}


def written_value(column: Column, stored: str) -> str:
    """The spelling we write for a stored value (the first one listed)."""
    for spelling, value in column.values.items():
        if value == stored:
            return spelling
    return stored
