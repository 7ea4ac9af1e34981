"""`auditor verify`: a report manifest's digests recomputed from the database; 0 on match, 1 on mismatch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.verify.manifest import verify
from tests.evidence import AS_OF, cluster, pool, store_scan
from tests.library import write_reports

IMAGE = "AKSUbuntu-2204gen2containerd-202609.20.0"
POLICY = """\
organisation = "Verify Ltd"

[thresholds]
image_max_age_days = 45
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    work = tmp_path_factory.mktemp("verify")
    db = work / "a.duckdb"
    fleet = [
        cluster(
            f"c{i}",
            version=["1.33.2", "1.28.5"][i % 2],
            channel=[None, "stable"][i % 2],
            pools=[pool("system"), pool("u", mode="User", image=IMAGE)],
        )
        for i in range(6)
    ]
    scan_id = store_scan(db, fleet)
    other = store_scan(db, fleet[:2], started_at=AS_OF.replace(day=1), scan_id="20261101T060000Z-other")
    policy = work / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    out = work / "out"
    write_reports(db, scan_id, policy, ["json"], out)
    write_reports(db, scan_id, policy, ["csv"], out)  # same scan and findings: the manifest keeps both files
    return {"work": work, "db": db, "scan_id": scan_id, "other": other, "policy": policy, "out": out}


def _copy(made: dict[str, Path | str], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the database and the report directory, to tamper with."""
    db = tmp_path / "a.duckdb"
    shutil.copy(made["db"], db)
    out = tmp_path / "out"
    shutil.copytree(made["out"], out)
    return db, out / "report-manifest.json"


def _manifest(made: dict[str, Path | str]) -> str:
    return str(Path(made["out"]) / "report-manifest.json")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


def test_manifest_lists_the_files_of_successive_runs(made: dict[str, Path | str]) -> None:
    manifest = json.loads((Path(_manifest(made))).read_text())
    assert set(manifest["files"]) == {"findings.csv", "findings.json"}
    assert manifest["scan"]["scan_id"] == made["scan_id"]
    assert manifest["policy"]["source"].endswith("policy.toml")


def test_untouched_report_verifies_with_exit_0(made: dict[str, Path | str]) -> None:
    code, out, err = _run("--db", str(made["db"]), "--manifest", _manifest(made), "--policy", str(made["policy"]))
    assert code == 0, out + err
    assert "verified" in out and "MISMATCH" not in out
    for name in ("evidence", "policy", "findings", "file findings.csv", "file findings.json"):
        assert name in out


def test_json_output(made: dict[str, Path | str]) -> None:
    code, out, _ = _run(
        "--db", str(made["db"]), "--manifest", _manifest(made), "--policy", str(made["policy"]), "--format", "json"
    )
    payload = json.loads(out)
    assert code == 0 and payload["ok"] is True and payload["scan_id"] == made["scan_id"]
    assert {c["name"]: c["verdict"] for c in payload["checks"]}["findings"] == "match"


def test_tampered_evidence_is_a_mismatch(made: dict[str, Path | str], tmp_path: Path) -> None:
    db, manifest = _copy(made, tmp_path)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE evidence SET payload = replace(CAST(payload AS VARCHAR), '1.28.5', '1.33.2')::JSON "
        "WHERE scan_id = ? AND kind = 'cluster'",
        [made["scan_id"]],
    )
    con.close()
    result = verify(db, manifest, policy_path=Path(made["policy"]))
    verdicts = {c.name: c.ok for c in result.checks}
    assert not result.ok
    assert verdicts["evidence"] is False and verdicts["stored digest"] is False
    assert verdicts["findings"] is False
    code, out, _ = _run("--db", str(db), "--manifest", str(manifest), "--policy", str(made["policy"]))
    assert code == 1 and "MISMATCH" in out and "NOT verified" in out


def test_tampered_stored_digest_is_a_mismatch(made: dict[str, Path | str], tmp_path: Path) -> None:
    db, manifest = _copy(made, tmp_path)
    con = duckdb.connect(str(db))
    con.execute("UPDATE scans SET evidence_sha256 = repeat('0', 64) WHERE scan_id = ?", [made["scan_id"]])
    con.close()
    result = verify(db, manifest, policy_path=Path(made["policy"]))
    verdicts = {c.name: c.ok for c in result.checks}
    assert verdicts["evidence"] is True and verdicts["stored digest"] is False and not result.ok


def test_another_policy_is_a_mismatch_that_says_why(made: dict[str, Path | str]) -> None:
    result = verify(Path(made["db"]), Path(_manifest(made)))  # built-in defaults
    checks = {c.name: c for c in result.checks}
    assert checks["policy"].ok is False and "--policy" in checks["policy"].detail
    assert checks["findings"].ok is False  # image_max_age_days 45 vs 30 changes verdicts
    assert checks["evidence"].ok is True


def test_edited_report_file_is_a_mismatch_and_a_missing_one_is_skipped(
    made: dict[str, Path | str], tmp_path: Path
) -> None:
    db, manifest = _copy(made, tmp_path)
    csv_path = manifest.parent / "findings.csv"
    csv_path.write_text(csv_path.read_text().replace(",fail,", ",pass,"), encoding="utf-8")
    (manifest.parent / "findings.json").unlink()
    result = verify(db, manifest, policy_path=Path(made["policy"]))
    checks = {c.name: c for c in result.checks}
    assert checks["file findings.csv"].ok is False
    assert checks["file findings.json"].ok is None and "not present" in checks["file findings.json"].actual
    assert checks["findings"].ok is True and not result.ok


def test_scan_option_must_name_the_manifest_scan(made: dict[str, Path | str]) -> None:
    code, out, _ = _run(
        "--db",
        str(made["db"]),
        "--manifest",
        _manifest(made),
        "--policy",
        str(made["policy"]),
        "--scan",
        str(made["other"]),
    )
    assert code == 1 and "another scan" in out


def test_missing_manifest_or_database_is_exit_1(made: dict[str, Path | str], tmp_path: Path) -> None:
    code, out, err = _run("--db", str(made["db"]), "--manifest", str(tmp_path / "nope.json"))
    assert code == 1 and out == "" and "no report manifest" in err and "Traceback" not in err
    code, out, err = _run("--db", str(tmp_path / "none.duckdb"), "--manifest", _manifest(made))
    assert code == 1 and "no database" in err
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    code, _, err = _run("--db", str(made["db"]), "--manifest", str(bad))
    assert code == 1 and "report manifest" in err


def test_findings_digest_is_stable_across_evaluations(made: dict[str, Path | str]) -> None:
    first = verify(Path(made["db"]), Path(_manifest(made)), policy_path=Path(made["policy"]))
    second = verify(Path(made["db"]), Path(_manifest(made)), policy_path=Path(made["policy"]))
    digest = {c.name: c.actual for c in first.checks}["findings"]
    assert digest == {c.name: c.actual for c in second.checks}["findings"]
