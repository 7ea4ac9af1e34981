"""The PDF report as an evidence package: PDF/A-3b identification, attachments with their AFRelationship, the
seal, and `auditor verify --pdf` on a fresh report and on altered copies (changed byte, swapped attachment,
incremental update, rewritten file). Read back with pypdf as any reader would."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

from auditor.cli import cli
from auditor.controls import control_ids
from auditor.integrity import check_seal, seal_pdf
from auditor.policy import default_policy, load_policy
from auditor.report.package import defaults_toml
from auditor.verify.pdf import verify_pdf
from tests.evidence import cluster, pool, store_scan
from tests.library import write_reports

POLICY = """\
organisation = "Package Ltd"

[thresholds]
image_max_age_days = 45

[[waivers]]
control = "AKS-VER-01"
resource = "*/managedClusters/c1"
reason = "Vendor appliance"
approver = "ciso@example.com"
expires = 2099-01-31
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("package")
    db = work / "a.duckdb"
    fleet = [
        cluster(f"c{i}", version=["1.33.2", "1.28.5"][i % 2], pools=[pool("system"), pool("user", mode="User")])
        for i in range(6)
    ]
    scan_id = store_scan(db, fleet)
    policy = work / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    out = work / "out"
    write_reports(db, scan_id, policy, ["pdf", "json"], out)
    defaults = work / "defaults"
    write_reports(db, scan_id, None, ["pdf"], defaults)
    return {
        "db": db,
        "scan_id": scan_id,
        "policy": policy,
        "pdf": out / "report.pdf",
        "out": out,
        "defaults_pdf": defaults / "report.pdf",
    }


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


def _verdicts(db: Path, pdf: Path) -> dict[str, bool | None]:
    return {c.name: c.ok for c in verify_pdf(db, pdf).checks}


def test_pdf_declares_pdfa_3b_in_xmp_with_an_srgb_output_intent(made: dict[str, Any]) -> None:
    reader = PdfReader(made["pdf"])
    xmp = reader.xmp_metadata
    assert xmp is not None and xmp.pdfaid_part == "3" and xmp.pdfaid_conformance == "B"
    assert reader.pdf_header == "%PDF-1.7"
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0]["/S"] == "/GTS_PDFA1" and "sRGB" in str(intents[0]["/OutputConditionIdentifier"])
    assert "/Encrypt" not in reader.trailer


def test_attachments_carry_findings_manifest_and_policy_with_relationships(made: dict[str, Any]) -> None:
    reader = PdfReader(made["pdf"])
    attachments = {name: contents[0] for name, contents in reader.attachments.items()}
    assert set(attachments) == {"findings.json", "report-manifest.json", "policy.toml"}
    relationships = {}
    for reference in reader.trailer["/Root"]["/AF"]:
        spec = reference.get_object()
        relationships[str(spec["/UF"])] = str(spec["/AFRelationship"])
        stream = spec["/EF"]["/F"].get_object()
        assert "/Subtype" in stream and "/ModDate" in stream["/Params"]  # PDF/A-3 §6.8: MIME type, dates
        assert spec["/Desc"]
    assert relationships == {
        "findings.json": "/Data",
        "report-manifest.json": "/Supplement",
        "policy.toml": "/Source",
    }
    # Byte for byte: the findings written beside the PDF, the policy file given.
    assert attachments["findings.json"] == (made["out"] / "findings.json").read_bytes()
    assert attachments["policy.toml"] == made["policy"].read_bytes()
    manifest = json.loads(attachments["report-manifest.json"])
    beside = json.loads((made["out"] / "report-manifest.json").read_text())
    for key in ("scan", "policy", "catalog_sha256", "findings"):
        assert manifest[key] == beside[key]
    assert manifest["embedded"] is True and set(manifest["files"]) == {"findings.json", "policy.toml"}


