"""Keeping API tokens out of everything replyguard prints or writes."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "BODY_INLINE_LIMIT",
    "MASK",
    "TOKEN_VARIABLE",
    "default_bodies_dir",
    "mask_secrets",
    "mask_token",
    "masked_curl",
    "token_variable",
]

MASK = "***"
#: The shell variable a reproduction reads the token from (never the token itself).
TOKEN_VARIABLE = "REPLYGUARD_TOKEN"
#: Bodies longer than this (bytes) go to a file the line names with ``--data-binary @FILE``,
#: so that no report holds a multi-megabyte line (the malformed-request tests send 3 MiB).
BODY_INLINE_LIMIT = 4096
# Headers whose value is a credential whatever it looks like.
_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}
# Headers curl sets itself, or that would be wrong for the reproduced body.
_CURL_OWN = {"content-length", "host", "accept-encoding", "connection", "user-agent"}


def mask_token(token: str | None) -> str:
    """A recognisable but harmless stand-in for a token: its last two characters at most."""
    if not token:
        return MASK
    return f"{MASK}{token[-2:]}" if len(token) >= 16 else MASK


def _real_secrets(secrets: Iterable[str | None]) -> list[str]:
    # Longest first, so a token that contains another is masked whole.
    return sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of every secret replaced by :data:`MASK`."""
    for secret in _real_secrets(secrets):
        text = text.replace(secret, MASK)
    return text


def token_variable(role: str | None) -> str:
    """The shell variable a reproduction reads a profile token from, by the token's role in a
    reproduction (``Tokens.reproduction_roles``).

    The account's tokens ("" or None) share ``REPLYGUARD_TOKEN`` (the documents tie nothing but
    the limit to a token, and the suite sends most calls on whichever has room); the
    low-balance and other-account tokens answer differently, so they have their own.
    """
    if not role:
        return TOKEN_VARIABLE
    return f"{TOKEN_VARIABLE}_{role.upper()}"


def default_bodies_dir() -> Path:
    """Where a reproduction's body file goes when the caller names no folder."""
    return Path(tempfile.gettempdir()) / "replyguard-bodies"


def masked_curl(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | Any = None,
    secrets: Iterable[str | None] = (),
    bodies_dir: Path | None = None,
    token_role: str | None = None,
    keep_bearer: bool = False,
) -> str:
    """A curl command that reproduces a request when pasted into a shell, tokens masked.

    A masked bearer token becomes ``"$REPLYGUARD_TOKEN"`` (:func:`token_variable` of
    ``token_role``) in double quotes, so the shell substitutes it; with ``keep_bearer`` (the
    caller knows it is no secret: a made-up token a 401 test sends) it stays as sent. Every
    other word is quoted with :func:`shlex.quote`. A body over
    :data:`BODY_INLINE_LIMIT` bytes, or one a shell argument cannot carry (invalid UTF-8, NUL),
    is written to ``bodies_dir`` (default: :func:`default_bodies_dir`) and sent with
    ``--data-binary @FILE``.
    """
    secrets = _real_secrets(secrets)
    parts = [
        "curl",
        "-i",
        "-X",
        shlex.quote(method.upper()),
        shlex.quote(mask_secrets(url, secrets)),
    ]
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if lowered in _CURL_OWN:
            continue
        bearer = lowered == "authorization" and value.lower().startswith("bearer")
        if bearer and not keep_bearer:
            # Double quotes: the one word the shell must expand.
            variable = token_variable(token_role)
            parts += ["-H", f'"{_shell_safe(name)}: Bearer ${variable}"']
            continue
        if lowered in _SECRET_HEADERS and not bearer:
            value = MASK
        parts += ["-H", shlex.quote(mask_secrets(f"{name}: {value}", secrets))]
    data = _body_bytes(body)
    if data:
        data = _mask_bytes(data, secrets)
        text = _inline_text(data)
        if text is not None:
            parts += ["--data-raw", shlex.quote(text)]
        else:
            try:
                path = _write_body(data, bodies_dir or default_bodies_dir())
            except OSError as exc:
                parts += [
                    "--data-binary",
                    "@-",
                    f"# the body ({len(data)} bytes) was not kept: {exc}",
                ]
            else:
                parts += ["--data-binary", shlex.quote(f"@{path}")]
    return " ".join(parts)


def _shell_safe(name: str) -> str:
    # A header name is a token of letters, digits and -; anything else cannot be expanded
    # or break out of the double quotes it stands in.
    return "".join(c for c in name if c.isalnum() or c in "-_")


def _body_bytes(body: bytes | str | Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogatepass")
    return json.dumps(body, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


def _mask_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    for secret in secrets:
        data = data.replace(secret.encode(), MASK.encode())
    return data


def _inline_text(data: bytes) -> str | None:
    """The body as a shell argument, or None when it belongs in a file."""
    if len(data) > BODY_INLINE_LIMIT or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _write_body(data: bytes, folder: Path) -> str:
    """Write a body once (named by its digest) and return the path the line should name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"body-{hashlib.sha256(data).hexdigest()[:16]}.bin"
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    # Relative to the working directory when inside it (a CI artifact keeps the layout),
    # else absolute.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())
