"""The demo's pillar work: about six months of what the demo villages did in each pillar.

Every designated demo village gets a service log, monthly outreach, enterprises of its purna
PMI and families, trainings, a Rumah Belajar with its children, a cooperative or BUMDes with
members and monthly figures, partner referrals, a few cases and its monthly reports. One
village, Brongkal, is weak on purpose: its Rumah Belajar and its BUMDes have done nothing for
more than QUIET_DAYS (they did before), so the coordinator's overview shows a village running
two pillars of four, as the 2023 review found in the field.

Dates are relative to today, so the pillar status means the same whenever the demo is seeded;
everything comes from a `random.Random` seeded per village, so a run on a given day gives the
same rows. Rows are written in bulk for speed, but as `pillars.services.record_create` writes
them: the village, the village's pillar of the register's kind, `created_by` (the village's
officer, or whoever enters its register in the demo) and a "created" audit entry with the same
changes. Idempotent by village, like the register: a village that already has any pillar row or
monthly report is left exactly as it is.
"""

import datetime
import random
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Role, User
from migrants.demo import DEMO_REGISTER_VILLAGES, LIVE_DAYS, DemoVillage, demo_today
from migrants.models import Episode, Person, Status, child_cutoff
from pillars.models import (
    AuditEntry,
    Case,
    CaseStep,
    ChildEnrolment,
    Cooperative,
    CooperativeMember,
    CooperativePeriod,
    Enterprise,
    MonthlyReport,
    Outreach,
    ParentingGroup,
    ParentingSession,
    PartnerProgramme,
    Pillar,
    PillarKind,
    Referral,
    ServiceLog,
    ServiceType,
    Training,
    VillageRecord,
)
from pillars.services import _fields, _shown, month_end, month_figures, month_start, pillar_for
from villages.models import Designation, Region

SEED = 2019  # Permenaker 2/2019, which set out the four pillars
WEAK_VILLAGE = "35.07.33.2006"  # Brongkal
WEAK_KINDS = (PillarKind.PARENTING, PillarKind.COOPERATIVE)
# The weak village's last parenting and cooperative activity is older than this, so it shows
# as inactive with any threshold up to it (the setting's default is 90 days).
QUIET_DAYS = 200
HISTORY_DAYS = 183
MONTHS = 6

# Which pillar each register's rows belong to (the kind given to record_create by its views).
KIND: dict[type[VillageRecord], str] = {
    ServiceLog: PillarKind.SERVICE_CENTRE,
    Outreach: PillarKind.SERVICE_CENTRE,
    Case: PillarKind.SERVICE_CENTRE,
    Enterprise: PillarKind.ENTERPRISE,
    Training: PillarKind.ENTERPRISE,
    Referral: PillarKind.ENTERPRISE,
    ParentingGroup: PillarKind.PARENTING,
    ParentingSession: PillarKind.PARENTING,
    ChildEnrolment: PillarKind.PARENTING,
    Cooperative: PillarKind.COOPERATIVE,
    CooperativeMember: PillarKind.COOPERATIVE,
    CooperativePeriod: PillarKind.COOPERATIVE,
}
# Parents before children: the order the rows are written in.
WRITE_ORDER: list[type[VillageRecord]] = [
    ServiceLog,
    Outreach,
    Case,
    Enterprise,
    Training,
    Referral,
    ParentingGroup,
    ParentingSession,
    ChildEnrolment,
    Cooperative,
    CooperativeMember,
    CooperativePeriod,
]
# The previous month's report: submitted by these villages, a draft in Balearjo, and not
# started in the others, so the coordinators' "not reported" lists are not empty.
SUBMITTED_LAST_MONTH = {"35.07.11.2008", "32.12.16.2004", "35.07.11.2003"}
DRAFT_LAST_MONTH = {"35.07.33.2004"}
# Two months ago in Arjowilangun: returned by the coordinator and not yet corrected.
RETURNED_REPORT = ("35.07.11.2008", 2)
RETURN_COMMENT = (
    "Jumlah peserta sosialisasi belum sesuai dengan daftar hadir; mohon dilengkapi dan "
    "dikirim ulang."
)

# --- What the villages do (the data is in Indonesian, as the villages write it) --------------