def test_defaults_are_attached_as_a_policy_file_that_loads_to_the_same_thresholds(
    made: dict[str, Any], tmp_path: Path
) -> None:
    attached = PdfReader(made["defaults_pdf"]).attachments["policy.toml"][0]
    assert attached == defaults_toml(default_policy())
    path = tmp_path / "defaults.toml"
    path.write_bytes(attached)
    assert load_policy(path, known_controls=control_ids()).thresholds == default_policy().thresholds
    code, out, err = _run("--db", str(made["db"]), "--pdf", str(made["defaults_pdf"]))
    assert code == 0, out + err


@pytest.mark.skipif(
    shutil.which("qpdf") is None, reason="needs Debian's qpdf (make test installs it with apt-get where it can)"
)
def test_qpdf_finds_no_structural_error_in_the_sealed_pdf(made: dict[str, Any]) -> None:
    import subprocess

    for pdf in (made["pdf"], made["defaults_pdf"]):
        result = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No syntax or stream encoding errors found" in result.stdout


def test_the_integrity_appendix_says_how_to_verify_the_pdf_alone(made: dict[str, Any]) -> None:
    text = " ".join(PdfReader(made["pdf"]).pages[-1].extract_text().split())
    assert "PDF/A-3b" in text and "auditor verify --db DATABASE --pdf report.pdf" in text


def test_fresh_report_verifies_on_its_own(made: dict[str, Any]) -> None:
    code, out, err = _run("--db", str(made["db"]), "--pdf", str(made["pdf"]))
    assert code == 0, out + err
    assert "verified" in out and "MISMATCH" not in out
    for name in ("seal", "PDF/A", "attachment findings.json", "attached findings", "evidence", "findings", "policy"):
        assert name in out
    payload = json.loads(_run("--db", str(made["db"]), "--pdf", str(made["pdf"]), "--format", "json")[1])
    assert payload["ok"] is True and payload["scan_id"] == made["scan_id"]


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_changed_byte_fails_verification(made: dict[str, Any], tmp_path: Path, where: float) -> None:
    data = bytearray(made["pdf"].read_bytes())
    position = int(len(data) * where)
    data[position] ^= 0x01
    altered = tmp_path / "report.pdf"
    altered.write_bytes(bytes(data))
    code, out, _ = _run("--db", str(made["db"]), "--pdf", str(altered))
    assert code == 1 and "NOT verified" in out
    assert check_seal(bytes(data)).intact is False


def _render_with(made: dict[str, Any], replace: dict[str, bytes], tmp_path: Path) -> Path:
    """A forger's PDF: the same pages, other attachments, written by WeasyPrint as PDF/A-3b and sealed with
    the tool's own algorithm (so the seal alone cannot tell)."""
    from weasyprint import HTML, Attachment

    reader = PdfReader(made["pdf"])
    files = {name: contents[0] for name, contents in reader.attachments.items()} | replace
    relationships = {"findings.json": "Data", "report-manifest.json": "Supplement", "policy.toml": "Source"}
    attachments = [Attachment(string=data, name=name, relationship=relationships[name]) for name, data in files.items()]
    pdf = HTML(string="<title>forged</title><p>All controls pass.</p>").write_pdf(
        pdf_variant="pdf/a-3b", attachments=attachments
    )
    path = tmp_path / "forged.pdf"
    path.write_bytes(seal_pdf(pdf))
    return path


def test_a_swapped_findings_attachment_fails_even_with_a_valid_seal(made: dict[str, Any], tmp_path: Path) -> None:
    findings = json.loads(PdfReader(made["pdf"]).attachments["findings.json"][0])
    flipped = [{**f, "status": "pass"} if f["status"] == "fail" else f for f in findings]
    forged = _render_with(made, {"findings.json": json.dumps(flipped).encode()}, tmp_path)
    assert check_seal(forged.read_bytes()).intact
    verdicts = _verdicts(made["db"], forged)
    assert verdicts["seal"] is True
    assert verdicts["attached findings"] is False  # its digest is not the manifest's findings digest
    assert verdicts["attached findings.json digest"] is False  # nor its file digest
    assert verdicts["findings"] is True  # the database still gives the manifest's findings
    code, out, _ = _run("--db", str(made["db"]), "--pdf", str(forged))
    assert code == 1 and "MISMATCH" in out


