"""Signed reports: `auditor report --sign-key` (PAdES on the PDF, DSSE on report.intoto.json) and `auditor
verify` saying who signed and whether anything changed since. Keys and certificates are made by the tests."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

from auditor.cli import cli
from auditor.integrity import pae
from auditor.verify.pdf import verify_pdf
from tests.evidence import cluster, pool, store_scan
from tests.signing_keys import KeyFiles, make_keys

PASSWORD = "correct horse battery"  # noqa: S105 -- a test key's password


def _report(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["report", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _verify(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("signed")
    db = work / "a.duckdb"
    fleet = [cluster(f"c{i}", version=["1.33.2", "1.28.5"][i % 2], pools=[pool("system")]) for i in range(4)]
    store_scan(db, fleet)
    keys = make_keys(work / "keys", password=PASSWORD.encode())
    stranger = make_keys(work / "stranger", common_name="Someone Else", password=None)
    out = work / "out"
    code, stdout, stderr = _report(
        "--db", str(db), "--format", "pdf,json,csv", "--out", str(out),
        "--sign-key", str(keys.p12), "--sign-password-env", "REPORT_KEY_PASSWORD",
        env={"REPORT_KEY_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert code == 0, stdout + stderr
    return {"db": db, "keys": keys, "stranger": stranger, "out": out, "pdf": out / "report.pdf",
            "stdout": stdout, "stderr": stderr}  # fmt: skip


def test_signed_pdf_verifies_and_names_its_signer(signed: dict[str, Any]) -> None:
    keys: KeyFiles = signed["keys"]
    code, out, err = _verify("--db", str(signed["db"]), "--pdf", str(signed["pdf"]), "--trust-cert", str(keys.ca))
    assert code == 0, out + err
    assert "signed by Fabrikam Audit Signer (Fabrikam Audit Ltd)" in out
    assert "has not changed since it was signed" in out
    checks = {c.name: c for c in verify_pdf(signed["db"], signed["pdf"]).checks}
    assert checks["signature"].ok is True and checks["signer trust"].ok is None  # no anchor: not judged
    assert checks["seal"].ok is True and checks["revisions"].ok is True  # original + the signature


def test_the_signature_is_pades_over_the_report_and_keeps_pdfa(signed: dict[str, Any]) -> None:
    reader = PdfReader(signed["pdf"])
    field = reader.trailer["/Root"]["/AcroForm"]["/Fields"][0].get_object()
    value = field["/V"].get_object()
    assert value["/SubFilter"] == "/ETSI.CAdES.detached" and value["/Filter"] == "/Adobe.PPKLite"
    assert field["/F"] & 4 and not field["/F"] & (1 | 2 | 32)  # printed, not hidden (PDF/A-3 §6.3.2)
    assert reader.xmp_metadata is not None and reader.xmp_metadata.pdfaid_part == "3"
    assert set(reader.attachments) == {"findings.json", "report-manifest.json", "policy.toml"}


@pytest.mark.skipif(
    shutil.which("qpdf") is None, reason="needs Debian's qpdf (make test installs it with apt-get where it can)"
)
def test_qpdf_finds_no_structural_error_in_the_signed_pdf(signed: dict[str, Any]) -> None:
    result = subprocess.run(["qpdf", "--check", str(signed["pdf"])], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "No syntax or stream encoding errors found" in result.stdout, result.stdout


def _xmp_and_info(pdf: Path) -> tuple[dict[str, str], dict[str, str]]:
    reader = PdfReader(pdf)
    xmp = reader.xmp_metadata
    assert xmp is not None
    info = {key: str(value) for key, value in (reader.metadata or {}).items()}
    return info, {
        "/Producer": str(xmp.pdf_producer),
        "/Creator": str(xmp.xmp_creator_tool),
        "/Keywords": str(xmp.pdf_keywords),
        "/Title": str((xmp.dc_title or {}).get("x-default")),
    }


def test_info_and_xmp_agree_before_and_after_signing(signed: dict[str, Any], tmp_path: Path) -> None:
    # PDF/A-3 §6.6.2.3.1: every Info entry with an XMP equivalent holds the same value.
    unsigned = tmp_path / "unsigned"
    assert _report("--db", str(signed["db"]), "--format", "pdf", "--out", str(unsigned))[0] == 0
    for pdf in (unsigned / "report.pdf", signed["pdf"]):
        info, xmp = _xmp_and_info(pdf)
        for key, value in xmp.items():
            assert info[key] == value, (pdf.parent.name, key)


def test_an_untrusted_signer_fails_when_an_anchor_is_required(signed: dict[str, Any]) -> None:
    stranger: KeyFiles = signed["stranger"]
    code, out, _ = _verify("--db", str(signed["db"]), "--pdf", str(signed["pdf"]), "--trust-cert", str(stranger.ca))
    assert code == 1 and "signer trust" in out and "does not chain" in out


def test_a_changed_byte_in_a_signed_pdf_fails(signed: dict[str, Any], tmp_path: Path) -> None:
    data = bytearray(signed["pdf"].read_bytes())
    data[len(data) // 3] ^= 0x20
    tampered = tmp_path / "report.pdf"
    tampered.write_bytes(bytes(data))
    checks = {c.name: c for c in verify_pdf(signed["db"], tampered).checks}
    assert checks["signature"].ok is False and checks["seal"].ok is False
    code, out, _ = _verify("--db", str(signed["db"]), "--pdf", str(tampered), "--trust-cert", str(signed["keys"].ca))
    assert code == 1 and "NOT verified" in out


def test_an_update_after_signing_fails(signed: dict[str, Any], tmp_path: Path) -> None:
    writer = PdfWriter(str(signed["pdf"]), incremental=True)
    writer.add_annotation(
        0,
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Square"),
                NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (10, 10, 200, 200)]),
            }
        ),
    )
    buffer = io.BytesIO()
    writer.write(buffer)
    updated = tmp_path / "report.pdf"
    updated.write_bytes(buffer.getvalue())
    checks = {c.name: c for c in verify_pdf(signed["db"], updated).checks}
    assert checks["signature"].ok is False and "changed after it was signed" in checks["signature"].detail
    assert checks["revisions"].ok is False


def test_the_password_never_reaches_output_or_files(signed: dict[str, Any]) -> None:
    assert PASSWORD not in signed["stdout"] + signed["stderr"]
    for path in signed["out"].iterdir():
        assert PASSWORD.encode() not in path.read_bytes(), path.name
    code, _, err = _report("--db", str(signed["db"]), "--sign-key", str(signed["keys"].p12), "--sign-password", "x")
    assert code == 2 and "No such option" in err  # the password is never a command-line argument


def test_key_errors_are_one_line_and_keep_the_password_secret(signed: dict[str, Any], tmp_path: Path) -> None:
    db, p12 = str(signed["db"]), str(signed["keys"].p12)
    code, out, err = _report("--db", db, "--out", str(tmp_path), "--sign-key", p12,
                             env={"AUDITOR_SIGN_PASSWORD": "wrong horse"})  # fmt: skip
    assert code == 1 and "wrong password" in err and "wrong horse" not in err + out
    assert len(err.strip().splitlines()) == 1
    code, _, err = _report("--db", db, "--out", str(tmp_path), "--sign-key", p12, "--sign-password-env", "UNSET_VAR")
    assert code == 1 and "UNSET_VAR" in err and "not set" in err
    code, _, err = _report("--db", db, "--out", str(tmp_path), "--sign-password-env", "X")
    assert code == 2 and "--sign-key" in err
    not_p12 = tmp_path / "key.p12"
    not_p12.write_bytes(b"not a key")
    code, _, err = _report("--db", db, "--out", str(tmp_path), "--sign-key", str(not_p12))
    assert code == 1 and "PKCS#12" in err
    assert not (tmp_path / "report.pdf").exists()  # nothing written when the key cannot be used


def test_an_expired_certificate_is_refused(signed: dict[str, Any], tmp_path: Path) -> None:
    old = make_keys(tmp_path / "old", password=None, expired=True)
    code, _, err = _report("--db", str(signed["db"]), "--out", str(tmp_path / "o"), "--sign-key", str(old.p12))
    assert code == 1 and "not now" in err


def test_an_ecdsa_key_signs_both(signed: dict[str, Any], tmp_path: Path) -> None:
    keys = make_keys(tmp_path / "ec", password=None, curve=True)
    out = tmp_path / "ec-out"
    code, stdout, err = _report("--db", str(signed["db"]), "--format", "pdf", "--out", str(out), "--sign-key",
                                str(keys.p12))  # fmt: skip
    assert code == 0, stdout + err
    code, text, err = _verify("--db", str(signed["db"]), "--manifest", str(out / "report-manifest.json"),
                              "--trust-cert", str(keys.ca))  # fmt: skip
    assert code == 0, text + err
    assert "attestation signature" in text and "report.pdf signature" in text


# --- report.intoto.json -------------------------------------------------------------------------------------


def test_pae_matches_the_dsse_test_vector() -> None:
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_attestation_is_a_dsse_envelope_of_an_intoto_statement(signed: dict[str, Any]) -> None:
    out: Path = signed["out"]
    envelope = json.loads((out / "report.intoto.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    body = base64.b64decode(envelope["payload"])
    (entry,) = envelope["signatures"]
    certificate = x509.load_pem_x509_certificate(entry["certificate"].encode())
    assert certificate.subject.rfc4514_string() == signed["keys"].subject
    # Verified independently of the tool: RSA PKCS#1 v1.5 / SHA-256 over PAE(payloadType, payload).
    message = b"DSSEv1 %d application/vnd.in-toto+json %d " % (len("application/vnd.in-toto+json"), len(body)) + body
    certificate.public_key().verify(base64.b64decode(entry["sig"]), message, padding.PKCS1v15(), hashes.SHA256())
    statement = json.loads(body)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    written = {p.name for p in out.iterdir()} - {"report.intoto.json"}
    assert set(subjects) == written == {"report.pdf", "findings.json", "findings.csv", "report-manifest.json"}
    for name, digest in subjects.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_test_result_predicate_states_the_outcome_and_the_digests(signed: dict[str, Any]) -> None:
    out: Path = signed["out"]
    statement = json.loads(base64.b64decode(json.loads((out / "report.intoto.json").read_text())["payload"]))
    predicate = statement["predicate"]
    findings = json.loads((out / "findings.json").read_text())
    failing = sorted({f["control_id"] for f in findings if f["status"] == "fail"})
    assert predicate["result"] == "FAILED" and predicate["failedTests"] == failing
    assert "AKS-VER-01" in failing  # 1.28 is unsupported in the fixture
    everything = predicate["passedTests"] + predicate["warnedTests"] + predicate["failedTests"]
    assert len(everything) == len(set(everything)) and set(everything) >= {f["control_id"] for f in findings}
    manifest = json.loads((out / "report-manifest.json").read_text())
    digests = {c["annotations"]["role"]: c["digest"]["sha256"] for c in predicate["configuration"]}
    assert digests == {
        "policy": manifest["policy"]["sha256"],
        "control catalog": manifest["catalog_sha256"],
        "raw evidence": manifest["scan"]["evidence_sha256"],
    }


def test_a_tampered_attestation_or_report_file_fails(signed: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(signed["out"], out)
    path = out / "report.intoto.json"
    envelope = json.loads(path.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["result"] = "PASSED"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(envelope))
    code, text, _ = _verify("--db", str(signed["db"]), "--manifest", str(out / "report-manifest.json"))
    assert code == 1 and "attestation signature" in text and "does not verify" in text
    shutil.copy(signed["out"] / "report.intoto.json", path)
    csv_path = out / "findings.csv"
    csv_path.write_text(csv_path.read_text().replace(",fail,", ",pass,"))
    code, text, _ = _verify("--db", str(signed["db"]), "--manifest", str(out / "report-manifest.json"))
    lines = [line for line in text.splitlines() if "MISMATCH" in line]
    assert code == 1 and any("attestation subject findings.csv" in line for line in lines)


def test_unsigned_reports_get_a_plain_statement(signed: dict[str, Any], tmp_path: Path) -> None:
    code, stdout, err = _report("--db", str(signed["db"]), "--format", "json", "--out", str(tmp_path))
    assert code == 0, stdout + err
    statement = json.loads((tmp_path / "report.intoto.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1" and "payloadType" not in statement
    assert str(tmp_path / "report.intoto.json") in stdout
