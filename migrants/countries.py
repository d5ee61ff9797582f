"""Destination countries: ISO 3166-1 alpha-2 codes with the names Indonesian offices use.

Built once at import from pycountry's ISO data and its Indonesian catalogue, so choices,
display and spreadsheet import agree on one list.
"""

import gettext
import re
import unicodedata

import pycountry

# Indonesia is where workers come from, never a destination.
HOME_COUNTRY = "ID"

# The names the national placement agency (BP2MI / KP2MI) prints in its tables, where the ISO
# catalogue says "Macao", "Negara Palestina" and the like.
AGENCY_NAMES: dict[str, str] = {
    "TW": "Taiwan",
    "HK": "Hong Kong",
    "KR": "Korea Selatan",
    "MO": "Makau",
    "PS": "Palestina",
    "TL": "Timor Leste",
    "CZ": "Ceko",
}

# Spellings found in village and agency spreadsheets, beyond ISO codes and names.
ALIASES: dict[str, str] = {
    "Hongkong": "HK",
    "Hong Kong SAR": "HK",
    "Korsel": "KR",
    "Korea": "KR",
    "Saudi": "SA",
    "Arab Saudi": "SA",
    "KSA": "SA",
    "UEA": "AE",
    "UAE": "AE",
    "Uni Emirat Arab": "AE",
    "Brunei": "BN",
    "Taiwan ROC": "TW",
    "Macau": "MO",
    # Older or everyday names that ISO no longer or never used.
    "Turkey": "TR",
    "Inggris": "GB",
    "Tiongkok": "CN",
    "Timor Leste": "TL",
}

COMMON_DESTINATIONS: list[str] = [
    "HK",
    "TW",
    "MY",
    "SA",
    "SG",
    "JP",
    "KR",
    "AE",
    "BN",
    "QA",
    "KW",
    "OM",
    "IT",
    "DE",
    "PL",
    "TR",
]

_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    """The lookup key: case, accents, spaces and punctuation do not matter.

    Dropping spaces entirely also makes "Hongkong" = "Hong Kong" and "U.A.E." = "UAE".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _NOT_ALPHANUMERIC.sub("", bare)


def _sort_key(name: str) -> str:
    # Locale-independent on purpose: the server's locale must not reorder the choices.
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _english_name(country: pycountry.db.Country) -> str:
    return getattr(country, "common_name", None) or country.name


def _build() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    catalogue = gettext.translation("iso3166-1", localedir=pycountry.LOCALES_DIR, languages=["id"])
    english: dict[str, str] = {}
    indonesian: dict[str, str] = {}
    index: dict[str, str] = {}
    # The first spelling claims a key: codes, then agency names and aliases, then ISO names.
    official: list[tuple[str, str]] = []
    for country in pycountry.countries:
        code = country.alpha_2
        english[code] = _english_name(country)
        catalogue_name = catalogue.gettext(english[code])
        indonesian[code] = AGENCY_NAMES.get(code, catalogue_name)
        if code == HOME_COUNTRY:
            continue
        index.setdefault(_fold(code), code)
        index.setdefault(_fold(country.alpha_3), code)
        official_name = getattr(country, "official_name", None)
        official.extend(
            (name, code)
            for name in (
                catalogue_name,
                catalogue.gettext(country.name),
                english[code],
                country.name,
                official_name,
                official_name and catalogue.gettext(official_name),
            )
            if name
        )
    for code, name in AGENCY_NAMES.items():
        index.setdefault(_fold(name), code)
    for name, code in [*ALIASES.items(), *official]:
        index.setdefault(_fold(name), code)
    return english, indonesian, index


_ENGLISH, _INDONESIAN, _INDEX = _build()

COUNTRY_CHOICES: list[tuple[str, str]] = sorted(
    ((code, name) for code, name in _INDONESIAN.items() if code != HOME_COUNTRY),
    key=lambda choice: (_sort_key(choice[1]), choice[1]),
)


def country_name(code: str, language: str = "id") -> str:
    """The country's name in Indonesian ("id") or English ("en"); an unknown code as is."""
    names = {"id": _INDONESIAN, "en": _ENGLISH}.get(language.split("-")[0].lower())
    if names is None:
        raise ValueError(f"country names exist in 'id' and 'en', not {language!r}")
    return names.get(code.strip().upper(), code)


def lookup_country(text: str) -> str | None:
    """The alpha-2 code a spreadsheet cell means, or None (Indonesia is not a destination)."""
    return _INDEX.get(_fold(text)) if text else None
