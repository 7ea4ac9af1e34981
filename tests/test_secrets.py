"""Tokens never reach stored or printed output: a token with a control character is refused before it is sent,
and error bodies that echo the request's headers (as some proxies and gateways do) are redacted before they are
stored in collection_errors or printed. Checked by grepping the database file, every report and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from azure.core.credentials import AccessToken, TokenCredential
from pypdf import PdfReader

from auditor.collect import AzureClients, ScanOptions, run_scan
from auditor.collect.clients import StaticTokenCredential
from auditor.collect.limiter import Limiter, LimiterSettings
from auditor.emulator.server import EmulatorServer
from auditor.errors import CredentialError
from auditor.safetext import redact
from auditor.store import open_db, write_scan
from tests.emulated import small_fleet

STATIC_TOKEN = "EchoedStaticToken-5f0c2a9e71d4"
# Shaped like an Entra ID access token; given by a credential that does not expose it, so only the patterns
# (Bearer, Authorization, JWT) can catch it.
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJlLXBhcnQ"
SECRET_PARTS = ("5f0c2a9e71d4", "EchoedStaticToken", "c2lnbmF0dXJlLXBhcnQ", "eyJhdWQiOiJodHRwczovL21h")


class OpaqueCredential(TokenCredential):
    """A credential whose token the auditor cannot know in advance (like DefaultAzureCredential's)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(JWT, int(time.time()) + 3600)


def auditor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def assert_no_secret(text: str, where: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, f"{part!r} leaked into {where}"


def every_stored_string(db: Path) -> str:
    """Every value of every table, as text: the file itself may compress strings (FSST), so grep both."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(str(con.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables)
    finally:
        con.close()


# --- redaction --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "echoed",
    [
        f"Request headers: Host: x; Authorization: Bearer {JWT}; Accept: */*",
        f'{{"headers": {{"authorization": "Bearer {JWT}"}}}}',
        f"authorization={JWT}&x=1",
        f"the token was {JWT}.",
        f"Authorization: bearer {STATIC_TOKEN}",
        f"Proxy-Authorization: Basic {STATIC_TOKEN}",
        f"GET /x?access_token={STATIC_TOKEN}&api-version=1",
        f"Authorization%3A%20Bearer%20{STATIC_TOKEN}",
    ],
)
def test_redact_removes_tokens_in_the_forms_proxies_echo(echoed: str) -> None:
    assert_no_secret(redact(echoed), "the redacted text")


def test_redact_removes_a_known_secret_anywhere_and_keeps_plain_words() -> None:
    assert redact(f"x{STATIC_TOKEN}y", [STATIC_TOKEN]) == "x<redacted>y"
    plain = "The 'Authorization' header is missing or is not a bearer token."
    assert redact(plain) == plain


@pytest.mark.parametrize(
    "bad", ["abc\rdef-123456", "abc\ndef-123456", "abc\x00def", "abc def", "abc\u2028d", "t\u00e9st"]
)
def test_a_token_that_is_not_one_line_of_printable_ascii_is_refused(bad: str) -> None:
    with pytest.raises(CredentialError) as raised:
        StaticTokenCredential(bad)
    assert "position" in str(raised.value)
    assert bad not in str(raised.value) and "def" not in str(raised.value)


def test_a_token_with_a_cr_is_refused_by_the_cli_without_printing_it(tmp_path: Path) -> None:
    token = f"{STATIC_TOKEN}\r\nX-Injected: 1"
    result = auditor(
        "scan",
        "--db",
        str(tmp_path / "a.duckdb"),
        "--endpoint",
        "https://127.0.0.1:9",
        env={"AUDITOR_ACCESS_TOKEN": token},
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: AUDITOR_ACCESS_TOKEN holds a control")
    assert "U+000D" in result.stderr
    assert_no_secret(result.stderr + result.stdout, "stderr")
    assert "X-Injected" not in result.stderr
    assert not (tmp_path / "a.duckdb").exists() or "scans" not in every_stored_string(tmp_path / "a.duckdb")


# --- echoing error bodies ---------------------------------------------------------------------------


def quick_limiter() -> Limiter:
    return Limiter(LimiterSettings(max_attempts=2, backoff_base_s=0.01, backoff_cap_s=0.02, max_retry_after_s=0.1))


@pytest.fixture(scope="module")
def echoed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two scans whose failing calls were answered by bodies that echo the Authorization header: one in ARM JSON
    with the static token, one in plain text with an opaque JWT."""
    tmp = tmp_path_factory.mktemp("echo")
    db = tmp / "a.duckdb"
    for style, credential in (("echo-json", StaticTokenCredential(STATIC_TOKEN)), ("echo-text", OpaqueCredential())):
        with EmulatorServer(
            small_fleet(),
            state_dir=tmp / "emu",
            error_body=style,
            server_error_rate=1.0,
            fault_kinds=["kubernetes_versions", "maintenance_configurations"],
        ) as server:
            clients = AzureClients(credential, endpoint=server.endpoint, ca_bundle=str(server.ca_file))
            record = run_scan(clients, ScanOptions(), limiter=quick_limiter())
        con = open_db(db, create=True)
        try:
            write_scan(con, record)
        finally:
            con.close()
    return db


def test_echoed_tokens_are_stored_nowhere(echoed_store: Path) -> None:
    stored = every_stored_string(echoed_store)
    assert "<redacted>" in stored and "Request headers" in stored  # the echo was recorded, the token was not
    assert_no_secret(stored, "the database tables")
    raw = echoed_store.read_bytes()
    for part in SECRET_PARTS:
        assert part.encode() not in raw, f"{part!r} in the database file"


def test_echoed_tokens_reach_no_report_and_no_stream(echoed_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {"AUDITOR_ACCESS_TOKEN": STATIC_TOKEN}
    runs = [
        auditor("report", "--db", str(echoed_store), "--format", "pdf,html,csv,json", "--out", str(out), env=env),
        auditor("findings", "--db", str(echoed_store), "--format", "json", env=env),
        auditor("findings", "--db", str(echoed_store), "--format", "csv", env=env),
        auditor("findings", "--db", str(echoed_store), env=env),
        auditor("trend", "--db", str(echoed_store), "--format", "json", env=env),
        auditor("export", "--db", str(echoed_store), "--out", str(tmp_path / "export"), env=env),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert_no_secret(run.stdout + run.stderr, f"the output of {run.args[3:5]}")
    for path in out.iterdir():
        assert_no_secret(path.read_bytes().decode("latin-1"), path.name)
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    assert "redacted" in pdf_text.replace("\n", " ") or "Request headers" in pdf_text.replace("\n", " ")
    assert_no_secret(pdf_text, "the PDF text")
    exported = duckdb.connect()
    try:
        for path in sorted((tmp_path / "export").rglob("*.parquet")):
            rows = exported.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            assert_no_secret(str(rows), str(path))
    finally:
        exported.close()


@pytest.mark.parametrize("style", ["echo-json", "echo-text", "html"])
def test_an_echoing_401_is_one_redacted_line_on_stderr(tmp_path: Path, style: str) -> None:
    with EmulatorServer(small_fleet(), state_dir=tmp_path / "emu", token="the-right-token", error_body=style) as server:
        result = auditor(
            "scan",
            "--db",
            str(tmp_path / "a.duckdb"),
            "--endpoint",
            server.endpoint,
            "--ca-bundle",
            str(server.ca_file),
            env={"AUDITOR_ACCESS_TOKEN": STATIC_TOKEN},
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "refused the credential" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stderr, "stderr")
