"""The wheel carries queries/ and templates/: a fresh venv with a plain `pip install` runs the demo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("aks_upgrade_auditor-*.whl")
    return built


def test_wheel_ships_queries_templates_and_catalog(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "auditor/queries/kql/managed_clusters.kql" in names
    assert "auditor/queries/controls/AKS-VER-01.sql" in names
    assert "auditor/queries/schema/0001_initial.sql" in names
    assert "auditor/templates/report.html.j2" in names
    assert any(n.startswith("auditor/catalog/data/") for n in names)


@pytest.mark.slow
def test_demo_runs_from_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel)], check=True, timeout=900)
    work = tmp_path / "elsewhere"  # not the source tree: nothing may be found beside the package
    work.mkdir()
    result = subprocess.run(
        [str(venv / "bin" / "auditor"), "demo", "--clusters", "12", "--out", "out", "-q"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert (work / "out" / "report.pdf").stat().st_size > 10_000
    assert (work / "out" / "report.html").exists()
    assert str(Path("out") / "report.pdf") in result.stdout
