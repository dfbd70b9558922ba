"""Seeded fixtures: accounts, tokens, assistants and the catalogue the reference server starts with.

Seeding runs once, when the database is first created; the tokens are random per database
(``secrets.token_urlsafe`` with an ``rg_`` prefix) and are reported in the target profile.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass

__all__ = [
    "ACCOUNTS",
    "ASSISTANTS",
    "CATALOGUE_KINDS",
    "FIRST_CREATED_ASSISTANT_ID",
    "PHONE_NUMBERS",
    "SeedPhone",
    "new_token",
    "seed_database",
]

#: Created assistants get ids from here up, well clear of the seeded ones.
FIRST_CREATED_ASSISTANT_ID = 1000
#: Two named in the profile (primary, secondary) and eight more for a ``tokens.pool``: an
#: account's QA team can create several API tokens, and the limit is per token.
TOKENS_PER_ACCOUNT = 10
#: The spare ones a profile may list as ``tokens.pool`` (``replyguard serve --pool N``).
POOL_TOKENS = TOKENS_PER_ACCOUNT - 2

#: (account id, name, balance in cents). "broke" has nothing left: the 402 fixture.
ACCOUNTS: tuple[tuple[int, str, int], ...] = (
    (1, "alpha", 100_000),
    (2, "beta", 100_000),
    (3, "broke", 0),
)

#: (assistant id, owner account id, name, type, mode, phone number id)
ASSISTANTS: tuple[tuple[int, int, str, str, str, int | None], ...] = (
    (101, 1, "Alpha Sales", "outbound", "pipeline", None),
    (102, 1, "Alpha Reception", "inbound", "pipeline", 11),
    (201, 2, "Beta Support", "outbound", "pipeline", None),
    (301, 3, "Broke Helper", "outbound", "pipeline", None),
)


@dataclass(slots=True, frozen=True)
class SeedPhone:
    """A seeded phone number."""

    id: int
    account_id: int
    caller_id: bool


PHONE_NUMBERS: tuple[SeedPhone, ...] = (
    SeedPhone(9, 1, caller_id=False),
    SeedPhone(10, 1, caller_id=True),
    SeedPhone(11, 1, caller_id=False),
    SeedPhone(20, 2, caller_id=False),
)

#: kind -> rows of (id, owner account id or None for global, data). Voices carry their modes.
CATALOGUE_KINDS: dict[str, tuple[tuple[int, int | None, dict[str, object]], ...]] = {
    "language": ((1, None, {}), (2, None, {}), (3, None, {})),
    "voice": (
        (1, None, {"modes": ["pipeline", "dualplex"]}),
        (2, None, {"modes": ["pipeline"]}),
        (7, None, {"modes": ["multimodal"]}),
        (8, None, {"modes": ["multimodal", "dualplex"]}),
    ),
    "llm_model": ((2, None, {}), (3, None, {})),
    "multimodal_model": ((5, None, {}), (6, None, {})),
    "synthesizer_provider": ((1, None, {}), (2, None, {})),
    "transcriber_provider": ((1, None, {}), (2, None, {})),
    "knowledgebase": ((3, 1, {}), (4, 2, {})),
    "tool": ((1, 1, {}), (5, 1, {}), (12, 2, {})),
}


def new_token() -> str:
    """Return a fresh random API token."""
    return "rg_" + secrets.token_urlsafe(24)


def seed_database(conn: sqlite3.Connection) -> bool:
    """Seed an empty database in one write transaction; return False if already seeded."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
        if row is not None:
            conn.execute("COMMIT")
            return False
        now = time.time()
        conn.executemany(
            "INSERT INTO accounts (id, name, balance_cents) VALUES (?, ?, ?)", ACCOUNTS
        )
        conn.executemany(
            "INSERT INTO tokens (token, account_id, position) VALUES (?, ?, ?)",
            [
                (new_token(), account_id, position)
                for account_id, _, _ in ACCOUNTS
                for position in range(1, TOKENS_PER_ACCOUNT + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO catalogue (kind, id, account_id, data) VALUES (?, ?, ?, ?)",
            [
                (kind, item_id, owner, json.dumps(data))
                for kind, rows in CATALOGUE_KINDS.items()
                for item_id, owner, data in rows
            ],
        )
        conn.executemany(
            "INSERT INTO phone_numbers (id, account_id, caller_id, inbound_assistant_id)"
            " VALUES (?, ?, ?, NULL)",
            [(p.id, p.account_id, int(p.caller_id)) for p in PHONE_NUMBERS],
        )
        for assistant_id, owner, name, kind, mode, phone in ASSISTANTS:
            config = {"name": name, "type": kind, "mode": mode, "phone_number_id": phone}
            conn.execute(
                "INSERT INTO assistants (id, account_id, name, type, mode, status,"
                " phone_number_id, config, created_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)",
                (assistant_id, owner, name, kind, mode, phone, json.dumps(config), now),
            )
            if kind == "inbound" and phone is not None:
                conn.execute(
                    "UPDATE phone_numbers SET inbound_assistant_id = ? WHERE id = ?",
                    (assistant_id, phone),
                )
        conn.execute("INSERT INTO meta (key, value) VALUES ('seeded', ?)", (str(now),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True
