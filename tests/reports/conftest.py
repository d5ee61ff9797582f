"""Fixtures of the report tests (named, none automatic)."""

from pathlib import Path

import pytest

REPORT_URLS = "tests.reports.report_urls"


@pytest.fixture
def report_pages(settings):
    settings.ROOT_URLCONF = REPORT_URLS


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Report files go to a fresh directory; reasons are read in English."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    return settings.MEDIA_ROOT