ADULT = "adult"  # any adult of the register
WORKING = "working"  # adults who are not abroad now
# service type: (weight, who it is for, share linked to a person, notes)
SERVICES: dict[str, tuple[int, tuple[str, ...], float, list[str]]] = {
    ServiceType.INFORMATION: (14, (ADULT,), 0.3, [
        "Informasi program Desmigratif dan layanan desa.",
        "Menanyakan syarat dan prosedur bekerja ke luar negeri.",
        "Informasi negara penempatan dan perlindungan PMI.",
    ]),
    ServiceType.SAFE_MIGRATION: (12, (Status.CPMI, Status.FAMILY), 0.6, [
        "Edukasi migrasi aman dan prosedural; bahaya calo dan penempatan nonprosedural.",
        "Penjelasan hak dan kewajiban CPMI, perjanjian kerja dan BPJS Ketenagakerjaan.",
    ]),
    ServiceType.DOCUMENT_KTP: (8, (ADULT,), 0.9, ["Surat pengantar perekaman KTP-el."]),
    ServiceType.DOCUMENT_KK: (7, (ADULT,), 0.9, [
        "Pembaruan KK setelah perubahan status perkawinan.",
        "Surat pengantar perubahan data KK ke Disdukcapil.",
    ]),
    ServiceType.DOCUMENT_PASSPORT: (9, (Status.CPMI,), 1.0, [
        "Surat rekomendasi paspor untuk Kantor Imigrasi; dokumen diperiksa lengkap.",
    ]),
    ServiceType.JOB_INFORMATION: (10, (Status.CPMI, Status.PURNA, Status.FAMILY), 0.6, [
        "Informasi lowongan resmi dari P3MI berizin dan SIAPkerja.",
        "Informasi lowongan program G to G (EPS Korea).",
    ]),
    ServiceType.COMPLAINT: (4, (Status.PMI,), 0.9, [
        "Keluarga melapor PMI sulit dihubungi; dicatat dan diteruskan ke Disnaker.",
        "Pengaduan keluarga tentang kiriman gaji yang terlambat.",
    ]),
    ServiceType.DEPARTURE_MONITORING: (8, (Status.PMI,), 1.0, [
        "Pencatatan keberangkatan; dokumen dan perjanjian kerja lengkap.",
        "Konfirmasi keberangkatan dengan keluarga dan P3MI.",
    ]),
    ServiceType.RETURN_MONITORING: (8, (Status.PURNA,), 1.0, [
        "Kunjungan rumah setelah kepulangan; informasi usaha produktif.",
        "Pencatatan kepulangan dan kondisi kesehatan.",
    ]),
    ServiceType.FAMILY_HELP: (7, (Status.FAMILY,), 0.9, [
        "Pendampingan keluarga PMI: pengelolaan kiriman uang dan sekolah anak.",
        "Konseling keluarga yang ditinggal bekerja ke luar negeri.",
    ]),
    ServiceType.REFERRAL: (4, (Status.PURNA, Status.FAMILY), 0.8, [
        "Dirujuk ke Disnaker untuk pelatihan kerja.",
        "Dirujuk ke BP3MI untuk penanganan lanjutan.",
    ]),
}  # fmt: skip
OUTREACH_TOPICS = [
    "Migrasi aman dan prosedural",
    "Bahaya penempatan nonprosedural dan perdagangan orang",
    "Peluang kerja ke Korea melalui program G to G",
    "Perlindungan PMI dan jaminan sosial BPJS Ketenagakerjaan",
    "Pengelolaan remitansi untuk keluarga PMI",
    "Peluang usaha bagi purna PMI",
    "Hak dan kewajiban CPMI sebelum berangkat",
]
ENTERPRISES = [
    # name, sector, products, can export
    ("Keripik Tempe", Enterprise.Sector.FOOD, "keripik tempe, keripik pisang", False),
    ("Ternak Kambing", Enterprise.Sector.LIVESTOCK, "kambing etawa, susu kambing", False),
    ("Toko Kelontong", Enterprise.Sector.TRADE, "sembako, pulsa", False),
    ("Jahit", Enterprise.Sector.SERVICES, "jahit pakaian, seragam sekolah", False),
    ("Kopi Bubuk", Enterprise.Sector.FOOD, "kopi bubuk robusta", True),
    ("Budidaya Lele", Enterprise.Sector.FISHERY, "lele konsumsi, bibit lele", False),
    ("Anyaman Bambu", Enterprise.Sector.CRAFT, "besek, tampah, keranjang", True),
    ("Bengkel Motor", Enterprise.Sector.SERVICES, "servis dan suku cadang motor", False),
    ("Kue Kering", Enterprise.Sector.FOOD, "kue kering, jajanan pasar", False),
    ("Tani Cabai", Enterprise.Sector.AGRICULTURE, "cabai rawit, tomat", False),
    ("Batik Tulis", Enterprise.Sector.CRAFT, "kain batik tulis", True),
    ("Laundry", Enterprise.Sector.SERVICES, "cuci dan setrika kiloan", False),
]
ASSISTANCE = [
    "",
    "Pelatihan kewirausahaan dan bantuan peralatan dari Disnaker.",
    "Pendampingan pengemasan dan label halal.",
    "Pelatihan pemasaran daring dari Bank Indonesia.",
    "Bantuan alat produksi dari Kemnaker (Desmigratif).",
]
TRAININGS = [
    ("Kewirausahaan bagi purna PMI dan keluarga", "Disnaker {regency}"),
    ("Pengemasan dan label produk UMKM", "Dinas Koperasi dan UMKM {regency}"),
    ("Pemasaran digital dan transaksi nontunai (QRIS)", "Bank Indonesia"),
    ("Pembukuan sederhana usaha mikro", "BLK Komunitas"),
    ("Pengolahan hasil pertanian", "Dinas Pertanian {regency}"),
    ("Menjahit dan tata busana", "BLK {regency}"),
]
SESSION_TOPICS = [
    "Belajar membaca dan mewarnai",
    "Bimbingan belajar matematika",
    "Video call bersama orang tua di luar negeri",
    "Pola asuh anak yang ditinggal orang tua bekerja (untuk pengasuh)",
    "Permainan tradisional",
    "Cuci tangan dan kesehatan gigi",
    "Mengaji dan budi pekerti",
    "Latihan pentas seni anak",
]
CASES: list[dict[str, Any]] = [
    {
        "type": Case.Type.UNPAID_WAGES,
        "who": (Status.PMI,),
        "channels": (Case.Channel.MESSAGE, Case.Channel.WALK_IN),
        "summary": "Keluarga melapor gaji {months} bulan belum dibayar majikan.",
        "steps": [
            "Pengaduan dicatat; keluarga membuat kronologi",
            "Diteruskan ke Disnaker dan BP3MI",
            "Koordinasi dengan P3MI dan Perwakilan RI di negara penempatan",
        ],
        "resolved": "Gaji dibayarkan melalui P3MI",
    },
    {
        "type": Case.Type.WANTS_HOME,
        "who": (Status.PMI,),
        "channels": (Case.Channel.PHONE, Case.Channel.MESSAGE),
        "summary": "PMI ingin pulang sebelum kontrak berakhir karena beban kerja berlebih.",
        "steps": [
            "Pengaduan dicatat dari keluarga",
            "Diteruskan ke BP3MI dan P3MI",
            "P3MI memfasilitasi pemutusan kontrak",
        ],
        "resolved": "PMI dipulangkan dan dijemput keluarga",
    },
    {
        "type": Case.Type.ILLNESS,
        "who": (Status.PMI,),
        "channels": (Case.Channel.PHONE, Case.Channel.WALK_IN),
        "summary": "PMI dirawat di rumah sakit; keluarga meminta informasi dan bantuan.",
        "steps": [
            "Pengaduan dicatat",
            "Koordinasi dengan BP3MI tentang klaim BPJS Ketenagakerjaan",
            "Keluarga mendapat kabar rutin dari Perwakilan RI",
        ],
        "resolved": "PMI pulih dan kembali bekerja",
    },
    {
        "type": Case.Type.FAILED_DEPARTURE,
        "who": (Status.CPMI,),
        "channels": (Case.Channel.WALK_IN,),
        "summary": "Sudah menyelesaikan pelatihan dan medical, lebih dari enam bulan belum "
        "diberangkatkan.",
        "steps": [
            "Pengaduan dicatat; dokumen CPMI diperiksa",
            "Klarifikasi ke P3MI bersama Disnaker",
        ],
        "resolved": "P3MI menetapkan jadwal keberangkatan",
    },
    {
        "type": Case.Type.PLACEMENT_FEES,
        "who": (Status.CPMI,),
        "channels": (Case.Channel.WALK_IN, Case.Channel.MESSAGE),
        "summary": "CPMI diminta biaya penempatan yang tidak sesuai ketentuan.",
        "steps": [
            "Pengaduan dicatat dengan bukti pembayaran",
            "Dilaporkan ke Disnaker dan BP3MI",
            "Mediasi dengan P3MI",
        ],
        "resolved": "Biaya dikembalikan oleh P3MI",
    },
    {
        "type": Case.Type.SOCIAL_SECURITY,
        "who": (Status.PURNA,),
        "channels": (Case.Channel.WALK_IN,),
        "summary": "Purna PMI kesulitan mengurus klaim Jaminan Hari Tua BPJS Ketenagakerjaan.",
        "steps": [
            "Dokumen klaim diperiksa",
            "Didampingi ke kantor cabang BPJS Ketenagakerjaan",
        ],
        "resolved": "Klaim JHT dibayarkan",
    },
    {
        "type": Case.Type.DEPORTATION,
        "who": (Status.PURNA,),
        "channels": (Case.Channel.AGENCY,),
        "summary": "Dideportasi karena izin kerja tidak diperpanjang; informasi dari BP3MI.",
        "steps": [
            "Pemberitahuan BP3MI dicatat",
            "Penjemputan di debarkasi dan pemulangan ke desa",
            "Kunjungan rumah dan pendataan",
        ],
        "resolved": "Sudah di rumah; didata untuk pelatihan usaha",
    },
    {
        "type": Case.Type.JOB_SCAM,
        "who": (),
        "channels": (Case.Channel.SOCIAL_MEDIA,),
        "summary": "Warga melapor tawaran kerja ke luar negeri di media sosial yang meminta "
        "uang muka tanpa P3MI berizin.",
        "steps": [
            "Laporan dicatat dan disebarkan peringatan ke warga",
            "Diteruskan ke Disnaker dan kepolisian",
        ],
        "resolved": "Akun penipu diblokir; tidak ada warga yang menjadi korban",
        "country": "JP",
        "procedural": "non_procedural",
    },
    {
        "type": Case.Type.TRAFFICKING,
        "who": (),
        "channels": (Case.Channel.WALK_IN,),
        "summary": "Warga melapor perekrutan perempuan ke Timur Tengah oleh perseorangan tanpa "
        "dokumen resmi.",
        "steps": [
            "Laporan dicatat; identitas pelapor dirahasiakan",
            "Diteruskan ke Satgas TPPO dan BP3MI",
            "Pemantauan bersama perangkat desa",
        ],
        "resolved": "Keberangkatan dicegah; perekrut diproses kepolisian",
        "country": "SA",
        "procedural": "non_procedural",
    },
]
UNRESOLVED = "Ditutup: pelapor tidak dapat dihubungi lagi"
# Partner programmes the demo refers to: code, weight.
REFERRAL_PROGRAMMES = {"pnm-mekaar": 4, "kur": 3, "kartu-prakerja": 3}
REJECTIONS = [
    "Ditolak: riwayat kredit belum memenuhi syarat (SLIK OJK).",
    "Ditolak: usaha belum berjalan enam bulan.",
    "Ditolak: kuota gelombang ini sudah penuh.",
]
OBSTACLES = [
    "Sebagian keluarga PMI sulit ditemui pada jam kerja.",
    "Data kepulangan dari BP3MI terlambat diterima.",
    "",
]
PLANS = [
    "Sosialisasi migrasi aman di dusun yang belum dijangkau; pendataan CPMI baru.",
    "Pelatihan lanjutan pemasaran daring; pendampingan rujukan KUR.",
    "Kunjungan rumah purna PMI yang baru pulang.",
]


