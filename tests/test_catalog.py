"""Bundled catalog: resolved calendar dates, node image releases, refresh reproducing the bundled files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from auditor.catalog import (
    PLAN_LTS,
    PLAN_OFFICIAL,
    catalog_version,
    find_minor,
    load_calendar,
    load_node_images,
    minor_key,
    sources_text,
)
from auditor.catalog.refresh import CatalogSourceError, refresh
from auditor.nodeimage import parse_node_image

AKS_DATA = Path(__file__).resolve().parent / "fixtures" / "aks-data"
BUNDLED = Path(__file__).resolve().parents[1] / "auditor" / "catalog" / "data"


def test_calendar_is_ordered_and_every_minor_has_an_end_of_support():
    calendar = load_calendar()
    minors = [m.minor for m in calendar]
    assert minors[0] == "1.14"
    assert "1.37" in minors
    assert [m.key for m in calendar] == sorted(m.key for m in calendar)
    for minor in calendar:
        assert minor.end_of_support is not None, minor.minor
        assert minor.aks_ga is not None and minor.upstream_release is not None
        assert minor.aks_ga < minor.end_of_support
        if minor.lts_end is not None:
            assert minor.lts_end > minor.end_of_support


def test_month_only_cells_start_on_the_first_and_end_on_the_last_day():
    v131 = find_minor("1.31")
    assert v131 is not None
    assert v131.upstream_release == date(2024, 8, 1)  # "Aug 2024"
    assert v131.aks_ga == date(2024, 11, 1)  # "Nov 2024"
    assert v131.end_of_support == date(2025, 11, 1)  # "Nov 1, 2025" is explicit
    assert v131.lts_end == date(2026, 11, 30)  # "Nov 2026" -> last day
    assert v131.platform_support_end == date(2026, 3, 31)  # "Until 1.35 GA" -> Mar 2026 -> end of month
    v128 = find_minor("1.28.5")
    assert v128 is not None and v128.lts_end == date(2026, 2, 28)


def test_ga_references_resolve_to_the_referenced_versions_ga():
    assert find_minor("1.14").end_of_support == date(2020, 7, 31)  # "1.17 GA", 1.17 GA "Jul 2020"
    assert find_minor("1.18").end_of_support == date(2021, 7, 31)  # "*1.21 GA"
    assert find_minor("1.24").platform_support_end == date(2023, 11, 30)  # "Until 1.28 GA"
    assert find_minor("1.14").upstream_release == date(2019, 3, 25)  # "Mar-25-19"
    assert find_minor("1.14").aks_ga == date(2019, 8, 1)  # "Aug 19" is August 2019
    assert find_minor("1.25").end_of_support == date(2024, 1, 14)  # "Jan 14, 2024"
    unresolved = find_minor("1.34")
    assert unresolved.platform_support_end is None  # "Until 1.38 GA": 1.38 is not in the calendar
    assert "1.38" in unresolved.notes


def test_cross_check_with_endoflife_date_agrees_for_current_versions():
    for minor in load_calendar():
        if minor.key >= (1, 27) and minor.endoflife_eol is not None:
            assert minor.cross_check == "agrees", (minor.minor, minor.cross_check)
            assert minor.end_of_support == minor.endoflife_eol
            assert minor.lts_end == minor.endoflife_lts_end
    assert find_minor("1.22").cross_check.startswith("end of support: calendar 2022-12-31")


def test_support_status_on_a_day():
    day = date(2026, 11, 24)
    official = [m.minor for m in load_calendar() if m.is_supported(day)]
    lts = [m.minor for m in load_calendar() if m.is_supported(day, PLAN_LTS) and not m.is_supported(day)]
    assert official == ["1.34", "1.35", "1.36", "1.37"]
    assert lts == ["1.31", "1.32", "1.33"]
    v127 = find_minor("1.27")
    assert v127.lts_available and v127.support_end(PLAN_LTS) == date(2025, 7, 31)
    assert not find_minor("1.26").lts_available
    assert find_minor("1.26").support_end(PLAN_LTS) == find_minor("1.26").support_end(PLAN_OFFICIAL)
    assert find_minor("9.99") is None
    assert minor_key("1.31.2") == (1, 31)
    with pytest.raises(ValueError):
        minor_key("131")


def test_node_images_are_unique_dated_releases():
    releases = load_node_images()
    assert len(releases) > 600
    keys = [(r.family, r.version) for r in releases]
    assert len(keys) == len(set(keys))
    families = {r.family for r in releases}
    assert {
        "AKSUbuntu-2204",
        "AKSUbuntu-2404",
        "AKSAzureLinux-V3",
        "AKSWindows-2022",
        "AKSWindows-2019",
    } <= families
    for release in releases:
        parsed = parse_node_image(release.version)
        assert parsed is not None, release
        assert parsed.release_date == release.release_date
        assert date(2020, 1, 1) < release.release_date < date(2027, 1, 1)
    restored = [r for r in releases if r.version == "20348.2402.240410"]
    assert len(restored) == 1 and restored[0].family == "AKSWindows-2022"


def test_catalog_version_and_sources():
    version = catalog_version()
    assert date.fromisoformat(version) >= max(r.release_date for r in load_node_images())
    text = sources_text()
    for needle in ("MicrosoftDocs/azure-aks-docs", "endoflife", "Azure/AKS", "CC BY 4.0", "MIT", "f988e7e8"):
        assert needle in text


def test_refresh_reproduces_the_bundled_files(tmp_path):
    result = refresh(AKS_DATA, tmp_path)
    assert result["kubernetes_versions"] == len(load_calendar())
    assert result["node_images"] == len(load_node_images())
    assert len(result["skipped"]) == 1  # aks-ubuntu-1604-202002_202002.12 has no date
    for name in ("kubernetes_versions.csv", "node_images.csv", "catalog.json", "SOURCES.md"):
        assert (tmp_path / name).read_bytes() == (BUNDLED / name).read_bytes(), name


def test_refresh_names_the_cell_it_cannot_read(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(AKS_DATA, source)
    calendar = source / "aks-k8s-calendar.csv"
    calendar.chmod(0o644)
    calendar.write_text(calendar.read_text().replace("Aug 2024", "sometime in 2024", 1))
    with pytest.raises(CatalogSourceError, match=r"aks-k8s-calendar.csv:\d+ \(1\.31, upstream_release\)"):
        refresh(source, tmp_path / "out")


def test_refresh_reports_a_missing_source(tmp_path):
    with pytest.raises(CatalogSourceError, match="missing source file"):
        refresh(tmp_path, tmp_path / "out")
