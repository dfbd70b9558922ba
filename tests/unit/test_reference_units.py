"""Fast checks of the reference server's pure parts (no sockets)."""

from __future__ import annotations

import ast
import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import replyguard.reference as reference
from replyguard.reference.assistant_rules import FIELDS, validate_assistant
from replyguard.reference.config import ServerConfig
from replyguard.reference.dialect import boolean_of, integer_of, laravel_input, number_of, url_ok
from replyguard.reference.payload import parse_input
from replyguard.reference.profile import render_profile, write_profile
from replyguard.reference.ratelimit import FixedWindowLimiter, make_limiter
from replyguard.reference.seed import TOKENS_PER_ACCOUNT
from replyguard.reference.store import SCHEMA, Store, open_database
from replyguard.reference.validation import Errors, as_integer, as_number, validate_reply

PACKAGE = Path(reference.__file__).parent
ALLOWED_THIRD_PARTY = {"starlette", "uvicorn", "orjson"}


def test_imports_only_stdlib_starlette_uvicorn_orjson_and_itself() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0:
                    continue  # relative: its own modules
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (path, name)


def test_no_openapi_reads() -> None:
    # No code string names the contract (the docstrings may say it is not read).
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                assert "openapi" not in node.value.lower(), (path, node.value)


def test_fifty_five_fields() -> None:
    assert len(FIELDS) == 55
    assert len({f.name for f in FIELDS}) == 55
    assert sum(f.required for f in FIELDS) == 8


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        (5.0, 5),
        (-3, -3),
        (True, None),
        (5.5, None),
        ("5", None),
        (None, None),
        (float("inf"), None),
        (2**63, None),
        (2**63 - 1, 2**63 - 1),
        (1e20, None),
    ],
)
def test_as_integer(value: Any, expected: int | None) -> None:
    assert as_integer(value) == expected


@pytest.mark.parametrize(
    ("value", "ok"), [(0, True), (0.5, True), (False, False), ("1", False), (float("nan"), False)]
)
def test_as_number(value: Any, ok: bool) -> None:
    assert (as_number(value) is not None) is ok


def test_error_summary_laravel_style() -> None:
    errors = Errors()
    errors.add("a_b", "The {a} field is required.")
    assert errors.summary() == "The a b field is required."
    errors.add("c", "The {a} field is required.")
    assert errors.summary() == "The a b field is required. (and 1 more error)"
    errors.add("d", "The {a} field is required.")
    assert errors.summary().endswith("(and 2 more errors)")
    errors.add("d", "ignored {a}")
    assert errors.fields["d"] == ["The d field is required."]


def test_validate_reply_keeps_identifier_exactly() -> None:
    parsed, errors = validate_reply(
        {"assistant_id": 7.0, "customer_identifier": " A+b ", "message": "m", "x": 1}
    )
    assert not errors
    assert parsed is not None
    assert parsed.assistant_id == 7
    assert parsed.customer_identifier == " A+b "
    assert parsed.variables is None


def test_validate_reply_rejects() -> None:
    _, errors = validate_reply(
        {"assistant_id": False, "customer_identifier": "x" * 256, "message": " ", "variables": []}
    )
    assert list(errors.fields) == ["assistant_id", "customer_identifier", "message", "variables"]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"a": 1}', "application/json", {"a": 1}),
        (b'{"a": 1}', "application/vnd.api+json; charset=utf-8", {"a": 1}),
        (b'{"a": 1}', "text/plain", {}),
        (b'{"a": 1}', None, {}),
        (b"[1]", "application/json", {}),
        (b'{"a": NaN}', "application/json", {}),
        (b"\xff", "application/json", {}),
        (b"[" * 50_000, "application/json", {}),
    ],
)
def test_parse_input(body: bytes, content_type: str | None, expected: dict[str, Any]) -> None:
    assert parse_input(body, content_type) == expected


def _throttle_conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(SCHEMA)
    return conn


def test_fixed_window_limiter() -> None:
    conn = _throttle_conn()
    limiter = FixedWindowLimiter(limit=3, window=10)
    decisions = [limiter.hit(conn, "k", 100.0 + i) for i in range(3)]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    refused = limiter.hit(conn, "k", 105.2)
    assert not refused.allowed
    assert refused.retry_after == 5  # ceil(110 - 105.2)
    assert refused.headers()["Retry-After"] == "5"
    assert refused.headers()["X-RateLimit-Remaining"] == "0"
    # A refused hit is not counted, and the window is fixed from the first hit.
    assert limiter.hit(conn, "k", 109.999).retry_after == 1
    assert limiter.hit(conn, "other", 109.0).allowed
    assert limiter.hit(conn, "k", 110.0).allowed
    assert limiter.hit(conn, "k", 110.0).remaining == 1


