"""Reading target profiles: the only place that parses one (TOML or JSON).

The contract suite, the load scenarios and the CLI all come through :func:`load_profile`.
The profile is checked against its JSON Schema first (``profile.schema.json``), then read
key by key; every error is one line that names the file and the key. Values of the form
``${NAME}`` are read from the environment so secrets stay out of files.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replyguard.profile.model import (
    ACCOUNT_ROLES,
    DEFAULT_MAX_BILLED_CALLS,
    DEFAULT_MAX_REQUESTS,
    MODES,
    TOKEN_ROLES,
    Assistants,
    Capabilities,
    Catalog,
    Paths,
    PhoneNumber,
    RateLimitSettings,
    Safety,
    Target,
    Tokens,
    Voice,
)
from replyguard.profile.schema import schema_problem

__all__ = ["Profile", "ProfileError", "load_profile", "load_target", "parse_target", "read_profile"]

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProfileError(ValueError):
    """A target profile that cannot be used; the message names the file and the bad key."""


@dataclass(slots=True, frozen=True)
class Profile:
    """A profile as read: the file, its raw keys (for run options) and the target it describes."""

    path: Path
    raw: Mapping[str, Any]
    target: Target


def load_profile(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Profile:
    """Read, check and expand a target profile file, once."""
    raw = read_profile(path)
    return Profile(Path(path), raw, parse_target(raw, source=str(path), env=env))


def load_target(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Target:
    """The target a profile file describes."""
    return load_profile(path, env).target


def read_profile(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """A profile file's raw keys (TOML, or JSON by suffix); one-line errors."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"target profile {file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"target profile {file}: cannot read it ({exc})") from None
    try:
        raw = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"target profile {file}: not valid {_fmt(file)}: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ProfileError(f"target profile {file}: expected a table of keys at the top")
    return raw


def parse_target(
    raw: Mapping[str, Any], *, source: str = "<memory>", env: Mapping[str, str] | None = None
) -> Target:
    """Validate an already parsed profile; every error names the offending key."""
    reader = _Reader(source, os.environ if env is None else env)
    problem = schema_problem(raw)
    if problem is not None:
        raise reader.fail(*problem)
    return reader.target(raw)


def _fmt(file: Path) -> str:
    return "JSON" if file.suffix == ".json" else "TOML"


_TOP_KEYS = {
    "base_url",
    "brand",
    "paths",
    "tokens",
    "assistants",
    "catalog",
    "rate_limit",
    "safety",
    "capabilities",
    "name",
    "strict",
    "baseline",
    "known_deviations",
    "seed",
    "transport",
}