def test_a_consistent_forgery_of_findings_and_manifest_fails_against_the_database(
    made: dict[str, Any], tmp_path: Path
) -> None:
    from auditor.controls import Finding
    from auditor.integrity import findings_digest, sha256_hex
    from auditor.report.data import canonical_records

    reader = PdfReader(made["pdf"])
    findings = json.loads(reader.attachments["findings.json"][0])
    flipped = [{**f, "status": "pass"} if f["status"] == "fail" else f for f in findings]
    body = json.dumps(flipped).encode()
    manifest = json.loads(reader.attachments["report-manifest.json"][0])
    manifest["findings"]["sha256"] = findings_digest(canonical_records([Finding(**f) for f in flipped]))
    manifest["files"]["findings.json"] = {"sha256": sha256_hex(body), "bytes": len(body)}
    forged = _render_with(
        made, {"findings.json": body, "report-manifest.json": json.dumps(manifest).encode()}, tmp_path
    )
    verdicts = _verdicts(made["db"], forged)
    assert verdicts["seal"] is True and verdicts["attached findings"] is True
    assert verdicts["findings"] is False  # re-evaluating the database's evidence gives other findings


def test_a_swapped_policy_attachment_fails(made: dict[str, Any], tmp_path: Path) -> None:
    lenient = POLICY.replace("image_max_age_days = 45", "image_max_age_days = 400").encode()
    forged = _render_with(made, {"policy.toml": lenient}, tmp_path)
    verdicts = _verdicts(made["db"], forged)
    assert verdicts["policy"] is False and verdicts["attached policy.toml digest"] is False


def test_a_missing_attachment_fails(made: dict[str, Any], tmp_path: Path) -> None:
    reader = PdfReader(made["pdf"])
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_attachment("report-manifest.json", reader.attachments["report-manifest.json"][0])
    stripped = tmp_path / "stripped.pdf"
    writer.write(stripped)
    code, out, _ = _run("--db", str(made["db"]), "--pdf", str(stripped))
    assert code == 1
    verdicts = _verdicts(made["db"], stripped)
    assert verdicts["attachment findings.json"] is False and verdicts["seal"] is False
    assert verdicts["PDF/A"] is False


def test_an_incremental_update_after_writing_is_reported(made: dict[str, Any], tmp_path: Path) -> None:
    writer = PdfWriter(str(made["pdf"]), incremental=True)
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Square"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
        }
    )
    writer.add_annotation(0, annotation)
    buffer = io.BytesIO()
    writer.write(buffer)
    updated = tmp_path / "updated.pdf"
    updated.write_bytes(buffer.getvalue())
    assert updated.read_bytes().startswith(made["pdf"].read_bytes())  # the original revision is untouched
    verdicts = _verdicts(made["db"], updated)
    assert verdicts["seal"] is True and verdicts["revisions"] is False
    assert _run("--db", str(made["db"]), "--pdf", str(updated))[0] == 1


def test_pdf_and_manifest_options_are_exclusive(made: dict[str, Any]) -> None:
    code, _, err = _run("--db", str(made["db"]), "--pdf", str(made["pdf"]), "--manifest", "x.json")
    assert code == 2 and "--manifest" in err


def test_not_a_pdf_or_missing_is_exit_1(made: dict[str, Any], tmp_path: Path) -> None:
    code, out, err = _run("--db", str(made["db"]), "--pdf", str(tmp_path / "none.pdf"))
    assert code == 1 and "no PDF" in err and out == ""
    text = tmp_path / "report.pdf"
    text.write_text("hello")
    code, _, err = _run("--db", str(made["db"]), "--pdf", str(text))
    assert code == 1 and "not a PDF" in err


def test_manifest_verification_also_checks_the_pdf_seal(made: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(made["out"], out)
    code, text, err = _run(
        "--db", str(made["db"]), "--manifest", str(out / "report-manifest.json"), "--policy", str(made["policy"])
    )
    assert code == 0, text + err
    assert "report.pdf seal" in text and "attestation subject report.pdf" in text
