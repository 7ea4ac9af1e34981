"""Untrusted text made safe to store, print and show: secrets redacted, invalid Unicode replaced, control and
bidirectional characters made visible. Error bodies, cluster names and tag values all come from outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

REDACTED = "<redacted>"
# A known secret shorter than this is not searched for literally: it would redact ordinary words.
MIN_LITERAL_SECRET = 6

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls, DEL, the bidirectional embeddings, overrides, isolates and marks, line and paragraph
# separators: characters that move the cursor, rewrite a terminal or reorder what a reader sees.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_WHITESPACE_RUN = re.compile(r"[ \t\r\n\x0b\x0c\x1c-\x1f\x85\u2028\u2029]+")

_HEADER_NAMES = (
    r"(?:proxy-)?authorization|x-ms-authorization-auxiliary|cookie|set-cookie|x-api-key|ocp-apim-subscription-key"
)
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Authorization: Bearer x`, `"authorization": "x"`, `authorization=x` as proxies echo request headers.
    (
        re.compile(
            rf"(?i)(?<![A-Za-z0-9-])({_HEADER_NAMES})(\\?[\"']?\s*(?:[:=]|%3a|%3d)\s*\\?[\"']?\s*)([^\"'\r\n,;}}&]+)"
        ),
        rf"\1\2{REDACTED}",
    ),
    # A bearer token wherever it stands.
    (re.compile(r"(?i)(?<![A-Za-z])(bearer)(\s+|%20|\+)([A-Za-z0-9\-._~+/]{8,}=*)"), rf"\1\2{REDACTED}"),
    # JSON Web Tokens (Entra ID access tokens) even without a scheme in front.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"), REDACTED),
    # OAuth and SAS parameters in echoed URLs or form bodies.
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|id_token|client_secret|client_assertion|password|sig)=([^&\s\"']+)"
        ),
        rf"\1={REDACTED}",
    ),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Text with bearer tokens, Authorization-like headers, JWTs and the given secrets replaced."""
    for secret in secrets:
        if secret and len(secret) >= MIN_LITERAL_SECRET:
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, REDACTED)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def visible(text: str) -> str:
    """Control, bidirectional and lone-surrogate characters shown as escapes (\\x1b, \\u202e), never acted on."""
    return _INVISIBLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, limit: int | None = None) -> str:
    """Whitespace runs (line breaks included) as one space, other controls visible, at most `limit` chars."""
    line = visible(_WHITESPACE_RUN.sub(" ", text)).strip()
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def clean_message(text: str, secrets: Iterable[str] = (), limit: int | None = 2000) -> str:
    """An error message ready to store or print: secrets redacted, on one line, every character visible."""
    return one_line(redact(str(text), secrets), limit)


def has_surrogates(text: str) -> bool:
    """Whether a string holds a lone surrogate (JSON's "\\ud800" escape), which no UTF-8 file can hold."""
    return _SURROGATE.search(text) is not None


def replace_surrogates(value: Any, path: str = "$") -> tuple[Any, list[str]]:
    """A copy of a JSON value with lone surrogates replaced by U+FFFD, and the JSON paths where they were."""
    found: list[str] = []

    def walk(item: Any, where: str) -> Any:
        if isinstance(item, str):
            if has_surrogates(item):
                found.append(where)
                return _SURROGATE.sub("\ufffd", item)
            return item
        if isinstance(item, dict):
            out = {}
            for key, child in item.items():
                name = _SURROGATE.sub("\ufffd", key) if isinstance(key, str) else key
                if name != key:
                    found.append(f"{where} (a key)")
                out[name] = walk(child, f"{where}.{name}")
            return out
        if isinstance(item, list):
            return [walk(child, f"{where}[{index}]") for index, child in enumerate(item)]
        return item

    return walk(value, path), found


def redact_value(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of a JSON value with every string (keys included) redacted."""
    kept = list(secrets)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return redact(item, kept)
        if isinstance(item, dict):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(child) for child in item]
        return item

    return walk(value)
