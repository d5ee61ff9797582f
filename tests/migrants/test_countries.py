"""Destination countries: Indonesian names for choices, and reading what spreadsheets say."""

import unicodedata

import pytest

from migrants.countries import (
    COMMON_DESTINATIONS,
    COUNTRY_CHOICES,
    country_name,
    lookup_country,
)

CHOICE_CODES = {code for code, _name in COUNTRY_CHOICES}


def unaccented(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("HK", "Hong Kong"),
        ("TW", "Taiwan"),
        ("MY", "Malaysia"),
        ("SA", "Arab Saudi"),
        ("SG", "Singapura"),
        ("JP", "Jepang"),
        ("KR", "Korea Selatan"),
        ("MO", "Makau"),
        ("PS", "Palestina"),
    ],
)
def test_destinations_have_the_names_the_labour_agency_uses(code, name):
    assert country_name(code) == name
    assert (code, name) in COUNTRY_CHOICES


def test_english_names_are_the_common_ones():
    assert country_name("KR", "en") == "South Korea"
    assert country_name("TW", "en") == "Taiwan"
    assert country_name("SA", "en") == "Saudi Arabia"
    assert country_name("jp", "en-us") == "Japan"


def test_an_unknown_code_is_named_by_itself():
    assert country_name("XX") == "XX"


def test_a_language_without_names_is_refused():
    with pytest.raises(ValueError, match="fr"):
        country_name("JP", "fr")


def test_indonesia_is_not_a_destination():
    assert "ID" not in CHOICE_CODES
    assert lookup_country("Indonesia") is None
    assert lookup_country("ID") is None


def test_choices_are_every_other_country_once_sorted_by_indonesian_name():
    assert len(COUNTRY_CHOICES) == len(CHOICE_CODES) == 248
    names = [unaccented(name).casefold() for _code, name in COUNTRY_CHOICES]
    assert names == sorted(names)
    assert COUNTRY_CHOICES[0] == ("AF", "Afganistan")


def test_common_destinations_are_all_choices():
    assert set(COMMON_DESTINATIONS) <= CHOICE_CODES
    assert len(set(COMMON_DESTINATIONS)) == len(COMMON_DESTINATIONS)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("HK", "HK"),
        ("hk", "HK"),
        ("HKG", "HK"),
        ("twn", "TW"),
        ("Jepang", "JP"),
        ("Japan", "JP"),
        ("  arab   SAUDI ", "SA"),
        ("Saudi Arabia", "SA"),
        ("Kingdom of Saudi Arabia", "SA"),
        ("Korea, Republic of", "KR"),
        ("South Korea", "KR"),
        ("Korea Selatan", "KR"),
        ("Taiwan, Province of China", "TW"),
        ("Côte d'Ivoire", "CI"),
        ("cote d ivoire", "CI"),
        ("Türkiye", "TR"),
        ("Turki", "TR"),
        ("Macao", "MO"),
    ],
)
def test_lookup_reads_codes_and_indonesian_and_english_names(text, code):
    assert lookup_country(text) == code


@pytest.mark.parametrize(
    ("alias", "code"),
    [
        ("Hongkong", "HK"),
        ("Hong Kong SAR", "HK"),
        ("Korsel", "KR"),
        ("Korea", "KR"),
        ("Saudi", "SA"),
        ("Arab Saudi", "SA"),
        ("KSA", "SA"),
        ("UEA", "AE"),
        ("Uni Emirat Arab", "AE"),
        ("U.A.E.", "AE"),
        ("Brunei", "BN"),
        ("Taiwan ROC", "TW"),
        ("Makau", "MO"),
        ("Turkey", "TR"),
    ],
)
def test_lookup_reads_the_aliases_of_indonesian_spreadsheets(alias, code):
    assert lookup_country(alias) == code


@pytest.mark.parametrize("text", ["", "   ", "Narnia", "Korea Raya", "XX"])
def test_lookup_of_an_unknown_country_is_none(text):
    assert lookup_country(text) is None


def test_north_korea_is_not_mistaken_for_south_korea():
    assert lookup_country("Korea Utara") == "KP"
    assert lookup_country("North Korea") == "KP"


def test_every_lookup_result_is_a_choice():
    for code, name in COUNTRY_CHOICES:
        assert lookup_country(name) == code
        assert lookup_country(country_name(code, "en")) == code
