"""Node image version parsing: the three formats, separators, invalid dates, and every real version string."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from auditor.nodeimage import (
    FORMAT_WINDOWS,
    FORMAT_YYYY_MM_DD,
    FORMAT_YYYYMM_DD_PATCH,
    node_image_date,
    parse_node_image,
)

AKS_DATA = Path(__file__).resolve().parent / "fixtures" / "aks-data"


@pytest.mark.parametrize(
    ("value", "family", "version", "version_format", "released"),
    [
        (
            "AKSUbuntu-2204gen2containerd-202410.27.0",
            "AKSUbuntu-2204gen2containerd",
            "202410.27.0",
            FORMAT_YYYYMM_DD_PATCH,
            date(2024, 10, 27),
        ),
        (
            "AKSAzureLinux-V3gen2-202602.13.5",
            "AKSAzureLinux-V3gen2",
            "202602.13.5",
            FORMAT_YYYYMM_DD_PATCH,
            date(2026, 2, 13),
        ),
        (
            "AKSUbuntu-1804gen2containerd-2022.10.03",
            "AKSUbuntu-1804gen2containerd",
            "2022.10.03",
            FORMAT_YYYY_MM_DD,
            date(2022, 10, 3),
        ),
        ("AKSUbuntu:1604:2020.03.11", "AKSUbuntu:1604", "2020.03.11", FORMAT_YYYY_MM_DD, date(2020, 3, 11)),
        (
            "AKSWindows-2022-containerd-20348.3207.250214",
            "AKSWindows-2022-containerd",
            "20348.3207.250214",
            FORMAT_WINDOWS,
            date(2025, 2, 14),
        ),
        (
            "AKSWindows-2022-23H2-25398.1369.250117",
            "AKSWindows-2022-23H2",
            "25398.1369.250117",
            FORMAT_WINDOWS,
            date(2025, 1, 17),
        ),
        (
            "AKSWindows-23H2-gen2-25398.1425.250214",
            "AKSWindows-23H2-gen2",
            "25398.1425.250214",
            FORMAT_WINDOWS,
            date(2025, 2, 14),
        ),
        ("202607.09.0", "", "202607.09.0", FORMAT_YYYYMM_DD_PATCH, date(2026, 7, 9)),
        ("17763.1999.210609", "", "17763.1999.210609", FORMAT_WINDOWS, date(2021, 6, 9)),
        ("  AKSMariner-2022.10.03 ", "AKSMariner", "2022.10.03", FORMAT_YYYY_MM_DD, date(2022, 10, 3)),
    ],
)
def test_parses_each_format_from_the_right(value, family, version, version_format, released):
    parsed = parse_node_image(value)
    assert parsed is not None
    assert (parsed.family, parsed.version, parsed.version_format, parsed.release_date) == (
        family,
        version,
        version_format,
        released,
    )
    assert node_image_date(value) == released


@pytest.mark.parametrize(
    "value",
    [
        "",
        "AKSUbuntu-2204gen2containerd",
        "AKSUbuntu-2204gen2containerd-202413.27.0",  # month 13
        "AKSUbuntu-2204gen2containerd-202402.30.0",  # 30 February
        "AKSUbuntu-1804-2022.02.29",  # not a leap year
        "AKSWindows-2022-containerd-20348.3207.251301",  # month 13
        "aks-ubuntu-1604-202002_202002.12",  # the one unparsed vhd-notes name
        "AKSUbuntu-2204gen2containerd-202410.27",  # truncated
        "AKSUbuntu-2204gen2containerd202410.27.0",  # no separator before the version
        "1.31.2",
    ],
)
def test_rejects_unknown_formats_and_invalid_dates(value):
    assert parse_node_image(value) is None
    assert node_image_date(value) is None


def test_every_release_in_node_image_releases_csv_parses_to_its_implied_date():
    with (AKS_DATA / "node-image-releases.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 700
    for row in rows:
        for value in (row["version"], f"{row['image_family']}-{row['version']}"):
            parsed = parse_node_image(value)
            if row["implied_date"]:
                assert parsed is not None, value
                assert parsed.release_date.isoformat() == row["implied_date"], value
                assert parsed.version == row["version"]
            else:
                assert parsed is None, value


def test_every_observed_version_string_parses_to_its_prefix_and_version():
    with (AKS_DATA / "node-image-version-strings-observed.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        parsed = parse_node_image(row["node_image_version"])
        assert parsed is not None, row["node_image_version"]
        assert parsed.family == row["sku_prefix"]
        assert parsed.version == row["version_part"]
        implied = row.get("implied_date")
        if implied:
            assert parsed.release_date.isoformat() == implied