def test_retry_after_never_exceeds_window() -> None:
    conn = _throttle_conn()
    limiter = FixedWindowLimiter(limit=1, window=2)
    limiter.hit(conn, "k", 50.0)
    assert limiter.hit(conn, "k", 50.0).retry_after == 2
    assert limiter.hit(conn, "k", 51.9999).retry_after == 1


def test_make_limiter_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown"):
        make_limiter("sliding?", 1, 1)


def test_config_roundtrip(tmp_path: Path) -> None:
    config = ServerConfig(port=0, limit=9, window=3, db_path=tmp_path / "x", workers=2)
    assert ServerConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="limit"):
        ServerConfig(limit=0)


def test_default_db_path_uses_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPLYGUARD_STATE_DIR", str(tmp_path))
    assert reference.default_db_path() == tmp_path / "reference.sqlite3"


def test_seed_is_idempotent_and_profile_parses(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    open_database(db).close()
    store = Store(db)
    tokens = store.tokens_by_account()
    open_database(db).close()
    assert Store(db).tokens_by_account() == tokens
    # Two named in the profile and eight more for a tokens.pool (benchmarks/bench_pool.py).
    assert {name: len(ts) for name, ts in tokens.items()} == dict.fromkeys(
        ("alpha", "beta", "broke"), TOKENS_PER_ACCOUNT
    )
    assert TOKENS_PER_ACCOUNT >= 10
    text = render_profile("http://127.0.0.1:1/api", tokens, ServerConfig(db_path=db))
    out = tmp_path / "p" / "target.toml"
    write_profile(out, text)
    profile = tomllib.loads(out.read_text())
    assert profile["tokens"]["primary"] == tokens["alpha"][0]
    assert profile["tokens"]["low_balance"] == tokens["broke"][0]
    assert profile["catalog"]["phone_numbers"][2] == {
        "id": 11,
        "caller_id": False,
        "assigned_inbound": True,
    }
    assert list(out.parent.iterdir()) == [out]
    assert "pool" not in profile["tokens"]
    # serve --pool N: the profile lists N spare tokens of the primary's account.
    pooled = render_profile("http://127.0.0.1:1/api", tokens, ServerConfig(db_path=db, pool=8))
    assert tomllib.loads(pooled)["tokens"]["pool"] == tokens["alpha"][2:10]
    with pytest.raises(ValueError, match="pool must be between 0 and 8"):
        ServerConfig(db_path=db, pool=9)


def test_validate_assistant_defaults(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    open_database(db).close()
    catalogue = Store(db).catalogue()
    data = {
        "name": "n",
        "voice_id": 8,
        "language_id": 1,
        "type": "inbound",
        "mode": "dualplex",
        "timezone": "UTC",
        "initial_message": "hi",
        "system_prompt": "p",
        "multimodal_model_id": 5.0,
        "phone_number_id": 9,
    }
    config, errors = validate_assistant(data, catalogue, 1, lambda _: False)
    assert not errors
    assert config is not None
    assert config["multimodal_model_id"] == 5
    assert config["voice_stability"] == 0.70
    _, errors = validate_assistant(data, catalogue, 1, lambda _: True)
    assert list(errors.fields) == ["phone_number_id"]


# -- dialects: the readings of JSON where the documents are silent -----------------------------


@pytest.mark.parametrize(
    ("value", "json", "exact", "php"),
    [
        (5, 5, 5, 5),
        (5.0, 5, None, 5),
        (5.5, None, None, None),
        (True, None, None, 1),
        (False, None, None, None),
        ("123", None, None, 123),
        (" +7 ", None, None, 7),
        ("0123", None, None, None),
        ("1e2", None, None, None),
        (1e15, 10**15, None, None),
        (2**63, None, None, None),
    ],
)
def test_integer_of(value: Any, json: Any, exact: Any, php: Any) -> None:
    assert integer_of(value, "json") == json
    assert integer_of(value, "exact") == exact
    assert integer_of(value, "php") == php


def test_number_and_boolean_of() -> None:
    assert number_of("0.5", "php") == 0.5
    assert number_of("1e2", "php") == 100.0
    assert number_of(".5", "php") == 0.5
    assert number_of("0.5", "json") is None
    assert number_of(True, "php") is None  # is_numeric(true) is false
    assert number_of("1e400", "php") is None
    assert number_of("0x1A", "php") is None
    assert [boolean_of(v, "php") for v in (True, 0, 1, "0", "1")] == [
        True,
        False,
        True,
        False,
        True,
    ]
    assert [boolean_of(v, "php") for v in ("true", 1.0, 2, None)] == [None] * 4
    assert boolean_of(1, "json") is None


@pytest.mark.parametrize(
    ("url", "http", "laravel", "ascii"),
    [
        ("https://example.com/a?b=c#d", True, True, True),
        ("ftp://files.example.com/x", False, True, False),
        ("https://ăª", True, True, False),
        ("http://localhost:8080/", True, True, False),
        ("https://exa mple.com", False, False, False),
        ("https://", False, False, False),
        ("javascript:alert(1)", False, False, False),
        ("HTTP://EXAMPLE.COM", False, True, False),
    ],
)
def test_url_ok(url: str, http: bool, laravel: bool, ascii: bool) -> None:
    assert (url_ok(url, "http"), url_ok(url, "laravel"), url_ok(url, "ascii")) == (
        http,
        laravel,
        ascii,
    )


def test_laravel_input_trims_and_nullifies() -> None:
    data = {"a": "  x ", "b": "", "c": "   ", "d": {"e": [" f", ""]}, " k ": 1}
    assert laravel_input(data) == {
        "a": "x",
        "b": None,
        "c": None,
        "d": {"e": ["f", None]},
        " k ": 1,
    }


def test_errors_at_top_level_keys() -> None:
    errors = Errors(item_keys=False)
    errors.add("tool_ids.0", "The {a} field is bad.")
    errors.add("tool_ids.1", "The {a} field is bad.")
    assert errors.fields == {"tool_ids": ["The tool ids field is bad."]}


# -- group commit ---------------------------------------------------------------------------------


def test_group_commit_shares_one_commit_and_isolates_failures(tmp_path: Path) -> None:
    import asyncio

    from replyguard.reference.commits import GroupCommit

    path = tmp_path / "db.sqlite3"
    open_database(path).close()
    store = Store(path)
    commits = GroupCommit(store)
    store.conn.execute("CREATE TABLE t (v INTEGER)")

    def insert(value: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t (v) VALUES (?)", (value,))
            if value == 2:
                raise RuntimeError("this request fails alone")
            return value

        return work

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(commits.run(insert(v)) for v in range(4)), return_exceptions=True
        )

    results = asyncio.run(main())
    assert results[:2] == [0, 1]
    assert results[3] == 3
    assert isinstance(results[2], RuntimeError)
    assert not store.conn.in_transaction
    other = sqlite3.connect(path)
    assert sorted(v for (v,) in other.execute("SELECT v FROM t")) == [0, 1, 3]
    other.close()
    store.close()


# -- orjson fast path: the same input as the stdlib path ------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "b": [1.5, "x"], "c": {"d": null}}',
        b'{"big": 1' + b"0" * 40 + b"}",
        b'{"s": "\\ud800"}',
        b'{"f": 1e400}',
        b'{"n": NaN}',
        b'{"a": 1, "a": 2}',
        b"\xef\xbb\xbf{}",
        b"[1, 2]",
        b'{"deep": ' + b"[" * 1100 + b"]" * 1100 + b"}",
        b"\xff",
    ],
)
def test_parse_input_matches_the_stdlib(body: bytes) -> None:
    import json

    def stdlib(raw: bytes) -> Any:
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=float)
        except (ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}

    expected = stdlib(body)
    if '"n"' in str(body):
        expected = {}  # NaN is not JSON: both paths give no input
    got = parse_input(body, "application/json")
    assert json.dumps(got, sort_keys=True, default=str) == json.dumps(
        expected, sort_keys=True, default=str
    )


def test_dumps_falls_back_for_what_orjson_refuses() -> None:
    from replyguard.reference.fastjson import dumps

    assert dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    assert dumps({"big": 10**30}) == b'{"big":1000000000000000000000000000000}'


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(value=st.dictionaries(st.text(max_size=6), _JSON, max_size=5))
def test_parse_input_fast_path_decodes_like_json_loads(value: dict[str, Any]) -> None:
    import json

    body = json.dumps(value).encode()
    got = parse_input(body, "application/json")
    assert repr(got) == repr(json.loads(body))