class _Reader:
    """Walks a parsed profile, expanding placeholders and naming the key of any error."""

    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env

    def fail(self, key: str, problem: str) -> ProfileError:
        return ProfileError(f"target profile {self.source}: key '{key}': {problem}")

    def table(
        self, raw: Mapping[str, Any], key: str, allowed: set[str], required: bool = False
    ) -> Mapping[str, Any]:
        value = raw.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "expected a table")
        for name in value:
            if name not in allowed:
                allowed_keys = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{name}", f"unknown key (allowed: {allowed_keys})")
        return value

    def expand(self, key: str, value: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.env:
                raise self.fail(key, f"environment variable {name} is not set")
            return self.env[name]

        return _PLACEHOLDER.sub(substitute, value)

    def string(self, raw: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
        value = raw.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__}")
        expanded = self.expand(key, value)
        if required and not expanded.strip():
            raise self.fail(key, "is empty")
        return expanded

    def integer(
        self,
        raw: Mapping[str, Any],
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
    ) -> int | None:
        value = raw.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        if isinstance(value, str):
            text = self.expand(key, value)
            if not text.strip().lstrip("-").isdigit():
                raise self.fail(key, f"expected an integer, got {text!r}")
            value = int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {type(value).__name__}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def number(self, raw: Mapping[str, Any], key: str) -> float | None:
        value = raw.get(key.rsplit(".", 1)[-1])
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {type(value).__name__}")
        if value <= 0:
            raise self.fail(key, f"must be positive, got {value}")
        return float(value)

    def boolean(self, raw: Mapping[str, Any], key: str, default: bool) -> bool:
        value = raw.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def int_list(self, raw: Mapping[str, Any], key: str) -> tuple[int, ...]:
        return tuple(self._list(raw, key, self._item_int))

    def _item_int(self, key: str, item: Any) -> int:
        if isinstance(item, bool) or not isinstance(item, int):
            raise self.fail(key, f"expected an integer id, got {item!r}")
        return item

    def _list(self, raw: Mapping[str, Any], key: str, item: Callable[[str, Any], Any]) -> list[Any]:
        value = raw.get(key.rsplit(".", 1)[-1], [])
        if not isinstance(value, list):
            raise self.fail(key, "expected a list")
        return [item(f"{key}[{i}]", v) for i, v in enumerate(value)]

    def _voice(self, key: str, item: Any) -> Voice:
        if not isinstance(item, Mapping):
            raise self.fail(key, 'expected a table like { id = 1, modes = ["pipeline"] }')
        for name in item:
            if name not in {"id", "modes"}:
                raise self.fail(f"{key}.{name}", "unknown key (allowed: id, modes)")
        voice_id = self.integer(item, f"{key}.id", required=True)
        modes = item.get("modes")
        if not isinstance(modes, list) or not modes:
            raise self.fail(f"{key}.modes", f"expected a non-empty list of {', '.join(MODES)}")
        for mode in modes:
            if mode not in MODES:
                raise self.fail(f"{key}.modes", f"unknown engine mode {mode!r}")
        assert voice_id is not None
        return Voice(voice_id, tuple(modes))

    def _phone(self, key: str, item: Any) -> PhoneNumber:
        if not isinstance(item, Mapping):
            raise self.fail(key, "expected a table like { id = 9, caller_id = false }")
        for name in item:
            if name not in {"id", "caller_id", "assigned_inbound"}:
                raise self.fail(
                    f"{key}.{name}", "unknown key (allowed: assigned_inbound, caller_id, id)"
                )
        phone_id = self.integer(item, f"{key}.id", required=True)
        assert phone_id is not None
        return PhoneNumber(
            phone_id,
            self.boolean(item, f"{key}.caller_id", False),
            self.boolean(item, f"{key}.assigned_inbound", False),
        )

    def target(self, raw: Mapping[str, Any]) -> Target:
        for name in raw:
            if name not in _TOP_KEYS:
                raise self.fail(name, f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
        base_url = self.string(raw, "base_url", required=True)
        assert base_url is not None
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail("base_url", f"expected an http(s) URL, got {base_url!r}")
        return Target(
            base_url=base_url.rstrip("/"),
            brand=self.brand(raw),
            paths=self.paths(raw),
            tokens=self.tokens(raw),
            assistants=self.assistants(raw),
            catalog=self.catalog(raw),
            rate_limit=self.rate_limit(raw),
            safety=self.safety(raw),
            capabilities=self.capabilities(raw),
            source=self.source,
            name=self.string(raw, "name")
            or (Path(self.source).stem if self.source != "<memory>" else None),
        )

    def brand(self, raw: Mapping[str, Any]) -> str | None:
        from replyguard.spec import brands

        brand = self.string(raw, "brand")
        if brand is not None and brand not in brands():
            raise self.fail("brand", f"unknown brand {brand!r} (one of {', '.join(brands())})")
        return brand

    def paths(self, raw: Mapping[str, Any]) -> Paths:
        from replyguard.spec import operation_paths

        table = self.table(raw, "paths", {"generate_reply", "create_assistant"})
        brand = self.brand(raw)
        if brand is None and not table:
            raise self.fail("brand", "missing: give a brand or a [paths] table")
        defaults = operation_paths(brand or "intellixent")
        paths = {}
        for op in ("generate_reply", "create_assistant"):
            value = self.string(table, f"paths.{op}")
            if value is None and brand is None:
                raise self.fail(f"paths.{op}", "missing (no brand to take it from)")
            value = value or defaults[op]
            if not value.startswith("/"):
                raise self.fail(f"paths.{op}", f"must start with '/', got {value!r}")
            paths[op] = value
        return Paths(**paths)

    def tokens(self, raw: Mapping[str, Any]) -> Tokens:
        table = self.table(raw, "tokens", {*TOKEN_ROLES, "pool"}, required=True)
        primary = self.string(table, "tokens.primary", required=True)
        assert primary is not None
        return Tokens(
            primary=primary,
            secondary=self.string(table, "tokens.secondary") or None,
            low_balance=self.string(table, "tokens.low_balance") or None,
            other_account=self.string(table, "tokens.other_account") or None,
            pool=self.pool(table),
        )

    def pool(self, table: Mapping[str, Any]) -> tuple[str, ...]:
        """``tokens.pool``: more tokens of the primary's account, each distinct from the rest."""
        raw = table.get("pool") or []
        if not isinstance(raw, list):
            raise self.fail("tokens.pool", "expected a list of tokens")
        named = {self.string(table, f"tokens.{role}") for role in ACCOUNT_ROLES} - {None}
        pool: list[str] = []
        for index, item in enumerate(raw):
            key = f"tokens.pool[{index}]"
            if not isinstance(item, str):
                raise self.fail(key, f"expected a string, got {type(item).__name__}")
            token = self.expand(key, item)
            if not token.strip():
                raise self.fail(key, "is empty")
            if token in pool or token in named:
                # Each token has a bucket of its own only if it is another token.
                raise self.fail(key, "a token listed twice (primary, secondary or the pool)")
            pool.append(token)
        return tuple(pool)

    def assistants(self, raw: Mapping[str, Any]) -> Assistants:
        table = self.table(
            raw, "assistants", {"own", "own_second", "foreign", "low_balance"}, required=True
        )
        own = self.integer(table, "assistants.own", required=True)
        assert own is not None
        return Assistants(
            own=own,
            own_second=self.integer(table, "assistants.own_second"),
            foreign=self.integer(table, "assistants.foreign"),
            low_balance=self.integer(table, "assistants.low_balance"),
        )

    def catalog(self, raw: Mapping[str, Any]) -> Catalog:
        lists = (
            "languages",
            "llm_models",
            "multimodal_models",
            "knowledgebases",
            "tools",
            "synthesizer_providers",
            "transcriber_providers",
            "foreign_knowledgebases",
            "foreign_tools",
            "foreign_phone_numbers",
        )
        table = self.table(raw, "catalog", {*lists, "voices", "phone_numbers"})
        values: dict[str, Any] = {name: self.int_list(table, f"catalog.{name}") for name in lists}
        values["voices"] = tuple(self._list(table, "catalog.voices", self._voice))
        values["phone_numbers"] = tuple(self._list(table, "catalog.phone_numbers", self._phone))
        return Catalog(**values)

    def rate_limit(self, raw: Mapping[str, Any]) -> RateLimitSettings:
        from replyguard.spec import rate_limit as documented

        table = self.table(raw, "rate_limit", {"limit", "window_seconds"})
        default = documented()
        limit = self.integer(table, "rate_limit.limit", minimum=1)
        window = self.number(table, "rate_limit.window_seconds")
        return RateLimitSettings(
            limit=limit or default.limit, window_seconds=window or float(default.window_seconds)
        )

    def safety(self, raw: Mapping[str, Any]) -> Safety:
        table = self.table(
            raw,
            "safety",
            {"allow_writes", "exhaustive", "max_requests", "max_billed_calls", "max_seconds"},
        )
        # issue 20: the transport section's keys are options (replyguard.config.bounds).
        self.table(raw, "transport", {"connect_timeout", "read_timeout", "max_faults"})
        max_requests = self.integer(table, "safety.max_requests", minimum=0)
        billed = self.integer(table, "safety.max_billed_calls", minimum=0)
        exhaustive = self.boolean(table, "safety.exhaustive", False)
        if billed is None:
            # Every reply of a real deployment is billed; the reference's cost nothing.
            billed = 0 if exhaustive else DEFAULT_MAX_BILLED_CALLS
        return Safety(
            allow_writes=self.boolean(table, "safety.allow_writes", False),
            exhaustive=exhaustive,
            max_requests=DEFAULT_MAX_REQUESTS if max_requests is None else max_requests,
            max_billed_calls=billed,
        )

    def capabilities(self, raw: Mapping[str, Any]) -> Capabilities:
        table = self.table(raw, "capabilities", {"reply_shows_variables"})
        return Capabilities(
            reply_shows_variables=self.boolean(table, "capabilities.reply_shows_variables", False)
        )