# --- Small helpers -----------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def _days(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    """A random date from start to end, both included (start when the range is empty)."""
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _months_back(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 - n
    return datetime.date(index // 12, index % 12 + 1, 1)


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def _honorific(person: Person) -> str:
    first = person.full_name.split()[0].rstrip(".")
    return f"{'Bu' if person.sex == 'P' else 'Pak'} {first}"


class _People:
    """A village's register, as the pools the demo draws people from (children apart)."""

    def __init__(self, village_code: str, today: datetime.date):
        people = list(
            Person.objects.alive()
            .filter(village_id=village_code)
            .order_by("created_at", "full_name", "birth_date", "nik")
        )
        cutoff = child_cutoff(today)
        self.today = today
        self.children = [p for p in people if p.birth_date > cutoff]
        # Owners, members and trainees: adults well before the half year the demo covers.
        self.adults = [p for p in people if _years_after(p.birth_date, 21) <= today]
        self.by_status: dict[str, list[Person]] = defaultdict(list)
        for person in self.adults:
            self.by_status[person.status].append(person)
        returns = (
            Episode.objects.filter(person__village_id=village_code, return_date__isnull=False)
            .values_list("person_id", "return_date")
            .order_by("person_id", "return_date")
        )
        self.returned_on = dict(returns)  # the latest return of each person
        migrant_cards = {p.no_kk for p in people if p.no_kk and p.status != Status.FAMILY}
        # Children of migrant families first: the Rumah Belajar is for them.
        self.children.sort(key=lambda child: child.no_kk not in migrant_cards)

    def pool(self, *groups: str) -> list[Person]:
        if ADULT in groups:
            return self.adults
        if WORKING in groups:
            return [p for p in self.adults if p.status != Status.PMI]
        return [p for group in groups for p in self.by_status[group]]


# --- One village -------------------------------------------------------------------------------


class _VillageSeed:
    def __init__(
        self,
        *,
        designation: Designation,
        demo: DemoVillage,
        actor: User,
        verifier: User,
        today: datetime.date,
        programmes: dict[str, Any],
    ):
        self.code = designation.village_id
        self.name = designation.village.name
        self.designation = designation
        self.demo = demo
        self.actor = actor
        self.verifier = verifier
        self.today = today
        self.now = timezone.now()
        self.live_since = today - datetime.timedelta(days=LIVE_DAYS)
        self.weak = self.code == WEAK_VILLAGE
        self.quiet_until = today - datetime.timedelta(days=QUIET_DAYS + 7)
        self.rng = random.Random(f"{SEED}:{self.code}")  # noqa: S311 (demo data, not secrets)
        self.programmes = programmes
        self.pillars = {kind: pillar_for(self.code, kind) for kind in set(KIND.values())}
        self.people = _People(self.code, today)
        self.regency = "Kab. " + self.demo.birth_place
        self.rows: dict[type[VillageRecord], list[VillageRecord]] = defaultdict(list)
        self.steps: list[CaseStep] = []
        self.participants: list[tuple[Training, list[Person]]] = []

    def stamp(self, day: datetime.date) -> datetime.datetime:
        """When a record about `day` was typed in: that day in office hours (or the day the
        village started keeping its data in the system), never later than now."""
        day = max(day, self.live_since)
        moment = datetime.datetime.combine(
            day, datetime.time(self.rng.randint(8, 15), self.rng.randint(0, 59))
        )
        return min(timezone.make_aware(moment), self.now)

    def new(self, model: type[VillageRecord], day: datetime.date, **fields) -> VillageRecord:
        row = model(
            village_id=self.code, pillar=self.pillars[KIND[model]], created_by=self.actor, **fields
        )
        row.created_at = row.updated_at = self.stamp(day)
        self.rows[model].append(row)
        return row

    def weekday(self, start: datetime.date, end: datetime.date) -> datetime.date:
        day = _days(self.rng, start, end)
        while day.weekday() >= 5 and day > start:
            day -= datetime.timedelta(days=1)
        return day

    def build(self) -> None:
        self.service_log()
        self.outreach()
        self.cases()
        enterprises = self.enterprises()
        self.trainings(enterprises)
        self.referrals(enterprises)
        self.parenting()
        self.cooperative()

    # Pillar 1 ----------------------------------------------------------------------------------

    def service_log(self) -> None:
        rng = self.rng
        start = self.today - datetime.timedelta(days=HISTORY_DAYS)
        weights = {kind: spec[0] for kind, spec in SERVICES.items()}
        for _ in range(rng.randint(45, 70)):
            service_type = _weighted(rng, weights)
            _weight, groups, linked, notes = SERVICES[service_type]
            pool = self.people.pool(*groups)
            person = rng.choice(pool) if pool and rng.random() < linked else None
            day = self.weekday(start, self.today)
            self.new(
                ServiceLog,
                day,
                date=day,
                person=person,
                service_type=service_type,
                officer=self.actor,
                notes=rng.choice(notes),
            )

    def outreach(self) -> None:
        rng = self.rng
        topics = rng.sample(OUTREACH_TOPICS, k=MONTHS)
        places = [
            f"Balai Desa {self.name}",
            f"Balai Dusun {rng.choice(self.demo.dusuns)}",
            "Musala Al-Ikhlas",
            "Gedung PKK",
        ]
        this_month = month_start(self.today)
        for back, topic in enumerate(topics):
            first = _months_back(this_month, back)
            last = min(month_end(first), self.today)
            if back == 0 and self.today.day < 10:
                continue  # this month's is still to come
            day = self.weekday(first + datetime.timedelta(days=4), last)
            self.new(
                Outreach,
                day,
                date=day,
                topic=topic,
                location=rng.choice(places),
                attendees_male=rng.randint(8, 30),
                attendees_female=rng.randint(15, 45),
                notes=rng.choice(["", "Narasumber dari Disnaker dan BP3MI.", "Bersama PKK."]),
            )

    def cases(self) -> None:
        rng = self.rng
        start = self.today - datetime.timedelta(days=HISTORY_DAYS)
        for template in rng.sample(CASES, k=rng.randint(2, 4)):
            pool = self.people.pool(*template["who"]) if template["who"] else []
            if template["who"] and not pool:
                continue
            person = rng.choice(pool) if pool else None
            reported = self.weekday(start, self.today - datetime.timedelta(days=2))
            country = template.get("country") or (person.current_country if person else "")
            procedural = template.get("procedural") or (
                person.current_procedural if person and person.current_procedural else "unknown"
            )
            if (self.today - reported).days < 21:
                resolution = rng.choice([Case.Resolution.OPEN, Case.Resolution.IN_PROGRESS])
            else:
                resolution = _weighted(
                    rng,
                    {
                        Case.Resolution.RESOLVED: 6,
                        Case.Resolution.IN_PROGRESS: 2,
                        Case.Resolution.UNRESOLVED: 1,
                    },
                )
            actions = list(template["steps"])
            if resolution == Case.Resolution.OPEN:
                actions = actions[:1]
            elif resolution == Case.Resolution.IN_PROGRESS:
                actions = actions[: rng.randint(2, len(actions))]
            elif resolution == Case.Resolution.RESOLVED:
                actions.append(template["resolved"])
            else:
                actions = [*actions[:-1], UNRESOLVED]
            dates = [reported]
            for _ in actions[1:]:
                dates.append(dates[-1] + datetime.timedelta(days=rng.randint(2, 18)))
            if dates[-1] > self.today:  # not that far yet
                keep = sum(day <= self.today for day in dates)
                actions, dates = actions[:keep], dates[:keep]
                resolution = Case.Resolution.IN_PROGRESS
            closed = resolution in (Case.Resolution.RESOLVED, Case.Resolution.UNRESOLVED)
            case = self.new(
                Case,
                reported,
                person=person,
                case_type=template["type"],
                channel=rng.choice(template["channels"]),
                country=country,
                procedural_status=procedural,
                reported_on=reported,
                summary=template["summary"].format(months=rng.randint(2, 5)),
                resolution=resolution,
                closed_on=dates[-1] if closed else None,
            )
            for day, action in zip(dates, actions, strict=True):
                step = CaseStep(case=case, date=day, action=action, by=self.actor)
                step.created_at = self.stamp(day)
                self.steps.append(step)

    # Pillar 2 ----------------------------------------------------------------------------------

    def enterprises(self) -> list[Enterprise]:
        rng = self.rng
        owners = self.people.pool(Status.PURNA) + self.people.pool(Status.FAMILY)
        owners = rng.sample(owners, k=min(len(owners), rng.randint(5, 8)))
        kinds = rng.sample(ENTERPRISES, k=len(owners))
        stopped = set(rng.sample(range(len(owners)), k=min(len(owners), rng.randint(1, 2))))
        enterprises = []
        for index, (owner, (label, sector, products, exports)) in enumerate(
            zip(owners, kinds, strict=True)
        ):
            earliest = max(
                _years_after(owner.birth_date, 20),
                self.today - datetime.timedelta(days=5 * 365),
            )
            if owner.pk in self.people.returned_on:
                earliest = max(
                    earliest,
                    self.people.returned_on[owner.pk]
                    + datetime.timedelta(days=rng.randint(30, 240)),
                )
            running = index not in stopped
            # Those that stopped had run for a while first.
            latest = self.today - datetime.timedelta(days=20 if running else 400)
            start = min(_days(rng, earliest, latest), self.today)
            enterprises.append(
                self.new(
                    Enterprise,
                    start,
                    owner=owner,
                    name=f"{label} {_honorific(owner)}",
                    sector=sector,
                    products=products,
                    start_date=start,
                    state=Enterprise.State.RUNNING if running else Enterprise.State.STOPPED,
                    workers=rng.randint(1, 6) if running else 1,
                    revenue_band=(
                        _weighted(
                            rng,
                            {
                                Enterprise.Revenue.UNDER_1M: 3,
                                Enterprise.Revenue.FROM_1M: 5,
                                Enterprise.Revenue.FROM_5M: 2,
                                Enterprise.Revenue.OVER_25M: 0.3,
                            },
                        )
                        if running
                        else Enterprise.Revenue.UNDER_1M
                    ),
                    export_ready=running and exports and rng.random() < 0.5,
                    assistance=rng.choice(ASSISTANCE),
                )
            )
        return enterprises

    def trainings(self, enterprises: list[Enterprise]) -> None:
        rng = self.rng
        owners = [e.owner for e in enterprises]
        others = [p for p in self.people.pool(WORKING) if p not in owners]
        for (topic, organiser), ago in zip(
            rng.sample(TRAININGS, k=3),
            (rng.randint(140, 175), rng.randint(75, 110), rng.randint(12, 40)),
            strict=True,
        ):
            start = self.weekday(self.today - datetime.timedelta(days=ago), self.today)
            end = min(start + datetime.timedelta(days=rng.randint(0, 2)), self.today)
            training = self.new(
                Training,
                end,
                topic=topic,
                organiser=organiser.format(regency=self.regency),
                start_date=start,
                end_date=end,
                notes=rng.choice(["", "Peserta mendapat sertifikat.", "Dengan praktik langsung."]),
            )
            size = rng.randint(6, 15)
            chosen = rng.sample(owners, k=min(len(owners), rng.randint(1, 3)))
            chosen += rng.sample(others, k=min(len(others), size - len(chosen)))
            self.participants.append((training, chosen))

    def referrals(self, enterprises: list[Enterprise]) -> None:
        rng = self.rng
        running = [e for e in enterprises if e.state == Enterprise.State.RUNNING]
        women = [p for p in self.people.pool(Status.PURNA, Status.FAMILY) if p.sex == "P"]
        workers = self.people.pool(Status.CPMI, Status.PURNA, Status.FAMILY)
        kur = "kur-bri" if self.code.startswith("35.") else "kur-bni"
        start = self.today - datetime.timedelta(days=HISTORY_DAYS)
        for _ in range(rng.randint(4, 7)):
            which = _weighted(rng, REFERRAL_PROGRAMMES)
            person = enterprise = None
            if which == "kur":
                which = kur
                if not running:
                    continue
                enterprise = rng.choice(running)
                requested = rng.choice([10, 15, 20, 25, 50]) * 1_000_000
            elif which == "pnm-mekaar":
                if not women:
                    continue
                person = rng.choice(women)
                requested = rng.choice([2, 3, 4, 5]) * 1_000_000
            else:
                if not workers:
                    continue
                person = rng.choice(workers)
                requested = 4_200_000  # the Kartu Prakerja benefit
            programme = self.programmes.get(which)
            if programme is None:
                continue  # switched off by an administrator
            referred = self.weekday(start, self.today - datetime.timedelta(days=3))
            stage = _weighted(
                rng,
                {
                    Referral.Stage.REFERRED: 2,
                    Referral.Stage.ACCEPTED: 2,
                    Referral.Stage.DISBURSED: 4,
                    Referral.Stage.REJECTED: 1,
                },
            )
            dates: dict[str, Any] = {}
            notes = ""
            if stage == Referral.Stage.REJECTED:
                dates["rejected_on"] = referred + datetime.timedelta(days=rng.randint(7, 30))
                notes = rng.choice(REJECTIONS)
            elif stage != Referral.Stage.REFERRED:
                dates["accepted_on"] = referred + datetime.timedelta(days=rng.randint(5, 25))
                if stage == Referral.Stage.DISBURSED:
                    dates["disbursed_on"] = dates["accepted_on"] + datetime.timedelta(
                        days=rng.randint(5, 30)
                    )
            # What has not happened by today is still to come: the referral waits a step back.
            dates = {key: day for key, day in dates.items() if day <= self.today}
            if stage == Referral.Stage.REJECTED and "rejected_on" not in dates:
                stage, notes = Referral.Stage.REFERRED, ""
            elif stage == Referral.Stage.DISBURSED and "disbursed_on" not in dates:
                stage = Referral.Stage.ACCEPTED
            if stage == Referral.Stage.ACCEPTED and "accepted_on" not in dates:
                stage = Referral.Stage.REFERRED
            disbursed = None
            if stage == Referral.Stage.DISBURSED:
                share = 1 if which != kur else rng.choice([1, 1, 0.8, 0.6])
                disbursed = Decimal(int(requested * share))
            self.new(
                Referral,
                referred,
                programme=programme,
                person=person,
                enterprise=enterprise,
                stage=stage,
                referred_on=referred,
                amount_requested=Decimal(requested),
                amount_disbursed=disbursed,
                notes=notes,
                **dates,
            )

    # Pillar 3 ----------------------------------------------------------------------------------

    def parenting(self) -> None:
        rng = self.rng
        opened = self.designation.start_date or datetime.date(2018, 1, 1)
        founded = _days(
            rng,
            opened + datetime.timedelta(days=180),
            max(opened, self.today - datetime.timedelta(days=3 * 365)),
        )
        women = rng.sample(self.demo.women, k=2)
        group = self.new(
            ParentingGroup,
            founded,
            name=f"Rumah Belajar {rng.choice(['Ceria', 'Pelangi', 'Bintang'])} {self.name}",
            facilitators=", ".join(f"Bu {name}" for name in women),
            meeting_place=rng.choice(
                [f"Balai Dusun {rng.choice(self.demo.dusuns)}", "Gedung PAUD", "TPQ Al-Hidayah"]
            ),
            founded_on=founded,
            active=not self.weak,
        )
        # The weak village's group met until well over QUIET_DAYS ago, and not since.
        last_day = self.quiet_until if self.weak else self.today
        enrolled: list[ChildEnrolment] = []
        wanted = min(len(self.people.children), rng.randint(10, 22))
        for index, child in enumerate(self.people.children[:wanted]):
            earliest = max(founded, _years_after(child.birth_date, 3))
            if index < 2 and not self.weak:
                earliest = max(earliest, self.today - datetime.timedelta(days=60))
            if earliest > last_day:
                continue  # too young to have joined yet
            day = _days(rng, earliest, last_day)
            left = None
            if _years_after(child.birth_date, 15) <= self.today and rng.random() < 0.3:
                left_day = day + datetime.timedelta(days=rng.randint(60, 400))
                left = left_day if left_day <= self.today else None
            enrolled.append(
                self.new(
                    ChildEnrolment, day, group=group, child=child, enrolled_on=day, left_on=left
                )
            )
        months = range(14, 7, -1) if self.weak else range(MONTHS - 1, -1, -1)
        this_month = month_start(self.today)
        for back in months:
            first = _months_back(this_month, back)
            for _ in range(1 if self.weak else 2):
                day = _days(rng, first, month_end(first))
                day -= datetime.timedelta(days=(day.weekday() - 5) % 7)  # the Saturday before
                if day < founded or day > last_day:
                    continue
                present = sum(
                    e.enrolled_on <= day and (e.left_on is None or e.left_on > day)
                    for e in enrolled
                )
                self.new(
                    ParentingSession,
                    day,
                    group=group,
                    date=day,
                    topic=rng.choice(SESSION_TOPICS),
                    children_attending=max(round(present * rng.uniform(0.6, 0.95)), 3),
                    adults_attending=rng.randint(2, 10),
                )

    # Pillar 4 ----------------------------------------------------------------------------------

    def cooperative(self) -> None:
        rng = self.rng
        opened = self.designation.start_date or datetime.date(2018, 1, 1)
        founded = _days(
            rng,
            opened + datetime.timedelta(days=120),
            max(opened, self.today - datetime.timedelta(days=2 * 365)),
        )
        if self.weak or rng.random() < 0.4:
            kind, name = Cooperative.Type.BUMDES, f"BUMDes {self.name} Makmur"
            # BUMDes became legal entities with PP 11/2021.
            legal = f"AHU-{rng.randint(100, 9999):05d}.AH.01.33.Tahun {max(founded.year, 2021)}"
        else:
            kind, name = Cooperative.Type.COOPERATIVE, f"Koperasi Purna Migran {self.name}"
            legal = f"AHU-{rng.randint(1000, 99999):07d}.AH.01.26.Tahun {founded.year}"
        coop = self.new(
            Cooperative,
            founded,
            type=kind,
            name=name,
            legal_number=legal,
            founded_on=founded,
            state=Cooperative.State.DORMANT if self.weak else Cooperative.State.ACTIVE,
        )
        last_day = self.quiet_until if self.weak else self.today
        candidates = self.people.pool(Status.PURNA, Status.FAMILY, Status.PMI, Status.CPMI)
        members = rng.sample(candidates, k=min(len(candidates), rng.randint(10, 25)))
        for index, person in enumerate(members):
            earliest = max(founded, _years_after(person.birth_date, 18))
            if index < 2 and not self.weak:
                earliest = max(earliest, self.today - datetime.timedelta(days=40))
            if earliest > last_day:
                continue
            joined = _days(rng, earliest, last_day)
            left = None
            if rng.random() < 0.1:
                left_day = joined + datetime.timedelta(days=rng.randint(90, 500))
                left = left_day if left_day <= last_day else None
            self.new(
                CooperativeMember, joined, cooperative=coop, person=person, joined_on=joined,
                left_on=left,
            )  # fmt: skip
        # Monthly figures: the last six full months, or the weak village's until it stopped.
        this_month = month_start(self.today)
        months = range(15, 7, -1) if self.weak else range(MONTHS, 0, -1)
        capital = rng.randrange(30, 160) * 1_000_000
        for back in months:
            period = _months_back(this_month, back)
            if period < month_start(founded) or period > last_day:
                continue
            if not self.weak:
                capital += rng.randrange(0, 30) * 100_000
            disbursed = rng.randrange(0, 6 if self.weak else 30) * 500_000
            outstanding = int(capital * rng.uniform(0.45, 0.75)) // 100_000 * 100_000
            self.new(
                CooperativePeriod,
                month_end(period),
                cooperative=coop,
                period=period,
                capital=Decimal(capital),
                loans_disbursed=Decimal(disbursed),
                loans_outstanding=Decimal(outstanding),
            )

    # Writing ---------------------------------------------------------------------------------

    def write(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        audits: list[AuditEntry] = []
        for model in WRITE_ORDER:
            rows = model.objects.bulk_create(self.rows[model])
            counts[model._meta.model_name] += len(rows)
            audits += [self.created(row, row.created_by, row.created_at) for row in rows]
        steps = CaseStep.objects.bulk_create(self.steps)
        counts["casestep"] += len(steps)
        # As pillars.views.service.add_case_step audits them.
        audits += [
            AuditEntry(
                actor=step.by,
                village_id=self.code,
                model="casestep",
                object_id=str(step.pk),
                action=AuditEntry.Action.CREATED,
                changes={
                    "case": ["", str(step.case_id)],
                    "date": ["", step.date.isoformat()],
                    "action": ["", step.action],
                },
                at=step.created_at,
            )
            for step in steps
        ]
        through = Training.participants.through
        links = through.objects.bulk_create(
            through(training_id=training.pk, person_id=person.pk)
            for training, people in self.participants
            for person in people
        )
        counts["training_participants"] += len(links)
        reports, report_audits = self.reports()
        counts["monthlyreport"] += len(reports)
        audits += report_audits
        counts["auditentry"] += len(AuditEntry.objects.bulk_create(audits))
        return counts

    def created(self, row: models.Model, actor: User, at: datetime.datetime) -> AuditEntry:
        """The audit entry record_create writes, dated when the row was entered."""
        return AuditEntry(
            actor=actor,
            village_id=self.code,
            model=row._meta.model_name,
            object_id=str(row.pk),
            action=AuditEntry.Action.CREATED,
            changes={k: ["", _shown(v)] for k, v in _fields(row).items() if v not in (None, "")},
            at=at,
        )

    # The monthly reports ------------------------------------------------------------------------

    def reports(self) -> tuple[list[MonthlyReport], list[AuditEntry]]:
        """The last five months' reports: verified, one returned, last month's submitted, a
        draft or not started (see SUBMITTED_LAST_MONTH). Figures come from the rows above."""
        rng = self.rng
        this_month = month_start(self.today)
        reports, audits = [], []
        for back in range(5, 0, -1):
            month = _months_back(this_month, back)
            if back > 1:
                state = MonthlyReport.State.VERIFIED
                if (self.code, back) == RETURNED_REPORT:
                    state = MonthlyReport.State.RETURNED
            elif self.code in SUBMITTED_LAST_MONTH:
                state = MonthlyReport.State.SUBMITTED
            elif self.code in DRAFT_LAST_MONTH:
                state = MonthlyReport.State.DRAFT
            else:
                continue
            following = _months_back(this_month, back - 1)
            written = self.moment(following + datetime.timedelta(days=rng.randint(0, 3)))
            figures = month_figures(self.code, month) if state != MonthlyReport.State.DRAFT else {}
            report = MonthlyReport(
                village_id=self.code,
                month=month,
                narrative=self.narrative(figures) if figures else "Sedang disusun.",
                obstacles=self.obstacles(),
                plans=rng.choice(PLANS),
                figures=figures,
                state=state,
                created_at=written,
                updated_at=written,
            )
            events = [(written, self.actor, AuditEntry.Action.CREATED, _text_changes(report))]
            if state != MonthlyReport.State.DRAFT:
                report.submitted_by = self.actor
                report.submitted_at = report.updated_at = written
                events.append((written, self.actor, AuditEntry.Action.SUBMITTED, {}))
            if state in (MonthlyReport.State.VERIFIED, MonthlyReport.State.RETURNED):
                reviewed = self.moment(written.date() + datetime.timedelta(days=rng.randint(1, 6)))
                report.updated_at = reviewed
                if state == MonthlyReport.State.VERIFIED:
                    report.verified_by, report.verified_at = self.verifier, reviewed
                    events.append((reviewed, self.verifier, AuditEntry.Action.VERIFIED, {}))
                else:
                    report.review_comment = RETURN_COMMENT
                    changes = {"comment": RETURN_COMMENT}
                    events.append((reviewed, self.verifier, AuditEntry.Action.RETURNED, changes))
            reports.append((report, events))
        MonthlyReport.objects.bulk_create(report for report, _events in reports)
        for report, events in reports:
            audits += [
                AuditEntry(
                    actor=actor,
                    village_id=self.code,
                    model="monthlyreport",
                    object_id=str(report.pk),
                    action=action,
                    changes=changes,
                    at=at,
                )
                for at, actor, action, changes in events
            ]
        return [report for report, _events in reports], audits

    def moment(self, day: datetime.date) -> datetime.datetime:
        moment = datetime.datetime.combine(day, datetime.time(self.rng.randint(8, 15)))
        return min(timezone.make_aware(moment), self.now - datetime.timedelta(minutes=5))

    def narrative(self, figures: dict) -> str:
        services, outreach = figures["services"], figures["outreach"]
        enterprises, parenting = figures["enterprises"], figures["parenting"]
        coop, referrals = figures["cooperative"], figures["referrals"]
        parts = [
            f"Pusat layanan mencatat {services['total']} layanan dan {outreach['events']} "
            f"sosialisasi ({outreach['men']} laki-laki, {outreach['women']} perempuan).",
            f"{enterprises['running']} usaha produktif berjalan.",
        ]
        if enterprises["trainings"]:
            parts.append(
                f"{enterprises['trainings']} pelatihan dengan {enterprises['trained']} peserta."
            )
        if parenting["sessions"]:
            parts.append(
                f"Rumah Belajar mengadakan {parenting['sessions']} pertemuan "
                f"({parenting['enrolled']} anak terdaftar)."
            )
        else:
            parts.append("Rumah Belajar tidak berkegiatan bulan ini.")
        if coop["capital"]:
            parts.append(
                f"{coop['members']} anggota koperasi; pinjaman tersalur "
                f"{_rupiah(coop['loans_disbursed'])}."
            )
        else:
            parts.append("Koperasi/BUMDes belum melaporkan kegiatan.")
        if referrals["referred"]:
            parts.append(f"{referrals['referred']} rujukan ke program mitra.")
        if referrals["disbursed"]:
            parts.append(
                f"{referrals['disbursed']} rujukan cair sebesar "
                f"{_rupiah(referrals['amount_disbursed'])}."
            )
        return " ".join(parts)

    def obstacles(self) -> str:
        if self.weak:
            return (
                "Fasilitator Rumah Belajar berangkat bekerja ke luar negeri; pengurus BUMDes "
                "belum aktif kembali."
            )
        return self.rng.choice(OBSTACLES)


def _text_changes(report: MonthlyReport) -> dict:
    """The changes report_save records when it creates a report."""
    return {
        field: ["", getattr(report, field)]
        for field in ("narrative", "obstacles", "plans")
        if getattr(report, field)
    }


# --- The seed ------------------------------------------------------------------------------------


def _filled(codes: list[str]) -> set[str]:
    """Villages with any pillar row or report already (alive or deleted, seeded or not)."""
    filled: set[str] = set()
    for model in [*WRITE_ORDER, MonthlyReport]:
        manager = model._base_manager  # every row, whoever may read it
        filled.update(manager.filter(village_id__in=codes).values_list("village_id", flat=True))
    return filled


def _users(usernames: set[str]) -> dict[str, User]:
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    missing = usernames - set(users)
    if missing:
        raise User.DoesNotExist(f"demo users missing: {', '.join(sorted(missing))}")
    return users


def _actor(designation: Designation, demo: DemoVillage, users: dict[str, User]) -> User:
    """The village's officer if it has one, else whoever enters its register in the demo."""
    officers = designation.officers.filter(role=Role.VILLAGE_OFFICER, is_active=True)
    return officers.order_by("username").first() or users[demo.registrar]


def seed_pillars(*, today: datetime.date | None = None) -> dict[str, int]:
    """Fill the demo villages' pillars; run `seed_register` first (people come from it).

    Returns the number of rows added per model (empty when everything was there already).
    """
    today = today or demo_today()
    demos = {village.code: village for village in DEMO_REGISTER_VILLAGES}
    codes = list(demos)
    filled = _filled(codes)
    designations = (
        Designation.objects.filter(village_id__in=codes)
        .exclude(village_id__in=filled)
        .select_related("village")
        .order_by("village_id")
    )
    counts: Counter[str] = Counter()
    if not designations:
        return dict(counts)
    users = _users({v.registrar for v in demos.values()} | {v.verifier for v in demos.values()})
    programmes = {
        programme.code: programme
        for programme in PartnerProgramme.objects.filter(active=True, partner__active=True)
    }
    for designation in designations:
        if not Person.objects.alive().filter(village_id=designation.village_id).exists():
            continue  # no register to draw people from
        demo = demos[designation.village_id]
        with transaction.atomic():
            seed = _VillageSeed(
                designation=designation,
                demo=demo,
                actor=_actor(designation, demo, users),
                verifier=users[demo.verifier],
                today=today,
                programmes=programmes,
            )
            seed.build()
            counts.update(seed.write())
    return dict(counts)


SUMMARY = [
    (ServiceLog, "services"),
    (Outreach, "outreach events"),
    (Enterprise, "enterprises"),
    (Training, "trainings"),
    (ParentingSession, "parenting sessions"),
    (ChildEnrolment, "children enrolled"),
    (CooperativeMember, "cooperative members"),
    (Referral, "referrals"),
    (Case, "cases"),
]


def pillars_summary(counts: dict[str, int]) -> str:
    """One line for `seed_demo`: the demo villages' pillar work as it now stands."""
    codes = [village.code for village in DEMO_REGISTER_VILLAGES]
    parts = [
        f"{model._base_manager.filter(village_id__in=codes, deleted_at=None).count()} {label}"
        for model, label in SUMMARY
    ]
    reports = MonthlyReport.objects.filter(village_id__in=codes).count()
    parts.append(f"{reports} monthly reports")
    weak = Region.objects.filter(code=WEAK_VILLAGE).values_list("name", flat=True).first()
    orders = Pillar.objects.filter(
        variant__designations__village_id=WEAK_VILLAGE, kind__in=WEAK_KINDS, active=True
    ).values_list("order", flat=True)
    added = sum(counts.values())
    note = f"{added} rows added now" if added else "already seeded, nothing added"
    line = f"Pillars: {', '.join(parts)} ({note})"
    if weak and orders:
        line += f"; {weak} is weak on purpose in pillars {' and '.join(map(str, sorted(orders)))}"
    return line
