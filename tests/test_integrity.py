"""auditor.integrity's digests: one file digest, and the name-framed tree digest behind catalog_sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from auditor.controls import load_catalog
from auditor.integrity import NamedDigest, file_sha256, tree_digest
from auditor.paths import queries_dir
from auditor.report.data import query_files


def test_file_sha256_reads_large_files_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = bytes(range(256)) * 9000  # more than one 1 MiB block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_tree_digest_frames_names_and_orders_by_pattern_then_name(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.sql").write_bytes(b"A")
    (tmp_path / "c.sql").write_bytes(b"C")
    (tmp_path / "b" / "x.sql").write_bytes(b"X")
    (tmp_path / "b" / "dir.sql").mkdir()  # a directory matching the pattern is not a file
    expected = hashlib.sha256(b"b/x.sql\0X\0a.sql\0A\0c.sql\0C\0").hexdigest()
    assert tree_digest(tmp_path, ["b/*.sql", "*.sql"]) == expected
    # The framing keeps a name and its content apart: moving a byte between them changes the digest.
    shifted, original = NamedDigest(), NamedDigest()
    shifted.add("b/x.sq", b"lX")
    original.add("b/x.sql", b"X")
    assert shifted.hexdigest() != original.hexdigest()
    assert tree_digest(tmp_path, ["*.sql", "b/*.sql"]) != expected


def test_named_digest_reproduces_the_reports_catalog_digest() -> None:
    # Manifests already written carry catalog_sha256 in this framing: it must never change by accident.
    catalog = load_catalog()
    digest = NamedDigest()
    digest.add_tree(queries_dir(), ["model/*.sql", "controls/*.sql"])
    for control in catalog:
        meta = queries_dir() / "controls" / f"{control.id}.toml"
        digest.add(meta.name, meta.read_bytes())
    assert digest.hexdigest() == query_files(catalog)[1]
