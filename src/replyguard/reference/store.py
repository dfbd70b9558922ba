"""SQLite state shared by every worker process: WAL, ``busy_timeout``, short transactions.

Each process opens its own connection (lazily, after any fork or spawn). Every write happens in a
``BEGIN IMMEDIATE`` transaction, so check-then-write sequences (the rate-limit counter, inbound
phone assignment) are atomic across processes. The server shares one transaction among the
requests of an event-loop turn (``commits.GroupCommit``); each request still has its own
savepoint and is answered only after the commit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .seed import FIRST_CREATED_ASSISTANT_ID, seed_database

__all__ = [
    "Catalogue",
    "ConversationPolicy",
    "Principal",
    "ReplyRecord",
    "StorageError",
    "Store",
    "merge_variables",
    "open_database",
]

BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, balance_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
    position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS catalogue (
    kind TEXT NOT NULL, id INTEGER NOT NULL, account_id INTEGER, data TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS phone_numbers (
    id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, caller_id INTEGER NOT NULL,
    inbound_assistant_id INTEGER);
CREATE TABLE IF NOT EXISTS assistants (
    id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL,
    phone_number_id INTEGER, config TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, assistant_id INTEGER NOT NULL, customer_identifier TEXT NOT NULL,
    variables TEXT NOT NULL, message_count INTEGER NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    UNIQUE (assistant_id, customer_identifier));
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, role TEXT NOT NULL,
    content TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS throttle (
    key TEXT PRIMARY KEY, window_start REAL NOT NULL, hits INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS throttle_log (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS throttle_log_key ON throttle_log (key, at);
CREATE TABLE IF NOT EXISTS throttle_bucket (
    key TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS throttle_gcra (key TEXT PRIMARY KEY, tat REAL NOT NULL);
"""


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_database(path: Path) -> sqlite3.Connection:
    """Create (if needed), migrate and seed the database; return a connection to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SCHEMA)
    seed_database(conn)
    return conn


@dataclass(slots=True, frozen=True)
class Principal:
    """The account behind a bearer token."""

    token: str
    account_id: int
    account_name: str
    balance_cents: int


@dataclass(slots=True)
class Catalogue:
    """Global catalogue ids, account-owned ids, and voice modes (static after seeding)."""

    ids: dict[str, set[int]] = field(default_factory=dict)
    owners: dict[str, dict[int, int]] = field(default_factory=dict)
    voice_modes: dict[int, frozenset[str]] = field(default_factory=dict)
    phone_owner: dict[int, int] = field(default_factory=dict)
    phone_caller_id: dict[int, bool] = field(default_factory=dict)

    def exists(self, kind: str, item_id: int) -> bool:
        """Return whether a global catalogue item exists."""
        return item_id in self.ids.get(kind, set())

    def owned(self, kind: str, item_id: int, account_id: int) -> bool:
        """Return whether an account-owned item exists and belongs to ``account_id``."""
        return self.owners.get(kind, {}).get(item_id) == account_id


def merge_variables(existing: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """New keys are added, a key sent again takes the new value.

    "Variables provided in the request are merged with existing conversation variables."
    """
    return {**existing, **sent}


@dataclass(slots=True, frozen=True)
class ConversationPolicy:
    """How generate-reply finds and updates conversations (faults change one knob)."""

    #: "persisted by assistant_id + customer_identifier"; False keys by the identifier alone.
    keyed_by_assistant: bool = True
    #: False starts a new conversation on every call.
    resume: bool = True
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = merge_variables
    #: True stores identifiers in a MySQL ``utf8`` (3-byte) column: characters outside the
    #: Basic Multilingual Plane (emoji) make the insert fail.
    bmp_only: bool = False


DEFAULT_CONVERSATIONS = ConversationPolicy()


class StorageError(RuntimeError):
    """The database refused a write (answered 500 by the app's error handler)."""


@dataclass(slots=True, frozen=True)
class ReplyRecord:
    """What storing one exchange produced."""

    conversation_id: str
    reply_number: int
    variables: dict[str, Any]


class Store:
    """Per-process access to the shared database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    @property
    def conn(self) -> sqlite3.Connection:
        """This process's connection, opened on first use."""
        if self._conn is None or self._pid != os.getpid():
            self._conn = _connect(self.path)
            self._pid = os.getpid()
        return self._conn

    def close(self) -> None:
        """Close this process's connection."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` write transaction: serialised across processes."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def principals(self) -> dict[str, Principal]:
        """Every token with its account (tokens and balances do not change after seeding)."""
        rows = self.conn.execute(
            "SELECT t.token, a.id, a.name, a.balance_cents FROM tokens t"
            " JOIN accounts a ON a.id = t.account_id"
        ).fetchall()
        return {row[0]: Principal(*row) for row in rows}

    def tokens_by_account(self) -> dict[str, list[str]]:
        """Account name -> its tokens in seeding order (for the target profile)."""
        rows = self.conn.execute(
            "SELECT a.name, t.token FROM tokens t JOIN accounts a ON a.id = t.account_id"
            " ORDER BY a.id, t.position"
        ).fetchall()
        result: dict[str, list[str]] = {}
        for name, token in rows:
            result.setdefault(name, []).append(token)
        return result

    def catalogue(self) -> Catalogue:
        """Load the static catalogue."""
        cat = Catalogue()
        for kind, item_id, owner, data in self.conn.execute(
            "SELECT kind, id, account_id, data FROM catalogue"
        ):
            if owner is None:
                cat.ids.setdefault(kind, set()).add(item_id)
            else:
                cat.owners.setdefault(kind, {})[item_id] = owner
            if kind == "voice":
                cat.voice_modes[item_id] = frozenset(json.loads(data)["modes"])
        for item_id, owner, caller_id in self.conn.execute(
            "SELECT id, account_id, caller_id FROM phone_numbers"
        ):
            cat.phone_owner[item_id] = owner
            cat.phone_caller_id[item_id] = bool(caller_id)
        return cat

    @staticmethod
    def assistant_owner(conn: sqlite3.Connection, assistant_id: int) -> int | None:
        """Return the owning account id of an assistant, or None if there is none."""
        row = conn.execute(
            "SELECT account_id FROM assistants WHERE id = ?", (assistant_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def record_reply(
        conn: sqlite3.Connection,
        assistant_id: int,
        customer_identifier: str,
        message: str,
        variables: dict[str, Any] | None,
        reply_for: Any,
        policy: ConversationPolicy = DEFAULT_CONVERSATIONS,
    ) -> tuple[ReplyRecord, str]:
        """Find or create the conversation, merge variables, store both messages.

        ``reply_for(number, merged_variables, message)`` builds the reply text.
        """
        now = time.time()
        if policy.bmp_only and any(ord(char) > 0xFFFF for char in customer_identifier):
            raise StorageError("SQLSTATE[HY000]: General error: 1366 Incorrect string value")
        if not policy.resume:
            row = None
        elif policy.keyed_by_assistant:
            row = conn.execute(
                "SELECT id, variables, message_count FROM conversations"
                " WHERE assistant_id = ? AND customer_identifier = ?",
                (assistant_id, customer_identifier),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT id, variables, message_count FROM conversations"
                " WHERE customer_identifier = ? ORDER BY created_at LIMIT 1",
                (customer_identifier,),
            ).fetchone()
        if row is None:
            conversation_id = str(uuid.uuid4())
            merged: dict[str, Any] = dict(variables or {})
            number = 1
            # OR REPLACE: only a faulty policy (no resume) meets the unique key again.
            conn.execute(
                "INSERT OR REPLACE INTO conversations (id, assistant_id, customer_identifier,"
                " variables, message_count, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (conversation_id, assistant_id, customer_identifier, json.dumps(merged), now, now),
            )
        else:
            conversation_id = row[0]
            merged = policy.merge(json.loads(row[1]), variables or {})
            number = int(row[2]) + 1
            conn.execute(
                "UPDATE conversations SET variables = ?, message_count = ?, updated_at = ?"
                " WHERE id = ?",
                (json.dumps(merged), number, now, conversation_id),
            )
        reply = reply_for(number, merged, message)
        conn.executemany(
            "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?, ?, ?, ?)",
            [
                (conversation_id, "customer", message, now),
                (conversation_id, "assistant", reply, now),
            ],
        )
        return ReplyRecord(conversation_id, number, merged), reply

    @staticmethod
    def phone_inbound_assistant(conn: sqlite3.Connection, phone_id: int) -> int | None:
        """Return the inbound assistant a phone number is assigned to, if any."""
        row = conn.execute(
            "SELECT inbound_assistant_id FROM phone_numbers WHERE id = ?", (phone_id,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    @staticmethod
    def insert_assistant(conn: sqlite3.Connection, account_id: int, config: dict[str, Any]) -> int:
        """Store a new (inactive) assistant and assign its inbound phone; return its id."""
        row = conn.execute(
            "SELECT MAX(id) FROM assistants WHERE id >= ?", (FIRST_CREATED_ASSISTANT_ID,)
        ).fetchone()
        new_id = FIRST_CREATED_ASSISTANT_ID if row[0] is None else int(row[0]) + 1
        phone = config.get("phone_number_id")
        conn.execute(
            "INSERT INTO assistants (id, account_id, name, type, mode, status, phone_number_id,"
            " config, created_at) VALUES (?, ?, ?, ?, ?, 'inactive', ?, ?, ?)",
            (
                new_id,
                account_id,
                config["name"],
                config["type"],
                config["mode"],
                phone,
                json.dumps(config),
                time.time(),
            ),
        )
        if config["type"] == "inbound" and phone is not None:
            conn.execute(
                "UPDATE phone_numbers SET inbound_assistant_id = ? WHERE id = ?", (new_id, phone)
            )
        return new_id
